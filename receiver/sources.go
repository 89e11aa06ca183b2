package receiver

import (
	"crypto/subtle"
	"net/http"

	"github.com/trackhook/trackhook/receiver/source"
	"github.com/trackhook/trackhook/signature"
)

// Source is one sender: how its webhooks are verified and decoded.
type Source struct {
	Verifier signature.Verifier
	Adapter  source.Adapter
	// Ping recognises an unsigned handshake that must be answered 200
	// before verification (WooCommerce's "webhook_id=N" when a webhook is
	// created). It must match nothing a real event could look like. Nil
	// for senders without one.
	Ping func(body []byte, h http.Header) bool
	// PathTokens, when set, are secret path segments the sender must call
	// (/webhooks/{source}/{token}); without the right one the endpoint
	// answers 404. For schemes that do not sign the body (TrackingMore) or
	// sign with a key shared by all of the sender's customers (ShipEngine).
	PathTokens []string
}

// tokenOK compares the path token in constant time.
func (s Source) tokenOK(token string) bool {
	if len(s.PathTokens) == 0 {
		return token == ""
	}
	ok := 0
	for _, t := range s.PathTokens {
		ok |= subtle.ConstantTimeCompare([]byte(t), []byte(token))
	}
	return ok == 1
}

// Registry maps the {source} path segment to its Source. It holds only the
// configured sources: one without a secret is absent, and answers 404.
type Registry map[string]Source
