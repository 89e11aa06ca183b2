package dispatcher

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/hibiken/asynq"
)

// Task types.
const (
	TypeEmail = "notify:email"
	TypeSMS   = "notify:sms"
)

// Queues, one per channel, each with a worker pool of its own (cmd/trackhook),
// so a slow SMS provider does not hold up email.
const (
	QueueEmail = "email"
	QueueSMS   = "sms"
)

// Channel is how a notification reaches a customer. The receiver decides
// which are due; this is the one declaration of the vocabulary.
type Channel string

// The notification channels.
const (
	ChannelEmail Channel = "email"
	ChannelSMS   Channel = "sms"
)

// Valid reports whether c is one of the channels.
func (c Channel) Valid() bool { return c == ChannelEmail || c == ChannelSMS }

// NotificationKey names a notification within its tracking,
// "status|channel|recipient": the ledger's, the outbox's and the delivery
// log's key of it.
func NotificationKey(status string, c Channel, recipient string) string {
	return status + "|" + string(c) + "|" + recipient
}

// RecipientKey names a recipient on a channel, "channel:recipient": the
// suppression list's key, and the entries of a tracking's opt-outs.
func RecipientKey(c Channel, recipient string) string { return string(c) + ":" + recipient }

const (
	// MaxRetry bounds retries of temporary failures; with RetryDelay's
	// backoff (capped at one hour) that is roughly a day of trying.
	MaxRetry = 30
	// Retention keeps a finished task (and so its TaskID) for a day, so a
	// second enqueue of the same notification is refused by asynq.
	Retention = 24 * time.Hour
)

// Notification is the payload of a notify task: who, on which channel, for
// which status, and a snapshot of the shipment as it was when the status was
// entered (so the "out for delivery" email shows the out-for-delivery scan
// even if it is sent after the parcel was delivered).
type Notification struct {
	TrackingID string  `json:"tracking_id"`
	Key        string  `json:"key"` // the notification's key within its tracking
	Status     string  `json:"status"`
	Channel    Channel `json:"channel"`
	Recipient  string  `json:"recipient"`
	Language   string  `json:"language,omitempty"` // the tracking's language preference
	Country    string  `json:"country,omitempty"`  // destination country (ISO alpha-2 or alpha-3)
	// QueuedAt is when the notification became due; an SMS provider is
	// asked for earlier attempts sent since then (SMSFinder).
	QueuedAt time.Time `json:"queued_at,omitzero"`

	// Seq is the tracking's count of notifying statuses when it entered
	// Status. Collapse marks a notification held back by a delay rule: it
	// is superseded (not sent) when the tracking has entered a later
	// notifying status by the time it runs (ReasonSuperseded). NotBefore
	// is when its delay ends.
	Seq       int       `json:"seq,omitempty"`
	Collapse  bool      `json:"collapse,omitempty"`
	NotBefore time.Time `json:"not_before,omitzero"`
	// Order names the order the tracking's parcel belongs to (trackings
	// sharing an order number), "" for none: a Delivered message says how
	// many of the order's parcels are delivered (Config.Orders).
	Order string `json:"order,omitempty"`
	// Ref tells apart the occurrences of a message that is not a status's
	// own (Status "Stuck": one per update of the tracking); it is part of
	// the task id.
	Ref string `json:"ref,omitempty"`
	// After is the key of the notification queued before this one for the
	// same recipient and channel: this one waits until that one is sent
	// or settled (at most Config.OrderWait), so messages arrive in the
	// order of the statuses.
	After string `json:"after,omitempty"`

	Shipment Shipment `json:"shipment"`
}

// Shipment is what the templates may show.
type Shipment struct {
	TrackingNumber     string `json:"tracking_number"`
	CarrierSlug        string `json:"carrier_slug,omitempty"`
	CarrierName        string `json:"carrier_name,omitempty"`
	TrackingURL        string `json:"tracking_url,omitempty"`
	OrderNumber        string `json:"order_number,omitempty"`
	Title              string `json:"title,omitempty"`
	CustomerName       string `json:"customer_name,omitempty"`
	Subtag             string `json:"subtag,omitempty"`
	SubtagMessage      string `json:"subtag_message,omitempty"`
	CheckpointMessage  string `json:"checkpoint_message,omitempty"`
	CheckpointLocation string `json:"checkpoint_location,omitempty"` // the carrier's free text
	// The place in parts, when the carrier gave no free text: templates
	// name the country in the message's language.
	CheckpointCity    string    `json:"checkpoint_city,omitempty"`
	CheckpointState   string    `json:"checkpoint_state,omitempty"`
	CheckpointCountry string    `json:"checkpoint_country,omitempty"` // ISO 3166-1 alpha-3 or alpha-2
	CheckpointTime    time.Time `json:"checkpoint_time,omitzero"`
	// ExpectedDelivery is the carrier's expected delivery day,
	// "2006-01-02"; "" when unknown.
	ExpectedDelivery string `json:"expected_delivery,omitempty"`
	// ItemsShipped of ItemsTotal items are in this parcel (0 when unknown).
	ItemsShipped int `json:"items_shipped,omitempty"`
	ItemsTotal   int `json:"items_total,omitempty"`
}

// TaskID is the asynq task id of a notification, derived from tracking,
// status, channel and recipient, so the same notification can never be
// queued twice. It is a hash: task ids show in the dashboard, and must not
// show the recipient.
func TaskID(trackingID, status string, channel Channel, recipient string) string {
	sum := sha256.Sum256([]byte(trackingID + "\x00" + status + "\x00" + string(channel) + "\x00" + recipient))
	return "n-" + hex.EncodeToString(sum[:16])
}

// ID is TaskID of n (with n.Ref, when set, as part of the status).
func (n Notification) ID() string {
	status := n.Status
	if n.Ref != "" {
		status += "@" + n.Ref
	}
	return TaskID(n.TrackingID, status, n.Channel, n.Recipient)
}

func (n Notification) validate() error {
	switch {
	case n.TrackingID == "":
		return errors.New("no tracking_id")
	case n.Status == "":
		return errors.New("no status")
	case n.Recipient == "":
		return errors.New("no recipient")
	case !n.Channel.Valid():
		return fmt.Errorf("unknown channel %q", n.Channel)
	}
	return nil
}

// NewTask returns the task that delivers n, with its TaskID, queue, retry
// and retention options attached.
func NewTask(n Notification) (*asynq.Task, error) {
	if err := n.validate(); err != nil {
		return nil, fmt.Errorf("notification: %w", err)
	}
	payload, err := json.Marshal(n)
	if err != nil {
		return nil, err
	}
	typ := TypeEmail
	if n.Channel == ChannelSMS {
		typ = TypeSMS
	}
	return RebuildTask(typ, n.ID(), payload)
}

// RebuildTask recreates a task from its type, id and payload, as stored in a
// tracking's outbox, with the options NewTask gives. It does not decode the
// payload (that is the enqueue hot path, and the payload is NewTask's own);
// the handler checks it, and archives a task whose payload is not a
// notification of its channel.
func RebuildTask(typ, taskID string, payload []byte) (*asynq.Task, error) {
	var queue string
	switch typ {
	case TypeEmail:
		queue = QueueEmail
	case TypeSMS:
		queue = QueueSMS
	default:
		return nil, fmt.Errorf("unknown task type %q", typ)
	}
	if taskID == "" {
		return nil, errors.New("no task id")
	}
	return asynq.NewTask(typ, payload,
		asynq.TaskID(taskID), asynq.Queue(queue), asynq.MaxRetry(MaxRetry), asynq.Retention(Retention),
		asynq.Timeout(2*time.Minute)), nil
}

func decode(payload []byte) (Notification, error) {
	var n Notification
	if err := json.Unmarshal(payload, &n); err != nil {
		return n, fmt.Errorf("decode notification: %w", err)
	}
	if err := n.validate(); err != nil {
		return n, fmt.Errorf("notification: %w", err)
	}
	return n, nil
}
