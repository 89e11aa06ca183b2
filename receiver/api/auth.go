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

// How Authenticate names a caller that has no valid key. A key id is hex,
// so neither is ever a key's id.
const (
	KeyNone    = "none"    // no key in any of the headers
	KeyInvalid = "invalid" // a key that is not one of TRACKHOOK_API_KEYS
)

// Authenticate checks the key r carries in one of headers ("as-api-key";
// the legacy /v4 API also accepts "aftership-api-key"). With a valid key it
// returns r carrying the key's id (KeyID), the id, and true. Otherwise it
// returns r, KeyNone or KeyInvalid, and false. The id is the first 16 hex
// digits of the key's SHA-256: it names the key in logs and rate-limit
// buckets (printf %s "$KEY" | sha256sum | cut -c1-16) and does not reveal it.
func (k Keys) Authenticate(r *http.Request, headers ...string) (*http.Request, string, bool) {
	caller := KeyNone
	for _, name := range headers {
		key := r.Header.Get(name)
		if key == "" {
			continue
		}
		if id, ok := k.match(key); ok {
			return r.WithContext(context.WithValue(r.Context(), keyIDContext{}, id)), id, true
		}
		caller = KeyInvalid
	}
	return r, caller, false
}

// Unauthorized answers a call without a valid key: 401 in the envelope.
func Unauthorized(w http.ResponseWriter, _ *http.Request) { writeError(w, errUnauthorized()) }
