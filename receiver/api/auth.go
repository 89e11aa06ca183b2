package api

import (
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
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

// match compares hashes, so neither the key's length nor which key matched
// shows in the timing. It returns the matching key's id: a short hash that
// names the key in rate-limit buckets without storing the key.
func (k Keys) match(key string) (string, bool) {
	if key == "" {
		return "", false
	}
	sum := sha256.Sum256([]byte(key))
	ok := 0
	for i := range k.sums {
		ok |= subtle.ConstantTimeCompare(sum[:], k.sums[i][:])
	}
	return hex.EncodeToString(sum[:8]), ok == 1
}

type keyIDContext struct{}

// KeyID is the id of the API key that authenticated r ("" if none).
func KeyID(r *http.Request) string {
	id, _ := r.Context().Value(keyIDContext{}).(string)
	return id
}

// Require wraps h: the request needs a valid key in one of headers
// ("as-api-key"; the legacy /v4 API also accepts "aftership-api-key").
func (k Keys) Require(h http.Handler, headers ...string) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		for _, name := range headers {
			if id, ok := k.match(r.Header.Get(name)); ok {
				h.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), keyIDContext{}, id)))
				return
			}
		}
		writeError(w, errUnauthorized())
	})
}
