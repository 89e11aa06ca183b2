// Package signature verifies webhook signatures, one file per sender's
// scheme. It is pure: bytes and headers in, an error out; no I/O, no logging,
// and it imports nothing of trackhook's. Fetching keys (ShipEngine's JWKS) is
// behind the KeySource interface; signature/jwks implements it over HTTP.
//
// Every constructor refuses an empty secret (a source without a secret is
// off, never open) and takes several secrets, newest first, so a secret can
// be rotated without dropping deliveries. The schemes that sign a timestamp
// also take options (WithClock, WithTolerance; see Option). Errors wrap the
// sentinels below; callers use errors.Is, and the receiver maps every one of
// them to 401.
package signature

import (
	"errors"
	"net/http"
	"time"
)

// Sentinel errors. Verifiers wrap them with context via %w.
var (
	// ErrNoSecret is returned by constructors given no secret, or an empty one.
	ErrNoSecret = errors.New("signature: no secret configured")
	// ErrNoSignature means the signature header is missing or empty.
	ErrNoSignature = errors.New("signature: missing signature")
	// ErrMalformedHeader means a signature or timestamp header could not be parsed.
	ErrMalformedHeader = errors.New("signature: malformed header")
	// ErrMismatch means the signature is well-formed but matches no secret.
	ErrMismatch = errors.New("signature: mismatch")
	// ErrTooOld means a signed timestamp is older than the tolerance.
	ErrTooOld = errors.New("signature: timestamp too old")
	// ErrTooNew means a signed timestamp is further in the future than the tolerance.
	ErrTooNew = errors.New("signature: timestamp too new")
	// ErrUnknownKey is wrapped by a KeySource when it has no key for a kid,
	// even after refreshing (or when it may not refresh yet).
	ErrUnknownKey = errors.New("signature: unknown signing key")
	// ErrKeyUnavailable is wrapped by a KeySource when it could not get the
	// keys at all (the JWKS endpoint is down, or answered garbage) and has no
	// key for the kid. Unlike ErrUnknownKey it says nothing about the
	// request: the sender's retry may well succeed.
	ErrKeyUnavailable = errors.New("signature: signing keys unavailable")
	// ErrInvalidOption is returned by constructors given a nil clock or a
	// tolerance that is not positive.
	ErrInvalidOption = errors.New("signature: invalid option")
)

// Verifier checks that a webhook body was signed by its sender. body is the
// raw request body, exactly as received.
type Verifier interface {
	Verify(body []byte, h http.Header) error
}

// Signer produces the headers a sender would attach to body. It exists for
// `trackhook sign` and for tests; it signs with the first (newest) secret.
type Signer interface {
	Sign(body []byte, now time.Time) (http.Header, error)
}
