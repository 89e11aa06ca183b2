package source

import (
	"encoding/json"
	"errors"
	"net/http"
	"slices"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/trackhook/trackhook/receiver/carrier"
	"github.com/trackhook/trackhook/receiver/tracking"
)

// EasyPost decodes EasyPost webhooks: an Event object whose result is a
// Tracker for tracker.created and tracker.updated
// (shared/reference/webhook-sources.md D3). Every other event (batch.*,
// refund.*, payment.*…) yields no events. The event id (evt_…) is the
// EventID, so a redelivery is a duplicate.
type EasyPost struct {
	Carriers *carrier.Catalog
}

type epEventBody struct {
	ID          string          `json:"id"`
	Description string          `json:"description"`
	CreatedAt   string          `json:"created_at"`
	UpdatedAt   string          `json:"updated_at"`
	Result      json.RawMessage `json:"result"` // a Tracker only for tracker.*; other events carry other objects
}

type epTracker struct {
	ID              string        `json:"id"`
	TrackingCode    flexString    `json:"tracking_code"`
	Carrier         string        `json:"carrier"`
	Status          string        `json:"status"`
	StatusDetail    string        `json:"status_detail"`
	SignedBy        string        `json:"signed_by"`
	PublicURL       string        `json:"public_url"`
	UpdatedAt       string        `json:"updated_at"`
	TrackingDetails []epDetail    `json:"tracking_details"`
	CarrierDetail   *epCarrierDet `json:"carrier_detail"`
	// EstDeliveryDate is the carrier's expected delivery, a date-time or
	// null ("2024-08-05T00:00:00Z" in EasyPost's official event body;
	// VERIFIED: easypost-go tracker.go, Tracker.EstDeliveryDate).
	EstDeliveryDate json.RawMessage `json:"est_delivery_date"`
}

type epCarrierDet struct {
	DestinationTrackingLocation *epLocation `json:"destination_tracking_location"`
	// EstDeliveryDateLocal is the same date in the carrier's local time
	// zone, "2024-08-05" (VERIFIED: easypost-go tracker.go,
	// TrackingCarrierDetail.EstDeliveryDateLocal; set in the official event
	// body).
	EstDeliveryDateLocal json.RawMessage `json:"est_delivery_date_local"`
}

type epDetail struct {
	Message          string      `json:"message"`
	Description      string      `json:"description"`
	Status           string      `json:"status"`
	StatusDetail     string      `json:"status_detail"`
	Datetime         string      `json:"datetime"`
	TrackingLocation *epLocation `json:"tracking_location"`
}

type epLocation struct {
	City    string     `json:"city"`
	State   string     `json:"state"`
	Country string     `json:"country"`
	Zip     flexString `json:"zip"`
}

// Decode implements Adapter.
func (a EasyPost) Decode(body []byte, _ http.Header) ([]tracking.Event, error) {
	var w epEventBody
	if err := decodeJSON(body, &w); err != nil {
		return nil, err
	}
	switch d := strings.ToLower(strings.TrimSpace(w.Description)); d {
	case "tracker.created", "tracker.updated":
	case "":
		return nil, malformed("description (the event type) is required")
	default:
		return nil, nil
	}
	if len(w.Result) == 0 || string(w.Result) == "null" {
		return nil, malformed("result (the tracker) is missing")
	}
	var t epTracker
	if err := json.Unmarshal(w.Result, &t); err != nil {
		var te *json.UnmarshalTypeError
		if errors.As(err, &te) && te.Field != "" {
			return nil, fieldError("result", err)
		}
		return nil, malformed("result must be a Tracker object")
	}
	number, err := trackingNumber("result.tracking_code", string(t.TrackingCode))
	if err != nil {
		return nil, err
	}
	slug, err := carrierSlug(a.Carriers, "result.carrier", t.Carrier)
	if err != nil {
		return nil, err
	}

	st, sub := easyPostStatus(t.Status, t.StatusDetail)
	msg := epHuman(t.StatusDetail)
	if signer := line(t.SignedBy, 100); st == tracking.Delivered && signer != "" {
		sub, msg = "Delivered_003", "Signed by "+signer
	}
	ev := tracking.Event{
		Source:         "easypost",
		EventID:        line(w.ID, 100),
		Slug:           slug,
		TrackingNumber: number,
		Status:         st,
		Subtag:         sub,
		SubtagMessage:  line(msg, 200),
		RawStatus:      line(t.Status, 64),
		TrackingURL:    httpsURL(t.PublicURL),
		SourceRef:      line(t.ID, 100),
		SentAt:         parseTime(firstNonEmpty(w.CreatedAt, w.UpdatedAt)),
	}
	if cd := t.CarrierDetail; cd != nil && cd.DestinationTrackingLocation != nil {
		ev.DestinationCountry = line(cd.DestinationTrackingLocation.Country, 3)
	}
	ev.ExpectedDelivery = epExpected(&t)
	// EasyPost lists them oldest first; sort anyway, stably.
	type timed struct {
		epDetail
		at time.Time
	}
	details := make([]timed, len(t.TrackingDetails))
	for i, d := range t.TrackingDetails {
		details[i] = timed{d, parseTime(d.Datetime)}
	}
	slices.SortStableFunc(details, func(x, y timed) int { return x.at.Compare(y.at) })
	for _, d := range details {
		cst, csub := easyPostStatus(d.Status, d.StatusDetail)
		cp := tracking.Checkpoint{
			Time:          d.at,
			Status:        cst,
			Subtag:        csub,
			SubtagMessage: line(epHuman(d.StatusDetail), 200),
			Message:       line(firstNonEmpty(d.Message, d.Description), 500),
		}
		if l := d.TrackingLocation; l != nil {
			cp.City = line(l.City, 100)
			cp.State = line(l.State, 100)
			cp.Zip = line(string(l.Zip), 20)
			cp.CountryISO3 = iso3FromAlpha2(l.Country)
		}
		ev.Checkpoints = append(ev.Checkpoints, cp)
	}
	ev.OccurredAt = occurredAt(ev.Checkpoints, parseTime(t.UpdatedAt), ev.SentAt)
	if ev.EventID == "" {
		ev.EventID = Fingerprint(ev.Source, ev.TrackingNumber, ev.Status, ev.RawStatus, ev.OccurredAt)
	}
	return checkEvents([]tracking.Event{ev})
}

// epExpected is the day the parcel is expected: carrier_detail's
// est_delivery_date_local, the carrier's own local date, else the tracker's
// est_delivery_date with its date taken as written (an offset or Z is not
// converted). Both are read leniently (deliveryDate): null, a wrong type or
// an unreadable date is left out, never a 400.
func epExpected(t *epTracker) string {
	var local json.RawMessage
	if t.CarrierDetail != nil {
		local = t.CarrierDetail.EstDeliveryDateLocal
	}
	return deliveryDate(local, t.EstDeliveryDate)
}

// easyPostStatus maps a Tracker's (or a tracking detail's) status and
// status_detail (D4; the status list is SECONDARY, the test codes VERIFIED):
//
//	unknown              → Pending (Pending_001): EasyPost has no data from the carrier yet
//	pre_transit          → InfoReceived (InfoReceived_001): label created, no scan
//	in_transit           → InTransit; subtag from status_detail (arrived_at_facility _003,
//	                       departed_facility _007, received_at_origin_facility _002…);
//	                       status_detail out_for_delivery → OutForDelivery_001,
//	                       arrived_at_pickup_location → AvailableForPickup_001
//	out_for_delivery     → OutForDelivery (OutForDelivery_001)
//	delivered            → Delivered (Delivered_001; _003 when signed_by is set)
//	available_for_pickup → AvailableForPickup (AvailableForPickup_001)
//	return_to_sender     → Exception (Exception_010, returning to sender)
//	failure              → Exception (Exception_001; refused _003, address _007,
//	                       damaged _012, lost _013, return _010); AttemptFail_001
//	                       when status_detail speaks of an attempt
//	cancelled            → Exception (Exception_020, cancelled)
//	error, anything else → StatusInvalid: status unchanged, notifies nobody
//
// "error" is EasyPost failing to track (bad number, carrier API down), not
// news about the parcel, so it must not tell a customer there is a problem.
// "failure" is an Exception by default: EasyPost's status_detail list has
// no attempt code, and "failure" covers undeliverable parcels as much as
// missed deliveries.
func easyPostStatus(status, detail string) (tracking.Status, string) {
	detail = strings.ToLower(strings.TrimSpace(detail))
	switch strings.ToLower(strings.TrimSpace(status)) {
	case "unknown":
		return tracking.Pending, "Pending_001"
	case "pre_transit":
		return tracking.InfoReceived, "InfoReceived_001"
	case "in_transit":
		switch detail {
		case "out_for_delivery":
			return tracking.OutForDelivery, "OutForDelivery_001"
		case "arrived_at_pickup_location":
			return tracking.AvailableForPickup, "AvailableForPickup_001"
		case "received_at_origin_facility":
			return tracking.InTransit, "InTransit_002"
		case "arrived_at_facility", "arrived_at_destination", "received_at_destination_facility":
			return tracking.InTransit, "InTransit_003"
		case "departed_facility", "departed_origin_facility":
			return tracking.InTransit, "InTransit_007"
		}
		return tracking.InTransit, "InTransit_001"
	case "out_for_delivery":
		return tracking.OutForDelivery, "OutForDelivery_001"
	case "delivered":
		return tracking.Delivered, "Delivered_001"
	case "available_for_pickup":
		return tracking.AvailableForPickup, "AvailableForPickup_001"
	case "return_to_sender":
		return tracking.Exception, "Exception_010"
	case "failure":
		switch {
		case strings.Contains(detail, "attempt"):
			return tracking.AttemptFail, "AttemptFail_001"
		case detail == "refused":
			return tracking.Exception, "Exception_003"
		case detail == "address_correction":
			return tracking.Exception, "Exception_007"
		case detail == "damaged":
			return tracking.Exception, "Exception_012"
		case detail == "lost":
			return tracking.Exception, "Exception_013"
		case detail == "return":
			return tracking.Exception, "Exception_010"
		case detail == "cancelled":
			return tracking.Exception, "Exception_020"
		}
		return tracking.Exception, "Exception_001"
	case "cancelled":
		return tracking.Exception, "Exception_020"
	}
	return tracking.StatusInvalid, ""
}

// epHuman turns a status_detail into words: "arrived_at_facility" →
// "Arrived at facility"; "unknown" and "" → "".
func epHuman(detail string) string {
	detail = strings.TrimSpace(detail)
	if detail == "" || strings.EqualFold(detail, "unknown") || len(detail) > 100 {
		return ""
	}
	s := strings.ReplaceAll(strings.ToLower(detail), "_", " ")
	r, n := utf8.DecodeRuneInString(s)
	return string(unicode.ToUpper(r)) + s[n:]
}
