package source

import (
	"bytes"
	"encoding/json"
	"net/http"
	"strconv"
	"strings"

	"github.com/trackhook/trackhook/receiver/carrier"
	"github.com/trackhook/trackhook/receiver/tracking"
)

// SeventeenTrack decodes 17TRACK Tracking API v2 pushes
// (shared/reference/webhook-sources.md, E; field names SECONDARY, from
// 17TRACK SDK models and TypeScript types of v2.2–v2.4).
//
// Events: TRACKING_UPDATED carries the whole track_info and becomes one
// event per tracking. TRACKING_STOPPED only says that 17TRACK stopped
// watching a number (it carries no track_info and no status), so it yields
// no event: the tracking keeps its last status, and nobody is notified.
// Other event names yield nothing either. data may be an object or an array.
//
// 17TRACK gives no event id (EventID is a Fingerprint), no subscribers and
// no order fields. data.carrier is 17TRACK's integer carrier key; the
// catalogue lists those keys as aliases ("100003" is fedex), so the same
// parcel reported by another sender becomes one tracking. A key missing from
// the catalogue stays a numeric slug. data.tag, the merchant's own label from
// registration, is kept as the tracking's source reference.
type SeventeenTrack struct {
	Carriers *carrier.Catalog
}

// stMaxTrackings and stMaxCheckpoints bound what one push can make the
// receiver do.
const (
	stMaxTrackings   = 50
	stMaxCheckpoints = 500
)

type stPush struct {
	Event *string         `json:"event"`
	Data  json.RawMessage `json:"data"`
}

type stData struct {
	Number    flexString   `json:"number"`
	Carrier   flexString   `json:"carrier"`
	Tag       flexString   `json:"tag"`
	TrackInfo *stTrackInfo `json:"track_info"`
}

type stTrackInfo struct {
	ShippingInfo struct {
		RecipientAddress stAddress `json:"recipient_address"`
	} `json:"shipping_info"`
	LatestStatus struct {
		Status         string `json:"status"`
		SubStatus      string `json:"sub_status"`
		SubStatusDescr string `json:"sub_status_descr"`
	} `json:"latest_status"`
	LatestEvent *stEvent `json:"latest_event"`
	Tracking    struct {
		Providers []stProvider `json:"providers"`
	} `json:"tracking"`
	// TimeMetrics holds estimated_delivery_date, the expected delivery
	// window; read by stExpected, leniently, so it is kept raw.
	TimeMetrics json.RawMessage `json:"time_metrics"`
}

type stProvider struct {
	Provider struct {
		Key  flexString `json:"key"`
		Name string     `json:"name"`
	} `json:"provider"`
	LatestSyncTime string    `json:"latest_sync_time"`
	Events         []stEvent `json:"events"`
}

type stEvent struct {
	TimeISO     string    `json:"time_iso"`
	TimeUTC     string    `json:"time_utc"`
	Description string    `json:"description"`
	Location    string    `json:"location"`
	Stage       string    `json:"stage"`
	SubStatus   string    `json:"sub_status"`
	Address     stAddress `json:"address"`
}

type stAddress struct {
	Country    string     `json:"country"`
	State      string     `json:"state"`
	City       string     `json:"city"`
	PostalCode flexString `json:"postal_code"`
}

// Decode implements Adapter.
func (a SeventeenTrack) Decode(body []byte, _ http.Header) ([]tracking.Event, error) {
	var p stPush
	if err := decodeJSON(body, &p); err != nil {
		return nil, err
	}
	if p.Event == nil || strings.TrimSpace(*p.Event) == "" {
		return nil, malformed("event is required")
	}
	if !strings.EqualFold(strings.TrimSpace(*p.Event), "TRACKING_UPDATED") {
		return nil, nil // TRACKING_STOPPED and anything new: nothing to track
	}

	var items []stData
	data := bytes.TrimSpace(p.Data)
	switch {
	case len(data) > 0 && data[0] == '{':
		var d stData
		if err := json.Unmarshal(data, &d); err != nil {
			return nil, fieldError("data", err)
		}
		items = []stData{d}
	case len(data) > 0 && data[0] == '[':
		if err := json.Unmarshal(data, &items); err != nil {
			return nil, fieldError("data", err)
		}
		if len(items) > stMaxTrackings {
			return nil, malformed("data holds %d trackings, more than %d", len(items), stMaxTrackings)
		}
	default:
		return nil, malformed("data (the tracking) is missing")
	}
	events := make([]tracking.Event, 0, len(items))
	for i := range items {
		field := "data"
		if data[0] == '[' {
			field = "data[" + strconv.Itoa(i) + "]"
		}
		ev, err := a.event(&items[i], field)
		if err != nil {
			return nil, err
		}
		events = append(events, ev)
	}
	return checkEvents(events)
}

func (a SeventeenTrack) event(d *stData, field string) (tracking.Event, error) {
	number, err := trackingNumber(field+".number", string(d.Number))
	if err != nil {
		return tracking.Event{}, err
	}
	if d.TrackInfo == nil {
		return tracking.Event{}, malformed("%s.track_info is required", field)
	}
	ti := d.TrackInfo
	carrierKey := strings.TrimSpace(string(d.Carrier))
	if carrierKey == "" || carrierKey == "0" {
		for _, p := range ti.Tracking.Providers {
			if k := strings.TrimSpace(string(p.Provider.Key)); k != "" && k != "0" {
				carrierKey = k
				break
			}
		}
	}
	if carrierKey == "0" {
		carrierKey = ""
	}
	slug, err := carrierSlug(a.Carriers, field+".carrier", carrierKey)
	if err != nil {
		return tracking.Event{}, err
	}

	ls := ti.LatestStatus
	st, subtag, msg := seventeenTrackStatus(ls.Status, ls.SubStatus)
	if d := strings.TrimSpace(ls.SubStatusDescr); d != "" {
		msg = d
	}
	country := strings.TrimSpace(ti.ShippingInfo.RecipientAddress.Country)
	ev := tracking.Event{
		Source:             "17track",
		Slug:               slug,
		TrackingNumber:     number,
		Status:             st,
		Subtag:             subtag,
		SubtagMessage:      line(msg, 200),
		RawStatus:          line(tmRaw(ls.Status, ls.SubStatus), 64),
		DestinationCountry: line(country, 3),
		SourceRef:          line(string(d.Tag), 100),
		ExpectedDelivery:   stExpected(ti.TimeMetrics),
	}

	var cps []tracking.Checkpoint
	for _, p := range ti.Tracking.Providers {
		for _, e := range p.Events {
			cps = append(cps, stCheckpoint(e))
		}
		if t := parseTime(p.LatestSyncTime); t.After(ev.SentAt) {
			ev.SentAt = t
		}
	}
	if ti.LatestEvent != nil && (ti.LatestEvent.TimeISO != "" || ti.LatestEvent.TimeUTC != "" || ti.LatestEvent.Description != "") {
		cps = append(cps, stCheckpoint(*ti.LatestEvent))
	}
	// Providers repeat each other's scans, and latest_event repeats one.
	ev.Checkpoints = uniqueCheckpoints(cps, stMaxCheckpoints)
	ev.OccurredAt = occurredAt(ev.Checkpoints, ev.SentAt)
	ev.EventID = Fingerprint(ev.Source, ev.TrackingNumber, ev.Status, ev.RawStatus, ev.OccurredAt)
	return ev, nil
}

// stExpected reads time_metrics.estimated_delivery_date, the expected
// delivery window {"source", "from", "to"} with local times such as
// "2022-05-03T20:00:00-04:00" (SECONDARY: wksw/17track-golang-sdk
// models/v2/track.go, TrackInfo.TimeMetrics; shared reference E): its last
// day (to), else its first (from), as written. A time_metrics or window of
// another shape, or dates that do not read, give "", never a 400.
func stExpected(timeMetrics json.RawMessage) string {
	var tm struct {
		EstimatedDeliveryDate json.RawMessage `json:"estimated_delivery_date"`
	}
	if t := bytes.TrimSpace(timeMetrics); len(t) == 0 || t[0] != '{' || json.Unmarshal(t, &tm) != nil {
		return ""
	}
	return windowDate(tm.EstimatedDeliveryDate, "to", "from")
}

func stCheckpoint(e stEvent) tracking.Checkpoint {
	t := parseTime(e.TimeISO)
	if t.IsZero() {
		t = parseTime(e.TimeUTC)
	}
	st, subtag, msg := seventeenTrackStatus("", e.SubStatus)
	if !st.Valid() {
		st, subtag, msg = stStage(e.Stage)
	}
	return tracking.Checkpoint{
		Time:          t,
		Status:        st,
		Subtag:        subtag,
		SubtagMessage: line(msg, 200),
		Message:       line(e.Description, 500),
		Location:      line(e.Location, 200),
		City:          line(e.Address.City, 100),
		State:         line(e.Address.State, 100),
		Zip:           line(string(e.Address.PostalCode), 20),
		CountryISO3:   tmCountryISO3(e.Address.Country),
	}
}

// stStatuses maps 17TRACK's nine main statuses (VERIFIED: 17TRACK help
// centre "Understanding Tracking Status (Main Status & Substatus)", which
// also lists the 30 sub-statuses below).
var stStatuses = map[string]tracking.Status{
	"notfound":           tracking.Pending,
	"inforeceived":       tracking.InfoReceived,
	"intransit":          tracking.InTransit,
	"expired":            tracking.Expired,
	"availableforpickup": tracking.AvailableForPickup,
	"outfordelivery":     tracking.OutForDelivery,
	"deliveryfailure":    tracking.AttemptFail,
	"delivered":          tracking.Delivered,
	"exception":          tracking.Exception,
}

// stSubstatuses maps 17TRACK sub-statuses (lower-cased) to AfterShip
// subtags, where one fits, and a short description.
// InTransit_CustomsRequiringInformation stays InTransit (17TRACK's main
// status) with the customs subtag; DeliveryFailure_* stay AttemptFail even
// where AfterShip has an Exception subtag for the reason (refused, wrong
// address), because the main status is what notifies.
var stSubstatuses = map[string]tmSub{
	"notfound_other":                        {tracking.Pending, "", "No information from the carrier yet"},
	"notfound_invalidcode":                  {tracking.Pending, "", "The tracking number is invalid"},
	"inforeceived":                          {tracking.InfoReceived, "InfoReceived_001", "Information received"},
	"intransit_pickedup":                    {tracking.InTransit, "InTransit_002", "Picked up by the carrier"},
	"intransit_other":                       {tracking.InTransit, "InTransit_001", "In transit"},
	"intransit_departure":                   {tracking.InTransit, "InTransit_007", "Departed the origin country"},
	"intransit_arrival":                     {tracking.InTransit, "InTransit_004", "Arrived in the destination country"},
	"intransit_customsprocessing":           {tracking.InTransit, "InTransit_006", "Customs clearance started"},
	"intransit_customsreleased":             {tracking.InTransit, "InTransit_005", "Customs clearance completed"},
	"intransit_customsrequiringinformation": {tracking.InTransit, "InTransit_006", "Customs need more information"},
	"expired_other":                         {tracking.Expired, "Expired_001", "Expired"},
	"availableforpickup_other":              {tracking.AvailableForPickup, "AvailableForPickup_001", "Available for pickup"},
	"outfordelivery_other":                  {tracking.OutForDelivery, "OutForDelivery_001", "Out for delivery"},
	"deliveryfailure_other":                 {tracking.AttemptFail, "AttemptFail_001", "Delivery attempt failed"},
	"deliveryfailure_nobody":                {tracking.AttemptFail, "AttemptFail_002", "Recipient not available"},
	"deliveryfailure_security":              {tracking.AttemptFail, "AttemptFail_001", "Not delivered: security, customs or fees"},
	"deliveryfailure_rejected":              {tracking.AttemptFail, "AttemptFail_001", "Refused by the recipient"},
	"deliveryfailure_invalidaddress":        {tracking.AttemptFail, "AttemptFail_001", "Incorrect address"},
	"delivered_other":                       {tracking.Delivered, "Delivered_001", "Delivered"},
	"exception_other":                       {tracking.Exception, "Exception_001", "Exception"},
	"exception_returning":                   {tracking.Exception, "Exception_010", "Returning to the sender"},
	"exception_returned":                    {tracking.Exception, "Exception_011", "Returned to the sender"},
	"exception_nobody":                      {tracking.Exception, "Exception_001", "Recipient cannot be reached"},
	"exception_security":                    {tracking.Exception, "Exception_001", "Held for security, customs or fees"},
	"exception_damage":                      {tracking.Exception, "Exception_012", "Damaged"},
	"exception_rejected":                    {tracking.Exception, "Exception_003", "Refused by the recipient"},
	"exception_delayed":                     {tracking.Exception, "Exception_005", "Delayed"},
	"exception_lost":                        {tracking.Exception, "Exception_013", "Lost"},
	"exception_destroyed":                   {tracking.Exception, "Exception_021", "Destroyed"},
	"exception_cancel":                      {tracking.Exception, "Exception_020", "Cancelled"},
}

// seventeenTrackStatus maps a main status and sub-status. A known
// sub-status refines its own main status; one of another family is ignored.
// Without a known main status the sub-status (or its family, the part
// before '_') decides. Anything else is StatusInvalid: status unchanged,
// nobody notified.
func seventeenTrackStatus(status, sub string) (tracking.Status, string, string) {
	key := strings.ToLower(strings.TrimSpace(status))
	subKey := strings.ToLower(strings.TrimSpace(sub))
	family, _, _ := strings.Cut(subKey, "_")
	main, mainOK := stStatuses[key]
	if s, ok := stSubstatuses[subKey]; ok && (!mainOK || family == key) {
		return s.status, s.subtag, s.msg
	}
	if mainOK {
		return main, "", ""
	}
	if s, ok := stStatuses[family]; ok {
		return s, "", ""
	}
	return tracking.StatusInvalid, "", ""
}

// stStage maps an event's key stage when it has no sub_status (17TRACK
// milestone names; SECONDARY).
func stStage(stage string) (tracking.Status, string, string) {
	switch strings.ToLower(strings.TrimSpace(stage)) {
	case "inforeceived":
		return tracking.InfoReceived, "InfoReceived_001", ""
	case "pickedup":
		return tracking.InTransit, "InTransit_002", ""
	case "departure":
		return tracking.InTransit, "InTransit_007", ""
	case "arrival":
		return tracking.InTransit, "InTransit_004", ""
	case "availableforpickup":
		return tracking.AvailableForPickup, "AvailableForPickup_001", ""
	case "outfordelivery":
		return tracking.OutForDelivery, "OutForDelivery_001", ""
	case "delivered":
		return tracking.Delivered, "Delivered_001", ""
	case "returning":
		return tracking.Exception, "Exception_010", ""
	case "returned":
		return tracking.Exception, "Exception_011", ""
	}
	return tracking.StatusInvalid, "", ""
}
