package receiver

import (
	"errors"
	"time"

	"github.com/trackhook/trackhook/dispatcher"
	"github.com/trackhook/trackhook/signature"
)

// Observer is told what the receiver does, for metrics. Every label value it
// is given comes from a fixed set (the registry's source names, the
// outcomes and reasons below, the channel names), never from the request:
// no path segment a stranger typed, no recipient, no secret.
type Observer interface {
	// Webhook counts one webhook request by source and outcome: an
	// OutcomePing or a tracking.Outcome's name ("created", "updated",
	// "duplicate", "stale") or OutcomeIgnored when it was answered 2xx,
	// else one of the Rejected* reasons.
	Webhook(source, outcome string)
	// VerificationFailed counts a signature that did not verify, by reason
	// (one of the Verify* values).
	VerificationFailed(source, reason string)
	// Applied observes how long one event took to apply to the store.
	Applied(d time.Duration)
	// RecipientDropped counts one subscriber entry a stored webhook carried
	// but the adapter left out (malformed, or past the list limit), by
	// channel ("email", "sms"). The webhook itself was answered 2xx.
	RecipientDropped(source, channel string)
	// Suppressed counts one due notification a rule held back when its
	// status was entered, by channel and the rule (tracking.SuppressedStale,
	// tracking.SuppressedFirstDelivered). The same method as the
	// dispatcher's Observer, so one metrics type serves both.
	Suppressed(c dispatcher.Channel, reason string)
	// Delayed counts one due notification held for its status's delay
	// (TRACKHOOK_NOTIFY_DELAYS), by channel.
	Delayed(c dispatcher.Channel)
}

// Webhook outcomes besides the tracking.Outcome names.
const (
	OutcomeIgnored = "ignored" // a valid webhook carrying no tracking event
	OutcomePing    = "ping"    // an unsigned handshake answered 200
)

// Reasons a webhook is rejected, reported as its outcome.
const (
	RejectedUnknownSource    = "unknown_source"    // 404: no such source, not configured, or wrong path token
	RejectedRateLimited      = "rate_limited"      // 429
	RejectedTooLarge         = "too_large"         // 413
	RejectedReadFailed       = "read_failed"       // 400: the body could not be read (the sender hung up)
	RejectedBadSignature     = "bad_signature"     // 401
	RejectedMalformed        = "malformed"         // 400: the adapter could not decode it
	RejectedStoreUnavailable = "store_unavailable" // 503: Redis failed; the sender retries
)

// SourceUnknown is the source label of webhooks to a source that is not in
// the registry, so strangers cannot mint label values.
const SourceUnknown = "unknown"

// Reasons a signature fails to verify.
const (
	VerifyNoSignature    = "no_signature"
	VerifyMalformed      = "malformed_header"
	VerifyMismatch       = "mismatch"
	VerifyTooOld         = "too_old"
	VerifyTooNew         = "too_new"
	VerifyUnknownKey     = "unknown_key"
	VerifyKeyUnavailable = "key_unavailable"
	VerifyOther          = "other"
)

// verifyReason names a Verifier error by the signature sentinel it wraps.
func verifyReason(err error) string {
	for _, r := range []struct {
		err    error
		reason string
	}{
		{signature.ErrNoSignature, VerifyNoSignature},
		{signature.ErrMalformedHeader, VerifyMalformed},
		{signature.ErrMismatch, VerifyMismatch},
		{signature.ErrTooOld, VerifyTooOld},
		{signature.ErrTooNew, VerifyTooNew},
		{signature.ErrUnknownKey, VerifyUnknownKey},
		{signature.ErrKeyUnavailable, VerifyKeyUnavailable},
	} {
		if errors.Is(err, r.err) {
			return r.reason
		}
	}
	return VerifyOther
}

// nopObserver is the Observer of a Server configured without one.
type nopObserver struct{}

func (nopObserver) Webhook(string, string)                {}
func (nopObserver) VerificationFailed(string, string)     {}
func (nopObserver) Applied(time.Duration)                 {}
func (nopObserver) RecipientDropped(string, string)       {}
func (nopObserver) Suppressed(dispatcher.Channel, string) {}
func (nopObserver) Delayed(dispatcher.Channel)            {}
