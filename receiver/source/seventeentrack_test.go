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

func stAdapter() SeventeenTrack { return SeventeenTrack{Carriers: carrier.Default()} }

// The example push of shared/reference/webhook-sources.md E.
const stReferencePayload = `{"event":"TRACKING_UPDATED","data":{"number":"RR123456789CN","carrier":3011,"param":null,"tag":"ORDER-1001",
 "track_info":{"latest_status":{"status":"InTransit","sub_status":"InTransit_Arrival","sub_status_descr":null},
  "latest_event":{"time_iso":"2024-01-15T10:30:00+08:00","time_utc":"2024-01-15T02:30:00Z",
   "description":"Arrived at destination country","location":"Frankfurt","stage":"InTransit","sub_status":"InTransit_Arrival"},
  "tracking":{"providers":[{"provider":{"key":3011,"name":"China Post"},"events":[]}]}}}}`

func TestSeventeenTrackDecodeReference(t *testing.T) {
	evs, err := stAdapter().Decode([]byte(stReferencePayload), nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(evs) != 1 {
		t.Fatalf("%d events", len(evs))
	}
	at := time.Date(2024, 1, 15, 10, 30, 0, 0, time.FixedZone("", 8*3600)) // as sent: the offset is kept
	want := tracking.Event{
		Source: "17track", Slug: "china-post", TrackingNumber: "RR123456789CN",
		Status: tracking.InTransit, Subtag: "InTransit_004", SubtagMessage: "Arrived in the destination country",
		RawStatus: "InTransit/InTransit_Arrival", SourceRef: "ORDER-1001", OccurredAt: at,
		Checkpoints: []tracking.Checkpoint{{
			Time: at, Status: tracking.InTransit, Subtag: "InTransit_004", SubtagMessage: "Arrived in the destination country",
			Message: "Arrived at destination country", Location: "Frankfurt",
		}},
	}
	want.EventID = Fingerprint("17track", "RR123456789CN", tracking.InTransit, "InTransit/InTransit_Arrival", at)
	if got := mustJSON(evs[0]); got != mustJSON(want) {
		t.Fatalf("decoded\n%s\nwant\n%s", got, mustJSON(want))
	}
}

// TestSeventeenTrackStatusMapping covers all 9 main statuses and 30
// sub-statuses of 17TRACK's table.
func TestSeventeenTrackStatusMapping(t *testing.T) {
	for _, tc := range []struct {
		status, sub string
		want        tracking.Status
		subtag      string
	}{
		{"NotFound", "NotFound_Other", tracking.Pending, ""},
		{"NotFound", "NotFound_InvalidCode", tracking.Pending, ""},
		{"InfoReceived", "InfoReceived", tracking.InfoReceived, "InfoReceived_001"},
		{"InTransit", "InTransit_PickedUp", tracking.InTransit, "InTransit_002"},
		{"InTransit", "InTransit_Other", tracking.InTransit, "InTransit_001"},
		{"InTransit", "InTransit_Departure", tracking.InTransit, "InTransit_007"},
		{"InTransit", "InTransit_Arrival", tracking.InTransit, "InTransit_004"},
		{"InTransit", "InTransit_CustomsProcessing", tracking.InTransit, "InTransit_006"},
		{"InTransit", "InTransit_CustomsReleased", tracking.InTransit, "InTransit_005"},
		{"InTransit", "InTransit_CustomsRequiringInformation", tracking.InTransit, "InTransit_006"},
		{"Expired", "Expired_Other", tracking.Expired, "Expired_001"},
		{"AvailableForPickup", "AvailableForPickup_Other", tracking.AvailableForPickup, "AvailableForPickup_001"},
		{"OutForDelivery", "OutForDelivery_Other", tracking.OutForDelivery, "OutForDelivery_001"},
		{"DeliveryFailure", "DeliveryFailure_Other", tracking.AttemptFail, "AttemptFail_001"},
		{"DeliveryFailure", "DeliveryFailure_NoBody", tracking.AttemptFail, "AttemptFail_002"},
		{"DeliveryFailure", "DeliveryFailure_Security", tracking.AttemptFail, "AttemptFail_001"},
		{"DeliveryFailure", "DeliveryFailure_Rejected", tracking.AttemptFail, "AttemptFail_001"},
		{"DeliveryFailure", "DeliveryFailure_InvalidAddress", tracking.AttemptFail, "AttemptFail_001"},
		{"Delivered", "Delivered_Other", tracking.Delivered, "Delivered_001"},
		{"Exception", "Exception_Other", tracking.Exception, "Exception_001"},
		{"Exception", "Exception_Returning", tracking.Exception, "Exception_010"},
		{"Exception", "Exception_Returned", tracking.Exception, "Exception_011"},
		{"Exception", "Exception_NoBody", tracking.Exception, "Exception_001"},
		{"Exception", "Exception_Security", tracking.Exception, "Exception_001"},
		{"Exception", "Exception_Damage", tracking.Exception, "Exception_012"},
		{"Exception", "Exception_Rejected", tracking.Exception, "Exception_003"},
		{"Exception", "Exception_Delayed", tracking.Exception, "Exception_005"},
		{"Exception", "Exception_Lost", tracking.Exception, "Exception_013"},
		{"Exception", "Exception_Destroyed", tracking.Exception, "Exception_021"},
		{"Exception", "Exception_Cancel", tracking.Exception, "Exception_020"},
		// Main status without (known) sub-status.
		{"Delivered", "", tracking.Delivered, ""},
		{"InTransit", "InTransit_Teleported", tracking.InTransit, ""},
		{"intransit", "intransit_arrival", tracking.InTransit, "InTransit_004"},
		// A sub-status of another family does not override the main status.
		{"InTransit", "Delivered_Other", tracking.InTransit, ""},
		// No main status: the sub-status or its family.
		{"", "Exception_Returned", tracking.Exception, "Exception_011"},
		{"", "OutForDelivery_Drone", tracking.OutForDelivery, ""},
		// Unknown: status unchanged.
		{"Teleported", "", tracking.StatusInvalid, ""},
		{"", "", tracking.StatusInvalid, ""},
	} {
		st, subtag, _ := seventeenTrackStatus(tc.status, tc.sub)
		if st != tc.want || subtag != tc.subtag {
			t.Errorf("seventeenTrackStatus(%q, %q) = %v %q, want %v %q", tc.status, tc.sub, st, subtag, tc.want, tc.subtag)
		}
	}
}

func TestSeventeenTrackStageMapping(t *testing.T) {
	for stage, want := range map[string]tracking.Status{
		"InfoReceived": tracking.InfoReceived, "PickedUp": tracking.InTransit, "Departure": tracking.InTransit,
		"Arrival": tracking.InTransit, "AvailableForPickup": tracking.AvailableForPickup,
		"OutForDelivery": tracking.OutForDelivery, "Delivered": tracking.Delivered,
		"Returning": tracking.Exception, "Returned": tracking.Exception, "": tracking.StatusInvalid, "Whatever": tracking.StatusInvalid,
	} {
		if got, _, _ := stStage(stage); got != want {
			t.Errorf("stStage(%q) = %v, want %v", stage, got, want)
		}
	}
}

func TestSeventeenTrackDecodeForms(t *testing.T) {
	push := func(data string) []byte { return []byte(`{"event":"TRACKING_UPDATED","data":` + data + `}`) }
	item := func(extra string) string {
		return `{"number":"794644790132","carrier":100003,"track_info":{"latest_status":{"status":"Delivered","sub_status":"Delivered_Other"}` + extra + `}}`
	}
	tests := []struct {
		name  string
		body  []byte
		check func(t *testing.T, evs []tracking.Event)
		err   string
	}{
		{name: "carrier key to catalogue slug", body: push(item("")), check: func(t *testing.T, evs []tracking.Event) {
			if e := evs[0]; e.Slug != "fedex" || e.Status != tracking.Delivered || e.Subtag != "Delivered_001" {
				t.Fatalf("%+v", e)
			}
		}},
		{name: "carrier as a string", body: push(strings.Replace(item(""), `100003`, `"100003"`, 1)), check: func(t *testing.T, evs []tracking.Event) {
			if evs[0].Slug != "fedex" {
				t.Fatalf("%+v", evs[0])
			}
		}},
		{name: "unknown carrier key stays a numeric slug", body: push(strings.Replace(item(""), `100003`, `190094`, 1)), check: func(t *testing.T, evs []tracking.Event) {
			if evs[0].Slug != "190094" {
				t.Fatalf("%+v", evs[0])
			}
		}},
		{name: "carrier 0: first provider's key", body: push(strings.Replace(item(`,"tracking":{"providers":[{"provider":{"key":0}},{"provider":{"key":100002}}]}`), `100003`, `0`, 1)),
			check: func(t *testing.T, evs []tracking.Event) {
				if evs[0].Slug != "ups" {
					t.Fatalf("%+v", evs[0])
				}
			}},
		{name: "data as an array", body: push(`[` + item("") + `,` + strings.Replace(item(""), "794644790132", "794644790149", 1) + `]`),
			check: func(t *testing.T, evs []tracking.Event) {
				if len(evs) != 2 || evs[1].TrackingNumber != "794644790149" {
					t.Fatalf("%+v", evs)
				}
			}},
		{name: "event name case-insensitive", body: []byte(`{"event":"tracking_updated","data":` + item("") + `}`), check: func(t *testing.T, evs []tracking.Event) {
			if len(evs) != 1 {
				t.Fatalf("%+v", evs)
			}
		}},
		{name: "sub_status_descr wins as message", body: push(strings.Replace(item(""), `"sub_status":"Delivered_Other"`, `"sub_status":"Delivered_Other","sub_status_descr":"Zugestellt"`, 1)),
			check: func(t *testing.T, evs []tracking.Event) {
				if evs[0].SubtagMessage != "Zugestellt" {
					t.Fatalf("%+v", evs[0])
				}
			}},
		{name: "events from all providers, stage when no sub_status, time_utc fallback, address", body: push(item(`,"shipping_info":{"recipient_address":{"country":"US"}},
			"tracking":{"providers":[
			 {"provider":{"key":100003},"latest_sync_time":"2024-03-08T23:02:10Z","events":[
			  {"time_iso":"2024-03-08T10:00:00-05:00","description":"Delivered","stage":"Delivered","address":{"country":"US","state":"NY","city":"NEW YORK","postal_code":10001}},
			  {"time_iso":null,"time_utc":"2024-03-07T10:00:00Z","description":"Out","stage":"OutForDelivery"}]},
			 {"provider":{"key":100002},"latest_sync_time":"2024-03-08T23:05:00Z","events":[
			  {"time_iso":"2024-03-08T10:00:00-05:00","description":"Delivered"},
			  {"time_iso":"2024-03-01T10:00:00+08:00","description":"Picked up","sub_status":"InTransit_PickedUp"}]}]}`)),
			check: func(t *testing.T, evs []tracking.Event) {
				e := evs[0]
				if len(e.Checkpoints) != 3 {
					t.Fatalf("checkpoints %+v", e.Checkpoints)
				}
				c := e.Checkpoints
				if c[0].Subtag != "InTransit_002" || c[1].Status != tracking.OutForDelivery || !c[1].Time.Equal(time.Date(2024, 3, 7, 10, 0, 0, 0, time.UTC)) ||
					c[2].Status != tracking.Delivered || c[2].CountryISO3 != "USA" || c[2].Zip != "10001" || c[2].City != "NEW YORK" {
					t.Fatalf("checkpoints %+v", c)
				}
				if !e.OccurredAt.Equal(time.Date(2024, 3, 8, 15, 0, 0, 0, time.UTC)) || !e.SentAt.Equal(time.Date(2024, 3, 8, 23, 5, 0, 0, time.UTC)) || e.DestinationCountry != "US" {
					t.Fatalf("%+v", e)
				}
			}},
		{name: "TRACKING_STOPPED: no event", body: []byte(`{"event":"TRACKING_STOPPED","data":{"number":"RR123456789CN","carrier":3011,"param":null,"tag":null}}`),
			check: func(t *testing.T, evs []tracking.Event) {
				if len(evs) != 0 {
					t.Fatalf("%+v", evs)
				}
			}},
		{name: "unknown event: no event", body: []byte(`{"event":"SOMETHING_NEW","data":"whatever"}`), check: func(t *testing.T, evs []tracking.Event) {
			if len(evs) != 0 {
				t.Fatalf("%+v", evs)
			}
		}},
		{name: "unknown status: status unchanged", body: push(strings.Replace(item(""), `"status":"Delivered","sub_status":"Delivered_Other"`, `"status":"Teleported"`, 1)),
			check: func(t *testing.T, evs []tracking.Event) {
				if e := evs[0]; e.Status != tracking.StatusInvalid || e.RawStatus != "Teleported" {
					t.Fatalf("%+v", e)
				}
			}},
		{name: "not JSON", body: []byte(`{"event":`), err: "invalid JSON"},
		{name: "array body", body: []byte(`[]`), err: "JSON object"},
		{name: "trailing data", body: []byte(string(push(item(""))) + `x`), err: "trailing"},
		{name: "no event", body: []byte(`{"data":` + item("") + `}`), err: "event is required"},
		{name: "no data", body: []byte(`{"event":"TRACKING_UPDATED"}`), err: "data"},
		{name: "no number", body: push(`{"carrier":3011,"track_info":{}}`), err: "data.number"},
		{name: "no track_info", body: push(`{"number":"1","carrier":3011}`), err: "data.track_info"},
		{name: "no carrier", body: push(`{"number":"1","track_info":{}}`), err: "data.carrier"},
		{name: "array item without number", body: push(`[` + item("") + `,{"carrier":1}]`), err: "data[1].number"},
		{name: "wrong type names the field", body: push(item(`,"tracking":{"providers":{}}`)), err: "data.track_info.tracking.providers"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			evs, err := stAdapter().Decode(tc.body, nil)
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

// TestSeventeenTrackExpectedDelivery: time_metrics.estimated_delivery_date
// gives the window's last day (to), else its first (from), the date as
// written whatever the offset; a time_metrics or window of another shape, or
// values that are not dates, give none and the push is still taken.
func TestSeventeenTrackExpectedDelivery(t *testing.T) {
	push := func(timeMetrics string) []byte {
		return []byte(`{"event":"TRACKING_UPDATED","data":{"number":"794644790132","carrier":100003,"track_info":{"latest_status":{"status":"InTransit","sub_status":"InTransit_Other"},"time_metrics":` + timeMetrics + `}}}`)
	}
	window := func(from, to string) string {
		return `{"days_after_order":3,"days_of_transit":2,"estimated_delivery_date":{"source":"Official","from":` + from + `,"to":` + to + `}}`
	}
	for _, tc := range []struct{ name, timeMetrics, want string }{
		{"no time_metrics", `null`, ""},
		{"no window", `{"days_after_order":3}`, ""},
		{"a window: its last day", window(`"2026-01-05T08:00:00-04:00"`, `"2026-01-07T20:00:00-04:00"`), "2026-01-07"},
		// 01:00 UTC on the 8th: the day in the carrier's zone is the 7th.
		{"to with an offset, as written", window(`null`, `"2026-01-07T21:00:00-04:00"`), "2026-01-07"},
		// 23:00 UTC on the 6th: the day is the 7th.
		{"to at midnight +01:00, as written", window(`null`, `"2026-01-07T00:00:00+01:00"`), "2026-01-07"},
		{"a bare date", window(`"2026-01-05"`, `"2026-01-06"`), "2026-01-06"},
		{"no to: from", window(`"2026-01-05T08:00:00-04:00"`, `null`), "2026-01-05"},
		{"an unreadable to: from", window(`"2026-01-05"`, `"soon"`), "2026-01-05"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			evs, err := stAdapter().Decode(push(tc.timeMetrics), nil)
			wantExpected(t, evs, err, tc.want)
		})
	}
	for _, g := range garbageDates {
		for _, tm := range []string{g, `{"estimated_delivery_date":` + g + `}`, window(g, g)} {
			t.Run("garbage "+tm, func(t *testing.T) {
				evs, err := stAdapter().Decode(push(tm), nil)
				wantExpected(t, evs, err, "")
				if e := evs[0]; e.TrackingNumber != "794644790132" || e.Status != tracking.InTransit {
					t.Fatalf("event %+v", e)
				}
			})
		}
	}
}

func FuzzSeventeenTrackDecode(f *testing.F) {
	f.Add([]byte(stReferencePayload))
	files, _ := filepath.Glob(filepath.Join("..", "..", "testdata", "17track", "*.json"))
	for _, p := range files {
		if b, err := os.ReadFile(p); err == nil {
			f.Add(b)
		}
	}
	f.Add([]byte(`{"event":"TRACKING_UPDATED","data":[{"number":1e999,"carrier":-1,"track_info":{"latest_event":{"time_iso":"x"}}}]}`))
	f.Add([]byte(`{"event":"TRACKING_UPDATED","data":{"number":"1","carrier":"","track_info":{"tracking":{"providers":[{"provider":{"key":"7"},"events":[{"address":{"country":"ZZZ"}}]}]}}}}`))
	f.Add([]byte(`{"event":"TRACKING_UPDATED","data":[{"number":"1","carrier":3011,"track_info":{"time_metrics":{"estimated_delivery_date":{"from":"2026-01-05T08:00:00-04:00","to":{}}}}},{"number":"2","carrier":3011,"track_info":{"time_metrics":"x"}}]}`))
	a := stAdapter()
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
			if e.TrackingNumber == "" || e.Slug == "" || e.EventID == "" || e.Source != "17track" {
				t.Fatalf("event without key: %+v", e)
			}
		}
	})
}
