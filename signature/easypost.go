package signature

import (
	"crypto/hmac"
	"encoding/hex"
	"fmt"
	"net/http"
	"strings"
	"time"

	"golang.org/x/text/unicode/norm"
)

// HeaderEasyPost carries "hmac-sha256-hex=" + lowercase hex(HMAC-SHA256(
// NFKD(webhook secret), raw body)) on EasyPost webhooks.
const HeaderEasyPost = "X-Hmac-Signature"

// easyPostPrefix starts every X-Hmac-Signature value.
const easyPostPrefix = "hmac-sha256-hex="

// EasyPost verifies EasyPost webhooks the way EasyPost's own libraries do
// (easypost-go ValidateWebhook; shared/reference/webhook-sources.md, D1):
// the secret is Unicode-NFKD-normalised, the HMAC is over the raw body, and
// the whole header value, prefix included, is compared in constant time.
// Nothing time-dependent is signed, so replays are caught by the receiver's
// dedupe on the event id, not here.
type EasyPost struct {
	keys keyring // NFKD-normalised secrets, newest first
}

// NewEasyPost returns a verifier accepting a signature made with any of
// secrets (newest first; EasyPost has one secret per webhook, several are
// for the time it takes to update the webhook). It refuses an empty list or
// an empty secret.
func NewEasyPost(secrets []string) (*EasyPost, error) {
	normalised := make([]string, len(secrets))
	for i, s := range secrets {
		normalised[i] = norm.NFKD.String(s)
	}
	k, err := newKeyring(normalised)
	if err != nil {
		return nil, fmt.Errorf("easypost: %w", err)
	}
	return &EasyPost{keys: k}, nil
}

// Verify implements Verifier.
func (e *EasyPost) Verify(body []byte, h http.Header) error {
	v := strings.TrimSpace(h.Get(HeaderEasyPost))
	if v == "" {
		return fmt.Errorf("easypost: header %s: %w", HeaderEasyPost, ErrNoSignature)
	}
	if !easyPostWellFormed(v) {
		return fmt.Errorf("easypost: header %s is not %s<64 hex digits>: %w", HeaderEasyPost, easyPostPrefix, ErrMalformedHeader)
	}
	ok := false
	for _, key := range e.keys {
		// The whole value, prefix included, as EasyPost's libraries
		// compare it (so upper-case hex does not match). No early exit.
		if hmac.Equal([]byte(easyPostValue(key, body)), []byte(v)) {
			ok = true
		}
	}
	if !ok {
		return fmt.Errorf("easypost: %w", ErrMismatch)
	}
	return nil
}

// Sign implements Signer.
func (e *EasyPost) Sign(body []byte, _ time.Time) (http.Header, error) {
	h := http.Header{}
	h.Set(HeaderEasyPost, easyPostValue(e.keys[0], body))
	return h, nil
}

func easyPostValue(key, body []byte) string {
	return easyPostPrefix + hex.EncodeToString(hmacSHA256(key, body))
}

// easyPostWellFormed reports whether v is the prefix and 64 hex digits of
// either case; a well-formed value that is not the signature is a mismatch.
func easyPostWellFormed(v string) bool {
	hexPart, ok := strings.CutPrefix(v, easyPostPrefix)
	if !ok || len(hexPart) != 64 {
		return false
	}
	_, err := hex.DecodeString(hexPart)
	return err == nil
}
