package tracking

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/redis/go-redis/v9"

	"github.com/trackhook/trackhook/dispatcher/redact"
)

// MaxDeliveries is how many delivery-log entries a tracking keeps; older
// ones are dropped as new ones arrive.
const MaxDeliveries = 200

// maxDeliveryError bounds the stored error text (bytes).
const maxDeliveryError = 1024

// DeliveryOutcome is what became of one attempt to deliver a notification.
type DeliveryOutcome uint8

// The delivery outcomes. The zero value is not an outcome.
const (
	DeliveryInvalid DeliveryOutcome = iota
	// DeliverySent: the provider accepted the message.
	DeliverySent
	// DeliveryFailedTemporary: the attempt failed and the task will be
	// retried with backoff.
	DeliveryFailedTemporary
	// DeliveryFailedPermanent: the attempt failed and the task was archived
	// (rejected by the provider, no template, or out of retries); only a
	// retry through the API runs it again.
	DeliveryFailedPermanent
	// DeliverySkipped: nothing was sent, and that is final (Reason says
	// why: already delivered, recipient removed, suppressed, …).
	DeliverySkipped
	// DeliveryDeferred: not sent yet because of the recipient's quiet
	// hours; the task runs again when they end (Reason says until when).
	DeliveryDeferred
)

var deliveryOutcomeNames = [...]string{
	DeliveryInvalid:         "",
	DeliverySent:            "sent",
	DeliveryFailedTemporary: "failed_temporary",
	DeliveryFailedPermanent: "failed_permanent",
	DeliverySkipped:         "skipped",
	DeliveryDeferred:        "deferred",
}

func (o DeliveryOutcome) String() string {
	if int(o) < len(deliveryOutcomeNames) {
		return deliveryOutcomeNames[o]
	}
	return fmt.Sprintf("DeliveryOutcome(%d)", uint8(o))
}

// Valid reports whether o is one of the outcomes.
func (o DeliveryOutcome) Valid() bool { return o >= DeliverySent && o <= DeliveryDeferred }

// ParseDeliveryOutcome parses an outcome's name ("failed_permanent").
func ParseDeliveryOutcome(v string) (DeliveryOutcome, error) {
	for o := DeliverySent; o <= DeliveryDeferred; o++ {
		if deliveryOutcomeNames[o] == v {
			return o, nil
		}
	}
	return DeliveryInvalid, fmt.Errorf("unknown delivery outcome %q (want one of %s)", v, strings.Join(deliveryOutcomeNames[1:], ", "))
}

// MarshalText implements encoding.TextMarshaler.
func (o DeliveryOutcome) MarshalText() ([]byte, error) {
	if !o.Valid() {
		return nil, fmt.Errorf("invalid delivery outcome %d", uint8(o))
	}
	return []byte(o.String()), nil
}

// UnmarshalText implements encoding.TextUnmarshaler.
func (o *DeliveryOutcome) UnmarshalText(b []byte) error {
	v, err := ParseDeliveryOutcome(string(b))
	if err != nil {
		return err
	}
	*o = v
	return nil
}

// Delivery is one entry of a tracking's delivery log: one attempt to deliver
// one notification.
type Delivery struct {
	Status  Status  `json:"status"` // the status the notification announces
	Channel Channel `json:"channel"`
	// Recipient is masked ("k***@example.com", "+49******78"); the log never
	// holds an address.
	Recipient string          `json:"recipient"`
	Attempt   int             `json:"attempt"` // 1 for the first run of the task
	Outcome   DeliveryOutcome `json:"outcome"`
	// Reason says why a notification was skipped or failed for good.
	Reason            string `json:"reason,omitempty"`
	ProviderMessageID string `json:"provider_message_id,omitempty"`
	// Error is the failure as the sender reported it (addresses masked).
	Error string    `json:"error,omitempty"`
	At    time.Time `json:"at"`
}

// recordDeliveryScript adds one entry to a tracking's delivery log, unless
// the tracking is gone (deleted or expired: its log went with it).
//
// KEYS[1] deliveries zset, KEYS[2] state hash (one hash slot)
// ARGV[1] score: the entry's time (µs)
// ARGV[2] entry JSON
// ARGV[3] cutoff (µs): entries older than this are dropped
// ARGV[4] how many entries to keep (the newest)
// ARGV[5] retention (ms) of the log key
// Returns 1 recorded, 0 no such tracking.
var recordDeliveryScript = redis.NewScript(`
if redis.call("EXISTS", KEYS[2]) == 0 then
  return 0
end
redis.call("ZADD", KEYS[1], ARGV[1], ARGV[2])
redis.call("ZREMRANGEBYSCORE", KEYS[1], "-inf", "(" .. ARGV[3])
redis.call("ZREMRANGEBYRANK", KEYS[1], 0, -(tonumber(ARGV[4]) + 1))
redis.call("PEXPIRE", KEYS[1], ARGV[5])
return 1
`)

// RecordDelivery appends d to the tracking's delivery log, keeping the
// newest MaxDeliveries entries of the last DeliveryRetention. A zero d.At
// is now. The recipient is masked here too, whatever the caller passed. It
// returns ErrNotFound, and records nothing, when the tracking does not
// exist.
func (s *Store) RecordDelivery(ctx context.Context, trackingID string, d Delivery) error {
	if !d.Outcome.Valid() {
		return fmt.Errorf("record delivery: invalid outcome %d", uint8(d.Outcome))
	}
	now := s.opts.Now()
	if d.At.IsZero() {
		d.At = now
	}
	d.At = d.At.UTC()
	d.Recipient = redact.Recipient(d.Recipient)
	d.Error = clip(d.Error, maxDeliveryError)
	b, err := json.Marshal(d)
	if err != nil {
		return err
	}
	ok, err := recordDeliveryScript.Run(ctx, s.rdb, []string{deliveriesKey(trackingID), stateKey(trackingID)},
		d.At.UnixMicro(), b, now.Add(-s.opts.DeliveryRetention).UnixMicro(), MaxDeliveries,
		s.opts.DeliveryRetention.Milliseconds()).Int()
	if err != nil {
		return fmt.Errorf("record delivery: %w", err)
	}
	if ok == 0 {
		return ErrNotFound
	}
	return nil
}

// Deliveries returns a tracking's delivery log, newest first, without the
// entries older than DeliveryRetention. It returns ErrNotFound for a
// tracking that does not exist.
func (s *Store) Deliveries(ctx context.Context, trackingID string) ([]Delivery, error) {
	cutoff := s.opts.Now().Add(-s.opts.DeliveryRetention).UnixMicro()
	pipe := s.rdb.Pipeline()
	exists := pipe.Exists(ctx, stateKey(trackingID))
	entries := pipe.ZRevRangeByScore(ctx, deliveriesKey(trackingID), &redis.ZRangeBy{
		Max: "+inf", Min: strconv.FormatInt(cutoff, 10), Count: MaxDeliveries,
	})
	if _, err := pipe.Exec(ctx); err != nil && !errors.Is(err, redis.Nil) {
		return nil, fmt.Errorf("delivery log: %w", err)
	}
	if exists.Val() == 0 {
		return nil, ErrNotFound
	}
	out := make([]Delivery, 0, len(entries.Val()))
	for _, raw := range entries.Val() {
		var d Delivery
		if json.Unmarshal([]byte(raw), &d) == nil {
			out = append(out, d)
		}
	}
	return out, nil
}

// clip cuts s to at most n bytes on a rune boundary.
func clip(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n] + "…"
}
