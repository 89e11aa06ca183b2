package api

import (
	"context"
	"fmt"
	"net/http"
	"slices"
	"strings"

	"github.com/hibiken/asynq"
	"golang.org/x/text/language"

	"github.com/trackhook/trackhook/dispatcher"
	"github.com/trackhook/trackhook/dispatcher/redact"
	"github.com/trackhook/trackhook/receiver/contact"
	"github.com/trackhook/trackhook/receiver/tracking"
	"github.com/trackhook/trackhook/templates"
)

// Previews and test messages are trackhook's own addition to the AfterShip
// API: an admin sees any message as a customer would (with sample data or a
// real tracking's), and sends one to an address or number of their own,
// marked as a test in the delivery log.

// Messages is what the preview and test routes need.
type Messages struct {
	Templates *templates.Live
	// Queue takes test messages to the worker.
	Queue interface {
		EnqueueContext(ctx context.Context, t *asynq.Task, opts ...asynq.Option) (*asynq.TaskInfo, error)
	}
	// ShopName is TRACKHOOK_SHOP_NAME, as the worker signs with.
	ShopName string
	// Shipment is what a message shows of a tracking, as the webhook path
	// queues it (receiver.ShipmentOf).
	Shipment func(t *tracking.Tracking) dispatcher.Shipment
}

type messageBody struct {
	Message *struct {
		Channel    string `json:"channel"`
		Status     string `json:"status"`
		Language   string `json:"language"`
		TrackingID string `json:"tracking_id"`
		To         string `json:"to"`
	} `json:"message"`
}

// messageRequest is a checked preview or test request.
type messageRequest struct {
	channels []dispatcher.Channel
	status   string
	locale   string
	tracking *tracking.Tracking // nil: sample data
	to       string             // normalized address or E.164 number; "" for a preview without one
	ship     dispatcher.Shipment
	// parcelsDelivered of parcelsTotal: the order's progress shown (sample
	// values).
	parcelsDelivered, parcelsTotal int
}

func (a *API) messageRequest(r *http.Request, w http.ResponseWriter, needTo bool) (messageRequest, error) {
	var req messageRequest
	if a.messages == nil {
		return req, &Error{501, 501, "NotImplemented", "Previews and test messages are not configured."}
	}
	body, err := readBody(w, r)
	if err != nil {
		return req, err
	}
	var b messageBody
	if err := decodeJSON(body, &b); err != nil {
		return req, err
	}
	if b.Message == nil {
		return req, errBadRequest("`message` object is required.")
	}
	m := b.Message
	set := a.messages.Templates.Set()
	switch m.Channel {
	case "email", "sms":
		req.channels = []dispatcher.Channel{dispatcher.Channel(m.Channel)}
	case "":
		if needTo || m.To != "" {
			return req, errFieldRequired("message.channel")
		}
		req.channels = []dispatcher.Channel{dispatcher.ChannelEmail, dispatcher.ChannelSMS}
	default:
		return req, errInvalidValue("message.channel", m.Channel, "email or sms")
	}
	req.status = m.Status
	if req.status == "" {
		return req, errFieldRequired("message.status")
	}
	if !slices.Contains(set.Statuses(), req.status) {
		return req, errInvalidValue("message.status", m.Status, "one of "+strings.Join(set.Statuses(), ", "))
	}
	if m.To != "" || needTo {
		if m.To == "" {
			return req, errFieldRequired("message.to")
		}
		if req.to, err = recipientFor(req.channels[0], m.To); err != nil {
			return req, errInvalidValue("message.to", m.To, err.Error())
		}
		if needTo {
			// A test goes to whoever the admin names, but not to someone
			// who opted out of everything: STOP means stop.
			off, err := a.notify.Suppressed(r.Context(), req.channels[0], req.to)
			if err != nil {
				return req, err
			}
			if off {
				return req, errInvalidValue("message.to", m.To, "this recipient opted out of every message; lift it with POST /suppressions/remove first")
			}
		}
	}
	if m.Language != "" {
		if _, err := language.Parse(m.Language); err != nil {
			return req, errInvalidValue("message.language", m.Language, "a BCP 47 language tag, like de or pt-BR")
		}
	}
	country := ""
	if m.TrackingID != "" {
		if !validID(m.TrackingID) {
			return req, errTrackingNotFound()
		}
		t, err := a.store.Get(r.Context(), m.TrackingID)
		if err != nil {
			return req, err
		}
		req.tracking = &t
		req.ship = a.messages.Shipment(&t)
		country = t.DestinationCountry
		if req.to != "" {
			req.ship.CustomerName = t.NameFor(req.channels[0], req.to)
		}
	} else {
		req.ship = sampleShipment()
	}
	lang := m.Language
	if lang == "" && req.tracking != nil {
		lang = req.tracking.LanguageFor(req.channels[0], req.to)
	}
	req.locale = a.messages.Templates.Locale(lang, country)
	// What the message is about but the tracking may not say: a preview of
	// "new delivery date" needs a date, one of "all parcels delivered" a
	// count. Sample values stand in.
	sample := templates.SampleData()
	if (req.status == "NewDate" || req.status == "Late") && req.ship.ExpectedDelivery == "" {
		req.ship.ExpectedDelivery = sample.ExpectedDelivery
	}
	req.parcelsDelivered, req.parcelsTotal = sample.ParcelsDelivered, sample.ParcelsTotal
	if req.status == "OrderDelivered" {
		req.parcelsDelivered = req.parcelsTotal
	}
	if req.tracking != nil && req.status != "OrderDelivered" {
		req.parcelsDelivered, req.parcelsTotal = 0, 0 // a tracking's order progress is the worker's to tell
	}
	return req, nil
}

func recipientFor(c dispatcher.Channel, to string) (string, error) {
	if c == dispatcher.ChannelSMS {
		return contact.Phone(to, "")
	}
	return contact.Email(to)
}

// sampleShipment is templates.SampleData as a shipment.
func sampleShipment() dispatcher.Shipment {
	d := templates.SampleData()
	return dispatcher.Shipment{
		TrackingNumber: d.TrackingNumber, CarrierSlug: d.CarrierSlug, CarrierName: d.CarrierName, TrackingURL: d.TrackingURL,
		OrderNumber: d.OrderNumber, Title: d.Title, CustomerName: d.CustomerName, SubtagMessage: d.SubtagMessage,
		CheckpointMessage: d.CheckpointMessage, CheckpointLocation: d.CheckpointLocation, CheckpointTime: d.CheckpointTime,
		ItemsShipped: d.ItemsShipped, ItemsTotal: d.ItemsTotal, ExpectedDelivery: d.ExpectedDelivery,
	}
}

// previewJSON is one rendered message.
type previewJSON struct {
	Channel     string  `json:"channel"`
	Status      string  `json:"status"`
	Language    string  `json:"language"`
	Subject     *string `json:"subject,omitempty"`
	HTML        *string `json:"html,omitempty"`
	Text        *string `json:"text,omitempty"`
	SMS         *string `json:"sms,omitempty"`
	SMSSegments *int    `json:"sms_segments,omitempty"`
	SMSEncoding *string `json:"sms_encoding,omitempty"`
}

// PreviewMessage is POST /messages/preview: the message a customer would
// get, rendered for a channel (or both), a status and a language, with
// sample data or a tracking's. Nothing is sent or stored.
func (a *API) PreviewMessage(w http.ResponseWriter, r *http.Request) {
	req, err := a.messageRequest(r, w, false)
	if err != nil {
		a.fail(w, r, err)
		return
	}
	data := req.ship.TemplateData(req.status, a.messages.ShopName)
	data.ParcelsDelivered, data.ParcelsTotal = req.parcelsDelivered, req.parcelsTotal
	var out []previewJSON
	for _, c := range req.channels {
		kind := templates.KindEmail
		if c == dispatcher.ChannelSMS {
			kind = templates.KindSMS
		}
		m, err := a.messages.Templates.Render(kind, req.status, req.locale, data)
		if err != nil {
			a.log.Error("api: preview not rendered", "err", err)
			writeError(w, &Error{500, 500, "InternalError", "The message could not be rendered: " + err.Error()})
			return
		}
		p := previewJSON{Channel: string(c), Status: req.status, Language: m.Locale}
		if c == dispatcher.ChannelSMS {
			enc := "ucs2"
			if m.GSM7 {
				enc = "gsm7"
			}
			p.SMS, p.SMSSegments, p.SMSEncoding = &m.Text, &m.Segments, &enc
		} else {
			p.Subject, p.HTML, p.Text = &m.Subject, &m.HTML, &m.Text
		}
		out = append(out, p)
	}
	writeData(w, http.StatusOK, map[string]any{"messages": out})
}

// SendTestMessage is POST /messages/test: the message rendered as for
// PreviewMessage is sent to message.to by the worker, its subject (or text)
// starting with "[TEST] ", and recorded as a test in the delivery log: the
// tracking's when tracking_id is given, else GET /messages/test/deliveries.
// It is nobody's status change: no ledger, no quiet hours; a recipient on
// the suppression list is refused. Every API key can send them (the API's
// rate limit applies): keys are admin secrets.
func (a *API) SendTestMessage(w http.ResponseWriter, r *http.Request) {
	req, err := a.messageRequest(r, w, true)
	if err != nil {
		a.fail(w, r, err)
		return
	}
	m := dispatcher.TestMessage{Channel: req.channels[0], To: req.to, Status: req.status, Language: req.locale, Shipment: req.ship,
		ParcelsDelivered: req.parcelsDelivered, ParcelsTotal: req.parcelsTotal}
	log := "/messages/test/deliveries"
	if req.tracking != nil {
		m.TrackingID = req.tracking.ID
		log = "/trackings/" + req.tracking.ID + "/deliveries"
	}
	task, err := dispatcher.NewTestTask(m)
	if err != nil {
		writeError(w, errBadRequest(err.Error()))
		return
	}
	if _, err := a.messages.Queue.EnqueueContext(r.Context(), task); err != nil {
		a.fail(w, r, fmt.Errorf("queue the test message: %w", err))
		return
	}
	writeData(w, http.StatusAccepted, map[string]any{"message": map[string]any{
		"channel": string(m.Channel), "status": m.Status, "language": m.Language, "to": redact.Recipient(m.To),
		"queued": true, "delivery_log": log,
	}})
}

// ListTestDeliveries is GET /messages/test/deliveries: the delivery log of
// the test messages sent with sample data, newest first.
func (a *API) ListTestDeliveries(w http.ResponseWriter, r *http.Request) {
	list, err := a.notify.Deliveries(r.Context(), dispatcher.TestLog)
	if err != nil {
		a.fail(w, r, err)
		return
	}
	writeDeliveries(w, list)
}
