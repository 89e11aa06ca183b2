package dispatcher

import (
	"context"
	"errors"
	"fmt"
	"time"
)

// ErrPermanent marks a delivery failure that retrying cannot fix: an SMTP
// 5xx reply, a 4xx answer from the SMS API, an invalid recipient. Senders wrap
// it with %w; the task handlers turn it into asynq.SkipRetry so the task is
// archived (dead-lettered) instead of retried. Every other error is treated
// as temporary and retried with backoff.
var ErrPermanent = errors.New("permanent delivery failure")

// Email is one rendered notification email, ready to hand to an EmailSender.
type Email struct {
	From    string // "Shop <noreply@shop.example>"
	To      string // plain address
	Subject string
	Text    string // plain-text part (always present)
	HTML    string // HTML part (always present)
	// Language is the BCP 47 tag the message was rendered in; senders put it
	// in the Content-Language header.
	Language string
	// MessageID is a stable id for this notification (without angle
	// brackets, e.g. "3f2a…@shop.example"), so a retried send carries the
	// same Message-ID and receiving systems can tell it is the same message.
	MessageID string
	// ListUnsubscribe, when set, is the HTTPS one-click unsubscribe URL
	// (RFC 8058): senders add List-Unsubscribe and List-Unsubscribe-Post.
	ListUnsubscribe string
}

// EmailSender delivers one email. An error wrapping ErrPermanent must not be
// retried; any other error is temporary.
type EmailSender interface {
	Send(ctx context.Context, e Email) error
}

// SMS is one rendered text message.
type SMS struct {
	To   string // E.164, "+4915112345678"
	Body string
}

// SMSSender delivers one SMS and returns the provider's message id (Twilio's
// "SM…" sid) when there is one. An error wrapping ErrPermanent must not be
// retried; any other error is temporary.
type SMSSender interface {
	Send(ctx context.Context, m SMS) (providerID string, err error)
}

// DeferredError says a notification may not go out before Until (the
// recipient's quiet hours). The handler returns it for asynq, which runs the
// task again After from now; RetryDelay honours After and IsFailure does not
// count it.
//
// After is measured on the handler's clock (Config.Now) when it deferred,
// not on the wall clock when asynq asks: a deferral decided by an injected
// clock must not turn into a delay against the real one.
type DeferredError struct {
	Until  time.Time
	After  time.Duration // Until minus the handler's now
	Reason string        // "quiet hours in Europe/Berlin until 08:00"
}

func (e *DeferredError) Error() string { return "deferred: " + e.Reason }

// QuietHours says until when a phone number may not be texted (the zero
// time: it may be now) and in which time zone.
type QuietHours interface {
	Until(e164 string, now time.Time) (until time.Time, zone string, err error)
}

// SMSFinder is implemented by SMS senders whose provider can list the
// messages it has accepted. A worker that died after the provider accepted an
// SMS and before that was recorded runs the task again; before sending, the
// handler asks the provider whether the message is already there, so the
// customer does not get it twice.
type SMSFinder interface {
	// FindSent returns the provider id of a message to m.To with body m.Body
	// that the provider accepted at or after since. found is false when
	// there is none. An error wrapping ErrCannotFind says the provider
	// offers no such lookup (the handler then sends); any other error is
	// temporary (the handler retries later rather than risk a duplicate).
	FindSent(ctx context.Context, m SMS, since time.Time) (providerID string, found bool, err error)
}

// ErrCannotFind is returned by an SMSFinder whose provider has no way to
// list sent messages (a Twilio-compatible API without the list endpoint).
var ErrCannotFind = errors.New("the provider cannot list sent messages")

// RetryAfterError is a temporary failure for which the provider said when to
// try again (HTTP 429 or 503 with Retry-After, for example). The worker's
// retry delay honours After.
type RetryAfterError struct {
	After time.Duration
	Err   error
}

func (e *RetryAfterError) Error() string {
	if e.Err == nil {
		return fmt.Sprintf("retry after %v", e.After)
	}
	return e.Err.Error()
}
func (e *RetryAfterError) Unwrap() error { return e.Err }
