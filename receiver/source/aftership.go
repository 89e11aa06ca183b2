package source

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"time"
	"unicode"

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
	if err := utf8Body(body); err != nil {
		return nil, err
	}
	var w asWebhook
	dec := json.NewDecoder(bytes.NewReader(body))
	if err := dec.Decode(&w); err != nil {
		return nil, jsonError(err)
	}
	if trailing(dec, body) {
		return nil, malformed("trailing data after the JSON object")
	}
	if w.Msg == nil {
		return nil, malformed("msg (the tracking) is missing")
	}
	m := w.Msg
	number := strings.TrimSpace(string(m.TrackingNumber))
	if number == "" {
		return nil, malformed("msg.tracking_number is required")
	}
	if strings.TrimSpace(m.Slug) == "" {
		return nil, malformed("msg.slug is required")
	}
	if err := w.check(); err != nil {
		return nil, err
	}
	if strings.ContainsFunc(number, unicode.IsControl) {
		return nil, malformed("msg.tracking_number contains a control character")
	}
	slug := a.Carriers.Normalize(m.Slug)
	if !slugShape.MatchString(slug) {
		return nil, malformed("msg.slug %q is not a carrier slug (lower-case letters, digits and dashes)", slug)
	}
	country := firstNonEmpty(m.DestinationCountryISO3, m.DestinationCountryRegion)
	emails, smses := recipients(append(m.Emails, m.SubscribedEmails...), append(m.SMSes, m.SubscribedSMSes...), country)

	ev := tracking.Event{
		Source:             "aftership",
		EventID:            clip(w.EventID, 100),
		Slug:               slug,
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
	return checkEvents([]tracking.Event{ev})
}

// check refuses what no real AfterShip payload carries: a NUL or a line
// break in a one-line field, a value past the hard limits, subscriber lists
// and checkpoint arrays far longer than any parcel's. The error names the
// field, so whoever reads the sender's delivery log can find it.
func (w *asWebhook) check() error {
	m := w.Msg
	for _, f := range []struct {
		path string
		v    string
		max  int
	}{
		{"event_id", w.EventID, maxFieldLen},
		{"msg.id", string(m.ID), maxFieldLen},
		{"msg.tracking_number", strings.TrimSpace(string(m.TrackingNumber)), maxNumberLen},
		{"msg.slug", strings.TrimSpace(m.Slug), maxSlugLen},
		{"msg.tag", m.Tag, maxFieldLen},
		{"msg.subtag", m.Subtag, maxFieldLen},
		{"msg.title", m.Title, maxFieldLen},
		{"msg.order_id", string(m.OrderID), maxFieldLen},
		{"msg.order_number", string(m.OrderNumber), maxFieldLen},
		{"msg.customer_name", m.CustomerName, maxFieldLen},
		{"msg.language", m.Language, maxFieldLen},
		{"msg.destination_country_iso3", m.DestinationCountryISO3, maxFieldLen},
		{"msg.destination_country_region", m.DestinationCountryRegion, maxFieldLen},
	} {
		if err := oneLine(f.path, f.v, f.max); err != nil {
			return err
		}
	}
	if err := freeText("msg.subtag_message", m.SubtagMessage, maxFieldLen); err != nil {
		return err
	}
	for _, l := range []struct {
		path string
		list []string
	}{{"msg.emails", m.Emails}, {"msg.smses", m.SMSes}, {"msg.subscribed_emails", m.SubscribedEmails}, {"msg.subscribed_smses", m.SubscribedSMSes}} {
		if err := listLen(l.path, l.list); err != nil {
			return err
		}
	}
	if len(m.Checkpoints) > maxCheckpoints {
		return malformed("msg.checkpoints has %d entries, at most %d", len(m.Checkpoints), maxCheckpoints)
	}
	for i, c := range m.Checkpoints {
		for _, f := range []struct{ name, v string }{
			{"checkpoint_time", c.CheckpointTime}, {"message", c.Message}, {"location", c.Location}, {"city", c.City},
			{"state", c.State}, {"zip", c.Zip}, {"postal_code", c.PostalCode}, {"country_iso3", c.CountryISO3},
			{"country_region", c.CountryRegion}, {"tag", c.Tag}, {"subtag", c.Subtag}, {"subtag_message", c.SubtagMessage},
		} {
			if err := freeText(fmt.Sprintf("msg.checkpoints[%d].%s", i, f.name), f.v, maxFieldLen); err != nil {
				return err
			}
		}
	}
	return nil
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
