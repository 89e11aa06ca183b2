package dispatcher

import (
	"fmt"
	"strings"
	"time"
)

// Outcome is what became of one attempt to deliver a notification: the
// delivery log's, the metrics' and the API's one vocabulary of it.
type Outcome uint8

// The outcomes. The zero value is not an outcome.
const (
	OutcomeInvalid Outcome = iota
	// OutcomeSent: the provider accepted the message.
	OutcomeSent
	// OutcomeFailedTemporary: the attempt failed and the task will be
	// retried with backoff.
	OutcomeFailedTemporary
	// OutcomeFailedPermanent: the attempt failed and the task was archived
	// (rejected by the provider, no template, a malformed task, or out of
	// retries); only a retry through the API runs it again.
	OutcomeFailedPermanent
	// OutcomeSkipped: nothing was sent, and that is final (Reason says why:
	// already delivered, recipient removed, suppressed, …).
	OutcomeSkipped
	// OutcomeDeferred: not sent yet because of the recipient's quiet hours;
	// the task runs again when they end (Reason says until when).
	OutcomeDeferred
	// OutcomeSuppressed: a notification rule decided it is not sent, and
	// that is final; Reason is the rule: "stale" (the event was too old),
	// "first_delivered" (the first status heard of was Delivered),
	// "superseded" (a later status arrived within its delay and is sent
	// instead).
	OutcomeSuppressed
)

// ReasonSuperseded is the delivery log's reason, and the gate's, for a
// delayed notification whose tracking entered a later notifying status
// before it went out.
const ReasonSuperseded = "superseded"

// ReasonWaiting is the gate's reason for holding a notification back while
// the one queued before it for the same recipient has not gone out yet.
// The handler tries again shortly; the wait is not an attempt and is not
// logged.
const ReasonWaiting = "waiting for the earlier message to this recipient"

var outcomeNames = [...]string{
	OutcomeInvalid:         "",
	OutcomeSent:            "sent",
	OutcomeFailedTemporary: "failed_temporary",
	OutcomeFailedPermanent: "failed_permanent",
	OutcomeSkipped:         "skipped",
	OutcomeDeferred:        "deferred",
	OutcomeSuppressed:      "suppressed",
}

// Outcomes lists every outcome, in order.
func Outcomes() []Outcome {
	return []Outcome{OutcomeSent, OutcomeFailedTemporary, OutcomeFailedPermanent, OutcomeSkipped, OutcomeDeferred, OutcomeSuppressed}
}

func (o Outcome) String() string {
	if int(o) < len(outcomeNames) {
		return outcomeNames[o]
	}
	return fmt.Sprintf("Outcome(%d)", uint8(o))
}

// Valid reports whether o is one of the outcomes.
func (o Outcome) Valid() bool { return o >= OutcomeSent && o <= OutcomeSuppressed }

// Settled reports whether o is final for its notification: nothing more
// will be sent for it (sent, skipped, suppressed, failed permanently).
func (o Outcome) Settled() bool {
	return o == OutcomeSent || o == OutcomeSkipped || o == OutcomeSuppressed || o == OutcomeFailedPermanent
}

// ParseOutcome parses an outcome's name ("failed_permanent").
func ParseOutcome(v string) (Outcome, error) {
	for _, o := range Outcomes() {
		if outcomeNames[o] == v {
			return o, nil
		}
	}
	return OutcomeInvalid, fmt.Errorf("unknown delivery outcome %q (want one of %s)", v, strings.Join(outcomeNames[1:], ", "))
}

// MarshalText implements encoding.TextMarshaler.
func (o Outcome) MarshalText() ([]byte, error) {
	if !o.Valid() {
		return nil, fmt.Errorf("invalid delivery outcome %d", uint8(o))
	}
	return []byte(o.String()), nil
}

// UnmarshalText implements encoding.TextUnmarshaler.
func (o *Outcome) UnmarshalText(b []byte) error {
	v, err := ParseOutcome(string(b))
	if err != nil {
		return err
	}
	*o = v
	return nil
}

// Delivery is one attempt to deliver one notification: an entry of its
// tracking's delivery log. Its JSON is what the log stores.
type Delivery struct {
	Status  string  `json:"status"` // the tracking status the notification announces
	Channel Channel `json:"channel"`
	// Recipient is masked with redact.Recipient ("k***@example.com",
	// "+49******78"); the log never holds an address.
	Recipient string `json:"recipient"`
	// Attempt counts runs of the task: asynq's retry count + 1. A task run
	// again from the archive keeps its count, so after a retry through the
	// API the number can repeat.
	Attempt int     `json:"attempt"`
	Outcome Outcome `json:"outcome"`
	// Reason says why nothing was sent (OutcomeSkipped, OutcomeDeferred)
	// or why a failure is final (OutcomeFailedPermanent).
	Reason string `json:"reason,omitempty"`
	// ProviderMessageID is the provider's id of an accepted message:
	// Twilio's message SID, or the email's Message-ID (without angle
	// brackets).
	ProviderMessageID string `json:"provider_message_id,omitempty"`
	// Error is the failure as the sender reported it; senders mask
	// addresses in their errors.
	Error string    `json:"error,omitempty"`
	At    time.Time `json:"at"` // zero: when the log records it
	// Test marks a test message an admin sent through the API.
	Test bool `json:"test,omitempty"`
}
