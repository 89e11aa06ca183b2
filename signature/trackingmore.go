package signature

import (
	"encoding/hex"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// Headers of a TrackingMore v4 webhook (shared/reference/webhook-sources.md,
// B1). The names are SECONDARY (a third-party handler reads them); Go reads
// headers case-insensitively, so "timestamp" and "Timestamp" are the same.
const (
	// HeaderTrackingMoreTimestamp carries the time of sending, the only
	// signed value.
	HeaderTrackingMoreTimestamp = "Timestamp"
	// HeaderTrackingMoreSignature carries lowercase hex
	// HMAC-SHA256(webhook secret, timestamp header value).
	HeaderTrackingMoreSignature = "Signature"
)

// TrackingMore verifies TrackingMore v4 webhooks.
//
// The scheme signs only the timestamp header, NOT the body (VERIFIED by the
// Go example on TrackingMore's webhook page; the prose on the same page says
// "HMAC of the body", which its own code and test vector contradict). So a
// valid signature proves that TrackingMore sent some request at that time,
// not what it sent: anyone who captures one delivery can attach the same two
// headers to a forged body for as long as the timestamp is fresh. Verify
// limits that window to the tolerance (both directions), and the receiver
// should put the endpoint behind a secret path token as well.
//
// The timestamp's unit is UNVERIFIED: the official vector uses unix seconds
// (1662371528); a value of 10^12 or more is read as milliseconds.
type TrackingMore struct {
	keys      keyring
	now       func() time.Time
	tolerance time.Duration
}

// NewTrackingMore returns a verifier accepting a signature made with any of
// secrets (the "Webhook Secret" of the TrackingMore admin, newest first). It
// refuses an empty list or an empty secret. TrackingMore documents no
// freshness window: the tolerance is five minutes, like the other timestamp
// schemes', and the clock time.Now; see WithClock and WithTolerance.
func NewTrackingMore(secrets []string, opts ...Option) (*TrackingMore, error) {
	k, err := newKeyring(secrets)
	if err != nil {
		return nil, fmt.Errorf("trackingmore: %w", err)
	}
	o, err := newOptions("trackingmore", opts)
	if err != nil {
		return nil, err
	}
	return &TrackingMore{keys: k, now: o.now, tolerance: o.tolerance}, nil
}

// Verify implements Verifier. body is not looked at: TrackingMore does not
// sign it.
func (t *TrackingMore) Verify(_ []byte, h http.Header) error {
	v := strings.TrimSpace(h.Get(HeaderTrackingMoreSignature))
	if v == "" {
		return fmt.Errorf("trackingmore: header %s: %w", HeaderTrackingMoreSignature, ErrNoSignature)
	}
	ts := strings.TrimSpace(h.Get(HeaderTrackingMoreTimestamp))
	if ts == "" {
		return fmt.Errorf("trackingmore: header %s is missing: %w", HeaderTrackingMoreTimestamp, ErrMalformedHeader)
	}
	sent, ok := TrackingMoreTime(ts)
	if !ok {
		return fmt.Errorf("trackingmore: header %s is not a unix time: %w", HeaderTrackingMoreTimestamp, ErrMalformedHeader)
	}
	sig, err := hex.DecodeString(v)
	if err != nil || len(sig) != 32 {
		return fmt.Errorf("trackingmore: header %s is not a hex SHA-256 HMAC: %w", HeaderTrackingMoreSignature, ErrMalformedHeader)
	}
	if !t.keys.matchHMAC([]byte(ts), sig) {
		return fmt.Errorf("trackingmore: %w", ErrMismatch)
	}
	return signedAtWithin("trackingmore", sent, t.now(), t.tolerance)
}

// Sign implements Signer: the headers TrackingMore would send at now (unix
// seconds), signed with the first secret. body is not signed.
func (t *TrackingMore) Sign(_ []byte, now time.Time) (http.Header, error) {
	ts := strconv.FormatInt(now.Unix(), 10)
	h := http.Header{}
	h.Set(HeaderTrackingMoreTimestamp, ts)
	h.Set(HeaderTrackingMoreSignature, hex.EncodeToString(hmacSHA256(t.keys[0], []byte(ts))))
	return h, nil
}

// TrackingMoreTime parses a TrackingMore timestamp header: unix seconds, or
// milliseconds when the value is 10^12 or more. Only ASCII digits are
// accepted (no sign, no space, no fraction).
func TrackingMoreTime(v string) (time.Time, bool) {
	n, ok := asciiUnix(v)
	if !ok {
		return time.Time{}, false
	}
	if n >= 1e12 {
		return time.UnixMilli(n).UTC(), true
	}
	return time.Unix(n, 0).UTC(), true
}
