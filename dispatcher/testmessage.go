package dispatcher

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/hibiken/asynq"

	"github.com/trackhook/trackhook/dispatcher/redact"
	"github.com/trackhook/trackhook/templates"
)

// TypeTest is a test message an admin asked for: rendered and sent like a
// notification, marked as a test, outside the ledger and the ordering rules
// (it is nobody's status change).
const TypeTest = "notify:test"

// TestLog is the delivery-log id under which test messages with sample data
// are recorded (a test with a real tracking's data goes to its log).
const TestLog = "test"

// TestMessage is the payload of a TypeTest task.
type TestMessage struct {
	Channel    Channel  `json:"channel"`
	To         string   `json:"to"`
	Status     string   `json:"status"`
	Language   string   `json:"language"`              // the locale to render in, as negotiated by the API
	TrackingID string   `json:"tracking_id,omitempty"` // "": sample data
	Shipment   Shipment `json:"shipment"`
	// ParcelsDelivered of ParcelsTotal parcels of the order, as the
	// preview showed them.
	ParcelsDelivered int `json:"parcels_delivered,omitempty"`
	ParcelsTotal     int `json:"parcels_total,omitempty"`
}

// TestPrefix marks the subject of a test email and the start of a test SMS.
const TestPrefix = "[TEST] "

// NewTestTask returns the task that sends m once (no retries: the admin
// sees the outcome in the delivery log and asks again).
func NewTestTask(m TestMessage) (*asynq.Task, error) {
	if !m.Channel.Valid() || m.To == "" || m.Status == "" {
		return nil, errors.New("test message: channel, recipient and status are required")
	}
	payload, err := json.Marshal(m)
	if err != nil {
		return nil, err
	}
	queue := QueueEmail
	if m.Channel == ChannelSMS {
		queue = QueueSMS
	}
	return asynq.NewTask(TypeTest, payload, asynq.Queue(queue), asynq.MaxRetry(0), asynq.Retention(time.Hour),
		asynq.Timeout(2*time.Minute)), nil
}

// ProcessTest renders and sends one test message and records it, marked as
// a test, in the delivery log.
func (h *Handler) ProcessTest(ctx context.Context, t *asynq.Task) error {
	var m TestMessage
	if err := json.Unmarshal(t.Payload(), &m); err != nil || !m.Channel.Valid() {
		return fmt.Errorf("malformed test message: %v: %w", err, asynq.SkipRetry)
	}
	logID := m.TrackingID
	if logID == "" {
		logID = TestLog
	}
	log := h.log.With("test", true, "channel", m.Channel, "recipient", redact.Recipient(m.To), "status", m.Status)
	e := Delivery{Status: m.Status, Channel: m.Channel, Recipient: redact.Recipient(m.To), Attempt: 1, Test: true}
	kind := templates.KindEmail
	if m.Channel == ChannelSMS {
		kind = templates.KindSMS
	}
	data := m.Shipment.TemplateData(m.Status, h.cfg.ShopName)
	data.ParcelsDelivered, data.ParcelsTotal = m.ParcelsDelivered, m.ParcelsTotal
	msg, err := h.cfg.Templates.Render(kind, m.Status, m.Language, data)
	var id string
	if err == nil {
		if m.Channel == ChannelSMS {
			// After a right-to-left mark, so the text keeps its direction.
			body, rtl := strings.CutPrefix(msg.Text, "\u200f")
			body = TestPrefix + body
			if rtl {
				body = "\u200f" + body
			}
			id, err = h.cfg.SMS.Send(ctx, SMS{To: m.To, Body: body})
		} else {
			id = fmt.Sprintf("test-%d@%s", h.cfg.Now().UnixNano(), h.cfg.MessageIDDomain)
			err = h.cfg.Email.Send(ctx, Email{From: h.cfg.From, To: m.To, Subject: TestPrefix + msg.Subject, Text: msg.Text,
				HTML: msg.HTML, Language: msg.Locale, MessageID: id})
		}
	}
	if err != nil {
		e.Outcome, e.Reason, e.Error = OutcomeFailedPermanent, "test message not sent", err.Error()
		log.Warn("test message not sent", "err", err)
		h.record(ctx, logID, e, log)
		return fmt.Errorf("%w: %w", err, asynq.SkipRetry)
	}
	e.Outcome, e.ProviderMessageID = OutcomeSent, id
	log.Info("test message sent")
	h.record(ctx, logID, e, log)
	return nil
}
