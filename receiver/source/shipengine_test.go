package source

import (
	"bytes"
	"errors"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/trackhook/trackhook/receiver/carrier"
	"github.com/trackhook/trackhook/receiver/tracking"
	"github.com/trackhook/trackhook/signature"
)

func se() ShipEngine { return ShipEngine{Carriers: carrier.Default()} }

// The reference payload from shared/reference/webhook-sources.md C3.
const seReferencePayload = `{"resource_url":"https://api.shipengine.com/v1/tracking?carrier_code=ups&tracking_number=1Z9634841399247181",
 "resource_type":"API_TRACK",
 "data":{"tracking_number":"1Z9634841399247181","status_code":"IT","status_description":"In Transit",
  "carrier_status_code":"NT","carrier_status_description":"Your package is moving within the UPS network",
  "ship_date":"2025-10-22T16:09:00","estimated_delivery_date":"2025-10-23T00:00:00","actual_delivery_date":null,
  "exception_description":null,
  "events":[{"occurred_at":"2025-10-22T20:00:00Z","carrier_occurred_at":"2025-10-22T16:00:00",
   "description":"In Transit","city_locality":"Oakland","state_province":"CA","postal_code":"94602",
   "country_code":"US","event_code":"IT","signer":""}]}}`

func seHeader(ts string) http.Header {
	h := http.Header{}
	h.Set(signature.HeaderShipEngineTimestamp, ts)
	return h
}

func TestShipEngineDecodeReference(t *testing.T) {
	evs, err := se().Decode([]byte(seReferencePayload), seHeader("2025-10-22T20:05:00Z"))
	if err != nil {
		t.Fatal(err)
	}
	if len(evs) != 1 {
		t.Fatalf("%d events", len(evs))
	}
	at := time.Date(2025, 10, 22, 20, 0, 0, 0, time.UTC)
	want := tracking.Event{
		Source: "shipengine", Slug: "ups", TrackingNumber: "1Z9634841399247181",
		Status: tracking.InTransit, Subtag: "InTransit_001", SubtagMessage: "In Transit", RawStatus: "IT",
		OccurredAt: at, SentAt: time.Date(2025, 10, 22, 20, 5, 0, 0, time.UTC),
		Checkpoints: []tracking.Checkpoint{{
			// The event has no status_code (event_code is the carrier's own).
			Time: at, Message: "In Transit",
			City: "Oakland", State: "CA", Zip: "94602", CountryISO3: "USA",
		}},
		ExpectedDelivery: "2025-10-23", // estimated_delivery_date "2025-10-23T00:00:00"
	}
	want.EventID = Fingerprint("shipengine", "1Z9634841399247181", tracking.InTransit, "IT/", at)
	if got := mustJSON(evs[0]); got != mustJSON(want) {
		t.Fatalf("decoded\n%s\nwant\n%s", got, mustJSON(want))
	}
}

func TestShipEngineStatusMapping(t *testing.T) {
	for _, tc := range []struct {
		code, detail string
		texts        []string
		want         tracking.Status
		sub          string
	}{
		// status_code alone (C4), upper and lower case.
		{code: "UN", want: tracking.Pending, sub: "Pending_001"},
		{code: "NY", want: tracking.Pending, sub: "Pending_001"},
		{code: "AC", want: tracking.InfoReceived, sub: "InfoReceived_001"},
		{code: "IT", want: tracking.InTransit, sub: "InTransit_001"},
		{code: "DE", want: tracking.Delivered, sub: "Delivered_001"},
		{code: "EX", want: tracking.Exception, sub: "Exception_001"},
		{code: "AT", want: tracking.AttemptFail, sub: "AttemptFail_001"},
		{code: "SP", want: tracking.AvailableForPickup, sub: "AvailableForPickup_001"},
		{code: "it", want: tracking.InTransit, sub: "InTransit_001"},
		{code: " sp ", want: tracking.AvailableForPickup, sub: "AvailableForPickup_001"},
		{code: "de", detail: "delivered_to_neighbour", want: tracking.Delivered, sub: "Delivered_005"},
		// Unknown: status unchanged.
		{code: "ZZ", want: tracking.StatusInvalid},
		{code: "", want: tracking.StatusInvalid},
		{code: "ZZ", detail: "SOMETHING_NEW", want: tracking.StatusInvalid},
		{code: "IT", detail: "SOMETHING_NEW", want: tracking.InTransit, sub: "InTransit_001"},
		// AC: label vs. the carrier has it.
		{code: "AC", detail: "SHIPMENT_CREATED", want: tracking.InfoReceived, sub: "InfoReceived_001"},
		{code: "AC", detail: "COLLECTION_MADE", want: tracking.InTransit, sub: "InTransit_002"},
		{code: "AC", detail: "DROPPED_OFF", want: tracking.InTransit, sub: "InTransit_002"},
		// Out for delivery from the detail (whatever the parent) or the wording.
		{code: "IT", detail: "OUT_FOR_DELIVERY", want: tracking.OutForDelivery, sub: "OutForDelivery_001"},
		{code: "AT", detail: "OUT_FOR_DELIVERY", want: tracking.OutForDelivery, sub: "OutForDelivery_001"},
		{code: "IT", texts: []string{"Out For Delivery Today"}, want: tracking.OutForDelivery, sub: "OutForDelivery_001"},
		{code: "IT", texts: []string{"", "UPS: out for delivery"}, want: tracking.OutForDelivery, sub: "OutForDelivery_001"},
		{code: "IT", texts: []string{"Not out for delivery: weather"}, want: tracking.InTransit, sub: "InTransit_001"},
		{code: "IT", detail: "INFORMATION", texts: []string{"Out for delivery"}, want: tracking.OutForDelivery, sub: "OutForDelivery_001"},
		{code: "IT", detail: "HUB_SCAN_IN", texts: []string{"Out for delivery"}, want: tracking.InTransit, sub: "InTransit_003"},
		{code: "DE", texts: []string{"Out for delivery"}, want: tracking.Delivered, sub: "Delivered_001"},
		// Service point.
		{code: "SP", detail: "AWAITING_COLLECTION_FROM_PICKUP_POINT", want: tracking.AvailableForPickup, sub: "AvailableForPickup_001"},
		{code: "SP", detail: "DELIVERED_TO_LOCKER_COLLECTION_POINT", want: tracking.AvailableForPickup, sub: "AvailableForPickup_001"},
		{code: "DE", detail: "DELIVERED_TO_LOCKER_COLLECTION_POINT", want: tracking.Delivered, sub: "Delivered_001"},
		{code: "DE", detail: "PARCEL_COLLECTED_FROM_PICKUP_POINT", want: tracking.Delivered, sub: "Delivered_002"},
		{code: "DE", detail: "COD_AMOUNT_PAID", want: tracking.Delivered, sub: "Delivered_004"},
		// Exceptions and returns.
		{code: "EX", detail: "RETURN_TO_SENDER", want: tracking.Exception, sub: "Exception_010"},
		{code: "EX", detail: "NOT_COLLECTED_FROM_PICKUP_POINT", want: tracking.Exception, sub: "Exception_010"},
		{code: "EX", detail: "REFUSED_BY_CUSTOMER", want: tracking.Exception, sub: "Exception_003"},
		{code: "EX", detail: "PARCEL_LOST", want: tracking.Exception, sub: "Exception_013"},
		{code: "EX", detail: "PARCEL_DAMAGED", want: tracking.Exception, sub: "Exception_012"},
		{code: "EX", detail: "CANCELLED", want: tracking.Exception, sub: "Exception_020"},
		{code: "EX", texts: []string{"Return to Sender Processed"}, want: tracking.Exception, sub: "Exception_010"},
		{code: "EX", texts: []string{"Damaged"}, want: tracking.Exception, sub: "Exception_001"},
		// Holds: InTransit under IT, Exception under EX.
		{code: "IT", detail: "HELD_BY_CUSTOMS", want: tracking.InTransit, sub: "InTransit_006"},
		{code: "EX", detail: "HELD_BY_CUSTOMS", want: tracking.Exception, sub: "Exception_004"},
		{code: "IT", detail: "CARRIER_DELAYS", want: tracking.InTransit, sub: "InTransit_001"},
		{code: "EX", detail: "CARRIER_DELAYS", want: tracking.Exception, sub: "Exception_016"},
		{code: "EX", detail: "ADDRESS_QUERY", want: tracking.Exception, sub: "Exception_007"},
		{code: "EX", detail: "IN_TRANSIT", want: tracking.Exception, sub: "Exception_001"},
		{code: "IT", detail: "CUSTOMS_CLEARED", want: tracking.InTransit, sub: "InTransit_005"},
		// Attempts.
		{code: "AT", detail: "ATTEMPTED_DELIVERY_2ND", want: tracking.AttemptFail, sub: "AttemptFail_001"},
		{code: "AT", detail: "COD_AMOUNT_NOT_PAID", want: tracking.Exception, sub: "Exception_006"},
		// ShipStation API v2 puts the detail vocabulary in status_code.
		{code: "OUT_FOR_DELIVERY", want: tracking.OutForDelivery, sub: "OutForDelivery_001"},
		{code: "delivered", want: tracking.Delivered, sub: "Delivered_001"},
		{code: "CARRIER_STATUS_NOT_MAPPED", want: tracking.StatusInvalid},
	} {
		st, sub := shipEngineStatus(tc.code, tc.detail, tc.texts...)
		if st != tc.want || sub != tc.sub {
			t.Errorf("shipEngineStatus(%q, %q, %q) = %v %q, want %v %q", tc.code, tc.detail, tc.texts, st, sub, tc.want, tc.sub)
		}
	}
}

// TestShipEngineDetailTableSubtags keeps every subtag in the detail table in
// its status's family.
func TestShipEngineDetailTableSubtags(t *testing.T) {
	for code, m := range shipEngineDetails {
		if m.st == tracking.StatusInvalid {
			if m.sub != "" || m.exSub != "" {
				t.Errorf("%s: subtag without status", code)
			}
			continue
		}
		if !strings.HasPrefix(m.sub, m.st.String()+"_") {
			t.Errorf("%s: subtag %q is not in %v", code, m.sub, m.st)
		}
		if m.exSub != "" && !strings.HasPrefix(m.exSub, "Exception_") {
			t.Errorf("%s: exception subtag %q", code, m.exSub)
		}
	}
}

func TestShipEngineDecodeForms(t *testing.T) {
	body := func(resourceURL, data string) []byte {
		return []byte(`{"resource_url":"` + resourceURL + `","resource_type":"API_TRACK","data":{` + data + `}}`)
	}
	const ru = "https://api.shipengine.com/v1/tracking?carrier_code=fedex&tracking_number=794644790132"
	tests := []struct {
		name  string
		body  []byte
		h     http.Header
		check func(t *testing.T, evs []tracking.Event)
		err   string
	}{
		{name: "carrier and number from resource_url", body: body(ru, `"status_code":"IT"`),
			check: func(t *testing.T, evs []tracking.Event) {
				if e := evs[0]; e.Slug != "fedex" || e.TrackingNumber != "794644790132" {
					t.Fatalf("slug %q number %q", e.Slug, e.TrackingNumber)
				}
			}},
		{name: "data.carrier_code wins and is normalised", body: body(ru, `"carrier_code":"stamps_com","tracking_number":"9400111899562537124513","status_code":"DE"`),
			check: func(t *testing.T, evs []tracking.Event) {
				if e := evs[0]; e.Slug != "usps" || e.TrackingNumber != "9400111899562537124513" || e.Status != tracking.Delivered {
					t.Fatalf("slug %q number %q status %v", e.Slug, e.TrackingNumber, e.Status)
				}
			}},
		{name: "dhl_express normalised to dhl", body: body("", `"carrier_code":"dhl_express","tracking_number":"1234567890","status_code":"IT"`),
			check: func(t *testing.T, evs []tracking.Event) {
				if evs[0].Slug != "dhl" {
					t.Fatalf("slug %q", evs[0].Slug)
				}
			}},
		{name: "other resource types carry nothing to track", body: []byte(`{"resource_url":"https://api.shipengine.com/v1/batches/se-1","resource_type":"API_BATCH","data":{"status":[1,2]}}`),
			check: func(t *testing.T, evs []tracking.Event) {
				if len(evs) != 0 {
					t.Fatalf("%d events", len(evs))
				}
			}},
		{name: "resource type in lower case", body: []byte(`{"resource_type":"api_track","data":{"carrier_code":"ups","tracking_number":"1Z","status_code":"it"}}`),
			check: func(t *testing.T, evs []tracking.Event) {
				if len(evs) != 1 || evs[0].Status != tracking.InTransit || evs[0].RawStatus != "it" {
					t.Fatalf("%+v", evs)
				}
			}},
		{name: "no events: ordered by the signed timestamp (unix seconds)", body: body(ru, `"status_code":"AC"`), h: seHeader("1795112590"),
			check: func(t *testing.T, evs []tracking.Event) {
				want := time.Unix(1795112590, 0).UTC()
				if e := evs[0]; !e.OccurredAt.Equal(want) || !e.SentAt.Equal(want) || len(e.Checkpoints) != 0 {
					t.Fatalf("occurred %v sent %v", e.OccurredAt, e.SentAt)
				}
			}},
		{name: "delivered without events: actual_delivery_date", body: body(ru, `"status_code":"DE","actual_delivery_date":"2026-11-19T13:22:00"`), h: seHeader("2026-11-19T18:23:10Z"),
			check: func(t *testing.T, evs []tracking.Event) {
				if e := evs[0]; !e.OccurredAt.Equal(time.Date(2026, 11, 19, 13, 22, 0, 0, time.UTC)) {
					t.Fatalf("occurred %v", e.OccurredAt)
				}
			}},
		{name: "events newest first become checkpoints oldest first", body: body(ru, `"status_code":"IT","events":[
			{"occurred_at":"2026-11-18T09:41:00Z","description":"Arrived","status_code":"IT"},
			{"carrier_occurred_at":"2026-11-17T02:15:00","description":"Departed","status_code":"IT"},
			{"event_date":"2026-11-16T21:04:00Z","description":"Label","status_code":"AC"}]`),
			check: func(t *testing.T, evs []tracking.Event) {
				cps := evs[0].Checkpoints
				if len(cps) != 3 || cps[0].Message != "Label" || cps[2].Message != "Arrived" || cps[0].Status != tracking.InfoReceived {
					t.Fatalf("%+v", cps)
				}
				if !evs[0].OccurredAt.Equal(time.Date(2026, 11, 18, 9, 41, 0, 0, time.UTC)) {
					t.Fatalf("occurred %v", evs[0].OccurredAt)
				}
			}},
		{name: "signer: signed by customer", body: body(ru, `"status_code":"DE","events":[{"occurred_at":"2026-11-19T18:22:00Z","description":"Delivered","signer":"MILLER","status_code":"DE"}]`),
			check: func(t *testing.T, evs []tracking.Event) {
				if e := evs[0]; e.Status != tracking.Delivered || e.Subtag != "Delivered_003" {
					t.Fatalf("%v %q", e.Status, e.Subtag)
				}
			}},
		{name: "out for delivery from the newest event's wording", body: body(ru, `"status_code":"IT","carrier_status_description":"On the way","events":[
			{"occurred_at":"2026-11-19T12:58:00Z","description":"Out For Delivery Today","status_code":"IT"},
			{"occurred_at":"2026-11-18T09:41:00Z","description":"Arrived at Facility","status_code":"IT"}]`),
			check: func(t *testing.T, evs []tracking.Event) {
				if e := evs[0]; e.Status != tracking.OutForDelivery || e.Checkpoints[1].Status != tracking.OutForDelivery || e.Checkpoints[0].Status != tracking.InTransit {
					t.Fatalf("%v / %v %v", e.Status, e.Checkpoints[0].Status, e.Checkpoints[1].Status)
				}
			}},
		{name: "exception message", body: body(ru, `"status_code":"EX","exception_description":"Address not found"`),
			check: func(t *testing.T, evs []tracking.Event) {
				if e := evs[0]; e.SubtagMessage != "Address not found" || e.Subtag != "Exception_001" {
					t.Fatalf("%q %q", e.SubtagMessage, e.Subtag)
				}
			}},
		{name: "unknown status kept raw, status unchanged", body: body(ru, `"status_code":"QQ","events":[{"occurred_at":"2026-11-19T12:58:00Z","status_code":"QQ","description":"?"}]`),
			check: func(t *testing.T, evs []tracking.Event) {
				if e := evs[0]; e.Status != tracking.StatusInvalid || e.Subtag != "" || e.RawStatus != "QQ" || e.Checkpoints[0].Status != tracking.StatusInvalid {
					t.Fatalf("%+v", e)
				}
			}},
		{name: "tracking_url kept when https, javascript dropped", body: body(ru, `"status_code":"IT","tracking_url":"javascript:alert(1)"`),
			check: func(t *testing.T, evs []tracking.Event) {
				if evs[0].TrackingURL != "" {
					t.Fatalf("kept %q", evs[0].TrackingURL)
				}
			}},
		{name: "numeric tracking number and postal code", body: body("", `"carrier_code":"fedex","tracking_number":794644790132,"status_code":"IT","events":[{"occurred_at":"2026-11-19T12:58:00Z","postal_code":94602,"country_code":"CA"}]`),
			check: func(t *testing.T, evs []tracking.Event) {
				if e := evs[0]; e.TrackingNumber != "794644790132" || e.Checkpoints[0].Zip != "94602" || e.Checkpoints[0].CountryISO3 != "CAN" {
					t.Fatalf("%+v", e)
				}
			}},
		{name: "not JSON", body: []byte(`{"resource_type":`), err: "invalid JSON"},
		{name: "array", body: []byte(`[]`), err: "JSON object"},
		{name: "trailing data", body: []byte(`{"resource_type":"API_TRACK","data":{"carrier_code":"ups","tracking_number":"1"}} {}`), err: "trailing"},
		{name: "no resource_type", body: []byte(`{"data":{"carrier_code":"ups","tracking_number":"1"}}`), err: "resource_type"},
		{name: "no data", body: []byte(`{"resource_type":"API_TRACK"}`), err: "data"},
		{name: "no tracking number", body: body("https://api.shipengine.com/v1/tracking?carrier_code=ups", `"status_code":"IT"`), err: "tracking_number"},
		{name: "no carrier", body: body("https://api.shipengine.com/v1/tracking?tracking_number=1Z", `"status_code":"IT"`), err: "carrier_code"},
		{name: "events not a list", body: body(ru, `"events":{}`), err: "events"},
		{name: "status_code not a string", body: body(ru, `"status_code":7`), err: "status_code"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			evs, err := se().Decode(tc.body, tc.h)
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

// TestShipEngineRetryDedupes: ShipEngine retries with a new timestamp (and
// so a new signature); the event id must not change.
func TestShipEngineRetryDedupes(t *testing.T) {
	a, err := se().Decode([]byte(seReferencePayload), seHeader("2025-10-22T20:05:00Z"))
	if err != nil {
		t.Fatal(err)
	}
	b, err := se().Decode([]byte(seReferencePayload), seHeader("2025-10-22T22:05:00Z"))
	if err != nil {
		t.Fatal(err)
	}
	if a[0].EventID != b[0].EventID || !strings.HasPrefix(a[0].EventID, "fp-") {
		t.Fatalf("retry has another id: %q vs %q", a[0].EventID, b[0].EventID)
	}
	c, err := se().Decode([]byte(strings.Replace(seReferencePayload, `"status_code":"IT"`, `"status_code":"DE"`, 1)), nil)
	if err != nil {
		t.Fatal(err)
	}
	if c[0].EventID == a[0].EventID {
		t.Fatal("a new status has the same id")
	}
}

// TestShipEngineExpectedDelivery: data.estimated_delivery_date is the
// expected delivery day, its date as written whatever the offset; null or a
// value that is not a date gives none and the update is still taken.
func TestShipEngineExpectedDelivery(t *testing.T) {
	body := func(v string) []byte {
		return []byte(strings.Replace(seReferencePayload, `"estimated_delivery_date":"2025-10-23T00:00:00"`, `"estimated_delivery_date":`+v, 1))
	}
	if bytes.Equal(body(`"x"`), []byte(seReferencePayload)) {
		t.Fatal("the reference payload has no estimated_delivery_date to replace")
	}
	for _, tc := range []struct{ v, want string }{
		{`"2025-10-23T00:00:00"`, "2025-10-23"},
		{`"2025-10-23"`, "2025-10-23"},
		{`"2025-10-23T17:00:00Z"`, "2025-10-23"},
		{`"2025-10-23T23:30:00-07:00"`, "2025-10-23"}, // the 24th in UTC
		{`"2025-10-24T00:30:00+02:00"`, "2025-10-24"}, // the 23rd in UTC
		{`"2025-10-23T00:00:00.000"`, "2025-10-23"},
	} {
		t.Run(tc.v, func(t *testing.T) {
			evs, err := se().Decode(body(tc.v), seHeader("2025-10-22T20:05:00Z"))
			wantExpected(t, evs, err, tc.want)
		})
	}
	for _, g := range garbageDates {
		t.Run("garbage "+g, func(t *testing.T) {
			evs, err := se().Decode(body(g), seHeader("2025-10-22T20:05:00Z"))
			wantExpected(t, evs, err, "")
			if e := evs[0]; e.TrackingNumber != "1Z9634841399247181" || e.Status != tracking.InTransit {
				t.Fatalf("event %+v", e)
			}
		})
	}
}

func FuzzShipEngineDecode(f *testing.F) {
	f.Add([]byte(seReferencePayload), "2025-10-22T20:05:00Z")
	files, _ := filepath.Glob(filepath.Join("..", "..", "testdata", "shipengine", "*.json"))
	for _, p := range files {
		if b, err := os.ReadFile(p); err == nil {
			f.Add(b, "1795112590")
		}
	}
	f.Add([]byte(`{"resource_type":"API_TRACK","resource_url":"%zz?carrier_code=ups","data":{"tracking_number":1e999,"carrier_code":"x"}}`), "")
	f.Add([]byte(`{"resource_type":"API_TRACK","data":{"tracking_number":"1","carrier_code":"ups","events":[{"occurred_at":"9999-99-99"},{}]}}`), "x")
	f.Add([]byte(`{"resource_type":"API_TRACK","data":{"tracking_number":"1","carrier_code":"ups","estimated_delivery_date":{"from":"2025-10-23"}}}`), "")
	f.Add([]byte(`{"resource_type":"API_TRACK","data":{"tracking_number":"1","carrier_code":"ups","estimated_delivery_date":"2025-10-23T23:30:00-07:00"}}`), "")
	a := se()
	f.Fuzz(func(t *testing.T, body []byte, ts string) {
		evs, err := a.Decode(body, seHeader(ts))
		if err != nil {
			if !errors.Is(err, ErrMalformed) {
				t.Fatalf("error %v is not ErrMalformed", err)
			}
			return
		}
		for _, e := range evs {
			assertClean(t, e)
			if e.TrackingNumber == "" || e.Slug == "" || e.EventID == "" || e.Source != "shipengine" {
				t.Fatalf("event without key: %+v", e)
			}
			if e.Status != tracking.StatusInvalid && !strings.HasPrefix(e.Subtag, e.Status.String()+"_") {
				t.Fatalf("subtag %q outside %v", e.Subtag, e.Status)
			}
		}
	})
}
