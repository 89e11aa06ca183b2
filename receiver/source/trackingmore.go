package source

import (
	"bytes"
	"encoding/json"
	"net/http"
	"strconv"
	"strings"
	"time"

	"golang.org/x/text/language"

	"github.com/trackhook/trackhook/receiver/carrier"
	"github.com/trackhook/trackhook/receiver/contact"
	"github.com/trackhook/trackhook/receiver/tracking"
	"github.com/trackhook/trackhook/signature"
)

// TrackingMore decodes TrackingMore v4 webhooks
// (shared/reference/webhook-sources.md, B).
//
// The body is a v4 Tracking object, usually inside the API's envelope
// {"code":200,"message":"Success","data":{…}}. The envelope is UNVERIFIED
// for webhooks, so Decode also accepts the tracking at the top level, and
// data as an array of trackings (one event each). Field names are VERIFIED
// against TrackingMore's Go SDK (trackings.go).
//
// TrackingMore gives no event id, so EventID is a Fingerprint of the
// tracking number, status and latest checkpoint time. SentAt is the signed
// timestamp header.
type TrackingMore struct {
	Carriers *carrier.Catalog
}

// tmMaxTrackings bounds the trackings in one body; a webhook carries one.
const tmMaxTrackings = 50

// tmMaxCheckpoints bounds the checkpoints kept from one tracking (the
// newest are kept); the store keeps fewer anyway.
const tmMaxCheckpoints = 500

type tmBody struct {
	Data json.RawMessage `json:"data"`
	tmTracking
}

type tmTracking struct {
	ID                         flexString   `json:"id"`
	TrackingNumber             flexString   `json:"tracking_number"`
	CourierCode                string       `json:"courier_code"`
	DeliveryStatus             string       `json:"delivery_status"`
	Substatus                  string       `json:"substatus"`
	StatusInfo                 string       `json:"status_info"`
	LatestCheckpointTime       string       `json:"latest_checkpoint_time"`
	UpdateAt                   string       `json:"update_at"`
	OrderNumber                flexString   `json:"order_number"`
	OrderID                    flexString   `json:"order_id"`
	Title                      string       `json:"title"`
	CustomerName               string       `json:"customer_name"`
	CustomerEmail              contact.List `json:"customer_email"`
	CustomerSMS                contact.List `json:"customer_sms"`
	Language                   string       `json:"language"`
	DestinationCountry         string       `json:"destination_country"`
	DestinationCountryISO2     string       `json:"destination_country_iso2"`
	TrackingDestinationCountry string       `json:"tracking_destination_country"`
	OriginInfo                 *tmInfo      `json:"origin_info"`
	DestinationInfo            *tmInfo      `json:"destination_info"`
	// ScheduledDeliveryDate is the carrier's expected delivery date
	// (VERIFIED: TrackingMore's Go SDK, trackings.go, and Java SDK,
	// model/tracking/Tracking.java; its format is not documented). Read
	// leniently (deliveryDate): a wrong type or an unreadable date is left
	// out, never a 400.
	ScheduledDeliveryDate json.RawMessage `json:"scheduled_delivery_date"`
}

type tmInfo struct {
	CourierCode string         `json:"courier_code"`
	Weblink     string         `json:"weblink"`
	Trackinfo   []tmCheckpoint `json:"trackinfo"`
}

type tmCheckpoint struct {
	CheckpointDate string     `json:"checkpoint_date"`
	Status         string     `json:"checkpoint_delivery_status"`
	Substatus      string     `json:"checkpoint_delivery_substatus"`
	TrackingDetail string     `json:"tracking_detail"`
	Location       string     `json:"location"`
	CountryISO2    string     `json:"country_iso2"`
	State          string     `json:"state"`
	City           string     `json:"city"`
	Zip            flexString `json:"zip"`
}

// Decode implements Adapter.
func (a TrackingMore) Decode(body []byte, h http.Header) ([]tracking.Event, error) {
	var b tmBody
	if err := decodeJSON(body, &b); err != nil {
		return nil, err
	}

	var trackings []tmTracking
	data := bytes.TrimSpace(b.Data)
	switch {
	case len(data) > 0 && data[0] == '{':
		var t tmTracking
		if err := json.Unmarshal(data, &t); err != nil {
			return nil, fieldError("data", err)
		}
		trackings = []tmTracking{t}
	case len(data) > 0 && data[0] == '[':
		if err := json.Unmarshal(data, &trackings); err != nil {
			return nil, fieldError("data", err)
		}
		if len(trackings) == 0 {
			return nil, malformed("data is an empty array")
		}
		if len(trackings) > tmMaxTrackings {
			return nil, malformed("data holds %d trackings, more than %d", len(trackings), tmMaxTrackings)
		}
	case len(data) > 0 && string(data) != "null":
		return nil, malformed("data must be a tracking object or an array of them")
	case strings.TrimSpace(string(b.TrackingNumber)) != "":
		trackings = []tmTracking{b.tmTracking} // no envelope
	default:
		return nil, malformed("data (the tracking) is missing")
	}

	var sentAt time.Time
	if t, ok := signature.TrackingMoreTime(strings.TrimSpace(h.Get(signature.HeaderTrackingMoreTimestamp))); ok {
		sentAt = t
	}
	events := make([]tracking.Event, 0, len(trackings))
	for i := range trackings {
		field := "data"
		if len(trackings) > 1 {
			field = "data[" + strconv.Itoa(i) + "]"
		}
		ev, err := a.event(&trackings[i], field, sentAt)
		if err != nil {
			return nil, err
		}
		events = append(events, ev)
	}
	return checkEvents(events)
}

func (a TrackingMore) event(t *tmTracking, field string, sentAt time.Time) (tracking.Event, error) {
	number, err := trackingNumber(field+".tracking_number", string(t.TrackingNumber))
	if err != nil {
		return tracking.Event{}, err
	}
	slug, err := carrierSlug(a.Carriers, field+".courier_code", firstNonEmpty(t.CourierCode, t.OriginInfo.courier()))
	if err != nil {
		return tracking.Event{}, err
	}
	country := firstNonEmpty(t.DestinationCountry, t.DestinationCountryISO2, t.TrackingDestinationCountry)
	emails, smses, dropped := recipients(country, [][]string{t.CustomerEmail}, [][]string{t.CustomerSMS})

	st, subtag, msg := trackingMoreStatus(t.DeliveryStatus, t.Substatus)
	if msg == "" {
		msg = t.StatusInfo
	}
	ev := tracking.Event{
		Source:             "trackingmore",
		Slug:               slug,
		TrackingNumber:     number,
		Status:             st,
		Subtag:             subtag,
		SubtagMessage:      line(msg, 200),
		RawStatus:          line(tmRaw(t.DeliveryStatus, t.Substatus), 64),
		SentAt:             sentAt,
		Emails:             emails,
		SMSes:              smses,
		Language:           line(t.Language, 35),
		OrderID:            line(string(t.OrderID), 200),
		OrderNumber:        line(string(t.OrderNumber), 200),
		Title:              line(t.Title, 300),
		CustomerName:       line(t.CustomerName, 200),
		DestinationCountry: line(country, 3),
		TrackingURL:        firstNonEmpty(httpsURL(t.OriginInfo.weblink()), httpsURL(t.DestinationInfo.weblink())),
		SourceRef:          line(string(t.ID), 100),
		ExpectedDelivery:   deliveryDate(t.ScheduledDeliveryDate),
		Dropped:            dropped,
	}
	if ev.SentAt.IsZero() {
		ev.SentAt = parseTime(t.UpdateAt)
	}

	var cps []tracking.Checkpoint
	for _, info := range []*tmInfo{t.OriginInfo, t.DestinationInfo} {
		if info == nil {
			continue
		}
		for _, c := range info.Trackinfo {
			cst, csub, cmsg := trackingMoreStatus(c.Status, c.Substatus)
			cp := tracking.Checkpoint{
				Time:          parseTime(c.CheckpointDate),
				Status:        cst,
				Subtag:        csub,
				SubtagMessage: line(cmsg, 200),
				Message:       line(c.TrackingDetail, 500),
				Location:      line(c.Location, 200),
				City:          line(c.City, 100),
				State:         line(c.State, 100),
				Zip:           line(string(c.Zip), 20),
				CountryISO3:   tmCountryISO3(c.CountryISO2),
			}
			cps = append(cps, cp)
		}
	}
	// Origin and destination carriers often report the same scan.
	ev.Checkpoints = uniqueCheckpoints(cps, tmMaxCheckpoints)
	ev.OccurredAt = occurredAt(ev.Checkpoints, parseTime(t.LatestCheckpointTime), ev.SentAt)
	ev.EventID = Fingerprint(ev.Source, ev.TrackingNumber, ev.Status, ev.RawStatus, ev.OccurredAt)
	return ev, nil
}

func (i *tmInfo) courier() string {
	if i == nil {
		return ""
	}
	return i.CourierCode
}

func (i *tmInfo) weblink() string {
	if i == nil {
		return ""
	}
	return i.Weblink
}

// tmRaw is TrackingMore's own status: "pickup/pickup002", or the status
// alone when there is no substatus.
func tmRaw(status, substatus string) string {
	status, substatus = strings.TrimSpace(status), strings.TrimSpace(substatus)
	if substatus == "" || strings.EqualFold(substatus, status) {
		return status
	}
	if status == "" {
		return substatus
	}
	return status + "/" + substatus
}

// tmSub is what one TrackingMore substatus means canonically.
type tmSub struct {
	status tracking.Status
	subtag string // AfterShip-style subtag, "" when none fits
	msg    string
}

// tmStatuses maps TrackingMore's delivery_status (VERIFIED:
// trackingmore.com/docs/logistics_status.php for the first eight, the
// help-centre page "9 Main Statuses & Sub-Statuses" for inforeceived).
// pickup covers both "out for delivery" and "ready for pickup" (TrackingMore
// calls it "Out for Delivery"); its substatus splits them, and without a
// known substatus it maps to OutForDelivery, TrackingMore's own label for it.
var tmStatuses = map[string]tmSub{
	"pending":      {tracking.Pending, "", ""},
	"notfound":     {tracking.Pending, "", ""},
	"inforeceived": {tracking.InfoReceived, "InfoReceived_001", ""},
	"transit":      {tracking.InTransit, "", ""},
	"pickup":       {tracking.OutForDelivery, "", ""},
	"delivered":    {tracking.Delivered, "", ""},
	"undelivered":  {tracking.AttemptFail, "", ""},
	"exception":    {tracking.Exception, "", ""},
	"expired":      {tracking.Expired, "Expired_001", ""},
}

// tmSubstatuses maps TrackingMore substatus codes to AfterShip subtags.
// Sources: notfound001/002, transit001-005, delivered001-004 and
// exception004-011 VERIFIED on TrackingMore's logistics-status page;
// inforeceived001, transit006/007 and pickup001-003 from TrackingMore's
// help centre ("9 Main Statuses & Sub-Statuses of Shipments"); the
// undelivered001-004 meanings SECONDARY (a third-party Go client's table,
// consistent with the help centre's order). Codes not listed (notfound003,
// exception012/013, anything new) keep the status of their family and get
// no subtag. Note exception010 is "returned" (AfterShip Exception_011) and
// exception011 "returning" (Exception_010): the numbers are crossed.
var tmSubstatuses = map[string]tmSub{
	"notfound001":     {tracking.InfoReceived, "InfoReceived_001", "Waiting for the courier to pick up the package"},
	"notfound002":     {tracking.Pending, "", "No tracking information yet"},
	"inforeceived001": {tracking.InfoReceived, "InfoReceived_001", "Waiting for the courier to pick up the package"},
	"transit001":      {tracking.InTransit, "InTransit_001", "On the way to the destination"},
	"transit002":      {tracking.InTransit, "InTransit_003", "Arrived at a hub or sorting center"},
	"transit003":      {tracking.InTransit, "InTransit_003", "Arrived at the delivery facility"},
	"transit004":      {tracking.InTransit, "InTransit_004", "Arrived in the destination country"},
	"transit005":      {tracking.InTransit, "InTransit_005", "Customs clearance completed"},
	"transit006":      {tracking.InTransit, "InTransit_007", "Dispatched"},
	"transit007":      {tracking.InTransit, "InTransit_007", "Departed from the airport"},
	"pickup001":       {tracking.OutForDelivery, "OutForDelivery_001", "Out for delivery"},
	"pickup002":       {tracking.AvailableForPickup, "AvailableForPickup_001", "Ready for collection"},
	"pickup003":       {tracking.OutForDelivery, "OutForDelivery_003", "Customer contacted before the final delivery"},
	"delivered001":    {tracking.Delivered, "Delivered_001", "Delivered"},
	"delivered002":    {tracking.Delivered, "Delivered_002", "Picked up by the addressee"},
	"delivered003":    {tracking.Delivered, "Delivered_003", "Signed for by the addressee"},
	"delivered004":    {tracking.Delivered, "Delivered_001", "Left at the front door or with a neighbour"},
	"undelivered001":  {tracking.AttemptFail, "AttemptFail_001", "Address-related issue"},
	"undelivered002":  {tracking.AttemptFail, "AttemptFail_002", "Receiver not at home"},
	"undelivered003":  {tracking.AttemptFail, "AttemptFail_001", "Addressee could not be located"},
	"undelivered004":  {tracking.AttemptFail, "AttemptFail_001", "Not delivered for other reasons"},
	"exception004":    {tracking.Exception, "Exception_008", "Not collected by the addressee"},
	"exception005":    {tracking.Exception, "Exception_001", "Delivery exception"},
	"exception006":    {tracking.Exception, "Exception_004", "Held by customs"},
	"exception007":    {tracking.Exception, "Exception_001", "Damaged, lost or discarded"},
	"exception008":    {tracking.Exception, "Exception_020", "Cancelled before pickup"},
	"exception009":    {tracking.Exception, "Exception_003", "Refused by the addressee"},
	"exception010":    {tracking.Exception, "Exception_011", "Returned to the sender"},
	"exception011":    {tracking.Exception, "Exception_010", "Returning to the sender"},
}

// trackingMoreStatus maps a delivery_status and substatus. A known
// substatus refines its own family (pickup002 under pickup is
// AvailableForPickup); a substatus of another family than the status is
// ignored, the status wins. Without a known status, a known substatus or its
// family's status is used. Anything else is StatusInvalid: the event still
// updates checkpoints and subscribers but leaves the status as it was and
// notifies nobody.
func trackingMoreStatus(status, substatus string) (tracking.Status, string, string) {
	status = tmKey(status)
	sub := tmKey(substatus)
	family := strings.TrimRight(sub, "0123456789")
	if s, ok := tmSubstatuses[sub]; ok && (status == "" || status == family) {
		return s.status, s.subtag, s.msg
	}
	if s, ok := tmStatuses[status]; ok {
		return s.status, s.subtag, s.msg
	}
	if s, ok := tmStatuses[family]; ok && status == "" {
		return s.status, s.subtag, s.msg
	}
	return tracking.StatusInvalid, "", ""
}

// tmKey normalises a status or substatus code: lower case, no spaces,
// '_' or '-', and the number (if any) written with three digits, so the
// legacy docs' "not found001" and a third-party "exception0010" still match.
func tmKey(s string) string {
	s = strings.Map(func(r rune) rune {
		switch r {
		case ' ', '_', '-', '\t':
			return -1
		}
		return r
	}, strings.ToLower(s))
	letters := strings.TrimRight(s, "0123456789")
	if digits := s[len(letters):]; digits != "" {
		if n, err := strconv.Atoi(digits); err == nil && n < 1000 {
			return letters + strconv.FormatInt(int64(1000+n), 10)[1:]
		}
	}
	return s
}

// tmCountryISO3 turns an ISO 3166-1 alpha-2 (or alpha-3) code into alpha-3,
// "" when it is not a country.
func tmCountryISO3(code string) string {
	r, err := language.ParseRegion(strings.TrimSpace(code))
	if err != nil || !r.IsCountry() {
		return ""
	}
	return r.ISO3()
}
