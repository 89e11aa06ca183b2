package main

import (
	"crypto/sha256"
	"crypto/subtle"
	"net/http"

	"github.com/hibiken/asynq"
	"github.com/hibiken/asynqmon"

	"github.com/trackhook/trackhook/dispatcher"
)

// adminRoot is where the queue dashboard is mounted (receiver/routes.go).
const adminRoot = "/admin/queues"

// minAdminKeyLen is the shortest TRACKHOOK_ADMIN_KEYS entry accepted.
const minAdminKeyLen = 16

// newAdmin returns the asynq dashboard behind HTTP Basic authentication
// (any user name; one of keys as the password), and a func that closes its
// Redis connections. With no keys it returns nil: the dashboard is off and
// /admin/queues answers 404.
//
// The dashboard opens its own connections through conn. It shows task
// payloads with the recipient and customer name masked, and refuses
// cross-origin POSTs and DELETEs (CSRF).
func newAdmin(keys []string, conn asynq.RedisConnOpt) (http.Handler, func()) {
	if len(keys) == 0 {
		return nil, func() {}
	}
	mon := asynqmon.New(asynqmon.Options{
		RootPath:         adminRoot,
		RedisConnOpt:     conn,
		PayloadFormatter: asynqmon.PayloadFormatterFunc(dispatcher.RedactedPayload),
	})
	// A browser resends Basic credentials on any request to this origin,
	// including a form another site posts ("archive all", "delete all"):
	// state-changing requests from other origins are refused.
	return basicAuth(keys, http.NewCrossOriginProtection().Handler(mon)), func() { _ = mon.Close() }
}

// basicAuth lets a request through when its Basic password is one of keys.
// The comparison is of SHA-256 sums in constant time, over every key, so
// neither a key's length nor which key matched shows in the timing.
func basicAuth(keys []string, h http.Handler) http.Handler {
	sums := make([][32]byte, len(keys))
	for i, k := range keys {
		sums[i] = sha256.Sum256([]byte(k))
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, pass, ok := r.BasicAuth()
		match := 0
		if ok && pass != "" {
			sum := sha256.Sum256([]byte(pass))
			for i := range sums {
				match |= subtle.ConstantTimeCompare(sum[:], sums[i][:])
			}
		}
		if match != 1 {
			w.Header().Set("WWW-Authenticate", `Basic realm="trackhook queues", charset="UTF-8"`)
			http.Error(w, "authentication required", http.StatusUnauthorized)
			return
		}
		// The dashboard's pages and API must not sit in shared caches.
		w.Header().Set("Cache-Control", "no-store")
		h.ServeHTTP(w, r)
	})
}
