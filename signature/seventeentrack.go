package signature

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"net/http"
	"strings"
	"time"
)

// HeaderSeventeenTrack carries the signature of a 17TRACK (Tracking API v2)
// push: lowercase hex SHA-256(raw body + "/" + security key).
const HeaderSeventeenTrack = "Sign"

// SeventeenTrack verifies 17TRACK push notifications
// (shared/reference/webhook-sources.md, E).
//
// The scheme is a plain SHA-256 hash, not an HMAC, of the raw body, a "/"
// and the account's API security key. That is SECONDARY: two independent
// integrations (a Rust and a TypeScript receiver) compute exactly this, but
// 17TRACK's own page was not readable; confirm against a real push. Because
// the key is a suffix, SHA-256 length extension does not let an attacker
// append to a signed body. Nothing but the body is signed, so a captured
// push can be replayed; the receiver's fold is idempotent.
type SeventeenTrack struct {
	keys keyring
}

// NewSeventeenTrack returns a verifier accepting a signature made with any of
// keys (the 17TRACK API security keys, newest first), so a key can be
// rotated in the 17TRACK dashboard without dropping pushes. It refuses an
// empty list or an empty key.
func NewSeventeenTrack(keys []string) (*SeventeenTrack, error) {
	k, err := newKeyring(keys)
	if err != nil {
		return nil, fmt.Errorf("17track: %w", err)
	}
	return &SeventeenTrack{keys: k}, nil
}

// Verify implements Verifier.
func (s *SeventeenTrack) Verify(body []byte, h http.Header) error {
	v := strings.TrimSpace(h.Get(HeaderSeventeenTrack))
	if v == "" {
		return fmt.Errorf("17track: header %s: %w", HeaderSeventeenTrack, ErrNoSignature)
	}
	sig, err := hex.DecodeString(v)
	if err != nil || len(sig) != sha256.Size {
		return fmt.Errorf("17track: header %s is not a hex SHA-256: %w", HeaderSeventeenTrack, ErrMalformedHeader)
	}
	ok := false
	for _, key := range s.keys {
		// No early exit: every key is tried, so timing does not tell which
		// one matched.
		if hmac.Equal(seventeenTrackSum(key, body), sig) {
			ok = true
		}
	}
	if !ok {
		return fmt.Errorf("17track: %w", ErrMismatch)
	}
	return nil
}

// Sign implements Signer: the sign header 17TRACK would send for body, made
// with the first key.
func (s *SeventeenTrack) Sign(body []byte, _ time.Time) (http.Header, error) {
	h := http.Header{}
	h.Set(HeaderSeventeenTrack, hex.EncodeToString(seventeenTrackSum(s.keys[0], body)))
	return h, nil
}

// seventeenTrackSum is SHA-256(body + "/" + key).
func seventeenTrackSum(key, body []byte) []byte {
	d := sha256.New()
	d.Write(body)
	d.Write([]byte{'/'})
	d.Write(key)
	return d.Sum(nil)
}
