package source

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"time"

	"golang.org/x/text/language"

	"github.com/trackhook/trackhook/receiver/carrier"
	"github.com/trackhook/trackhook/receiver/contact"
	"github.com/trackhook/trackhook/receiver/tracking"
	"github.com/trackhook/trackhook/signature"
)

// StandardEventType is the one event type the standard source acts on.
const StandardEventType = "tracking.updated"

// Standard decodes trackhook's own canonical event, sent by carriers and
// in-house systems with Standard Webhooks signing (ARCHITECTURE.md,
// "External contract"):
//
//	{"type": "tracking.updated",
//	 "timestamp": "2026-11-20T08:16:00Z",            // optional, RFC 3339
//	 "data": {"slug": "dhl", "tracking_number": "…",  // required
//	          "tag": "InTransit", "subtag": "InTransit_003", "subtag_message": "…",
//	          "checkpoint_time": "2026-11-20T08:15:00Z", "message": "…", "location": "…",
//	          "checkpoints": [{"checkpoint_time", "message", "location", "tag", "subtag", "subtag_message"}],
//	          "emails": […] or "a,b", "smses": […] or "a,b", "language": "de",
//	          "order_number", "order_id", "title", "customer_name",
//	          "destination_country_iso3": "DEU", "tracking_url": "https://…",
//	          "expected_delivery": "2026-11-24"}}                 // optional
//
// Because the format is ours, Decode is strict about what the status and
// its order mean, where a lenient sender adapter would guess: a tag that is
// not a canonical status, a subtag of another status, a time that is not
// RFC 3339, and checkpoint text without a checkpoint_time are all 400s. tag
// may be omitted: the event then updates subscribers, order fields and
// checkpoints but leaves the status as it was and notifies nobody. Display
// fields follow the rule of every source (source.go): text is folded onto
// one line and clipped, a language that is not BCP 47, a country that is not
// ISO 3166-1 or a tracking_url that is not absolute http(s) is left out,
// malformed subscribers are dropped (Event.Dropped). expected_delivery, the
// day the carrier expects to deliver (the last day of a window), is a string
// "YYYY-MM-DD", or a date-time whose date is taken as written
// ("2026-11-24T17:00:00+01:00" is the 24th); one that does not read, or is
// not a string, is left out, never a 400. Unknown fields are ignored, so the
// format can grow; a type other than "tracking.updated" yields no event.
//
// EventID is the webhook-id header (constant across a sender's retries),
// SentAt the body's timestamp or else the webhook-timestamp header, and
// OccurredAt the latest checkpoint time or else SentAt. An event with
// neither tag nor checkpoints (a subscriber or order update) has no time
// at all, so it is never stale and never makes a later scan look stale.
type Standard struct {
	Carriers *carrier.Catalog
}

// stdMaxCheckpoints bounds the checkpoints kept from the array (the newest).
const stdMaxCheckpoints = 500

type stdBody struct {
	Type      *string  `json:"type"`
	Timestamp string   `json:"timestamp"`
	Data      *stdData `json:"data"`
}

type stdData struct {
	Slug                   string          `json:"slug"`
	TrackingNumber         flexString      `json:"tracking_number"`
	Tag                    string          `json:"tag"`
	Subtag                 string          `json:"subtag"`
	SubtagMessage          string          `json:"subtag_message"`
	CheckpointTime         string          `json:"checkpoint_time"`
	Message                string          `json:"message"`
	Location               string          `json:"location"`
	Checkpoints            []stdCheckpoint `json:"checkpoints"`
	Emails                 contact.List    `json:"emails"`
	SMSes                  contact.List    `json:"smses"`
	Language               string          `json:"language"`
	OrderNumber            flexString      `json:"order_number"`
	OrderID                flexString      `json:"order_id"`
	Title                  string          `json:"title"`
	CustomerName           string          `json:"customer_name"`
	DestinationCountryISO3 string          `json:"destination_country_iso3"`
	TrackingURL            string          `json:"tracking_url"`
	// ExpectedDelivery is raw so that a value of the wrong type is left
	// out like an unreadable date (deliveryDate), not refused.
	ExpectedDelivery json.RawMessage `json:"expected_delivery"`
}

type stdCheckpoint struct {
	CheckpointTime string `json:"checkpoint_time"`
	Message        string `json:"message"`
	Location       string `json:"location"`
	Tag            string `json:"tag"`
	Subtag         string `json:"subtag"`
	SubtagMessage  string `json:"subtag_message"`
}

// Decode implements Adapter. h supplies webhook-id and webhook-timestamp;
// without them EventID falls back to a Fingerprint.
func (a Standard) Decode(body []byte, h http.Header) ([]tracking.Event, error) {
	var b stdBody
	if err := decodeJSON(body, &b); err != nil {
		return nil, err
	}
	if b.Type == nil || strings.TrimSpace(*b.Type) == "" {
		return nil, malformed("type is required")
	}
	if strings.TrimSpace(*b.Type) != StandardEventType {
		return nil, nil
	}
	d := b.Data
	if d == nil {
		return nil, malformed("data is required for %s", StandardEventType)
	}
	number, err := trackingNumber("data.tracking_number", string(d.TrackingNumber))
	if err != nil {
		return nil, err
	}
	slug, err := carrierSlug(a.Carriers, "data.slug", d.Slug)
	if err != nil {
		return nil, err
	}

	st, subtag, err := stdStatus("data", d.Tag, d.Subtag)
	if err != nil {
		return nil, err
	}
	ev := tracking.Event{
		Source:         "standard",
		EventID:        line(h.Get(signature.HeaderStandardID), 100),
		Slug:           slug,
		TrackingNumber: number,
		Status:         st,
		Subtag:         subtag,
		SubtagMessage:  line(d.SubtagMessage, 200),
		RawStatus:      line(d.Tag, 64),
		OrderID:        line(string(d.OrderID), 200),
		OrderNumber:    line(string(d.OrderNumber), 200),
		Title:          line(d.Title, 300),
		CustomerName:   line(d.CustomerName, 200),
	}

	if ts := strings.TrimSpace(b.Timestamp); ts != "" {
		t, err := time.Parse(time.RFC3339Nano, ts)
		if err != nil {
			return nil, malformed("timestamp %q is not RFC 3339", line(ts, 40))
		}
		ev.SentAt = t.UTC()
	} else if n, ok := stdUnix(h.Get(signature.HeaderStandardTimestamp)); ok {
		ev.SentAt = n
	}

	// Display fields: what does not parse is left out, never a 400.
	if lang := strings.TrimSpace(d.Language); len(lang) <= 35 {
		if _, err := language.Parse(lang); err == nil {
			ev.Language = lang
		}
	}
	if c := strings.TrimSpace(d.DestinationCountryISO3); contact.Region(c) != "" {
		ev.DestinationCountry = strings.ToUpper(c)
	}
	ev.TrackingURL = httpsURL(d.TrackingURL)
	ev.ExpectedDelivery = deliveryDate(d.ExpectedDelivery)
	ev.Emails, ev.SMSes, ev.Dropped = recipients(ev.DestinationCountry, [][]string{d.Emails}, [][]string{d.SMSes})

	// The top-level checkpoint is the latest scan, under the event's status.
	if strings.TrimSpace(d.CheckpointTime) != "" {
		t, err := stdTime("data.checkpoint_time", d.CheckpointTime)
		if err != nil {
			return nil, err
		}
		ev.Checkpoints = append(ev.Checkpoints, tracking.Checkpoint{
			Time: t, Status: st, Subtag: subtag, SubtagMessage: ev.SubtagMessage,
			Message: line(d.Message, 500), Location: line(d.Location, 200),
		})
	} else if strings.TrimSpace(d.Message) != "" || strings.TrimSpace(d.Location) != "" {
		return nil, malformed("data.message and data.location need data.checkpoint_time")
	}
	for i, c := range d.Checkpoints {
		field := fmt.Sprintf("data.checkpoints[%d]", i)
		t, err := stdTime(field+".checkpoint_time", c.CheckpointTime)
		if err != nil {
			return nil, err
		}
		cst, csub, err := stdStatus(field, c.Tag, c.Subtag)
		if err != nil {
			return nil, err
		}
		cp := tracking.Checkpoint{
			Time: t, Status: cst, Subtag: csub, SubtagMessage: line(c.SubtagMessage, 200),
			Message: line(c.Message, 500), Location: line(c.Location, 200),
		}
		ev.Checkpoints = append(ev.Checkpoints, cp)
	}
	// The top-level checkpoint may be repeated in the array; past
	// stdMaxCheckpoints, the newest are kept.
	ev.Checkpoints = uniqueCheckpoints(ev.Checkpoints, stdMaxCheckpoints+1)
	ev.OccurredAt = occurredAt(ev.Checkpoints, ev.SentAt)
	if !ev.Status.Valid() && len(ev.Checkpoints) == 0 {
		// Nothing that happened to the parcel: no time that orders it
		// against scans, so it can never make a later scan look stale.
		ev.OccurredAt, ev.SentAt = time.Time{}, time.Time{}
	}
	if ev.EventID == "" {
		ev.EventID = Fingerprint(ev.Source, ev.TrackingNumber, ev.Status, ev.RawStatus, ev.OccurredAt)
	}
	return checkEvents([]tracking.Event{ev})
}

// stdStatus parses a canonical tag and checks that subtag, if it names a
// status family ("InTransit_003"), names the same one. An empty tag is
// StatusInvalid (status unchanged) and then allows no subtag.
func stdStatus(field, tag, subtag string) (tracking.Status, string, error) {
	tag, subtag = strings.TrimSpace(tag), strings.TrimSpace(subtag)
	if tag == "" {
		if subtag != "" {
			return tracking.StatusInvalid, "", malformed("%s.subtag %q needs a tag", field, line(subtag, 64))
		}
		return tracking.StatusInvalid, "", nil
	}
	st, err := tracking.ParseStatus(tag)
	if err != nil {
		return tracking.StatusInvalid, "", malformed("%s.tag: %v", field, err)
	}
	if family, _, ok := strings.Cut(subtag, "_"); ok {
		if fs, err := tracking.ParseStatus(family); err == nil && fs != st {
			return tracking.StatusInvalid, "", malformed("%s.subtag %q does not belong to tag %s", field, line(subtag, 64), st)
		}
	}
	return st, line(subtag, 64), nil
}

// stdTime parses an RFC 3339 time (the only form the format allows).
func stdTime(field, v string) (time.Time, error) {
	v = strings.TrimSpace(v)
	if v == "" {
		return time.Time{}, malformed("%s is required", field)
	}
	t, err := time.Parse(time.RFC3339Nano, v)
	if err != nil {
		return time.Time{}, malformed("%s %q is not RFC 3339", field, line(v, 40))
	}
	return t.UTC(), nil
}

// stdUnix reads the webhook-timestamp header (unix seconds).
func stdUnix(v string) (time.Time, bool) {
	v = strings.TrimSpace(v)
	if v == "" || len(v) > 18 || strings.TrimLeft(v, "0123456789") != "" {
		return time.Time{}, false
	}
	var n int64
	for _, c := range v {
		n = n*10 + int64(c-'0')
	}
	return time.Unix(n, 0).UTC(), true
}
