package api

import (
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
	"unicode"
	"unicode/utf8"

	"golang.org/x/text/language"

	"github.com/trackhook/trackhook/dispatcher"
	"github.com/trackhook/trackhook/receiver/carrier"
	"github.com/trackhook/trackhook/receiver/contact"
	"github.com/trackhook/trackhook/receiver/tracking"
)

// The fuzz targets drive the decode-and-validate half of each endpoint
// (parseCreate, parseUpdate + apply, parseNotification, parseSuppression,
// parseListQuery): the part that sees hostile bytes. The store half is
// covered by receiver/api_test.go and receiver/badinput_test.go against a
// real Redis.

// fuzzAPI is an API without a store: the parse functions never touch it.
func fuzzAPI() *API {
	return &API{carriers: carrier.Default(), max: DefaultMaxRecipients,
		log: slog.New(slog.NewTextHandler(io.Discard, nil)), now: time.Now}
}

// testdataTrackings returns the tracking objects in the repository's
// testdata (AfterShip's msg and Standard Webhooks' data use the API's
// field names), as JSON objects.
func testdataTrackings(tb testing.TB) []json.RawMessage {
	tb.Helper()
	var out []json.RawMessage
	for _, dir := range []struct{ name, key string }{{"aftership", "msg"}, {"standard", "data"}} {
		files, _ := filepath.Glob(filepath.Join("..", "..", "testdata", dir.name, "*.json"))
		for _, f := range files {
			b, err := os.ReadFile(f)
			if err != nil {
				tb.Fatal(err)
			}
			var body map[string]json.RawMessage
			if json.Unmarshal(b, &body) == nil && body[dir.key] != nil {
				out = append(out, body[dir.key])
			}
		}
	}
	if len(out) < 3 {
		tb.Fatalf("%d tracking objects in testdata, want at least 3", len(out))
	}
	return out
}

// apiTestBodies are request bodies from receiver/api_test.go.
var apiTestBodies = []string{
	`{"tracking":{"tracking_number":"1Z999AA10123456784","slug":"UPS","title":"Order #1001","order_id":"4711","order_number":"1001","customer_name":"Ana García","language":"es","destination_country_iso3":"ESP","emails":["ana@Example.com","pedro@example.com"],"smses":["612 345 678"],"custom_fields":{"store":"madrid"},"note":"fragile"}}`,
	`{"tracking":{"title":"Pedido 1001","smses":["+34 699 111 222"]}}`,
	`{"tracking":{"tracking_number":"00340434161094042557","slug":"dhl-germany","title":"Bestellung 77"}}`,
	`{"tracking":`, ``, `[1]`, `{"trackings":{}}`,
	`{"tracking":{"tracking_number":"a/b","slug":"usps"}}`,
	`{"tracking":{"slug":"usps"}}`,
	`{"tracking":{"tracking_number":"X1","slug":"usps","emails":["ok@example.com","not-an-email"]}}`,
	`{"tracking":{"tracking_number":"X1","slug":"usps","smses":"0151 12345678"}}`,
	`{"tracking":{"tracking_number":"X1","slug":"usps","emails":"a@x.com,b@x.com,c@x.com,d@x.com"}}`,
	`{"tracking":{"tracking_number":"X1","slug":"usps","language":"klingon!"}}`,
	`{"tracking":{"tracking_number":"X1","slug":"usps","destination_country_iso3":"XXX"}}`,
	`{"tracking":{"tracking_number":"X1","slug":"usps","emails":5}}`,
	`{"tracking":{"tracking_number":12,"slug":"usps"}}`,
	`{"tracking":{"tracking_number":"X1","slug":"<script>"}}`,
	`{"tracking":{"tracking_number":"X1"}}`,
	`{"tracking":{"tracking_number":"X1","slug":"usps","customer_name":"Ana\r\nBcc: x@evil.example","custom_fields":{"a\u0000":"b"}}}`,
	`{"tracking":{"tracking_number":"X1","slug":"usps","title":"` + strings.Repeat("é", 300) + `"}}`,
	`{"tracking":{"tracking_number":"X1","slug":"usps","language":"zh-hant-tw","destination_country_iso3":"twn","smses":"0912 345 678"}}`,
	`{"notification":{"emails":["pedro@example.com","absent@example.com"]}}`,
	`{"notification":{"emails":"luis@example.com, ana@example.com","smses":"+34600000001"}}`,
	`{"emails":["x@example.com"]}`,
	`{"notification":{"emails":"x@example.com, bad"}}`,
	`{"suppression":{"emails":["kim@example.com"],"smses":["+4915112345678"]}}`,
	`{"suppression":{"emails":"a@b.co\r\nBcc: x"}}`,
	"{\"tracking\":{\"title\":\"\xff\"}}",
	`{"tracking":` + strings.Repeat("[", 10001),
}

// addBodies seeds f with the API tests' bodies and the testdata trackings,
// each also wrapped the way the target's endpoint expects (wrap: "tracking",
// "notification" or "suppression").
func addBodies(f *testing.F, wrap string) {
	for _, b := range apiTestBodies {
		f.Add([]byte(b))
	}
	for _, obj := range testdataTrackings(f) {
		f.Add(append(append([]byte(`{"`+wrap+`":`), obj...), '}'))
	}
}

// checkError: every failure of the parse layer is an *Error answering 400
// with a bounded, valid UTF-8 message; never a 5xx, which the handlers
// reserve for the store.
func checkError(t *testing.T, err error) {
	t.Helper()
	var e *Error
	if !errors.As(err, &e) {
		t.Fatalf("error %v (%T) is not an *Error: it would be answered 503", err, err)
	}
	if e.HTTP != 400 || e.Code < 4000 && e.Code != 400 {
		t.Fatalf("error %+v is not a 400", e)
	}
	if !utf8.ValidString(e.Message) || len(e.Message) > 600 || e.Message == "" {
		t.Fatalf("message %q is not bounded valid UTF-8", e.Message)
	}
}

// checkTracking asserts what every stored tracking satisfies, whatever the
// request: one-line texts, valid recipients within the limit, a key the
// routes can address.
func checkTracking(t *testing.T, a *API, tr tracking.Tracking) {
	t.Helper()
	if n := tr.TrackingNumber; n == "" || len(n) > 100 || n != strings.TrimSpace(n) ||
		strings.ContainsFunc(n, func(r rune) bool { return r < ' ' || r == 0x7f || r == '/' }) {
		t.Fatalf("tracking number %q", n)
	}
	if !slugRe.MatchString(tr.Slug) {
		t.Fatalf("slug %q", tr.Slug)
	}
	if !validID(tracking.ID(tr.Slug, tr.TrackingNumber)) {
		t.Fatalf("id of %q %q", tr.Slug, tr.TrackingNumber)
	}
	for _, v := range []string{tr.Title, tr.OrderID, tr.OrderNumber, tr.CustomerName} {
		if utf8.RuneCountInString(v) > maxText || strings.ContainsAny(v, "\x00\r\n") || !utf8.ValidString(v) {
			t.Fatalf("text %q", v)
		}
	}
	if strings.ContainsRune(tr.Note, 0) || !utf8.ValidString(tr.Note) {
		t.Fatalf("note %q", tr.Note)
	}
	if tr.Language != "" {
		if _, err := language.Parse(tr.Language); err != nil {
			t.Fatalf("language %q", tr.Language)
		}
	}
	if c := tr.DestinationCountry; c != "" && (len(c) != 3 || contact.Region(c) == "") {
		t.Fatalf("country %q", c)
	}
	if len(tr.CustomFields) > 50 {
		t.Fatalf("%d custom fields", len(tr.CustomFields))
	}
	for k, v := range tr.CustomFields {
		if strings.ContainsFunc(k, unicode.IsControl) || strings.ContainsRune(v, 0) {
			t.Fatalf("custom field %q: %q", k, v)
		}
	}
	checkRecipients(t, a, tr.Emails, tr.SMSes)
	if _, err := json.Marshal(a.toJSON(tr)); err != nil {
		t.Fatalf("answer does not marshal: %v", err)
	}
}

func checkRecipients(t *testing.T, a *API, emails, smses []string) {
	t.Helper()
	if len(emails) > a.max || len(smses) > a.max {
		t.Fatalf("%d emails, %d smses: over %d", len(emails), len(smses), a.max)
	}
	for i, e := range emails {
		if again, err := contact.Email(e); err != nil || again != e || slices.Contains(emails[:i], e) {
			t.Fatalf("email %q: not normalised (%q, %v) or repeated", e, again, err)
		}
	}
	for i, p := range smses {
		if again, err := contact.Phone(p, ""); err != nil || again != p || slices.Contains(smses[:i], p) {
			t.Fatalf("phone %q: not E.164 (%q, %v) or repeated", p, again, err)
		}
	}
}

// FuzzCreateTrackingBody: POST /trackings. Whatever is accepted is a valid
// tracking, and sending it back as a create body gives the same tracking.
func FuzzCreateTrackingBody(f *testing.F) {
	addBodies(f, "tracking")
	a := fuzzAPI()
	f.Fuzz(func(t *testing.T, body []byte) {
		tr, err := a.parseCreate(Legacy, body)
		if err != nil {
			checkError(t, err)
			return
		}
		checkTracking(t, a, tr)
		// Round trip through the API's own answer.
		j := a.toJSON(tr)
		again, _ := json.Marshal(map[string]any{"tracking": map[string]any{
			"tracking_number": j.TrackingNumber, "slug": j.Slug, "title": j.Title, "order_id": j.OrderID,
			"order_number": j.OrderNumber, "customer_name": j.CustomerName, "language": j.Language,
			"destination_country_iso3": j.DestinationCountryISO3, "emails": j.Emails, "smses": j.Smses,
			"custom_fields": j.CustomFields, "note": j.Note,
		}})
		tr2, err := a.parseCreate(Legacy, again)
		if err != nil {
			t.Fatalf("the answer %s does not parse back: %v", again, err)
		}
		if a1, a2 := mustJSON(t, tr), mustJSON(t, tr2); a1 != a2 {
			t.Fatalf("round trip changed the tracking:\n%s\n%s", a1, a2)
		}
	})
}

// FuzzUpdateTrackingBody: PUT /trackings/{id}. A rejected update leaves the
// tracking as it was; an accepted one leaves a valid tracking with its key.
func FuzzUpdateTrackingBody(f *testing.F) {
	addBodies(f, "tracking")
	a := fuzzAPI()
	stored := tracking.Tracking{Slug: "dhl-germany", TrackingNumber: "00340434161094042557", DestinationCountry: "DEU",
		Emails: []string{"kim@example.com"}, SMSes: []string{"+4915112345678"}, Title: "Bestellung 77",
		OptedOut: []string{dispatcher.RecipientKey(dispatcher.ChannelEmail, "old@example.com")}}
	before := mustJSON(f, stored)
	f.Fuzz(func(t *testing.T, body []byte) {
		in, err := parseUpdate(Legacy, body)
		if err != nil {
			checkError(t, err)
			return
		}
		if in.TrackingNumber != nil {
			t.Fatal("an update may carry a tracking number")
		}
		tr := stored
		tr.Emails, tr.SMSes, tr.OptedOut = slices.Clone(stored.Emails), slices.Clone(stored.SMSes), slices.Clone(stored.OptedOut)
		if err := a.apply(&tr, in); err != nil {
			checkError(t, err)
			if got := mustJSON(t, tr); got != before {
				t.Fatalf("a rejected update changed the tracking:\n%s\n%s", before, got)
			}
			return
		}
		if tr.Slug != stored.Slug || tr.TrackingNumber != stored.TrackingNumber {
			t.Fatalf("key changed to %q %q", tr.Slug, tr.TrackingNumber)
		}
		checkTracking(t, a, tr)
	})
}

// FuzzNotificationBody: POST /notifications/{id}/add and /remove.
func FuzzNotificationBody(f *testing.F) {
	addBodies(f, "notification")
	a := fuzzAPI()
	f.Fuzz(func(t *testing.T, body []byte) {
		emails, phones, err := parseNotification(body)
		if err != nil {
			checkError(t, err)
			return
		}
		for _, country := range []string{"", "DEU"} {
			smses, err := normalizePhones("smses", phones, country)
			if err != nil {
				checkError(t, err)
				continue
			}
			if len(emails) <= a.max && len(smses) <= a.max {
				checkRecipients(t, a, emails, smses)
			}
		}
	})
}

// FuzzSuppressionBody: POST /suppressions/add and /remove.
func FuzzSuppressionBody(f *testing.F) {
	addBodies(f, "suppression")
	big := fuzzAPI()
	big.max = 1 << 20 // suppressions are not capped per tracking
	f.Fuzz(func(t *testing.T, body []byte) {
		emails, smses, err := parseSuppression(body)
		if err != nil {
			checkError(t, err)
			return
		}
		checkRecipients(t, big, emails, smses)
	})
}

// FuzzListQuery: GET /trackings?….
func FuzzListQuery(f *testing.F) {
	for _, q := range []string{"", "slug=ups", "slug=dhl-germany,ups", "keyword=bestellung", "tag=Pending", "tag=Delivered",
		"tracking_numbers=1Z999AA10123456784", "limit=1&page=2", "created_at_min=2000-01-01T00:00:00Z",
		"page=0", "page=abc", "limit=1000", "tag=Nope", "created_at_min=yesterday", "keyword=%00%0d%0a",
		"tracking_numbers=" + strings.Repeat("a,", 60), "page=1048577", "limit=-1", "created_at_max=2026-11-01T00:00:00%2B01:00"} {
		f.Add(q)
	}
	a := fuzzAPI()
	f.Fuzz(func(t *testing.T, raw string) {
		q, err := url.ParseQuery(raw)
		if err != nil {
			return // net/http answers before the handler sees it
		}
		lq, numbers, err := a.parseListQuery(Legacy, q)
		if err != nil {
			checkError(t, err)
			return
		}
		if lq.Page < 1 || lq.Page > 1<<20 || lq.Limit < 1 || lq.Limit > 200 || len(numbers) > 50 {
			t.Fatalf("query %+v, %d numbers", lq, len(numbers))
		}
		if utf8.RuneCountInString(lq.Keyword) > maxKeyword || strings.ContainsFunc(lq.Keyword, unicode.IsControl) {
			t.Fatalf("keyword %q", lq.Keyword)
		}
		for _, s := range lq.Tags {
			if !s.Valid() {
				t.Fatalf("tag %v", s)
			}
		}
	})
}

func mustJSON(tb testing.TB, v any) string {
	tb.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		tb.Fatal(err)
	}
	return string(b)
}
