package signature

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// Headers of Standard Webhooks (standardwebhooks.com, spec and the official
// Go library; shared/reference/webhook-sources.md, G).
const (
	// HeaderStandardID is the message id, constant across retries.
	HeaderStandardID = "Webhook-Id"
	// HeaderStandardTimestamp is the attempt's time in unix seconds.
	HeaderStandardTimestamp = "Webhook-Timestamp"
	// HeaderStandardSignature is a space-separated list of "version,signature".
	HeaderStandardSignature = "Webhook-Signature"
)

// standardSecretPrefix marks a serialized symmetric secret.
const standardSecretPrefix = "whsec_"

// StandardWebhooks verifies Standard Webhooks signatures, the scheme of
// trackhook's "standard" source.
//
// The signed content is "<webhook-id>.<webhook-timestamp>.<raw body>";
// the signature is base64(HMAC-SHA256(key, content)) where the key is the
// secret with its "whsec_" prefix removed, base64-decoded. The
// webhook-signature header lists "v1,<base64>" entries separated by spaces;
// a request verifies when any v1 entry matches any configured secret (the
// spec's rotation mechanism: a sender signs with old and new secret during
// a rotation). Entries of other versions ("v1a", ed25519) and entries that
// do not parse are skipped, as the official library does.
type StandardWebhooks struct {
	keys      keyring
	now       func() time.Time
	tolerance time.Duration
}

// NewStandardWebhooks returns a verifier for secrets given as "whsec_<base64>"
// or bare base64 (newest first). It refuses an empty list, an empty secret,
// and a secret that is not standard base64 or decodes to nothing; those
// errors wrap ErrNoSecret, because such a secret cannot verify anything. The
// clock is time.Now and the tolerance five minutes, the official library's
// window; see WithClock and WithTolerance.
func NewStandardWebhooks(secrets []string, opts ...Option) (*StandardWebhooks, error) {
	if len(secrets) == 0 {
		return nil, fmt.Errorf("standard: %w", ErrNoSecret)
	}
	k := make(keyring, 0, len(secrets))
	for i, s := range secrets {
		key, err := base64.StdEncoding.DecodeString(strings.TrimPrefix(strings.TrimSpace(s), standardSecretPrefix))
		switch {
		case strings.TrimSpace(s) == "":
			return nil, fmt.Errorf("standard: secret %d of %d is empty: %w", i+1, len(secrets), ErrNoSecret)
		case err != nil:
			return nil, fmt.Errorf("standard: secret %d of %d is not %s<base64>: %w", i+1, len(secrets), standardSecretPrefix, ErrNoSecret)
		case len(key) == 0:
			return nil, fmt.Errorf("standard: secret %d of %d decodes to an empty key: %w", i+1, len(secrets), ErrNoSecret)
		}
		k = append(k, key)
	}
	o, err := newOptions("standard", opts)
	if err != nil {
		return nil, err
	}
	return &StandardWebhooks{keys: k, now: o.now, tolerance: o.tolerance}, nil
}

// Verify implements Verifier. A missing webhook-signature is ErrNoSignature;
// a missing or malformed webhook-id or webhook-timestamp, or a signature
// header with no v1 entry that parses, is ErrMalformedHeader. The signature
// is checked before the timestamp, so ErrTooOld and ErrTooNew mean an
// authentic message outside the window (a replay, or a skewed clock).
func (s *StandardWebhooks) Verify(body []byte, h http.Header) error {
	sigs := strings.TrimSpace(h.Get(HeaderStandardSignature))
	if sigs == "" {
		return fmt.Errorf("standard: header %s: %w", HeaderStandardSignature, ErrNoSignature)
	}
	id := strings.TrimSpace(h.Get(HeaderStandardID))
	if id == "" {
		return fmt.Errorf("standard: header %s is missing: %w", HeaderStandardID, ErrMalformedHeader)
	}
	ts := strings.TrimSpace(h.Get(HeaderStandardTimestamp))
	n, ok := asciiUnix(ts)
	if !ok {
		return fmt.Errorf("standard: header %s is not unix seconds: %w", HeaderStandardTimestamp, ErrMalformedHeader)
	}

	var candidates [][]byte
	for _, entry := range strings.Fields(sigs) {
		version, sig, found := strings.Cut(entry, ",")
		if !found || version != "v1" {
			continue
		}
		raw, err := base64.StdEncoding.Strict().DecodeString(sig)
		if err != nil || len(raw) != sha256.Size {
			continue
		}
		candidates = append(candidates, raw)
	}
	if len(candidates) == 0 {
		return fmt.Errorf("standard: header %s has no v1 signature: %w", HeaderStandardSignature, ErrMalformedHeader)
	}

	content := standardContent(id, ts, body)
	ok = false
	for _, key := range s.keys {
		want := hmacSHA256(key, content)
		for _, c := range candidates {
			// No early exit: every pair is compared, so timing does not
			// tell which secret or entry matched.
			if hmac.Equal(want, c) {
				ok = true
			}
		}
	}
	if !ok {
		return fmt.Errorf("standard: %w", ErrMismatch)
	}
	return signedAtWithin("standard", time.Unix(n, 0), s.now(), s.tolerance)
}

// Sign implements Signer: the three headers a Standard Webhooks sender
// would attach at now, signed with the first secret. The message id is
// derived from the body ("msg_" + 24 hex digits of its SHA-256), so signing
// the same payload twice yields the same id and the receiver treats the
// second delivery as a retry of the first.
func (s *StandardWebhooks) Sign(body []byte, now time.Time) (http.Header, error) {
	sum := sha256.Sum256(body)
	id := "msg_" + hex.EncodeToString(sum[:12])
	sig, err := s.SignMessage(id, now, body)
	if err != nil {
		return nil, err
	}
	h := http.Header{}
	h.Set(HeaderStandardID, id)
	h.Set(HeaderStandardTimestamp, strconv.FormatInt(now.Unix(), 10))
	h.Set(HeaderStandardSignature, sig)
	return h, nil
}

// SignMessage returns the webhook-signature value ("v1,<base64>") for a
// message with the given id, sent at ts, signed with the first secret. It
// mirrors the official library's Sign(msgID, timestamp, payload).
func (s *StandardWebhooks) SignMessage(id string, ts time.Time, body []byte) (string, error) {
	if id == "" {
		return "", fmt.Errorf("standard: empty message id: %w", ErrMalformedHeader)
	}
	mac := hmacSHA256(s.keys[0], standardContent(id, strconv.FormatInt(ts.Unix(), 10), body))
	return "v1," + base64.StdEncoding.EncodeToString(mac), nil
}

// standardContent is "<id>.<timestamp>.<body>".
func standardContent(id, ts string, body []byte) []byte {
	b := make([]byte, 0, len(id)+len(ts)+2+len(body))
	b = append(b, id...)
	b = append(b, '.')
	b = append(b, ts...)
	b = append(b, '.')
	return append(b, body...)
}
