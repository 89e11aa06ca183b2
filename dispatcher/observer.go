package dispatcher

import "time"

// Observer is told what the handler does with each notify task, for
// metrics. Its label values are fixed sets, a Channel and an Outcome; never
// a recipient.
type Observer interface {
	// Notification counts one processed task by channel and outcome.
	Notification(c Channel, o Outcome)
	// Retry counts a task run that is a retry of an earlier failed run.
	Retry(c Channel)
	// Sent observes how long the provider took to accept (or refuse) a
	// message, successful or not.
	Sent(c Channel, d time.Duration)
	// Suppressed counts one notification a rule held back (outcome
	// OutcomeSuppressed), by channel and the rule: "stale",
	// "first_delivered", "superseded".
	Suppressed(c Channel, reason string)
	// SMSSegments observes the segments of one text handed to the SMS
	// provider and whether it went in the GSM-7 alphabet (else UCS-2).
	SMSSegments(segments int, gsm7 bool)
}

// nopObserver is the Observer of a Handler configured without one.
type nopObserver struct{}

func (nopObserver) Notification(Channel, Outcome) {}
func (nopObserver) Retry(Channel)                 {}
func (nopObserver) Sent(Channel, time.Duration)   {}
func (nopObserver) Suppressed(Channel, string)    {}
func (nopObserver) SMSSegments(int, bool)         {}
