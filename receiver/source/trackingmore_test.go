package source

import (
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

func tmAdapter() TrackingMore { return TrackingMore{Carriers: carrier.Default()} }

// The example payload of shared/reference/webhook-sources.md B1 (the
// envelope and values are illustrative there; the field names VERIFIED).
const tmReferencePayload = `{"code":200,"message":"Success","data":{
  "id":"9a1339c2c2f1b9f7f2f3b6d4c1d0e5a7","tracking_number":"9400111899223397576146",
  "courier_code":"usps","order_number":"1001","delivery_status":"transit","substatus":"transit001",
  "latest_event":"Departed USPS Regional Facility, LOS ANGELES CA","latest_checkpoint_time":"2024-06-13T14:30:00-07:00",
  "origin_info":{"courier_code":"usps","trackinfo":[{"checkpoint_date":"2024-06-13T14:30:00-07:00",
    "checkpoint_delivery_status":"transit","checkpoint_delivery_substatus":"transit001",
    "tracking_detail":"Departed USPS Regional Facility","location":"LOS ANGELES CA","country_iso2":"US"}]},
  "destination_info":{"trackinfo":[]}}}`

func TestTrackingMoreDecodeReference(t *testing.T) {
	h := http.Header{}
	h.Set(signature.HeaderTrackingMoreTimestamp, "1718314270")
	evs, err := tmAdapter().Decode([]byte(tmReferencePayload), h)
	if err != nil {
		t.Fatal(err)
	}
	if len(evs) != 1 {
		t.Fatalf("%d events", len(evs))
	}
	at := time.Date(2024, 6, 13, 14, 30, 0, 0, time.FixedZone("", -7*3600)) // as sent: the offset is kept
	want := tracking.Event{
		Source: "trackingmore", Slug: "usps", TrackingNumber: "9400111899223397576146",
		Status: tracking.InTransit, Subtag: "InTransit_001", SubtagMessage: "On the way to the destination",
		RawStatus: "transit/transit001", OrderNumber: "1001", SourceRef: "9a1339c2c2f1b9f7f2f3b6d4c1d0e5a7",
		OccurredAt: at, SentAt: time.Unix(1718314270, 0).UTC(),
		Checkpoints: []tracking.Checkpoint{{
			Time: at, Status: tracking.InTransit, Subtag: "InTransit_001", SubtagMessage: "On the way to the destination",
			Message: "Departed USPS Regional Facility", Location: "LOS ANGELES CA", CountryISO3: "USA",
		}},
	}
	want.EventID = Fingerprint("trackingmore", want.TrackingNumber, tracking.InTransit, "transit/transit001", at)
	if got := mustJSON(evs[0]); got != mustJSON(want) {
		t.Fatalf("decoded\n%s\nwant\n%s", got, mustJSON(want))
	}
}

// TestTrackingMoreStatusMapping covers TrackingMore's whole vocabulary.
func TestTrackingMoreStatusMapping(t *testing.T) {
	for _, tc := range []struct {
		status, sub string
		want        tracking.Status
		subtag      string
	}{
		{"pending", "", tracking.Pending, ""},
		{"notfound", "", tracking.Pending, ""},
		{"notfound", "notfound001", tracking.InfoReceived, "InfoReceived_001"},
		{"notfound", "notfound002", tracking.Pending, ""},
		{"notfound", "notfound003", tracking.Pending, ""}, // unverified code: family status
		{"inforeceived", "", tracking.InfoReceived, "InfoReceived_001"},
		{"inforeceived", "inforeceived001", tracking.InfoReceived, "InfoReceived_001"},
		{"transit", "", tracking.InTransit, ""},
		{"transit", "transit001", tracking.InTransit, "InTransit_001"},
		{"transit", "transit002", tracking.InTransit, "InTransit_003"},
		{"transit", "transit003", tracking.InTransit, "InTransit_003"},
		{"transit", "transit004", tracking.InTransit, "InTransit_004"},
		{"transit", "transit005", tracking.InTransit, "InTransit_005"},
		{"transit", "transit006", tracking.InTransit, "InTransit_007"},
		{"transit", "transit007", tracking.InTransit, "InTransit_007"},
		{"pickup", "pickup001", tracking.OutForDelivery, "OutForDelivery_001"},
		{"pickup", "pickup002", tracking.AvailableForPickup, "AvailableForPickup_001"},
		{"pickup", "pickup003", tracking.OutForDelivery, "OutForDelivery_003"},
		{"pickup", "", tracking.OutForDelivery, ""},          // TrackingMore's own label for pickup
		{"pickup", "pickup009", tracking.OutForDelivery, ""}, // new code: same
		{"delivered", "", tracking.Delivered, ""},
		{"delivered", "delivered001", tracking.Delivered, "Delivered_001"},
		{"delivered", "delivered002", tracking.Delivered, "Delivered_002"},
		{"delivered", "delivered003", tracking.Delivered, "Delivered_003"},
		{"delivered", "delivered004", tracking.Delivered, "Delivered_001"},
		{"undelivered", "", tracking.AttemptFail, ""},
		{"undelivered", "undelivered001", tracking.AttemptFail, "AttemptFail_001"},
		{"undelivered", "undelivered002", tracking.AttemptFail, "AttemptFail_002"},
		{"undelivered", "undelivered003", tracking.AttemptFail, "AttemptFail_001"},
		{"undelivered", "undelivered004", tracking.AttemptFail, "AttemptFail_001"},
		{"exception", "", tracking.Exception, ""},
		{"exception", "exception004", tracking.Exception, "Exception_008"},
		{"exception", "exception005", tracking.Exception, "Exception_001"},
		{"exception", "exception006", tracking.Exception, "Exception_004"},
		{"exception", "exception007", tracking.Exception, "Exception_001"},
		{"exception", "exception008", tracking.Exception, "Exception_020"},
		{"exception", "exception009", tracking.Exception, "Exception_003"},
		{"exception", "exception010", tracking.Exception, "Exception_011"}, // returned
		{"exception", "exception011", tracking.Exception, "Exception_010"}, // returning
		{"exception", "exception012", tracking.Exception, ""},
		{"expired", "", tracking.Expired, "Expired_001"},
		// Spellings seen in the wild.
		{"Transit", "TRANSIT004", tracking.InTransit, "InTransit_004"},
		{"InfoReceived", "", tracking.InfoReceived, "InfoReceived_001"},
		{"notfound", "not found001", tracking.InfoReceived, "InfoReceived_001"},
		{"exception", "exception0010", tracking.Exception, "Exception_011"},
		// Status wins over a substatus of another family.
		{"inforeceived", "notfound001", tracking.InfoReceived, "InfoReceived_001"},
		{"transit", "delivered001", tracking.InTransit, ""},
		// No status: the substatus, or its family.
		{"", "pickup002", tracking.AvailableForPickup, "AvailableForPickup_001"},
		{"", "delivered099", tracking.Delivered, ""},
		// Unknown: status unchanged.
		{"lost_in_space", "", tracking.StatusInvalid, ""},
		{"", "", tracking.StatusInvalid, ""},
		{"", "weird", tracking.StatusInvalid, ""},
	} {
		st, subtag, _ := trackingMoreStatus(tc.status, tc.sub)
		if st != tc.want || subtag != tc.subtag {
			t.Errorf("trackingMoreStatus(%q, %q) = %v %q, want %v %q", tc.status, tc.sub, st, subtag, tc.want, tc.subtag)
		}
	}
}

func TestTrackingMoreDecodeForms(t *testing.T) {
	tracking1 := func(extra string) string {
		return `{"tracking_number":"9400111899223397576146","courier_code":"USPS","delivery_status":"pickup","substatus":"pickup002"` + extra + `}`
	}
	env := func(extra string) []byte {
		return []byte(`{"code":200,"message":"Success","data":` + tracking1(extra) + `}`)
	}
	tests := []struct {
		name   string
		body   []byte
		header http.Header
		check  func(t *testing.T, evs []tracking.Event)
		err    string
	}{
		{name: "envelope", body: env(""), check: func(t *testing.T, evs []tracking.Event) {
			e := evs[0]
			if e.Slug != "usps" || e.Status != tracking.AvailableForPickup || e.Subtag != "AvailableForPickup_001" || e.RawStatus != "pickup/pickup002" {
				t.Fatalf("%+v", e)
			}
		}},
		{name: "bare tracking without envelope", body: []byte(tracking1("")), check: func(t *testing.T, evs []tracking.Event) {
			if len(evs) != 1 || evs[0].Status != tracking.AvailableForPickup {
				t.Fatalf("%+v", evs)
			}
		}},
		{name: "data as an array", body: []byte(`{"data":[` + tracking1("") + `,` + strings.Replace(tracking1(""), "9400111899223397576146", "9400111899223397576153", 1) + `]}`),
			check: func(t *testing.T, evs []tracking.Event) {
				if len(evs) != 2 || evs[1].TrackingNumber != "9400111899223397576153" {
					t.Fatalf("%+v", evs)
				}
			}},
		{name: "subscribers as comma strings and arrays, invalid dropped", body: env(`,"customer_email":"a@example.com, bad, B@Example.COM","customer_sms":["+14155552671","12"]`),
			check: func(t *testing.T, evs []tracking.Event) {
				e := evs[0]
				if strings.Join(e.Emails, " ") != "a@example.com B@example.com" || strings.Join(e.SMSes, " ") != "+14155552671" {
					t.Fatalf("emails %q smses %q", e.Emails, e.SMSes)
				}
			}},
		{name: "national number through destination_country", body: env(`,"customer_sms":"0151 12345678","destination_country":"DE"`),
			check: func(t *testing.T, evs []tracking.Event) {
				if e := evs[0]; len(e.SMSes) != 1 || e.SMSes[0] != "+4915112345678" || e.DestinationCountry != "DE" {
					t.Fatalf("%+v", e)
				}
			}},
		{name: "order, language, customer, numeric ids", body: env(`,"order_number":1001,"order_id":"5551001","language":"de","customer_name":"Max","title":"Bestellung","id":42`),
			check: func(t *testing.T, evs []tracking.Event) {
				e := evs[0]
				if e.OrderNumber != "1001" || e.OrderID != "5551001" || e.Language != "de" || e.CustomerName != "Max" || e.Title != "Bestellung" || e.SourceRef != "42" {
					t.Fatalf("%+v", e)
				}
			}},
		{name: "weblink kept when https, dropped when not", body: env(`,"origin_info":{"weblink":"javascript:alert(1)"},"destination_info":{"weblink":"https://carrier.example/t?n=1"}`),
			check: func(t *testing.T, evs []tracking.Event) {
				if evs[0].TrackingURL != "https://carrier.example/t?n=1" {
					t.Fatalf("url %q", evs[0].TrackingURL)
				}
			}},
		{name: "courier from origin_info", body: []byte(`{"data":{"tracking_number":"1","origin_info":{"courier_code":"dhl-express"}}}`),
			check: func(t *testing.T, evs []tracking.Event) {
				if evs[0].Slug != "dhl" || evs[0].Status != tracking.StatusInvalid {
					t.Fatalf("%+v", evs[0])
				}
			}},
		{name: "checkpoints merged, deduplicated, sorted", body: env(`,"origin_info":{"trackinfo":[
				{"checkpoint_date":"2024-06-14 07:58:00","tracking_detail":"Out for Delivery","checkpoint_delivery_status":"pickup","checkpoint_delivery_substatus":"pickup001"},
				{"checkpoint_date":"2024-06-13T14:30:00-07:00","tracking_detail":"Departed","zip":94107}]},
			"destination_info":{"trackinfo":[{"checkpoint_date":"2024-06-14 07:58:00","tracking_detail":"Out for Delivery"}]}`),
			check: func(t *testing.T, evs []tracking.Event) {
				e := evs[0]
				if len(e.Checkpoints) != 2 || e.Checkpoints[0].Message != "Departed" || e.Checkpoints[0].Zip != "94107" ||
					e.Checkpoints[1].Status != tracking.OutForDelivery || !e.OccurredAt.Equal(time.Date(2024, 6, 14, 7, 58, 0, 0, time.UTC)) {
					t.Fatalf("%+v", e)
				}
			}},
		{name: "no checkpoints: latest_checkpoint_time", body: env(`,"latest_checkpoint_time":"2024-06-13T14:30:00-07:00"`),
			check: func(t *testing.T, evs []tracking.Event) {
				if !evs[0].OccurredAt.Equal(time.Date(2024, 6, 13, 21, 30, 0, 0, time.UTC)) {
					t.Fatalf("occurred %v", evs[0].OccurredAt)
				}
			}},
		{name: "no times at all: the signed timestamp", body: env(""), header: http.Header{"Timestamp": {"1718314270"}},
			check: func(t *testing.T, evs []tracking.Event) {
				if e := evs[0]; !e.OccurredAt.Equal(time.Unix(1718314270, 0)) || !e.SentAt.Equal(time.Unix(1718314270, 0)) {
					t.Fatalf("%+v", e)
				}
			}},
		{name: "same status and time, same event id", body: env(`,"latest_checkpoint_time":"2024-06-13T14:30:00-07:00"`),
			check: func(t *testing.T, evs []tracking.Event) {
				again, _ := tmAdapter().Decode(env(`,"latest_checkpoint_time":"2024-06-13T14:30:00-07:00","customer_name":"X"`), http.Header{"Timestamp": {"1"}})
				if evs[0].EventID == "" || evs[0].EventID != again[0].EventID {
					t.Fatalf("ids %q %q", evs[0].EventID, again[0].EventID)
				}
			}},
		{name: "not JSON", body: []byte(`{"data":`), err: "invalid JSON"},
		{name: "array body", body: []byte(`[]`), err: "JSON object"},
		{name: "trailing data", body: []byte(tracking1("") + ` {}`), err: "trailing"},
		{name: "no data", body: []byte(`{"code":200,"message":"Success"}`), err: "data"},
		{name: "data null", body: []byte(`{"code":200,"data":null}`), err: "data"},
		{name: "data a string", body: []byte(`{"data":"x"}`), err: "data must be"},
		{name: "empty data array", body: []byte(`{"data":[]}`), err: "empty"},
		{name: "no number", body: []byte(`{"data":{"courier_code":"usps"}}`), err: "data.tracking_number"},
		{name: "no courier", body: []byte(`{"data":{"tracking_number":"1"}}`), err: "data.courier_code"},
		{name: "second tracking without number", body: []byte(`{"data":[` + tracking1("") + `,{"courier_code":"usps"}]}`), err: "data[1].tracking_number"},
		{name: "wrong type names the field", body: env(`,"origin_info":{"trackinfo":"x"}`), err: "data.origin_info.trackinfo"},
		{name: "wrong email type", body: env(`,"customer_email":{"a":1}`), err: "customer_email"},
		{name: "bare form: wrong type names the field", body: []byte(`{"tracking_number":"1","customer_email":5}`), err: `field "customer_email": want an array, got JSON number`},
		{name: "data array of strings", body: []byte(`{"data":["x"]}`), err: `field "data": want an object, got JSON string`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			evs, err := tmAdapter().Decode(tc.body, tc.header)
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

// TestTrackingMoreExpectedDelivery: scheduled_delivery_date, in the
// envelope, bare and in an array, is the expected delivery day, its date as
// written whatever the offset; a value that is not a date gives none and the
// update is still taken.
func TestTrackingMoreExpectedDelivery(t *testing.T) {
	tracking1 := func(v string) string {
		return `{"tracking_number":"9400111899223397576146","courier_code":"usps","delivery_status":"transit","substatus":"transit001","scheduled_delivery_date":` + v + `}`
	}
	forms := map[string]func(v string) []byte{
		"envelope": func(v string) []byte { return []byte(`{"code":200,"message":"Success","data":` + tracking1(v) + `}`) },
		"bare":     func(v string) []byte { return []byte(tracking1(v)) },
		"array":    func(v string) []byte { return []byte(`{"data":[` + tracking1(v) + `]}`) },
	}
	for form, body := range forms {
		for _, tc := range []struct{ v, want string }{
			{`"2026-01-05"`, "2026-01-05"},
			{`"2026-01-05 18:00:00"`, "2026-01-05"},
			{`"2026-01-05T17:00:00Z"`, "2026-01-05"},
			{`"2026-01-05T23:30:00-05:00"`, "2026-01-05"}, // the 6th in UTC
			{`"2026-01-06T00:30:00+08:00"`, "2026-01-06"}, // the 5th in UTC
		} {
			t.Run(form+" "+tc.v, func(t *testing.T) {
				evs, err := tmAdapter().Decode(body(tc.v), nil)
				wantExpected(t, evs, err, tc.want)
			})
		}
		for _, g := range garbageDates {
			t.Run(form+" garbage "+g, func(t *testing.T) {
				evs, err := tmAdapter().Decode(body(g), nil)
				wantExpected(t, evs, err, "")
				if e := evs[0]; e.TrackingNumber != "9400111899223397576146" || e.Status != tracking.InTransit {
					t.Fatalf("event %+v", e)
				}
			})
		}
	}
}

func FuzzTrackingMoreDecode(f *testing.F) {
	f.Add([]byte(tmReferencePayload), "1718314270")
	files, _ := filepath.Glob(filepath.Join("..", "..", "testdata", "trackingmore", "*.json"))
	for _, p := range files {
		if b, err := os.ReadFile(p); err == nil {
			f.Add(b, "1718314270")
		}
	}
	f.Add([]byte(`{"data":[{"tracking_number":1e999,"courier_code":"x"}]}`), "")
	f.Add([]byte(`{"tracking_number":"1","courier_code":"x","title":"a\r\nb","customer_email":["k@x.io","b\r\nBcc: e@x.io"],"origin_info":{"trackinfo":[{"tracking_detail":"a\u0000b"}]}}`), "")
	f.Add([]byte(`{"tracking_number":"1","courier_code":"x","substatus":"exception99999999999","customer_email":"a,,b","origin_info":{"trackinfo":[{"checkpoint_date":"9999-99-99","country_iso2":"ZZ"}]}}`), "x")
	f.Add([]byte(`{"data":[{"tracking_number":"1","courier_code":"x","scheduled_delivery_date":"2026-01-05T23:30:00-05:00"},{"tracking_number":"2","courier_code":"x","scheduled_delivery_date":{"to":"2026-01-05"}}]}`), "")
	a := tmAdapter()
	f.Fuzz(func(t *testing.T, body []byte, ts string) {
		evs, err := a.Decode(body, http.Header{"Timestamp": {ts}})
		if err != nil {
			if !errors.Is(err, ErrMalformed) {
				t.Fatalf("error %v is not ErrMalformed", err)
			}
			return
		}
		for _, e := range evs {
			assertClean(t, e)
			if e.TrackingNumber == "" || e.Slug == "" || e.EventID == "" || e.Source != "trackingmore" {
				t.Fatalf("event without key: %+v", e)
			}
			for _, s := range e.SMSes {
				if !strings.HasPrefix(s, "+") {
					t.Fatalf("phone %q not E.164", s)
				}
			}
		}
	})
}
