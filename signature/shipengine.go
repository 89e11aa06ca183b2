package signature

import (
	"crypto"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"
)

// The headers ShipEngine (and the ShipStation API, which is ShipEngine)
// attaches to every webhook (shared/reference/webhook-sources.md, C1).
const (
	// HeaderShipEngineKeyID names the key, by its JWKS "kid", that signed the request.
	HeaderShipEngineKeyID = "X-Shipengine-Rsa-Sha256-Key-Id"
	// HeaderShipEngineSignature carries base64(RSASSA-PKCS1-v1_5(SHA-256(timestamp + "." + body))).
	HeaderShipEngineSignature = "X-Shipengine-Rsa-Sha256-Signature"
	// HeaderShipEngineTimestamp is the time of sending, ISO 8601 (unix seconds accepted too).
	HeaderShipEngineTimestamp = "X-Shipengine-Timestamp"
)

// shipEngineMaxKeyID bounds the key id handed to the key source.
const shipEngineMaxKeyID = 200

// KeySource gives the RSA public key for a key id. The ShipEngine verifier
// stays pure by taking one; signature/jwks implements it over ShipEngine's
// JWKS with a cache, KeyMap over a fixed set. Errors for a kid the source
// does not know wrap ErrUnknownKey.
type KeySource interface {
	Key(kid string) (*rsa.PublicKey, error)
}

// KeyMap is a fixed KeySource: kid → key. For tests and for operators who
// pin ShipEngine's keys instead of fetching them.
type KeyMap map[string]*rsa.PublicKey

// Key implements KeySource.
func (m KeyMap) Key(kid string) (*rsa.PublicKey, error) {
	if k, ok := m[kid]; ok && k != nil {
		return k, nil
	}
	return nil, fmt.Errorf("kid %q: %w", kid, ErrUnknownKey)
}

// ShipEngine verifies ShipEngine / ShipStation API webhooks: an RSA
// signature (RSASSA-PKCS1-v1_5, SHA-256) over the timestamp header, a dot
// and the raw body, made with the key the key-id header names. The
// timestamp must be within the tolerance of now in both directions, which
// bounds replays; the receiver's dedupe catches replays inside the window.
//
// ShipEngine signs with its own key, the same for all of its customers, so
// a valid signature proves the request came from ShipEngine, not that it
// came from your ShipEngine account: anyone with a ShipEngine account can
// point a webhook at this URL. Keep the URL secret (the receiver's path
// token) to close that gap.
type ShipEngine struct {
	keys      KeySource
	now       func() time.Time
	tolerance time.Duration
}

// NewShipEngine returns a verifier taking its public keys from keys. It
// refuses a nil or empty key source (ErrNoSecret). The clock is time.Now and
// the tolerance five minutes, ShipEngine's own window; see WithClock and
// WithTolerance.
func NewShipEngine(keys KeySource, opts ...Option) (*ShipEngine, error) {
	if keys == nil {
		return nil, fmt.Errorf("shipengine: no key source: %w", ErrNoSecret)
	}
	if m, ok := keys.(KeyMap); ok && len(m) == 0 {
		return nil, fmt.Errorf("shipengine: empty key map: %w", ErrNoSecret)
	}
	o, err := newOptions("shipengine", opts)
	if err != nil {
		return nil, err
	}
	return &ShipEngine{keys: keys, now: o.now, tolerance: o.tolerance}, nil
}

// Verify implements Verifier. The checks run cheapest first: headers
// present and well-formed, timestamp within the tolerance, then the key
// lookup (which may fetch the JWKS) and the RSA verification.
func (s *ShipEngine) Verify(body []byte, h http.Header) error {
	kid := strings.TrimSpace(h.Get(HeaderShipEngineKeyID))
	sigText := strings.TrimSpace(h.Get(HeaderShipEngineSignature))
	ts := strings.TrimSpace(h.Get(HeaderShipEngineTimestamp))
	for _, hv := range []struct{ name, v string }{
		{HeaderShipEngineKeyID, kid}, {HeaderShipEngineSignature, sigText}, {HeaderShipEngineTimestamp, ts},
	} {
		if hv.v == "" {
			return fmt.Errorf("shipengine: header %s: %w", hv.name, ErrNoSignature)
		}
	}
	if len(kid) > shipEngineMaxKeyID || strings.ContainsFunc(kid, func(r rune) bool { return r < 0x21 || r > 0x7e }) {
		return fmt.Errorf("shipengine: header %s is not a key id: %w", HeaderShipEngineKeyID, ErrMalformedHeader)
	}
	signed, ok := ParseShipEngineTime(ts)
	if !ok {
		return fmt.Errorf("shipengine: header %s is not an ISO 8601 time or unix seconds: %w", HeaderShipEngineTimestamp, ErrMalformedHeader)
	}
	if err := signedAtWithin("shipengine", signed, s.now(), s.tolerance); err != nil {
		return err
	}
	sig, ok := shipEngineDecodeSig(sigText)
	if !ok {
		return fmt.Errorf("shipengine: header %s is not base64: %w", HeaderShipEngineSignature, ErrMalformedHeader)
	}
	pub, err := s.keys.Key(kid)
	if err != nil {
		if errors.Is(err, ErrUnknownKey) || errors.Is(err, ErrKeyUnavailable) {
			return fmt.Errorf("shipengine: %w", err)
		}
		// A key source that forgot the sentinels still fails closed, and
		// the error still wraps one.
		return fmt.Errorf("shipengine: key %q: %w: %w", kid, ErrKeyUnavailable, err)
	}
	if pub == nil {
		return fmt.Errorf("shipengine: key %q: %w", kid, ErrUnknownKey)
	}
	digest := sha256.Sum256(shipEngineMessage(ts, body))
	if err := rsa.VerifyPKCS1v15(pub, crypto.SHA256, digest[:], sig); err != nil {
		return fmt.Errorf("shipengine: %w", ErrMismatch)
	}
	return nil
}

// shipEngineMessage is what ShipEngine signs: the timestamp header value as
// sent, ".", the raw body.
func shipEngineMessage(ts string, body []byte) []byte {
	msg := make([]byte, 0, len(ts)+1+len(body))
	msg = append(msg, ts...)
	msg = append(msg, '.')
	return append(msg, body...)
}

// shipEngineDecodeSig decodes base64 in the standard or the URL-safe
// alphabet, with or without padding.
func shipEngineDecodeSig(v string) ([]byte, bool) {
	enc := base64.StdEncoding
	if strings.ContainsAny(v, "-_") {
		enc = base64.URLEncoding
	}
	if !strings.HasSuffix(v, "=") {
		enc = enc.WithPadding(base64.NoPadding)
	}
	b, err := enc.Strict().DecodeString(v)
	if err != nil || len(b) == 0 {
		return nil, false
	}
	return b, true
}

// ParseShipEngineTime reads an x-shipengine-timestamp value: ISO 8601 /
// RFC 3339 with or without fractional seconds (an offset of "Z", "+hh:mm"
// or "+hhmm"; no offset is taken as UTC), or unix seconds. The adapter uses
// it for the event's SentAt.
func ParseShipEngineTime(v string) (time.Time, bool) {
	v = strings.TrimSpace(v)
	if v == "" || len(v) > 40 {
		return time.Time{}, false
	}
	if n, ok := asciiUnix(v); ok && len(v) <= 12 { // unix seconds, up to year 33658
		return time.Unix(n, 0).UTC(), true
	}
	// Parsing accepts a fractional second after the seconds even where
	// the layout has none.
	for _, layout := range []string{time.RFC3339, "2006-01-02T15:04:05Z0700", "2006-01-02T15:04:05"} {
		if t, err := time.Parse(layout, v); err == nil {
			return t.UTC(), true
		}
	}
	return time.Time{}, false
}

// ShipEngineSigner signs like ShipEngine does, with a private key of your
// own. trackhook never holds ShipEngine's key: this exists for tests, for
// `trackhook sign` against a receiver whose JWKS URL serves the matching
// public key, and for end-to-end tests with a fake JWKS.
type ShipEngineSigner struct {
	kid string
	key *rsa.PrivateKey
}

// NewShipEngineSigner returns a signer that names kid in the key-id header.
// It refuses an empty kid or a nil key (ErrNoSecret).
func NewShipEngineSigner(kid string, key *rsa.PrivateKey) (*ShipEngineSigner, error) {
	if kid == "" || key == nil {
		return nil, fmt.Errorf("shipengine signer: kid and private key are required: %w", ErrNoSecret)
	}
	return &ShipEngineSigner{kid: kid, key: key}, nil
}

// Sign implements Signer: the timestamp is now in RFC 3339 (UTC, seconds),
// the signature standard base64.
func (s *ShipEngineSigner) Sign(body []byte, now time.Time) (http.Header, error) {
	ts := now.UTC().Format(time.RFC3339)
	digest := sha256.Sum256(shipEngineMessage(ts, body))
	sig, err := rsa.SignPKCS1v15(rand.Reader, s.key, crypto.SHA256, digest[:])
	if err != nil {
		return nil, fmt.Errorf("shipengine signer: %w", err)
	}
	h := http.Header{}
	h.Set(HeaderShipEngineKeyID, s.kid)
	h.Set(HeaderShipEngineSignature, base64.StdEncoding.EncodeToString(sig))
	h.Set(HeaderShipEngineTimestamp, ts)
	return h, nil
}
