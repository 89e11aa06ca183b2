package dispatcher

import "time"

// Observer is told what the handler does with each notify task, for
// metrics. Its label values are fixed sets: a channel (ChannelEmail,
// ChannelSMS) and one of the Outcome* values; never a recipient.
type Observer interface {
	// Notification counts one processed task by channel and outcome.
	Notification(channel, outcome string)
	// Retry counts a task run that is a retry of an earlier failed run.
	Retry(channel string)
	// Sent observes how long the provider took to accept (or refuse) a
	// message, successful or not.
	Sent(channel string, d time.Duration)
}

// Outcomes of a notify task.
const (
	OutcomeSent            = "sent"             // the provider accepted it
	OutcomeFailedTemporary = "failed_temporary" // returned for asynq to retry
	OutcomeFailedPermanent = "failed_permanent" // archived: rejected, no template, malformed task, or the last retry failed
	OutcomeSkipped         = "skipped"          // not sent: delivered before, recipient removed, unsubscribed or suppressed
	OutcomeDeferred        = "deferred"         // not sent yet: the recipient's quiet hours; runs again when they end
)

// nopObserver is the Observer of a Handler configured without one.
type nopObserver struct{}

func (nopObserver) Notification(string, string) {}
func (nopObserver) Retry(string)                {}
func (nopObserver) Sent(string, time.Duration)  {}
