// Package signature verifies webhook signatures, one file per sender's
// scheme. It is pure: bytes and headers in, an error out; no I/O, no logging.
//
// Every constructor refuses an empty secret (a source without a secret is
// off, never open) and accepts several secrets, so a secret can be rotated
// without dropping deliveries. Errors wrap the sentinels below; callers use
// errors.Is, and the receiver maps every one of them to 401.
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
