package source

import (
	"bytes"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"unicode"
	"unicode/utf8"

	"github.com/trackhook/trackhook/dispatcher"
	"github.com/trackhook/trackhook/receiver/tracking"
)

// dirty is shop data at its worst: CRLF, a tab, a NUL, a space and a
// LINE SEPARATOR between the words. clean is what every display field
// holding it decodes to.
const (
	dirty = "Kim\r\n\tMeyer\x00 \u2028Jr."
	clean = "Kim Meyer Jr."
)

// The malformed subscribers put beside a good one.
const (
	badEmail = "bad\r\nBcc: x@evil.example"
	badPhone = "+49151\x0012345679"
)

// shown is one display field of a decoded event and what it must hold.
type shown struct {
	name string
	get  func(tracking.Event) string
	want string
}

func is(name string, get func(tracking.Event) string) shown { return shown{name, get, clean} }

// scan is the field of the checkpoint that got the dirty value (adapters
// sort checkpoints, so it is found by its text).
func scan(name string, get func(tracking.Checkpoint) string) shown {
	return is("checkpoint "+name, func(e tracking.Event) string {
		var all []string
		for _, c := range e.Checkpoints {
			if v := get(c); strings.HasPrefix(v, "Kim") {
				return v
			}
			all = append(all, get(c))
		}
		return strings.Join(all, " | ")
	})
}

// TestEveryAdapterCleansDisplayFields takes one recorded webhook per sender,
// puts dirty into its display fields and a malformed entry beside a good one
// into its subscriber lists, and decodes it: no error, every display field
// reads clean, the good subscribers are kept, the bad ones reported in
// Dropped (and never marshalled).
func TestEveryAdapterCleansDisplayFields(t *testing.T) {
	adapters := map[string]Adapter{}
	for _, src := range fixtureSources() {
		adapters[src.dir] = src.adapter
	}
	for _, tc := range []struct {
		dir, fixture string
		set          map[string]any // JSON path → value
		shown        []shown
		emails       []string // kept; nil: the sender has no subscribers
		smses        []string
		dropped      []tracking.DroppedRecipient
	}{
		{
			dir: "aftership", fixture: "in_transit",
			set: map[string]any{"msg.customer_name": dirty, "msg.title": dirty, "msg.order_number": dirty, "msg.subtag_message": dirty,
				"msg.checkpoints.1.message": dirty, "msg.checkpoints.1.city": dirty,
				"msg.emails": []string{"kim@example.com", badEmail}, "msg.smses": []string{"+4915112345678", badPhone}},
			shown: []shown{is("customer name", func(e tracking.Event) string { return e.CustomerName }), is("title", func(e tracking.Event) string { return e.Title }),
				is("order number", func(e tracking.Event) string { return e.OrderNumber }), is("subtag message", func(e tracking.Event) string { return e.SubtagMessage }),
				scan("message", func(c tracking.Checkpoint) string { return c.Message }), scan("city", func(c tracking.Checkpoint) string { return c.City })},
			emails: []string{"kim@example.com"}, smses: []string{"+4915112345678"},
			dropped: []tracking.DroppedRecipient{{Channel: dispatcher.ChannelEmail, Value: badEmail, Reason: reasonBreak}, {Channel: dispatcher.ChannelSMS, Value: badPhone, Reason: reasonBreak}},
		},
		{
			dir: "trackingmore", fixture: "transit",
			set: map[string]any{"data.customer_name": dirty, "data.title": dirty, "data.order_number": dirty,
				"data.origin_info.trackinfo.0.tracking_detail": dirty, "data.origin_info.trackinfo.0.location": dirty,
				"data.customer_email": []string{"jane@example.com", badEmail}, "data.customer_sms": []string{badPhone, "+14155552671"}},
			shown: []shown{is("customer name", func(e tracking.Event) string { return e.CustomerName }), is("title", func(e tracking.Event) string { return e.Title }),
				is("order number", func(e tracking.Event) string { return e.OrderNumber }),
				scan("message", func(c tracking.Checkpoint) string { return c.Message }), scan("location", func(c tracking.Checkpoint) string { return c.Location })},
			emails: []string{"jane@example.com"}, smses: []string{"+14155552671"},
			dropped: []tracking.DroppedRecipient{{Channel: dispatcher.ChannelEmail, Value: badEmail, Reason: reasonBreak}, {Channel: dispatcher.ChannelSMS, Value: badPhone, Reason: reasonBreak}},
		},
		{
			dir: "standard", fixture: "in_transit",
			set: map[string]any{"data.customer_name": dirty, "data.title": dirty, "data.order_number": dirty, "data.subtag_message": dirty,
				"data.message": dirty, "data.location": dirty, "data.language": "de\r\n",
				"data.emails": []string{"kim@example.com", badEmail, "not-an-address"}, "data.smses": []string{"+4915112345678", badPhone}},
			shown: []shown{is("customer name", func(e tracking.Event) string { return e.CustomerName }), is("title", func(e tracking.Event) string { return e.Title }),
				is("order number", func(e tracking.Event) string { return e.OrderNumber }), is("subtag message", func(e tracking.Event) string { return e.SubtagMessage }),
				scan("message", func(c tracking.Checkpoint) string { return c.Message }), scan("location", func(c tracking.Checkpoint) string { return c.Location }),
				{"language", func(e tracking.Event) string { return e.Language }, "de"}},
			emails: []string{"kim@example.com"}, smses: []string{"+4915112345678"},
			dropped: []tracking.DroppedRecipient{{Channel: dispatcher.ChannelEmail, Value: badEmail, Reason: reasonBreak},
				{Channel: dispatcher.ChannelEmail, Value: "not-an-address", Reason: reasonNotEmail}, {Channel: dispatcher.ChannelSMS, Value: badPhone, Reason: reasonBreak}},
		},
		{
			// One billing email and one phone: the bad email goes, the phone stays.
			dir: "woocommerce", fixture: "ast_order_updated",
			set: map[string]any{"billing.first_name": dirty, "billing.last_name": "", "number": dirty, "line_items.0.name": dirty, "billing.email": badEmail},
			shown: []shown{is("customer name", func(e tracking.Event) string { return e.CustomerName }), is("order number", func(e tracking.Event) string { return e.OrderNumber }),
				is("item", func(e tracking.Event) string { return e.Items[0].Name })},
			emails: []string{}, smses: []string{"+4915112345678"},
			dropped: []tracking.DroppedRecipient{{Channel: dispatcher.ChannelEmail, Value: badEmail, Reason: reasonBreak}},
		},
		{
			dir: "easypost", fixture: "delivered",
			set: map[string]any{"result.signed_by": dirty, "result.tracking_details.1.message": dirty, "result.tracking_details.1.tracking_location.city": dirty},
			shown: []shown{{"subtag message", func(e tracking.Event) string { return e.SubtagMessage }, "Signed by " + clean},
				scan("message", func(c tracking.Checkpoint) string { return c.Message }), scan("city", func(c tracking.Checkpoint) string { return c.City })},
		},
		{
			dir: "shipengine", fixture: "in_transit",
			set: map[string]any{"data.status_detail_description": dirty, "data.events.0.description": dirty, "data.events.0.city_locality": dirty},
			shown: []shown{is("subtag message", func(e tracking.Event) string { return e.SubtagMessage }),
				scan("message", func(c tracking.Checkpoint) string { return c.Message }), scan("city", func(c tracking.Checkpoint) string { return c.City })},
		},
		{
			dir: "17track", fixture: "reference",
			set: map[string]any{"data.tag": dirty, "data.track_info.latest_status.sub_status_descr": dirty,
				"data.track_info.latest_event.description": dirty, "data.track_info.latest_event.location": dirty},
			shown: []shown{is("source reference", func(e tracking.Event) string { return e.SourceRef }), is("subtag message", func(e tracking.Event) string { return e.SubtagMessage }),
				scan("message", func(c tracking.Checkpoint) string { return c.Message }), scan("location", func(c tracking.Checkpoint) string { return c.Location })},
		},
	} {
		t.Run(tc.dir, func(t *testing.T) {
			base := filepath.Join("..", "..", "testdata", tc.dir, tc.fixture)
			body := setJSON(t, base+".json", tc.set)
			evs, err := adapters[tc.dir].Decode(body, readHeaders(t, base+".headers"))
			if err != nil {
				t.Fatalf("a payload with dirty display fields was refused: %v", err)
			}
			if len(evs) == 0 {
				t.Fatal("no event")
			}
			e := evs[0]
			assertClean(t, e)
			for _, s := range tc.shown {
				if got := s.get(e); got != s.want {
					t.Errorf("%s = %q, want %q", s.name, got, s.want)
				}
			}
			if tc.emails != nil && (!slices.Equal(e.Emails, tc.emails) || !slices.Equal(e.SMSes, tc.smses)) {
				t.Errorf("kept emails %q smses %q, want %q %q", e.Emails, e.SMSes, tc.emails, tc.smses)
			}
			if !slices.Equal(e.Dropped, tc.dropped) {
				t.Errorf("dropped %+v, want %+v", e.Dropped, tc.dropped)
			}
			if b, _ := json.Marshal(evs); bytes.Contains(b, []byte("Dropped")) || bytes.Contains(b, []byte("evil.example")) {
				t.Errorf("the dropped recipients are marshalled: %s", b)
			}
		})
	}
}

// TestEveryAdapterTakesAnUnreadableExpectedDelivery puts each of
// garbageDates into the expected-delivery fields of one recorded webhook per
// sender: the webhook is still decoded, to the same events but without a
// date (a cosmetic defect never refuses an update).
func TestEveryAdapterTakesAnUnreadableExpectedDelivery(t *testing.T) {
	adapters := map[string]Adapter{}
	for _, src := range fixtureSources() {
		adapters[src.dir] = src.adapter
	}
	for _, tc := range []struct {
		dir, fixture string
		paths        []string // the sender's date fields in the fixture
	}{
		{"aftership", "in_transit", []string{"msg.expected_delivery", "msg.courier_estimated_delivery_date", "msg.order_promised_delivery_date",
			"msg.latest_estimated_delivery", "msg.aftership_estimated_delivery_date"}},
		{"trackingmore", "transit", []string{"data.scheduled_delivery_date"}},
		{"shipengine", "in_transit", []string{"data.estimated_delivery_date"}},
		{"easypost", "delivered", []string{"result.est_delivery_date", "result.carrier_detail.est_delivery_date_local"}},
		{"17track", "delivered", []string{"data.track_info.time_metrics.estimated_delivery_date.from", "data.track_info.time_metrics.estimated_delivery_date.to"}},
		{"17track", "delivered", []string{"data.track_info.time_metrics.estimated_delivery_date"}},
		{"17track", "delivered", []string{"data.track_info.time_metrics"}},
		{"woocommerce", "germanized_shipments", []string{"shipments.0.est_delivery_date", "shipments.0.est_delivery_date_gmt",
			"shipments.1.est_delivery_date", "shipments.1.est_delivery_date_gmt"}},
		{"standard", "in_transit", []string{"data.expected_delivery"}},
	} {
		base := filepath.Join("..", "..", "testdata", tc.dir, tc.fixture)
		h := readHeaders(t, base+".headers")
		clean, err := adapters[tc.dir].Decode(setJSON(t, base+".json", nil), h)
		if err != nil || len(clean) == 0 {
			t.Fatalf("%s/%s: %v, %d events", tc.dir, tc.fixture, err, len(clean))
		}
		for _, g := range garbageDates {
			t.Run(tc.dir+"/"+strings.Join(tc.paths, ",")+"="+g, func(t *testing.T) {
				var v any
				if err := json.Unmarshal([]byte(g), &v); err != nil {
					t.Fatal(err)
				}
				set := map[string]any{}
				for _, p := range tc.paths {
					set[p] = v
				}
				evs, err := adapters[tc.dir].Decode(setJSON(t, base+".json", set), h)
				if err != nil {
					t.Fatalf("refused for an unreadable expected delivery: %v", err)
				}
				if len(evs) != len(clean) {
					t.Fatalf("%d events, want %d", len(evs), len(clean))
				}
				for i, e := range evs {
					assertClean(t, e)
					if e.ExpectedDelivery != "" {
						t.Fatalf("event %d: expected delivery %q from %s", i, e.ExpectedDelivery, g)
					}
					want := clean[i]
					want.ExpectedDelivery = ""
					if mustJSON(e) != mustJSON(want) {
						t.Fatalf("event %d differs beyond the date:\n%s\nwant\n%s", i, mustJSON(e), mustJSON(want))
					}
				}
			})
		}
	}
}

func TestLine(t *testing.T) {
	for _, tc := range []struct {
		in   string
		n    int
		want string
	}{
		{"Kim Meyer", 200, "Kim Meyer"},
		{"Order\r\n#1001", 200, "Order #1001"},
		{"Kim\nMeyer", 200, "Kim Meyer"},
		{dirty, 200, clean},
		{"  Arrived \r\n  at\thub \n", 200, "Arrived at hub"},
		{"a\u0085b\u2028c\u2029d\x7fe\x00", 200, "a b c d e"},
		{"\r\n", 200, ""},
		{"two  spaces kept", 200, "two  spaces kept"},
		{"a\xffb", 200, "a\uFFFDb"},
		{"ääää", 3, "ä"},   // cut on a rune boundary
		{"ab cd", 3, "ab"}, // and trimmed
	} {
		if got := line(tc.in, tc.n); got != tc.want {
			t.Errorf("line(%q, %d) = %q, want %q", tc.in, tc.n, got, tc.want)
		}
	}
}

// TestCheckEventsIsAnInvariant: an event that skipped line fails, and not
// as ErrMalformed (it is a bug in the adapter, which the fuzz targets
// report, not the sender's fault).
func TestCheckEventsIsAnInvariant(t *testing.T) {
	ok := tracking.Event{TrackingNumber: "1Z", Slug: "ups", Title: clean}
	if _, err := checkEvents([]tracking.Event{ok}); err != nil {
		t.Fatal(err)
	}
	for _, broken := range []func(*tracking.Event){
		func(e *tracking.Event) { e.Title = dirty },
		func(e *tracking.Event) { e.Checkpoints = []tracking.Checkpoint{{Message: "a\nb"}} },
		func(e *tracking.Event) { e.Items = []tracking.Item{{Name: "a\u2028b", Quantity: 1}} },
	} {
		e := ok
		broken(&e)
		if _, err := checkEvents([]tracking.Event{e}); err == nil || errors.Is(err, ErrMalformed) {
			t.Errorf("checkEvents(%+v) = %v, want a bug report", e, err)
		}
	}
}

// setJSON reads a fixture body and sets each dotted path ("msg.emails",
// "data.events.0.description") to its value.
func setJSON(t *testing.T, path string, set map[string]any) []byte {
	t.Helper()
	raw, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	var doc any
	if err := dec.Decode(&doc); err != nil {
		t.Fatal(err)
	}
	for p, v := range set {
		keys := strings.Split(p, ".")
		node := doc
		for i, k := range keys {
			last := i == len(keys)-1
			switch n := node.(type) {
			case map[string]any:
				if last {
					n[k] = v
				} else {
					node = n[k]
				}
			case []any:
				j, err := strconv.Atoi(k)
				if err != nil || j >= len(n) {
					t.Fatalf("%s: no element %s", p, k)
				}
				if last {
					n[j] = v
				} else {
					node = n[j]
				}
			default:
				t.Fatalf("%s: no object or array at %s", p, k)
			}
		}
	}
	b, err := json.Marshal(doc)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// assertClean is the invariant every decoded event keeps, whatever the
// payload: no one-line field holds a control character, a Unicode line
// separator or a byte that is not UTF-8 (none of it may reach an email
// header), the key is there and within its limit, and an expected delivery
// date is a bare civil date. Every Fuzz target asserts it.
func assertClean(t testing.TB, e tracking.Event) {
	t.Helper()
	if e.TrackingNumber == "" || e.Slug == "" || len(e.TrackingNumber) > maxNumberLen {
		t.Fatalf("key past the limits: number %q slug %q", e.TrackingNumber, e.Slug)
	}
	fields := []string{e.TrackingNumber, e.Slug, e.EventID, e.RawStatus, e.Subtag, e.SubtagMessage, e.Title, e.CustomerName,
		e.OrderID, e.OrderNumber, e.Language, e.DestinationCountry, e.TrackingURL, e.SourceRef}
	fields = append(append(fields, e.Emails...), e.SMSes...)
	for _, c := range e.Checkpoints {
		fields = append(fields, c.Message, c.SubtagMessage, c.Location, c.City, c.State, c.Zip, c.CountryISO3, c.Subtag)
	}
	for _, it := range e.Items {
		fields = append(fields, it.SKU, it.Name)
	}
	for _, v := range fields {
		if !utf8.ValidString(v) || strings.ContainsFunc(v, func(r rune) bool { return unicode.IsControl(r) || r == '\u2028' || r == '\u2029' }) {
			t.Fatalf("one-line field %q holds a control character, a line separator or invalid UTF-8", v)
		}
	}
	for _, s := range e.SMSes {
		if !strings.HasPrefix(s, "+") {
			t.Fatalf("phone %q not E.164", s)
		}
	}
	if d := e.ExpectedDelivery; d != "" {
		if got, ok := tracking.ParseDeliveryDate(d); !ok || got != d || len(d) != len("2006-01-02") {
			t.Fatalf("expected delivery %q is not a civil date", d)
		}
	}
}
