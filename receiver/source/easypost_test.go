package source

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/trackhook/trackhook/receiver/carrier"
	"github.com/trackhook/trackhook/receiver/tracking"
)

func ep() EasyPost { return EasyPost{Carriers: carrier.Default()} }

// The reference payload from shared/reference/webhook-sources.md D3.
const epReferencePayload = `{"id":"evt_1","object":"Event","mode":"production","description":"tracker.updated",
 "previous_attributes":{"status":"pre_transit"},"created_at":"2024-08-14T17:00:00Z",
 "result":{"id":"trk_1","object":"Tracker","mode":"production","tracking_code":"EZ2000000002",
  "carrier":"USPS","status":"in_transit","status_detail":"arrived_at_facility","public_url":"https://track.easypost.com/...",
  "tracking_details":[{"object":"TrackingDetail","message":"Arrived at facility","status":"in_transit",
   "status_detail":"arrived_at_facility","datetime":"2024-08-14T16:40:00Z","source":"USPS",
   "tracking_location":{"object":"TrackingLocation","city":"AUSTIN","state":"TX","country":"US","zip":"78701"}}]}}`

func TestEasyPostDecodeReference(t *testing.T) {
	evs, err := ep().Decode([]byte(epReferencePayload), nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(evs) != 1 {
		t.Fatalf("%d events", len(evs))
	}
	at := time.Date(2024, 8, 14, 16, 40, 0, 0, time.UTC)
	want := tracking.Event{
		Source: "easypost", EventID: "evt_1", Slug: "usps", TrackingNumber: "EZ2000000002",
		Status: tracking.InTransit, Subtag: "InTransit_003", SubtagMessage: "Arrived at facility", RawStatus: "in_transit",
		OccurredAt: at, SentAt: time.Date(2024, 8, 14, 17, 0, 0, 0, time.UTC),
		Checkpoints: []tracking.Checkpoint{{
			Time: at, Status: tracking.InTransit, Subtag: "InTransit_003", SubtagMessage: "Arrived at facility",
			Message: "Arrived at facility", City: "AUSTIN", State: "TX", Zip: "78701", CountryISO3: "USA",
		}},
		TrackingURL: "https://track.easypost.com/...", SourceRef: "trk_1",
	}
	if got := mustJSON(evs[0]); got != mustJSON(want) {
		t.Fatalf("decoded\n%s\nwant\n%s", got, mustJSON(want))
	}
}

// TestEasyPostDecodeOfficialBody decodes the body behind EasyPost's
// published signature vector (shared/testdata).
func TestEasyPostDecodeOfficialBody(t *testing.T) {
	body, err := os.ReadFile(filepath.Join("..", "..", "testdata", "easypost", "official_tracker_updated.json"))
	if err != nil {
		t.Fatal(err)
	}
	evs, err := ep().Decode(body, nil)
	if err != nil {
		t.Fatal(err)
	}
	e := evs[0]
	if e.EventID != "evt_1" || e.Slug != "fedex" || e.TrackingNumber != "1" || e.Status != tracking.InTransit ||
		e.Subtag != "InTransit_003" || e.SourceRef != "trk_1" || e.TrackingURL != "https://track.easypost.com/1" ||
		!e.OccurredAt.Equal(time.Date(2024, 8, 2, 18, 50, 0, 0, time.UTC)) ||
		!e.SentAt.Equal(time.Date(2024, 8, 2, 19, 26, 52, 0, time.UTC)) || len(e.Checkpoints) != 7 {
		t.Fatalf("%+v", e)
	}
	if cp := e.Checkpoints[0]; cp.Status != tracking.InfoReceived || cp.Zip != "32837" || cp.CountryISO3 != "USA" || cp.City != "" {
		t.Fatalf("first checkpoint %+v", cp)
	}
	// est_delivery_date "2024-08-05T00:00:00Z", carrier_detail's
	// est_delivery_date_local "2024-08-05".
	if e.ExpectedDelivery != "2024-08-05" {
		t.Fatalf("expected delivery %q", e.ExpectedDelivery)
	}
}

// TestEasyPostExpectedDelivery: the expected delivery day is carrier_detail's
// est_delivery_date_local, the carrier's local date, else the tracker's
// est_delivery_date with its date as written whatever the offset; null or a
// value that is not a date gives none and the update is still taken.
func TestEasyPostExpectedDelivery(t *testing.T) {
	tracker := func(fields string) []byte {
		return []byte(`{"id":"evt_x","object":"Event","description":"tracker.updated","created_at":"2026-01-03T08:00:00Z","result":{"object":"Tracker","tracking_code":"1Z999","carrier":"UPS","status":"in_transit"` + fields + `}}`)
	}
	for _, tc := range []struct{ name, fields, want string }{
		{"none", ``, ""},
		{"null, as EasyPost sends it", `,"est_delivery_date":null,"carrier_detail":{"est_delivery_date_local":null}`, ""},
		{"est_delivery_date at midnight UTC", `,"est_delivery_date":"2026-01-05T00:00:00Z"`, "2026-01-05"},
		{"est_delivery_date in the afternoon", `,"est_delivery_date":"2026-01-05T17:00:00Z"`, "2026-01-05"},
		{"est_delivery_date with a negative offset", `,"est_delivery_date":"2026-01-05T23:30:00-05:00"`, "2026-01-05"}, // the 6th in UTC
		{"est_delivery_date with a positive offset", `,"est_delivery_date":"2026-01-06T00:30:00+09:00"`, "2026-01-06"}, // the 5th in UTC
		{"the local date", `,"carrier_detail":{"object":"CarrierDetail","est_delivery_date_local":"2026-01-05","est_delivery_time_local":null}`, "2026-01-05"},
		// 20:00 in New York on the 5th, sent as UTC: the carrier's local date wins.
		{"the local date wins", `,"est_delivery_date":"2026-01-06T01:00:00Z","carrier_detail":{"est_delivery_date_local":"2026-01-05"}`, "2026-01-05"},
		{"an unreadable local date is passed over", `,"est_delivery_date":"2026-01-06T01:00:00Z","carrier_detail":{"est_delivery_date_local":"Monday"}`, "2026-01-06"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			evs, err := ep().Decode(tracker(tc.fields), nil)
			wantExpected(t, evs, err, tc.want)
		})
	}
	for _, g := range garbageDates {
		t.Run("garbage "+g, func(t *testing.T) {
			evs, err := ep().Decode(tracker(`,"est_delivery_date":`+g+`,"carrier_detail":{"est_delivery_date_local":`+g+`}`), nil)
			wantExpected(t, evs, err, "")
			if e := evs[0]; e.TrackingNumber != "1Z999" || e.Status != tracking.InTransit {
				t.Fatalf("event %+v", e)
			}
		})
	}
}

func TestEasyPostStatusMapping(t *testing.T) {
	for _, tc := range []struct {
		status, detail string
		want           tracking.Status
		sub            string
	}{
		{"unknown", "", tracking.Pending, "Pending_001"},
		{"pre_transit", "label_created", tracking.InfoReceived, "InfoReceived_001"},
		{"in_transit", "", tracking.InTransit, "InTransit_001"},
		{"in_transit", "unknown", tracking.InTransit, "InTransit_001"},
		{"in_transit", "arrived_at_facility", tracking.InTransit, "InTransit_003"},
		{"in_transit", "received_at_destination_facility", tracking.InTransit, "InTransit_003"},
		{"in_transit", "departed_facility", tracking.InTransit, "InTransit_007"},
		{"in_transit", "received_at_origin_facility", tracking.InTransit, "InTransit_002"},
		{"in_transit", "weather_delay", tracking.InTransit, "InTransit_001"},
		{"in_transit", "out_for_delivery", tracking.OutForDelivery, "OutForDelivery_001"},
		{"in_transit", "arrived_at_pickup_location", tracking.AvailableForPickup, "AvailableForPickup_001"},
		{"out_for_delivery", "out_for_delivery", tracking.OutForDelivery, "OutForDelivery_001"},
		{"delivered", "arrived_at_destination", tracking.Delivered, "Delivered_001"},
		{"available_for_pickup", "arrived_at_pickup_location", tracking.AvailableForPickup, "AvailableForPickup_001"},
		{"return_to_sender", "return", tracking.Exception, "Exception_010"},
		{"failure", "", tracking.Exception, "Exception_001"},
		{"failure", "delivery_exception", tracking.Exception, "Exception_001"},
		{"failure", "refused", tracking.Exception, "Exception_003"},
		{"failure", "address_correction", tracking.Exception, "Exception_007"},
		{"failure", "damaged", tracking.Exception, "Exception_012"},
		{"failure", "lost", tracking.Exception, "Exception_013"},
		{"failure", "delivery_attempted", tracking.AttemptFail, "AttemptFail_001"},
		{"cancelled", "cancelled", tracking.Exception, "Exception_020"},
		{"error", "", tracking.StatusInvalid, ""},
		{"something_new", "", tracking.StatusInvalid, ""},
		{"", "", tracking.StatusInvalid, ""},
		{"Delivered", "", tracking.Delivered, "Delivered_001"},
		{" IN_TRANSIT ", "ARRIVED_AT_FACILITY", tracking.InTransit, "InTransit_003"},
	} {
		st, sub := easyPostStatus(tc.status, tc.detail)
		if st != tc.want || sub != tc.sub {
			t.Errorf("easyPostStatus(%q, %q) = %v %q, want %v %q", tc.status, tc.detail, st, sub, tc.want, tc.sub)
		}
	}
}

// TestEasyPostTestTrackers runs EasyPost's test-mode tracking codes (VERIFIED
// in easypost-go TestTrackerValues) through the adapter.
func TestEasyPostTestTrackers(t *testing.T) {
	for _, tc := range []struct {
		code, status, signedBy string
		want                   tracking.Status
		sub                    string
	}{
		{"EZ1000000001", "pre_transit", "", tracking.InfoReceived, "InfoReceived_001"},
		{"EZ2000000002", "in_transit", "", tracking.InTransit, "InTransit_001"},
		{"EZ3000000003", "out_for_delivery", "", tracking.OutForDelivery, "OutForDelivery_001"},
		{"EZ4000000004", "delivered", "John Tester", tracking.Delivered, "Delivered_003"},
		{"EZ5000000005", "return_to_sender", "", tracking.Exception, "Exception_010"},
		{"EZ6000000006", "failure", "", tracking.Exception, "Exception_001"},
		{"EZ7000000007", "unknown", "", tracking.Pending, "Pending_001"},
	} {
		body := `{"id":"evt_t","object":"Event","mode":"test","description":"tracker.created","created_at":"2026-11-20T08:00:00Z",
			"result":{"id":"trk_t","object":"Tracker","mode":"test","tracking_code":"` + tc.code + `","carrier":"USPS","status":"` + tc.status + `",
			"signed_by":` + mustJSON(tc.signedBy) + `,"tracking_details":[]}}`
		evs, err := ep().Decode([]byte(body), nil)
		if err != nil {
			t.Fatalf("%s: %v", tc.code, err)
		}
		e := evs[0]
		if e.Status != tc.want || e.Subtag != tc.sub || e.RawStatus != tc.status || e.TrackingNumber != tc.code {
			t.Errorf("%s: %v %q raw %q", tc.code, e.Status, e.Subtag, e.RawStatus)
		}
		if tc.signedBy != "" && e.SubtagMessage != "Signed by "+tc.signedBy {
			t.Errorf("%s: subtag message %q", tc.code, e.SubtagMessage)
		}
	}
}

func TestEasyPostDecodeForms(t *testing.T) {
	tracker := func(fields string) []byte {
		return []byte(`{"id":"evt_x","object":"Event","description":"tracker.updated","created_at":"2026-11-20T08:00:00Z","result":{"object":"Tracker","tracking_code":"1Z999","carrier":"UPS","status":"in_transit"` + fields + `}}`)
	}
	tests := []struct {
		name  string
		body  []byte
		check func(t *testing.T, evs []tracking.Event)
		err   string
	}{
		{name: "EasyPost carrier names normalised", body: []byte(`{"id":"e","description":"tracker.updated","result":{"tracking_code":"1","carrier":"DHLExpress","status":"in_transit"}}`),
			check: func(t *testing.T, evs []tracking.Event) {
				if evs[0].Slug != "dhl" {
					t.Fatalf("slug %q", evs[0].Slug)
				}
			}},
		{name: "FedEx", body: []byte(`{"id":"e","description":"tracker.created","result":{"tracking_code":"1","carrier":"FedEx","status":"pre_transit"}}`),
			check: func(t *testing.T, evs []tracking.Event) {
				if evs[0].Slug != "fedex" || evs[0].Status != tracking.InfoReceived {
					t.Fatalf("slug %q status %v", evs[0].Slug, evs[0].Status)
				}
			}},
		{name: "other events carry nothing to track, whatever their result", body: []byte(`{"id":"evt_b","description":"batch.updated","result":{"object":"Batch","status":{"created":1},"shipments":[]}}`),
			check: func(t *testing.T, evs []tracking.Event) {
				if len(evs) != 0 {
					t.Fatalf("%d events", len(evs))
				}
			}},
		{name: "refund event", body: []byte(`{"id":"evt_r","description":"refund.successful","result":[1,2]}`),
			check: func(t *testing.T, evs []tracking.Event) {
				if len(evs) != 0 {
					t.Fatalf("%d events", len(evs))
				}
			}},
		{name: "no tracking details: ordered by the tracker's updated_at", body: tracker(`,"updated_at":"2026-11-20T07:59:00Z"`),
			check: func(t *testing.T, evs []tracking.Event) {
				if e := evs[0]; !e.OccurredAt.Equal(time.Date(2026, 11, 20, 7, 59, 0, 0, time.UTC)) || !e.SentAt.Equal(time.Date(2026, 11, 20, 8, 0, 0, 0, time.UTC)) {
					t.Fatalf("occurred %v sent %v", e.OccurredAt, e.SentAt)
				}
			}},
		{name: "no tracking details nor updated_at: the event's time", body: tracker(``),
			check: func(t *testing.T, evs []tracking.Event) {
				if e := evs[0]; !e.OccurredAt.Equal(time.Date(2026, 11, 20, 8, 0, 0, 0, time.UTC)) {
					t.Fatalf("occurred %v", e.OccurredAt)
				}
			}},
		{name: "null fields", body: tracker(`,"signed_by":null,"public_url":null,"status_detail":null,"tracking_details":[{"datetime":"2026-11-20T07:00:00Z","message":null,"tracking_location":null}],"carrier_detail":null`),
			check: func(t *testing.T, evs []tracking.Event) {
				if e := evs[0]; len(e.Checkpoints) != 1 || e.Checkpoints[0].City != "" || e.Subtag != "InTransit_001" {
					t.Fatalf("%+v", e)
				}
			}},
		{name: "destination country from carrier_detail", body: tracker(`,"carrier_detail":{"destination_tracking_location":{"country":"DE"}}`),
			check: func(t *testing.T, evs []tracking.Event) {
				if evs[0].DestinationCountry != "DE" {
					t.Fatalf("destination %q", evs[0].DestinationCountry)
				}
			}},
		{name: "javascript public_url dropped", body: tracker(`,"public_url":"javascript:alert(1)"`),
			check: func(t *testing.T, evs []tracking.Event) {
				if evs[0].TrackingURL != "" {
					t.Fatalf("kept %q", evs[0].TrackingURL)
				}
			}},
		{name: "error keeps the status unchanged", body: []byte(`{"id":"e","description":"tracker.updated","result":{"tracking_code":"1","carrier":"USPS","status":"error","status_detail":"unknown"}}`),
			check: func(t *testing.T, evs []tracking.Event) {
				if e := evs[0]; e.Status != tracking.StatusInvalid || e.Subtag != "" || e.RawStatus != "error" {
					t.Fatalf("%+v", e)
				}
			}},
		{name: "no event id: fingerprint", body: []byte(`{"description":"tracker.updated","created_at":"2026-11-20T08:00:00Z","result":{"tracking_code":"1","carrier":"USPS","status":"delivered"}}`),
			check: func(t *testing.T, evs []tracking.Event) {
				at := time.Date(2026, 11, 20, 8, 0, 0, 0, time.UTC)
				if e := evs[0]; e.EventID != Fingerprint("easypost", "1", tracking.Delivered, "delivered", at) {
					t.Fatalf("id %q", e.EventID)
				}
			}},
		{name: "numeric tracking code and zip", body: []byte(`{"id":"e","description":"tracker.updated","result":{"tracking_code":123456,"carrier":"USPS","status":"in_transit","tracking_details":[{"datetime":"2026-11-20T07:00:00Z","tracking_location":{"zip":98101,"country":"USA"}}]}}`),
			check: func(t *testing.T, evs []tracking.Event) {
				if e := evs[0]; e.TrackingNumber != "123456" || e.Checkpoints[0].Zip != "98101" || e.Checkpoints[0].CountryISO3 != "USA" {
					t.Fatalf("%+v", e)
				}
			}},
		{name: "not JSON", body: []byte(`{"id":`), err: "invalid JSON"},
		{name: "array", body: []byte(`[]`), err: "JSON object"},
		{name: "trailing data", body: append(tracker(``), " {}"...), err: "trailing"},
		{name: "no description", body: []byte(`{"id":"e","result":{}}`), err: "description"},
		{name: "no result", body: []byte(`{"id":"e","description":"tracker.updated"}`), err: "result"},
		{name: "null result", body: []byte(`{"id":"e","description":"tracker.updated","result":null}`), err: "result"},
		{name: "result not a tracker", body: []byte(`{"id":"e","description":"tracker.updated","result":[1]}`), err: "Tracker"},
		{name: "wrong type inside the tracker", body: []byte(`{"id":"e","description":"tracker.updated","result":{"tracking_code":"1","carrier":"USPS","tracking_details":{}}}`), err: `field "result.tracking_details": want an array, got JSON object`},
		{name: "no tracking code", body: []byte(`{"id":"e","description":"tracker.updated","result":{"carrier":"USPS"}}`), err: "tracking_code"},
		{name: "no carrier", body: []byte(`{"id":"e","description":"tracker.updated","result":{"tracking_code":"1"}}`), err: "carrier"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			evs, err := ep().Decode(tc.body, nil)
			if tc.err != "" {
				if !errors.Is(err, ErrMalformed) || !strings.Contains(err.Error(), tc.err) {
					t.Fatalf("err = %v, want ErrMalformed mentioning %q", err, tc.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			tc.check(t, evs)
		})
	}
}

func FuzzEasyPostDecode(f *testing.F) {
	f.Add([]byte(epReferencePayload))
	files, _ := filepath.Glob(filepath.Join("..", "..", "testdata", "easypost", "*.json"))
	for _, p := range files {
		if b, err := os.ReadFile(p); err == nil {
			f.Add(b)
		}
	}
	f.Add([]byte(`{"description":"tracker.updated","result":{"tracking_code":1e999,"carrier":"x","tracking_details":[{"datetime":"9999-99-99"},{}]}}`))
	f.Add([]byte(`{"description":"TRACKER.CREATED","result":{"tracking_code":"1","carrier":"\u00e9","status":"failure","status_detail":"\u00e9_x","signed_by":"a"}}`))
	f.Add([]byte(`{"description":"tracker.updated","result":{"tracking_code":"1","carrier":"UPS","est_delivery_date":{},"carrier_detail":{"est_delivery_date_local":"2026-01-05T23:30:00-05:00"}}}`))
	a := ep()
	f.Fuzz(func(t *testing.T, body []byte) {
		evs, err := a.Decode(body, nil)
		if err != nil {
			if !errors.Is(err, ErrMalformed) {
				t.Fatalf("error %v is not ErrMalformed", err)
			}
			return
		}
		for _, e := range evs {
			assertClean(t, e)
			if e.TrackingNumber == "" || e.Slug == "" || e.EventID == "" || e.Source != "easypost" {
				t.Fatalf("event without key: %+v", e)
			}
			if e.Status != tracking.StatusInvalid && !strings.HasPrefix(e.Subtag, e.Status.String()+"_") {
				t.Fatalf("subtag %q outside %v", e.Subtag, e.Status)
			}
		}
	})
}
