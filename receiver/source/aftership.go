package source

import (
	"bytes"
	"encoding/json"
	"net/http"
	"strings"
	"time"

	"github.com/trackhook/trackhook/receiver/carrier"
	"github.com/trackhook/trackhook/receiver/contact"
	"github.com/trackhook/trackhook/receiver/tracking"
)

// AfterShip decodes AfterShip Tracking webhooks (tracking_update and the
// other events that carry the full tracking in msg).
type AfterShip struct {
	Carriers *carrier.Catalog
}

type asWebhook struct {
	Event   string      `json:"event"`
	EventID string      `json:"event_id"`
	Msg     *asTracking `json:"msg"`
	TS      int64       `json:"ts"`
}

type asTracking struct {
	ID                       flexString     `json:"id"`
	TrackingNumber           flexString     `json:"tracking_number"`
	Slug                     string         `json:"slug"`
	Tag                      string         `json:"tag"`
	Subtag                   string         `json:"subtag"`
	SubtagMessage            string         `json:"subtag_message"`
	Title                    string         `json:"title"`
	OrderID                  flexString     `json:"order_id"`
	OrderNumber              flexString     `json:"order_number"`
	CustomerName             string         `json:"customer_name"`
	Language                 string         `json:"language"`
	DestinationCountryISO3   string         `json:"destination_country_iso3"`
	DestinationCountryRegion string         `json:"destination_country_region"`
	Emails                   contact.List   `json:"emails"`
	SMSes                    contact.List   `json:"smses"`
	SubscribedEmails         contact.List   `json:"subscribed_emails"`
	SubscribedSMSes          contact.List   `json:"subscribed_smses"`
	CourierTrackingLink      string         `json:"courier_tracking_link"`
	Checkpoints              []asCheckpoint `json:"checkpoints"`
}

type asCheckpoint struct {
	CheckpointTime string `json:"checkpoint_time"`
	Message        string `json:"message"`
	Location       string `json:"location"`
	City           string `json:"city"`
	State          string `json:"state"`
	Zip            string `json:"zip"`
	PostalCode     string `json:"postal_code"`
	CountryISO3    string `json:"country_iso3"`
	CountryRegion  string `json:"country_region"`
	Tag            string `json:"tag"`
	Subtag         string `json:"subtag"`
	SubtagMessage  string `json:"subtag_message"`
}

// Decode implements Adapter.
func (a AfterShip) Decode(body []byte, _ http.Header) ([]tracking.Event, error) {
	var w asWebhook
	dec := json.NewDecoder(bytes.NewReader(body))
	if err := dec.Decode(&w); err != nil {
		return nil, jsonError(err)
	}
	if dec.More() {
		return nil, malformed("trailing data after the JSON object")
	}
	if w.Msg == nil {
		return nil, malformed("msg (the tracking) is missing")
	}
	m := w.Msg
	number := clip(string(m.TrackingNumber), 100)
	if number == "" {
		return nil, malformed("msg.tracking_number is required")
	}
	if strings.TrimSpace(m.Slug) == "" {
		return nil, malformed("msg.slug is required")
	}
	country := firstNonEmpty(m.DestinationCountryISO3, m.DestinationCountryRegion)
	emails, smses := recipients(append(m.Emails, m.SubscribedEmails...), append(m.SMSes, m.SubscribedSMSes...), country)

	ev := tracking.Event{
		Source:             "aftership",
		EventID:            clip(w.EventID, 100),
		Slug:               a.Carriers.Normalize(m.Slug),
		TrackingNumber:     number,
		Status:             afterShipStatus(m.Tag, m.Subtag),
		Subtag:             clip(m.Subtag, 64),
		SubtagMessage:      clip(m.SubtagMessage, 200),
		RawStatus:          clip(m.Tag, 64),
		Emails:             emails,
		SMSes:              smses,
		Language:           clip(m.Language, 35),
		OrderID:            clip(string(m.OrderID), 200),
		OrderNumber:        clip(string(m.OrderNumber), 200),
		Title:              clip(m.Title, 300),
		CustomerName:       clip(m.CustomerName, 200),
		DestinationCountry: clip(country, 3),
		TrackingURL:        httpsURL(m.CourierTrackingLink),
		SourceRef:          clip(string(m.ID), 100),
	}
	if w.TS > 0 {
		ev.SentAt = time.Unix(w.TS, 0).UTC()
	}
	for _, c := range m.Checkpoints {
		cp := tracking.Checkpoint{
			Time:          parseTime(c.CheckpointTime),
			Status:        afterShipStatus(c.Tag, c.Subtag),
			Subtag:        clip(c.Subtag, 64),
			SubtagMessage: clip(c.SubtagMessage, 200),
			Message:       clip(c.Message, 500),
			Location:      clip(c.Location, 200),
			City:          clip(c.City, 100),
			State:         clip(c.State, 100),
			Zip:           clip(firstNonEmpty(c.Zip, c.PostalCode), 20),
			CountryISO3:   clip(firstNonEmpty(c.CountryISO3, c.CountryRegion), 3),
		}
		ev.Checkpoints = append(ev.Checkpoints, cp)
		if cp.Time.After(ev.OccurredAt) {
			ev.OccurredAt = cp.Time
		}
	}
	if ev.OccurredAt.IsZero() {
		ev.OccurredAt = ev.SentAt
	}
	return []tracking.Event{ev}, nil
}

// afterShipStatus maps a tag, falling back to the subtag's prefix
// ("InTransit_003") when the tag is missing or new to us. An unknown status
// is StatusInvalid: the event still updates checkpoints and subscribers but
// leaves the status as it was, and notifies nobody.
func afterShipStatus(tag, subtag string) tracking.Status {
	if s, err := tracking.ParseStatus(tag); err == nil && tag != "" {
		return s
	}
	if i := strings.IndexByte(subtag, '_'); i > 0 {
		if s, err := tracking.ParseStatus(subtag[:i]); err == nil {
			return s
		}
	}
	return tracking.StatusInvalid
}

func firstNonEmpty(vs ...string) string {
	for _, v := range vs {
		if v = strings.TrimSpace(v); v != "" {
			return v
		}
	}
	return ""
}

// httpsURL keeps a sender-provided link only if it is an absolute http(s)
// URL without spaces or control characters; anything else is dropped.
func httpsURL(u string) string {
	u = strings.TrimSpace(u)
	if len(u) > 2000 || !(strings.HasPrefix(u, "https://") || strings.HasPrefix(u, "http://")) {
		return ""
	}
	for _, r := range u {
		if r <= ' ' || r == 0x7f || r == '"' || r == '<' || r == '>' {
			return ""
		}
	}
	return u
}
