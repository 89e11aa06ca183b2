package signature

import (
	"encoding/base64"
	"fmt"
	"net/http"
	"strings"
	"time"
)

// HeaderAfterShip carries base64(HMAC-SHA256(secret, raw body)) on AfterShip
// Tracking webhooks.
const HeaderAfterShip = "Aftership-Hmac-Sha256"

// AfterShip verifies AfterShip Tracking webhooks. The scheme signs only the
// body (no timestamp), so replays are caught by the receiver's dedupe on
// event_id, not here.
type AfterShip struct {
	keys keyring
}

// NewAfterShip returns a verifier accepting a signature made with any of
// secrets (newest first). It refuses an empty list or an empty secret.
func NewAfterShip(secrets []string) (*AfterShip, error) {
	k, err := newKeyring(secrets)
	if err != nil {
		return nil, fmt.Errorf("aftership: %w", err)
	}
	return &AfterShip{keys: k}, nil
}

// Verify implements Verifier.
func (a *AfterShip) Verify(body []byte, h http.Header) error {
	v := strings.TrimSpace(h.Get(HeaderAfterShip))
	if v == "" {
		return fmt.Errorf("aftership: header %s: %w", HeaderAfterShip, ErrNoSignature)
	}
	sig, err := base64.StdEncoding.DecodeString(v)
	if err != nil || len(sig) != 32 {
		return fmt.Errorf("aftership: header %s is not a base64 SHA-256 HMAC: %w", HeaderAfterShip, ErrMalformedHeader)
	}
	if !a.keys.matchHMAC(body, sig) {
		return fmt.Errorf("aftership: %w", ErrMismatch)
	}
	return nil
}

// Sign implements Signer.
func (a *AfterShip) Sign(body []byte, _ time.Time) (http.Header, error) {
	h := http.Header{}
	h.Set(HeaderAfterShip, base64.StdEncoding.EncodeToString(hmacSHA256(a.keys[0], body)))
	return h, nil
}
