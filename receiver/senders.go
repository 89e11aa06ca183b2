package receiver

import (
	"crypto/subtle"
	"fmt"
	"net/http"
	"time"

	"github.com/trackhook/trackhook/receiver/carrier"
	"github.com/trackhook/trackhook/receiver/source"
	"github.com/trackhook/trackhook/signature"
)

// The senders: who may POST /webhooks/{source}, in one table.
//
//   - Senders() is the catalogue: every sender trackhook knows, with how to
//     verify and decode its webhooks. Adding a sender is adding an entry.
//   - SenderConfig is what the operator configured for one sender.
//   - NewRegistry turns the catalogue and the configurations into the
//     Registry the server routes by: {source} → Source, the configured
//     senders only.
//
// The {source} path segment is a sender's Name; "source" and "sender" name
// the same thing, seen from the URL and from the outside.

// Credential is what an operator configures to switch a sender on.
type Credential uint8

const (
	// SharedSecret: the operator and the sender share secrets
	// (TRACKHOOK_<Env>_SECRET, newest first). The sender is on when it has
	// at least one.
	SharedSecret Credential = iota + 1
	// PublishedKey: the sender signs with a key pair of its own, the same
	// for all of its customers, and publishes the public keys (read through
	// SenderConfig.Keys). Nothing is shared with the operator, so the secret
	// path token (TRACKHOOK_<Env>_PATH_TOKEN) is required: it is what ties
	// the endpoint to one account, and what switches the sender on.
	PublishedKey
)

// Sender is one entry of the catalogue: a webhook sender trackhook knows.
type Sender struct {
	// Name is the {source} path segment: /webhooks/{Name}[/{token}].
	Name string
	// Env names its settings: TRACKHOOK_<Env>_SECRET, _PATH_TOKEN (and
	// _JWKS_URL for a PublishedKey sender).
	Env        string
	Credential Credential
	// Verifier builds the sender's verifier from its configuration. The
	// verifiers of SharedSecret senders are also signature.Signers (see
	// Signer).
	Verifier func(SenderConfig) (signature.Verifier, error)
	// Adapter decodes its verified webhooks into canonical events.
	Adapter func(*carrier.Catalog) source.Adapter
	// Ping recognises an unsigned handshake answered 200 before
	// verification (see Source.Ping); nil for none.
	Ping func(body []byte, h http.Header) bool
}

// SenderConfig is what the operator configured for one sender.
type SenderConfig struct {
	// Secrets are a SharedSecret sender's secrets, newest first.
	Secrets []string
	// Keys gives a PublishedKey sender's public keys (for ShipEngine, a
	// signature/jwks cache of its JWKS).
	Keys signature.KeySource
	// PathTokens are the secret path segments the sender must call (see
	// Source.PathTokens); required for a PublishedKey sender.
	PathTokens []string
	// Now is the clock signed timestamps are checked against; nil means
	// time.Now. Schemes that sign no time do not read it.
	Now func() time.Time
}

// clock is the verifier options for a scheme that signs a timestamp.
func (c SenderConfig) clock() []signature.Option {
	if c.Now == nil {
		return nil
	}
	return []signature.Option{signature.WithClock(c.Now)}
}

// Senders returns the catalogue, in the order the README lists the senders.
// Each call returns a fresh slice.
func Senders() []Sender {
	return []Sender{
		{Name: "aftership", Env: "AFTERSHIP", Credential: SharedSecret,
			Verifier: func(c SenderConfig) (signature.Verifier, error) { return verifier(signature.NewAfterShip(c.Secrets)) },
			Adapter:  func(cat *carrier.Catalog) source.Adapter { return source.AfterShip{Carriers: cat} }},
		{Name: "trackingmore", Env: "TRACKINGMORE", Credential: SharedSecret,
			Verifier: func(c SenderConfig) (signature.Verifier, error) {
				return verifier(signature.NewTrackingMore(c.Secrets, c.clock()...))
			},
			Adapter: func(cat *carrier.Catalog) source.Adapter { return source.TrackingMore{Carriers: cat} }},
		{Name: "shipengine", Env: "SHIPENGINE", Credential: PublishedKey,
			Verifier: func(c SenderConfig) (signature.Verifier, error) {
				return verifier(signature.NewShipEngine(c.Keys, c.clock()...))
			},
			Adapter: func(cat *carrier.Catalog) source.Adapter { return source.ShipEngine{Carriers: cat} }},
		{Name: "easypost", Env: "EASYPOST", Credential: SharedSecret,
			Verifier: func(c SenderConfig) (signature.Verifier, error) { return verifier(signature.NewEasyPost(c.Secrets)) },
			Adapter:  func(cat *carrier.Catalog) source.Adapter { return source.EasyPost{Carriers: cat} }},
		{Name: "17track", Env: "SEVENTEENTRACK", Credential: SharedSecret,
			Verifier: func(c SenderConfig) (signature.Verifier, error) {
				return verifier(signature.NewSeventeenTrack(c.Secrets))
			},
			Adapter: func(cat *carrier.Catalog) source.Adapter { return source.SeventeenTrack{Carriers: cat} }},
		{Name: "woocommerce", Env: "WOOCOMMERCE", Credential: SharedSecret,
			Verifier: func(c SenderConfig) (signature.Verifier, error) { return verifier(signature.NewWooCommerce(c.Secrets)) },
			Adapter:  func(cat *carrier.Catalog) source.Adapter { return source.WooCommerce{Carriers: cat} },
			Ping:     source.WooCommercePing},
		{Name: "standard", Env: "STANDARD", Credential: SharedSecret,
			Verifier: func(c SenderConfig) (signature.Verifier, error) {
				return verifier(signature.NewStandardWebhooks(c.Secrets, c.clock()...))
			},
			Adapter: func(cat *carrier.Catalog) source.Adapter { return source.Standard{Carriers: cat} }},
	}
}

// SenderNamed returns the catalogue's entry for name.
func SenderNamed(name string) (Sender, bool) {
	for _, s := range Senders() {
		if s.Name == name {
			return s, true
		}
	}
	return Sender{}, false
}

// verifier returns v as a signature.Verifier, and a nil interface (not a
// typed nil) with an error.
func verifier[V signature.Verifier](v V, err error) (signature.Verifier, error) {
	if err != nil {
		return nil, err
	}
	return v, nil
}

// configured reports whether c switches s on.
func (s Sender) configured(c SenderConfig) bool {
	if s.Credential == PublishedKey {
		return len(c.PathTokens) > 0
	}
	return len(c.Secrets) > 0
}

// setting names the variable an error in building s's verifier is about.
func (s Sender) setting() string {
	if s.Credential == PublishedKey {
		return "TRACKHOOK_" + s.Env + "_JWKS_URL"
	}
	return "TRACKHOOK_" + s.Env + "_SECRET"
}

// Signer returns what signs as s with secrets (the first signs), at the
// time the caller passes to Sign: for `trackhook sign` and for tests. Only a
// SharedSecret sender can be signed for: trackhook never holds the private
// key of a PublishedKey sender.
func (s Sender) Signer(secrets []string) (signature.Signer, error) {
	if s.Credential != SharedSecret {
		return nil, fmt.Errorf("%s signs with a private key of its own: trackhook cannot sign as it", s.Name)
	}
	v, err := s.Verifier(SenderConfig{Secrets: secrets})
	if err != nil {
		return nil, err
	}
	signer, ok := v.(signature.Signer)
	if !ok {
		return nil, fmt.Errorf("%s: its verifier cannot sign", s.Name)
	}
	return signer, nil
}

// Source is a configured sender, ready to serve: how its webhooks are
// verified and decoded.
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
// configured senders: one that is not configured is absent, and answers
// 404. NewRegistry builds it from the catalogue; tests may write one out.
type Registry map[string]Source

// NewRegistry builds the Registry of the senders configs switches on (see
// Credential), keyed by Sender.Name; the others are left out. A name in
// configs that is no sender's is an error, so a typo cannot leave a sender
// silently off, and so is a configuration its verifier refuses (an empty or
// malformed secret: a sender is off or closed, never open).
func NewRegistry(configs map[string]SenderConfig, carriers *carrier.Catalog) (Registry, error) {
	reg := Registry{}
	known := make(map[string]bool)
	for _, s := range Senders() {
		known[s.Name] = true
		c, ok := configs[s.Name]
		if !ok || !s.configured(c) {
			continue
		}
		v, err := s.Verifier(c)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", s.setting(), err)
		}
		reg[s.Name] = Source{Verifier: v, Adapter: s.Adapter(carriers), Ping: s.Ping, PathTokens: c.PathTokens}
	}
	for name := range configs {
		if !known[name] {
			return nil, fmt.Errorf("no sender is named %q", name)
		}
	}
	return reg, nil
}
