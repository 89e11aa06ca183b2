package api

import (
	"crypto/sha256"
	"crypto/subtle"
	"net/http"
	"strings"
)

// Keys checks API keys in constant time. With no keys configured it refuses
// every call: the API is never open by default.
type Keys struct{ sums [][32]byte }

// NewKeys holds the accepted keys (TRACKHOOK_API_KEYS).
func NewKeys(keys []string) Keys {
	var k Keys
	for _, key := range keys {
		if key = strings.TrimSpace(key); key != "" {
			k.sums = append(k.sums, sha256.Sum256([]byte(key)))
		}
	}
	return k
}

// valid compares hashes, so neither the key's length nor which key matched
// shows in the timing.
func (k Keys) valid(key string) bool {
	if key == "" {
		return false
	}
	sum := sha256.Sum256([]byte(key))
	ok := 0
	for i := range k.sums {
		ok |= subtle.ConstantTimeCompare(sum[:], k.sums[i][:])
	}
	return ok == 1
}

// Require wraps h: the request needs a valid key in one of headers
// ("as-api-key"; the legacy /v4 API also accepts "aftership-api-key").
func (k Keys) Require(h http.Handler, headers ...string) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		for _, name := range headers {
			if k.valid(r.Header.Get(name)) {
				h.ServeHTTP(w, r)
				return
			}
		}
		writeError(w, errUnauthorized())
	})
}
