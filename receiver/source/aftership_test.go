package source

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"flag"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/trackhook/trackhook/dispatcher"
	"github.com/trackhook/trackhook/receiver/carrier"
	"github.com/trackhook/trackhook/receiver/tracking"
)

var update = flag.Bool("update", false, "rewrite golden canonical events")

func as() AfterShip { return AfterShip{Carriers: carrier.Default()} }

// The reference payload from shared/reference/webhook-sources.md A4.
const referencePayload = `{
  "event": "tracking_update",
  "event_id": "94dadd60-ed26-46d0-aa52-3ced925a50ff",
  "is_tracking_first_tag": true,
  "msg": {
    "id": "n33xyn2b61cm3kosdtnvu00e",
    "tracking_number": "9405516902697649303570",
    "slug": "usps",
    "tag": "InTransit",
    "subtag": "InTransit_007",
    "subtag_message": "Departure Scan",
    "order_number": "ORD-1001",
    "emails": ["jane@example.com"],
    "smses": ["+85291239123"],
    "language": "en",
    "checkpoints": [
      {"checkpoint_time": "2024-04-10T07:12:00-05:00", "slug": "usps", "city": "Austin",
       "state": "TX", "country_iso3": "USA", "message": "Departed USPS Facility",
       "tag": "InTransit", "subtag": "InTransit_007", "subtag_message": "Departure Scan"}
    ]
  },
  "ts": 1712741696
}`

func TestAfterShipDecodeReference(t *testing.T) {
	evs, err := as().Decode([]byte(referencePayload), nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(evs) != 1 {
		t.Fatalf("%d events", len(evs))
	}
	e := evs[0]
	want := tracking.Event{
		Source: "aftership", EventID: "94dadd60-ed26-46d0-aa52-3ced925a50ff", Slug: "usps",
		TrackingNumber: "9405516902697649303570", Status: tracking.InTransit, Subtag: "InTransit_007",
		SubtagMessage: "Departure Scan", RawStatus: "InTransit", Emails: []string{"jane@example.com"},
		SMSes: []string{"+85291239123"}, Language: "en", OrderNumber: "ORD-1001", SourceRef: "n33xyn2b61cm3kosdtnvu00e",
		// The checkpoint's own offset is kept (the message shows 07:12).
		OccurredAt: time.Date(2024, 4, 10, 7, 12, 0, 0, time.FixedZone("", -5*3600)), SentAt: time.Unix(1712741696, 0).UTC(),
	}
	e.Checkpoints = nil
	if got, _ := json.Marshal(e); string(got) != mustJSON(want) {
		t.Fatalf("decoded\n%s\nwant\n%s", got, mustJSON(want))
	}
}

func mustJSON(v any) string {
	b, _ := json.Marshal(v)
	return string(b)
}

func TestAfterShipTagMapping(t *testing.T) {
	for _, tc := range []struct {
		tag, subtag string
		want        tracking.Status
	}{
		{"Pending", "Pending_001", tracking.Pending},
		{"InfoReceived", "InfoReceived_001", tracking.InfoReceived},
		{"InTransit", "InTransit_003", tracking.InTransit},
		{"OutForDelivery", "OutForDelivery_003", tracking.OutForDelivery},
		{"AttemptFail", "AttemptFail_002", tracking.AttemptFail},
		{"AvailableForPickup", "AvailableForPickup_001", tracking.AvailableForPickup},
		{"Delivered", "Delivered_005", tracking.Delivered},
		{"Exception", "Exception_011", tracking.Exception},
		{"Expired", "Expired_001", tracking.Expired},
		{"", "OutForDelivery_001", tracking.OutForDelivery},          // tag missing: subtag prefix
		{"SomethingNew", "Exception_021", tracking.Exception},        // new tag, known subtag family
		{"SomethingNew", "SomethingNew_001", tracking.StatusInvalid}, // unknown: status unchanged
		{"", "", tracking.StatusInvalid},
	} {
		if got := afterShipStatus(tc.tag, tc.subtag); got != tc.want {
			t.Errorf("afterShipStatus(%q, %q) = %v, want %v", tc.tag, tc.subtag, got, tc.want)
		}
	}
}

func TestAfterShipDecodeForms(t *testing.T) {
	base := func(msg string) []byte {
		return []byte(`{"event":"tracking_update","event_id":"e","ts":1,"msg":{"tracking_number":"1Z999","slug":"UPS","tag":"InTransit"` + msg + `}}`)
	}
	tests := []struct {
		name  string
		body  []byte
		check func(t *testing.T, e tracking.Event)
		err   string
	}{
		{name: "comma-separated subscribers, invalid ones dropped", body: base(`,"emails":"a@example.com, bad, B@Example.COM","smses":"+14155552671,12"`),
			check: func(t *testing.T, e tracking.Event) {
				if strings.Join(e.Emails, " ") != "a@example.com B@example.com" || strings.Join(e.SMSes, " ") != "+14155552671" {
					t.Fatalf("emails %q smses %q", e.Emails, e.SMSes)
				}
			}},
		{name: "national number with destination country", body: base(`,"smses":["0151 12345678"],"destination_country_iso3":"DEU"`),
			check: func(t *testing.T, e tracking.Event) {
				if len(e.SMSes) != 1 || e.SMSes[0] != "+4915112345678" {
					t.Fatalf("smses %q", e.SMSes)
				}
			}},
		{name: "numeric order id", body: base(`,"order_id":4711,"order_number":1001`),
			check: func(t *testing.T, e tracking.Event) {
				if e.OrderID != "4711" || e.OrderNumber != "1001" {
					t.Fatalf("order %q %q", e.OrderID, e.OrderNumber)
				}
			}},
		{name: "carrier slug normalised", body: base(``),
			check: func(t *testing.T, e tracking.Event) {
				if e.Slug != "ups" {
					t.Fatalf("slug %q", e.Slug)
				}
			}},
		{name: "javascript link dropped", body: base(`,"courier_tracking_link":"javascript:alert(1)"`),
			check: func(t *testing.T, e tracking.Event) {
				if e.TrackingURL != "" {
					t.Fatalf("kept %q", e.TrackingURL)
				}
			}},
		{name: "no checkpoints: ordered by ts", body: base(``),
			check: func(t *testing.T, e tracking.Event) {
				if !e.OccurredAt.Equal(time.Unix(1, 0)) {
					t.Fatalf("occurred %v", e.OccurredAt)
				}
			}},
		{name: "not JSON", body: []byte(`{"event":`), err: "invalid JSON"},
		{name: "wrong type", body: []byte(`{"event":"tracking_update","msg":{"tracking_number":"1","slug":"ups","checkpoints":"x"}}`), err: "checkpoints"},
		{name: "no msg", body: []byte(`{"event":"tracking_update"}`), err: "msg"},
		{name: "no number", body: []byte(`{"msg":{"slug":"ups"}}`), err: "tracking_number"},
		{name: "no slug", body: []byte(`{"msg":{"tracking_number":"1"}}`), err: "slug"},
		{name: "trailing data", body: []byte(`{"msg":{"tracking_number":"1","slug":"ups"}} {}`), err: "trailing"},
		{name: "array", body: []byte(`[]`), err: "JSON object"},
		// Bad input in the parcel's key is refused naming the field.
		{name: "invalid UTF-8", body: base(`,"customer_name":"Ana ` + "\xff" + `"`), err: "not valid UTF-8 (byte"},
		{name: "nested too deep", body: []byte(`{"msg":` + strings.Repeat("[", 100000)), err: "exceeded max depth"},
		{name: "number of the wrong type", body: []byte(`{"msg":{"tracking_number":{},"slug":"ups"}}`), err: `field "msg.tracking_number": want a string`},
		{name: "CRLF in tracking number", body: []byte(`{"msg":{"tracking_number":"1Z\r\nBcc: x","slug":"ups"}}`), err: "msg.tracking_number contains a line break"},
		{name: "tab in tracking number", body: []byte(`{"msg":{"tracking_number":"1Z\t999","slug":"ups"}}`), err: "msg.tracking_number contains a control character"},
		{name: "LINE SEPARATOR in tracking number", body: []byte(`{"msg":{"tracking_number":"1Z\u2028999","slug":"ups"}}`), err: "msg.tracking_number contains a line break"},
		{name: "CRLF in slug", body: []byte(`{"msg":{"tracking_number":"1Z","slug":"ups\r\nBcc: x"}}`), err: `msg.slug "ups-bcc:-x" is not a carrier slug`},
		{name: "slug that is no slug", body: []byte(`{"msg":{"tracking_number":"1Z","slug":"<b>ups</b>"}}`), err: "is not a carrier slug"},
		{name: "10,000-character tracking number", body: []byte(`{"msg":{"tracking_number":"` + strings.Repeat("1", 10000) + `","slug":"ups"}}`), err: "msg.tracking_number is 10000 bytes long, at most 100"},
		{name: "10,000-character slug", body: []byte(`{"msg":{"tracking_number":"1","slug":"` + strings.Repeat("u", 10000) + `"}}`), err: "msg.slug is 10000 bytes long, at most 64"},
		// Bad input in what is only shown is cleaned, never refused.
		{name: "CRLF in customer name", body: base(`,"customer_name":"Ana\r\nBcc: x@evil.example"`), check: field(func(e tracking.Event) string { return e.CustomerName }, "Ana Bcc: x@evil.example")},
		{name: "LF in title", body: base(`,"title":"Order\nBcc: x@evil.example"`), check: field(func(e tracking.Event) string { return e.Title }, "Order Bcc: x@evil.example")},
		{name: "CRLF in order number", body: base(`,"order_number":"1\r\nBcc: x@evil.example"`), check: field(func(e tracking.Event) string { return e.OrderNumber }, "1 Bcc: x@evil.example")},
		{name: "NUL in title", body: base(`,"title":"a\u0000b"`), check: field(func(e tracking.Event) string { return e.Title }, "a b")},
		{name: "NUL in a checkpoint message", body: base(`,"checkpoints":[{"message":"a\u0000b"}]`), check: field(func(e tracking.Event) string { return e.Checkpoints[0].Message }, "a b")},
		{name: "multi-line checkpoint message folded", body: base(`,"checkpoints":[{"checkpoint_time":"2026-11-20T08:00:00Z","message":"Arrived\r\n  at hub\n"}]`),
			check: field(func(e tracking.Event) string { return e.Checkpoints[0].Message }, "Arrived at hub")},
		{name: "10,000-character title clipped", body: base(`,"title":"` + strings.Repeat("x", 10000) + `"`), check: field(func(e tracking.Event) string { return e.Title }, strings.Repeat("x", 300))},
		{name: "CRLF in an email: dropped, reported", body: base(`,"emails":["kim@example.com\r\nBcc: x@evil.example"],"subscribed_emails":["ana@example.com"]`),
			check: func(t *testing.T, e tracking.Event) {
				want := []tracking.DroppedRecipient{{Channel: dispatcher.ChannelEmail, Value: "kim@example.com\r\nBcc: x@evil.example", Reason: reasonBreak}}
				if strings.Join(e.Emails, " ") != "ana@example.com" || !slices.Equal(e.Dropped, want) {
					t.Fatalf("emails %q dropped %+v", e.Emails, e.Dropped)
				}
			}},
		{name: "a stray line break around an email is trimmed", body: base(`,"emails":["kim@example.com\r\n"]`),
			check: func(t *testing.T, e tracking.Event) {
				if strings.Join(e.Emails, " ") != "kim@example.com" || len(e.Dropped) != 0 {
					t.Fatalf("emails %q dropped %+v", e.Emails, e.Dropped)
				}
			}},
		{name: "100,000 emails: the first 100 kept", body: base(`,"emails":[` + strings.Repeat(`"a@b.cc",`, 99999) + `"a@b.cc"]`),
			check: func(t *testing.T, e tracking.Event) {
				if len(e.Emails) != 100 || len(e.Dropped) != 99900 || e.Dropped[0].Reason != reasonPastLimit {
					t.Fatalf("%d emails, %d dropped (%+v)", len(e.Emails), len(e.Dropped), e.Dropped[:min(1, len(e.Dropped))])
				}
			}},
		{name: "100,000 checkpoints: the newest 1000 kept", body: base(`,"checkpoints":[` + strings.Repeat(`{"checkpoint_time":"2026-11-20T08:00:00Z"},`, 99999) + `{"checkpoint_time":"2026-11-21T08:00:00Z","message":"newest"}]`),
			check: func(t *testing.T, e tracking.Event) {
				if len(e.Checkpoints) != 1000 || e.Checkpoints[999].Message != "newest" {
					t.Fatalf("%d checkpoints", len(e.Checkpoints))
				}
			}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			evs, err := as().Decode(tc.body, nil)
			if tc.err != "" {
				if !errors.Is(err, ErrMalformed) || !strings.Contains(err.Error(), tc.err) {
					t.Fatalf("err = %v, want ErrMalformed mentioning %q", err, tc.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			tc.check(t, evs[0])
		})
	}
}

// TestAfterShipExpectedDelivery: the expected delivery day from each field
// AfterShip has used for it, in afterShipExpected's order, a window's last
// day, the date of a date-time as written whatever its offset; and nothing,
// never a refusal, from a value that is not a date.
func TestAfterShipExpectedDelivery(t *testing.T) {
	body := func(fields string) []byte {
		return []byte(`{"event":"tracking_update","event_id":"e","ts":1,"msg":{"tracking_number":"1Z999","slug":"ups","tag":"InTransit"` + fields + `}}`)
	}
	for _, tc := range []struct{ name, fields, want string }{
		{"none", ``, ""},
		{"expected_delivery, a date", `,"expected_delivery":"2026-01-05"`, "2026-01-05"},
		{"expected_delivery, a local date-time", `,"expected_delivery":"2026-01-05T00:00:00"`, "2026-01-05"},
		{"expected_delivery in UTC", `,"expected_delivery":"2026-01-05T17:00:00Z"`, "2026-01-05"},
		// 04:30 UTC on the 6th: the recipient's day is the 5th, as written.
		{"expected_delivery with a negative offset", `,"expected_delivery":"2026-01-05T23:30:00-05:00"`, "2026-01-05"},
		// 22:30 UTC on the 5th: the recipient's day is the 6th.
		{"expected_delivery with a positive offset", `,"expected_delivery":"2026-01-06T00:30:00+02:00"`, "2026-01-06"},
		{"expected_delivery with a space", `,"expected_delivery":"2026-01-05 12:00:00"`, "2026-01-05"},
		{"courier_estimated_delivery_date (2024-10+), a date", `,"courier_estimated_delivery_date":{"estimated_delivery_date":"2026-01-06","estimated_delivery_date_min":null,"estimated_delivery_date_max":null}`, "2026-01-06"},
		{"courier_estimated_delivery_date, a window: its last day", `,"courier_estimated_delivery_date":{"estimated_delivery_date":null,"estimated_delivery_date_min":"2026-01-05","estimated_delivery_date_max":"2026-01-07T00:00:00+09:00"}`, "2026-01-07"},
		{"order_promised_delivery_date, a string (up to 2025-07)", `,"order_promised_delivery_date":"2026-01-09"`, "2026-01-09"},
		{"order_promised_delivery_date, a date in the 2026-01 object", `,"order_promised_delivery_date":{"promised_delivery_date":"2026-01-09T10:00:00-08:00","promised_delivery_date_min":null,"promised_delivery_date_max":null}`, "2026-01-09"},
		{"order_promised_delivery_date, a 2026-01 range: its last day", `,"order_promised_delivery_date":{"promised_delivery_date_min":"2026-01-08","promised_delivery_date_max":"2026-01-10T12:00:00+01:00"}`, "2026-01-10"},
		{"latest_estimated_delivery, a date", `,"latest_estimated_delivery":{"type":"specific","source":"Carrier EDD","datetime":"2026-01-08T10:00:00-08:00","datetime_min":null,"datetime_max":null}`, "2026-01-08"},
		{"latest_estimated_delivery, a range: datetime_max", `,"latest_estimated_delivery":{"type":"range","source":"AfterShip EDD","datetime":"2026-01-07","datetime_min":"2026-01-06","datetime_max":"2026-01-09"}`, "2026-01-09"},
		{"latest_estimated_delivery, a range without datetime", `,"latest_estimated_delivery":{"type":"range","datetime_min":"2026-01-06","datetime_max":"2026-01-09"}`, "2026-01-09"},
		{"aftership_estimated_delivery_date, a date", `,"aftership_estimated_delivery_date":{"estimated_delivery_date":"2026-01-11","confidence_code":9003}`, "2026-01-11"},
		{"aftership_estimated_delivery_date, a window: its max", `,"aftership_estimated_delivery_date":{"estimated_delivery_date":"2026-01-11","confidence_code":9003,"estimated_delivery_date_min":"2026-01-10","estimated_delivery_date_max":"2026-01-12"}`, "2026-01-12"},
		// Order: the carrier's date, the shop's promise, AfterShip's latest, its AI.
		{"expected_delivery first", `,"expected_delivery":"2026-01-05","courier_estimated_delivery_date":{"estimated_delivery_date":"2026-01-06"},"order_promised_delivery_date":"2026-01-09","latest_estimated_delivery":{"datetime":"2026-01-08"},"aftership_estimated_delivery_date":{"estimated_delivery_date":"2026-01-11"}`, "2026-01-05"},
		{"then courier_estimated_delivery_date", `,"courier_estimated_delivery_date":{"estimated_delivery_date":"2026-01-06"},"order_promised_delivery_date":"2026-01-09","latest_estimated_delivery":{"datetime":"2026-01-08"}`, "2026-01-06"},
		{"then order_promised_delivery_date", `,"order_promised_delivery_date":{"promised_delivery_date":"2026-01-09"},"latest_estimated_delivery":{"datetime":"2026-01-08"},"aftership_estimated_delivery_date":{"estimated_delivery_date":"2026-01-11"}`, "2026-01-09"},
		{"then latest_estimated_delivery", `,"latest_estimated_delivery":{"datetime":"2026-01-08"},"aftership_estimated_delivery_date":{"estimated_delivery_date":"2026-01-11"}`, "2026-01-08"},
		{"an unreadable field is passed over", `,"expected_delivery":"soon","order_promised_delivery_date":{"promised_delivery_date":"tomorrow"},"latest_estimated_delivery":{"datetime":"2026-01-08"}`, "2026-01-08"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			evs, err := as().Decode(body(tc.fields), nil)
			wantExpected(t, evs, err, tc.want)
		})
	}
	for _, g := range garbageDates {
		for _, fields := range []string{
			`,"expected_delivery":` + g,
			`,"courier_estimated_delivery_date":` + g,
			`,"order_promised_delivery_date":` + g,
			`,"latest_estimated_delivery":` + g,
			`,"aftership_estimated_delivery_date":` + g,
			`,"courier_estimated_delivery_date":{"estimated_delivery_date":` + g + `,"estimated_delivery_date_max":` + g + `}`,
			`,"order_promised_delivery_date":{"promised_delivery_date":` + g + `,"promised_delivery_date_max":` + g + `}`,
			`,"latest_estimated_delivery":{"type":"range","datetime":` + g + `,"datetime_min":` + g + `,"datetime_max":` + g + `}`,
			`,"aftership_estimated_delivery_date":{"estimated_delivery_date":` + g + `,"estimated_delivery_date_max":` + g + `}`,
		} {
			t.Run("garbage "+fields, func(t *testing.T) {
				evs, err := as().Decode(body(fields), nil)
				wantExpected(t, evs, err, "")
				if e := evs[0]; e.TrackingNumber != "1Z999" || e.Status != tracking.InTransit {
					t.Fatalf("event %+v", e)
				}
			})
		}
	}
}

// field checks one string field of the decoded event.
func field(get func(tracking.Event) string, want string) func(*testing.T, tracking.Event) {
	return func(t *testing.T, e tracking.Event) {
		t.Helper()
		if got := get(e); got != want {
			t.Fatalf("got %q, want %q", got, want)
		}
	}
}

// garbageDates are expected-delivery values, as raw JSON, that no adapter
// reads as a date and none may refuse a webhook for: prose, JSON of the
// wrong type, impossible or foreign dates, an implausible year.
var garbageDates = []string{`"soon"`, `12345`, `{}`, `[]`, `true`, `null`, `""`, `"2026-13-45"`,
	`"05.01.2026"`, `"01/05/2026"`, `"2026-01-05garbage"`, `"1999-12-31"`, `1767571200`, `{"date":"2026-01-05"}`, `["2026-01-05"]`}

// wantExpected checks that a decode succeeded with one event (the first, for
// senders that give several) whose expected delivery is want.
func wantExpected(t *testing.T, evs []tracking.Event, err error, want string) {
	t.Helper()
	if err != nil {
		t.Fatalf("refused: %v", err)
	}
	if len(evs) == 0 {
		t.Fatal("no event")
	}
	assertClean(t, evs[0])
	if got := evs[0].ExpectedDelivery; got != want {
		t.Fatalf("expected delivery %q, want %q", got, want)
	}
}

func readHeaders(t *testing.T, path string) http.Header {
	t.Helper()
	raw, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	h := http.Header{}
	sc := bufio.NewScanner(bytes.NewReader(raw))
	for sc.Scan() {
		if k, v, ok := strings.Cut(sc.Text(), ":"); ok {
			h.Add(strings.TrimSpace(k), strings.TrimSpace(v))
		}
	}
	return h
}

func FuzzAfterShipDecode(f *testing.F) {
	f.Add([]byte(referencePayload))
	files, _ := filepath.Glob(filepath.Join("..", "..", "testdata", "aftership", "*.json"))
	for _, p := range files {
		if b, err := os.ReadFile(p); err == nil {
			f.Add(b)
		}
	}
	f.Add([]byte(`{"msg":{"tracking_number":1e999,"slug":"x"}}`))
	f.Add([]byte(`{"msg":{"tracking_number":"1","slug":"x","emails":"a,,b","checkpoints":[{"checkpoint_time":"9999-99-99"}]}}`))
	f.Add([]byte(`{"msg":{"tracking_number":"1","slug":"x","title":"a\r\nb\u2028c","customer_name":"\u0000","emails":["k@x.io","b\r\nBcc: e@x.io"],"checkpoints":[{"message":"a\n\tb"}]}}`))
	f.Add([]byte(`{"msg":{"tracking_number":"1","slug":"x","expected_delivery":{},"courier_estimated_delivery_date":"2026-01-05","order_promised_delivery_date":{"promised_delivery_date_max":12345},"latest_estimated_delivery":{"datetime_max":"2026-02-30T00:00:00Z","datetime":"2026-01-05T23:30:00-05:00"},"aftership_estimated_delivery_date":[]}}`))
	a := as()
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
			if !slugShape.MatchString(e.Slug) {
				t.Fatalf("slug %q is not one", e.Slug)
			}
			if len(e.Emails) > 2*maxListLen || len(e.SMSes) > 2*maxListLen || len(e.Checkpoints) > maxCheckpoints {
				t.Fatalf("%d emails, %d phones, %d checkpoints", len(e.Emails), len(e.SMSes), len(e.Checkpoints))
			}
		}
	})
}
