package source

import (
	"errors"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/trackhook/trackhook/receiver/carrier"
	"github.com/trackhook/trackhook/receiver/tracking"
	"github.com/trackhook/trackhook/signature"
)

func stdAdapter() Standard { return Standard{Carriers: carrier.Default()} }

// The example of ARCHITECTURE.md, "External contract".
const stdContractPayload = `{"type": "tracking.updated",
 "data": {"slug": "dhl", "tracking_number": "00340434161094042557",
          "tag": "InTransit", "subtag": "InTransit_003", "checkpoint_time": "2026-11-20T08:15:00Z",
          "message": "Arrived at sort facility", "location": "Leipzig, DE",
          "emails": ["kim@example.com"], "smses": ["+4915112345678"], "language": "de",
          "order_number": "1001", "title": "Order #1001"}}`

func stdHeaders(id string, ts int64) http.Header {
	h := http.Header{}
	h.Set(signature.HeaderStandardID, id)
	h.Set(signature.HeaderStandardTimestamp, strconv.FormatInt(ts, 10))
	return h
}

func TestStandardDecodeContract(t *testing.T) {
	evs, err := stdAdapter().Decode([]byte(stdContractPayload), stdHeaders("msg_1", 1795162560))
	if err != nil {
		t.Fatal(err)
	}
	if len(evs) != 1 {
		t.Fatalf("%d events", len(evs))
	}
	at := time.Date(2026, 11, 20, 8, 15, 0, 0, time.UTC)
	want := tracking.Event{
		Source: "standard", EventID: "msg_1", Slug: "dhl", TrackingNumber: "00340434161094042557",
		Status: tracking.InTransit, Subtag: "InTransit_003", RawStatus: "InTransit",
		OccurredAt: at, SentAt: time.Unix(1795162560, 0).UTC(),
		Checkpoints: []tracking.Checkpoint{{Time: at, Status: tracking.InTransit, Subtag: "InTransit_003",
			Message: "Arrived at sort facility", Location: "Leipzig, DE"}},
		Emails: []string{"kim@example.com"}, SMSes: []string{"+4915112345678"}, Language: "de",
		OrderNumber: "1001", Title: "Order #1001",
	}
	if got := mustJSON(evs[0]); got != mustJSON(want) {
		t.Fatalf("decoded\n%s\nwant\n%s", got, mustJSON(want))
	}
}

// TestStandardTags: every canonical tag is accepted (in ParseStatus's
// spellings), anything else is a 400.
func TestStandardTags(t *testing.T) {
	for _, s := range tracking.Statuses() {
		for _, spelling := range []string{s.String(), strings.ToLower(s.String())} {
			body := `{"type":"tracking.updated","data":{"slug":"ups","tracking_number":"1Z999","tag":"` + spelling + `"}}`
			evs, err := stdAdapter().Decode([]byte(body), nil)
			if err != nil || evs[0].Status != s {
				t.Errorf("tag %q: %v %+v", spelling, err, evs)
			}
		}
	}
	evs, err := stdAdapter().Decode([]byte(`{"type":"tracking.updated","data":{"slug":"ups","tracking_number":"1Z999","tag":"out_for_delivery","subtag":"OutForDelivery_003"}}`), nil)
	if err != nil || evs[0].Status != tracking.OutForDelivery || evs[0].Subtag != "OutForDelivery_003" {
		t.Errorf("out_for_delivery: %v %+v", err, evs)
	}
	for _, tag := range []string{"Shipped", "in transit!", "Exception_010", "0"} {
		body := `{"type":"tracking.updated","data":{"slug":"ups","tracking_number":"1Z999","tag":"` + tag + `"}}`
		if _, err := stdAdapter().Decode([]byte(body), nil); !errors.Is(err, ErrMalformed) || !strings.Contains(err.Error(), "data.tag") {
			t.Errorf("tag %q: err = %v, want ErrMalformed naming data.tag", tag, err)
		}
	}
}

func TestStandardDecodeForms(t *testing.T) {
	body := func(data string) []byte {
		return []byte(`{"type":"tracking.updated","data":{"slug":"DHL Express","tracking_number":"1234567890","tag":"Exception","subtag":"Exception_010"` + data + `}}`)
	}
	tests := []struct {
		name   string
		body   []byte
		header http.Header
		check  func(t *testing.T, evs []tracking.Event)
		err    string
	}{
		{name: "slug normalised, event id from the header", body: body(""), header: stdHeaders("msg_abc", 1795162560), check: func(t *testing.T, evs []tracking.Event) {
			if e := evs[0]; e.Slug != "dhl" || e.EventID != "msg_abc" || e.Status != tracking.Exception || e.Subtag != "Exception_010" ||
				!e.SentAt.Equal(time.Unix(1795162560, 0)) || !e.OccurredAt.Equal(e.SentAt) {
				t.Fatalf("%+v", e)
			}
		}},
		{name: "no headers: fingerprint", body: body(""), check: func(t *testing.T, evs []tracking.Event) {
			if !strings.HasPrefix(evs[0].EventID, "fp-") {
				t.Fatalf("%+v", evs[0])
			}
		}},
		{name: "body timestamp wins over the header", body: []byte(`{"type":"tracking.updated","timestamp":"2026-11-21T06:40:00.5+01:00","data":{"slug":"dhl","tracking_number":"1","tag":"InTransit"}}`),
			header: stdHeaders("m", 1795162560), check: func(t *testing.T, evs []tracking.Event) {
				if !evs[0].SentAt.Equal(time.Date(2026, 11, 21, 5, 40, 0, 5e8, time.UTC)) {
					t.Fatalf("%+v", evs[0])
				}
			}},
		{name: "comma lists, national number via destination country, invalid dropped", body: body(`,"emails":"a@example.com, nope","smses":"0151 12345678, 12","destination_country_iso3":"deu"`),
			check: func(t *testing.T, evs []tracking.Event) {
				e := evs[0]
				if strings.Join(e.Emails, " ") != "a@example.com" || strings.Join(e.SMSes, " ") != "+4915112345678" || e.DestinationCountry != "DEU" {
					t.Fatalf("%+v", e)
				}
			}},
		{name: "all order fields", body: body(`,"order_number":1001,"order_id":"A-7","title":"T","customer_name":"Kim","language":"pt-BR","tracking_url":"https://t.example/1","subtag_message":"Returning"`),
			check: func(t *testing.T, evs []tracking.Event) {
				e := evs[0]
				if e.OrderNumber != "1001" || e.OrderID != "A-7" || e.Title != "T" || e.CustomerName != "Kim" || e.Language != "pt-BR" ||
					e.TrackingURL != "https://t.example/1" || e.SubtagMessage != "Returning" {
					t.Fatalf("%+v", e)
				}
			}},
		{name: "checkpoints array merged with the top-level one, sorted", body: body(`,"checkpoint_time":"2026-11-22T10:00:00Z","message":"Returning","checkpoints":[
				{"checkpoint_time":"2026-11-22T10:00:00Z","message":"Returning"},
				{"checkpoint_time":"2026-11-20T10:00:00+02:00","message":"Attempt","tag":"AttemptFail","subtag":"AttemptFail_002"},
				{"checkpoint_time":"2026-11-19T10:00:00Z","message":"Picked up","location":"Bonn"}]`),
			check: func(t *testing.T, evs []tracking.Event) {
				c := evs[0].Checkpoints
				if len(c) != 3 || c[0].Message != "Picked up" || c[0].Status != tracking.StatusInvalid || c[1].Status != tracking.AttemptFail ||
					!c[1].Time.Equal(time.Date(2026, 11, 20, 8, 0, 0, 0, time.UTC)) || c[2].Status != tracking.Exception {
					t.Fatalf("%+v", c)
				}
				if !evs[0].OccurredAt.Equal(time.Date(2026, 11, 22, 10, 0, 0, 0, time.UTC)) {
					t.Fatalf("occurred %v", evs[0].OccurredAt)
				}
			}},
		{name: "no tag, no checkpoint: status unchanged, no time", header: stdHeaders("m", 1795162560), body: []byte(`{"type":"tracking.updated","timestamp":"2026-11-21T06:40:00Z","data":{"slug":"dhl","tracking_number":"1","emails":["x@example.com"]}}`),
			check: func(t *testing.T, evs []tracking.Event) {
				if e := evs[0]; e.Status != tracking.StatusInvalid || len(e.Emails) != 1 || !e.OccurredAt.IsZero() || !e.SentAt.IsZero() {
					t.Fatalf("%+v", e)
				}
			}},
		{name: "other type: no event", body: []byte(`{"type":"tracking.deleted","data":{"slug":"dhl"}}`), check: func(t *testing.T, evs []tracking.Event) {
			if len(evs) != 0 {
				t.Fatalf("%+v", evs)
			}
		}},
		{name: "unknown fields ignored", body: body(`,"future_field":{"x":[1,2]}`), check: func(t *testing.T, evs []tracking.Event) {
			if len(evs) != 1 {
				t.Fatalf("%+v", evs)
			}
		}},
		{name: "not JSON", body: []byte(`{"type":`), err: "invalid JSON"},
		{name: "array body", body: []byte(`[]`), err: "JSON object"},
		{name: "trailing data", body: append(body(""), '{'), err: "trailing"},
		{name: "no type", body: []byte(`{"data":{"slug":"dhl","tracking_number":"1"}}`), err: "type is required"},
		{name: "no data", body: []byte(`{"type":"tracking.updated"}`), err: "data is required"},
		{name: "no number", body: []byte(`{"type":"tracking.updated","data":{"slug":"dhl"}}`), err: "data.tracking_number"},
		{name: "no slug", body: []byte(`{"type":"tracking.updated","data":{"tracking_number":"1"}}`), err: "data.slug"},
		{name: "subtag of another tag", body: []byte(`{"type":"tracking.updated","data":{"slug":"dhl","tracking_number":"1","tag":"Delivered","subtag":"Exception_011"}}`), err: "data.subtag"},
		{name: "subtag without tag", body: []byte(`{"type":"tracking.updated","data":{"slug":"dhl","tracking_number":"1","subtag":"Delivered_001"}}`), err: "needs a tag"},
		{name: "checkpoint_time not RFC 3339", body: body(`,"checkpoint_time":"2026-11-20 08:15:00"`), err: "data.checkpoint_time"},
		{name: "message without checkpoint_time", body: body(`,"message":"Returning"`), err: "checkpoint_time"},
		{name: "checkpoint without time", body: body(`,"checkpoints":[{"message":"x"}]`), err: "data.checkpoints[0].checkpoint_time is required"},
		{name: "checkpoint with unknown tag", body: body(`,"checkpoints":[{"checkpoint_time":"2026-11-20T08:15:00Z","tag":"Lost"}]`), err: "data.checkpoints[0].tag"},
		{name: "timestamp not RFC 3339", body: []byte(`{"type":"tracking.updated","timestamp":"1795162560","data":{"slug":"dhl","tracking_number":"1"}}`), err: "timestamp"},
		// Display fields that do not parse are left out, not refused.
		{name: "bad language, country and tracking_url left out", body: body(`,"language":"German please","destination_country_iso3":"XYZ","tracking_url":"javascript:alert(1)","title":"Order #1"`),
			check: func(t *testing.T, evs []tracking.Event) {
				if e := evs[0]; e.Language != "" || e.DestinationCountry != "" || e.TrackingURL != "" || e.Title != "Order #1" {
					t.Fatalf("%+v", e)
				}
			}},
		{name: "language with a stray line break", body: body(`,"language":"de\r\n"`), check: func(t *testing.T, evs []tracking.Event) {
			if evs[0].Language != "de" {
				t.Fatalf("%+v", evs[0])
			}
		}},
		{name: "600 checkpoints: the newest 501 kept", body: body(`,"checkpoints":` + stdScans(600)),
			check: func(t *testing.T, evs []tracking.Event) {
				if c := evs[0].Checkpoints; len(c) != stdMaxCheckpoints+1 || c[0].Message != "scan 99" || c[len(c)-1].Message != "scan 599" {
					t.Fatalf("%d checkpoints, first %+v", len(c), c[0])
				}
			}},
		{name: "CRLF in the tracking number", body: []byte(`{"type":"tracking.updated","data":{"slug":"dhl","tracking_number":"1\r\n2"}}`), err: "data.tracking_number contains a line break"},
		{name: "101-byte tracking number", body: []byte(`{"type":"tracking.updated","data":{"slug":"dhl","tracking_number":"` + strings.Repeat("1", 101) + `"}}`), err: "data.tracking_number is 101 bytes long, at most 100"},
		{name: "wrong type names the field", body: body(`,"emails":{"a":1}`), err: "emails"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			evs, err := stdAdapter().Decode(tc.body, tc.header)
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

// TestStandardExpectedDelivery: the optional data.expected_delivery is the
// expected delivery day, a date or the date of a date-time as written
// whatever the offset. Strict as the format is about status and time, a
// value that is not a date is only left out: the update is taken.
func TestStandardExpectedDelivery(t *testing.T) {
	body := func(field string) []byte {
		return []byte(`{"type":"tracking.updated","data":{"slug":"dhl","tracking_number":"00340434161094042557","tag":"InTransit","checkpoint_time":"2026-11-20T08:15:00Z"` + field + `}}`)
	}
	for _, tc := range []struct{ v, want string }{
		{`"2026-11-24"`, "2026-11-24"},
		{`"2026-11-24T00:00:00"`, "2026-11-24"},
		{`"2026-11-24T17:00:00Z"`, "2026-11-24"},
		{`"2026-11-24T23:30:00-05:00"`, "2026-11-24"}, // the 25th in UTC
		{`"2026-11-25T00:30:00+01:00"`, "2026-11-25"}, // the 24th in UTC
		{`"2026-11-24 12:00:00"`, "2026-11-24"},
		{`" 2026-11-24 "`, "2026-11-24"},
	} {
		t.Run(tc.v, func(t *testing.T) {
			evs, err := stdAdapter().Decode(body(`,"expected_delivery":`+tc.v), stdHeaders("msg_1", 1795162560))
			wantExpected(t, evs, err, tc.want)
		})
	}
	t.Run("absent", func(t *testing.T) {
		evs, err := stdAdapter().Decode(body(``), stdHeaders("msg_1", 1795162560))
		wantExpected(t, evs, err, "")
	})
	for _, g := range garbageDates {
		t.Run("garbage "+g, func(t *testing.T) {
			evs, err := stdAdapter().Decode(body(`,"expected_delivery":`+g), stdHeaders("msg_1", 1795162560))
			wantExpected(t, evs, err, "")
			if e := evs[0]; e.TrackingNumber != "00340434161094042557" || e.Status != tracking.InTransit || len(e.Checkpoints) != 1 {
				t.Fatalf("event %+v", e)
			}
		})
	}
}

func FuzzStandardDecode(f *testing.F) {
	f.Add([]byte(stdContractPayload), "msg_1")
	files, _ := filepath.Glob(filepath.Join("..", "..", "testdata", "standard", "*.json"))
	for _, p := range files {
		if b, err := os.ReadFile(p); err == nil {
			f.Add(b, "msg_2")
		}
	}
	f.Add([]byte(`{"type":"tracking.updated","data":{"slug":"x","tracking_number":1e999,"tag":"","subtag":"_","checkpoints":[{"checkpoint_time":"9999-12-31T23:59:59Z"}]}}`), "")
	f.Add([]byte(`{"type":"tracking.updated","timestamp":"","data":{"slug":" ","tracking_number":"1","language":"x-aaaaaaaa","emails":"a,,b"}}`), "x")
	f.Add([]byte(`{"type":"tracking.updated","data":{"slug":"x","tracking_number":"1","title":"a\r\nb","emails":["k@x.io","b\u2028@x.io"],"checkpoint_time":"2026-11-20T08:15:00Z","message":"a\u0085b"}}`), "m\r\n1")
	f.Add([]byte(`{"type":"tracking.updated","data":{"slug":"x","tracking_number":"1","expected_delivery":"2026-11-24T23:30:00-05:00"}}`), "m")
	f.Add([]byte(`{"type":"tracking.updated","data":{"slug":"x","tracking_number":"1","expected_delivery":{"to":"2026-11-24"}}}`), "m")
	a := stdAdapter()
	f.Fuzz(func(t *testing.T, body []byte, id string) {
		evs, err := a.Decode(body, http.Header{"Webhook-Id": {id}, "Webhook-Timestamp": {"1795162560"}})
		if err != nil {
			if !errors.Is(err, ErrMalformed) {
				t.Fatalf("error %v is not ErrMalformed", err)
			}
			return
		}
		for _, e := range evs {
			assertClean(t, e)
			if e.TrackingNumber == "" || e.Slug == "" || e.EventID == "" || e.Source != "standard" {
				t.Fatalf("event without key: %+v", e)
			}
			if e.Status != tracking.StatusInvalid && !e.Status.Valid() {
				t.Fatalf("status %v", e.Status)
			}
		}
	})
}

// stdScans is a checkpoints array of n scans a minute apart, oldest first.
func stdScans(n int) string {
	scans := make([]string, n)
	for i := range scans {
		at := time.Date(2026, 11, 20, 0, 0, 0, 0, time.UTC).Add(time.Duration(i) * time.Minute)
		scans[i] = fmt.Sprintf(`{"checkpoint_time":%q,"message":"scan %d"}`, at.Format(time.RFC3339), i)
	}
	return "[" + strings.Join(scans, ",") + "]"
}
