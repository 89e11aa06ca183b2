package receiver_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"maps"
	"mime/multipart"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/hibiken/asynq"
	"github.com/redis/go-redis/v9"

	"github.com/trackhook/trackhook/dispatcher"
	"github.com/trackhook/trackhook/dispatcher/state"
	"github.com/trackhook/trackhook/receiver"
	"github.com/trackhook/trackhook/receiver/api"
	"github.com/trackhook/trackhook/receiver/carrier"
	"github.com/trackhook/trackhook/receiver/optout"
	"github.com/trackhook/trackhook/receiver/redistest"
	"github.com/trackhook/trackhook/receiver/source"
	"github.com/trackhook/trackhook/receiver/tracking"
	"github.com/trackhook/trackhook/signature"
)

// The bad-input suite: every endpoint that takes bytes from outside (the
// signed webhook, the admin API, Twilio's inbound messages, the unsubscribe
// link) gets malformed JSON, wrong types, huge arrays, deep nesting, invalid
// UTF-8, NUL bytes, CRLF in one-line fields and 10,000-character values.
// Each must answer a 4xx that names the problem, change nothing in Redis,
// and never panic or answer 5xx, with one exception: a signed webhook is
// refused only when it means nothing, and otherwise stored cleaned (display
// text on one line and clipped, bad subscribers dropped). A good request
// after each group proves the endpoint was live, so "nothing changed" is
// not vacuous.

const (
	badSecret    = "bad-input-test-secret"
	badAPIKey    = "bad-input-api-key"
	badTwilio    = "bad-input-twilio-token"
	badPublicURL = "https://hooks.example"
)

type badEnv struct {
	hs     *httptest.Server
	rdb    *redis.Client
	store  *tracking.Store
	notify *state.Store
	as     *signature.AfterShip
	tw     *signature.Twilio
	tokens *optout.Tokens
	optout *optout.Handler
}

// newBadEnv wires one receiver with all four endpoints on a real Redis.
func newBadEnv(t *testing.T) *badEnv {
	t.Helper()
	rs := redistest.Start(t)
	rdb := rs.Client()
	discard := slog.New(slog.NewTextHandler(io.Discard, nil))
	e := &badEnv{rdb: rdb, store: tracking.NewStore(rdb, tracking.Options{})}
	var err error
	if e.as, err = signature.NewAfterShip([]string{badSecret}); err != nil {
		t.Fatal(err)
	}
	if e.tw, err = signature.NewTwilio([]string{badTwilio}); err != nil {
		t.Fatal(err)
	}
	if e.tokens, err = optout.NewTokens(bytes.Repeat([]byte("k"), optout.MinKeyLen)); err != nil {
		t.Fatal(err)
	}
	public, _ := url.Parse(badPublicURL)
	e.notify = state.New(rdb, state.Options{TrackingKey: tracking.StateKey})
	oh, err := optout.New(optout.Config{Trackings: e.store, Suppressions: e.notify, Tokens: e.tokens, PublicURL: public, Twilio: e.tw, Logger: discard})
	if err != nil {
		t.Fatal(err)
	}
	e.optout = oh
	a, err := api.New(api.Config{Store: e.store, Notifications: e.notify, Carriers: carrier.Default(), Logger: discard})
	if err != nil {
		t.Fatal(err)
	}
	srv, err := receiver.New(receiver.Config{
		Store: e.store, Queue: asynq.NewClientFromRedisClient(rdb), Carriers: carrier.Default(),
		Sources: receiver.Registry{"aftership": {Verifier: e.as, Adapter: source.AfterShip{Carriers: carrier.Default()}}},
		API:     a, APIKeys: api.NewKeys([]string{badAPIKey}), OptOut: oh, Logger: discard,
	})
	if err != nil {
		t.Fatal(err)
	}
	e.hs = httptest.NewServer(srv)
	t.Cleanup(e.hs.Close)
	return e
}

// snapshot is every key in Redis with its serialised value.
func (e *badEnv) snapshot(t *testing.T) map[string]string {
	t.Helper()
	ctx := context.Background()
	keys, err := e.rdb.Keys(ctx, "*").Result()
	if err != nil {
		t.Fatal(err)
	}
	out := make(map[string]string, len(keys))
	for _, k := range keys {
		v, err := e.rdb.Dump(ctx, k).Result()
		if err != nil {
			t.Fatalf("dump %s: %v", k, err)
		}
		out[k] = v
	}
	return out
}

// unchanged fails the test if Redis differs from before.
func (e *badEnv) unchanged(t *testing.T, before map[string]string) {
	t.Helper()
	after := e.snapshot(t)
	if !maps.Equal(before, after) {
		var diff []string
		for k := range after {
			if before[k] != after[k] {
				diff = append(diff, k)
			}
		}
		for k := range before {
			if _, ok := after[k]; !ok {
				diff = append(diff, k+" (deleted)")
			}
		}
		slices.Sort(diff)
		t.Fatalf("a rejected request changed Redis: %q", diff)
	}
}

// do sends one request and returns the status and body. A panic in a
// handler shows as a transport error (net/http drops the connection).
func (e *badEnv) do(t *testing.T, method, path string, body []byte, h http.Header) (int, string) {
	t.Helper()
	req, err := http.NewRequest(method, e.hs.URL+path, bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range h {
		req.Header[k] = v
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v (did the handler panic?)", method, path, err)
	}
	defer resp.Body.Close()
	out, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(out)
}

// webhook posts b to the AfterShip endpoint with a valid signature.
func (e *badEnv) webhook(t *testing.T, b []byte) (int, string) {
	t.Helper()
	h, err := e.as.Sign(b, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	h.Set("Content-Type", "application/json")
	return e.do(t, http.MethodPost, "/webhooks/aftership", b, h)
}

// asMsg is a signed-AfterShip body whose msg has these extra fields.
func asMsg(number, extra string) []byte { return asMsgID("evt-bad", number, extra) }

// asMsgID is asMsg with its own event id (the dedupe key).
func asMsgID(id, number, extra string) []byte {
	return []byte(`{"event":"tracking_update","event_id":"` + id + `","ts":1795000000,"msg":{"tracking_number":"` + number +
		`","slug":"usps","tag":"InTransit","emails":["kim@example.com"],"checkpoints":[{"checkpoint_time":"2026-11-20T08:00:00Z","message":"Accepted"}]` + extra + `}}`)
}

func repeatJSON(elem string, n int) string {
	return "[" + strings.TrimSuffix(strings.Repeat(elem+",", n), ",") + "]"
}

func TestBadInputWebhook(t *testing.T) {
	e := newBadEnv(t)
	long := strings.Repeat("x", 10000)
	const num = "9400100000000000000099"
	// Refused: what leaves the update meaningless (unreadable, or no
	// usable tracking number or carrier).
	for _, tc := range []struct {
		name string
		body []byte
		code int
		msg  string // the "error" the sender sees
	}{
		{"malformed JSON", []byte(`{"msg":{"tracking_number":`), 400, "malformed payload: invalid JSON: unexpected EOF"},
		{"not an object", []byte(`[1,2,3]`), 400, "malformed payload: body must be a JSON object, got JSON array"},
		{"trailing garbage", append(asMsg(num, ""), "}}"...), 400, "trailing data after the JSON object"},
		{"number of the wrong type", []byte(`{"msg":{"tracking_number":{"a":1},"slug":"usps"}}`), 400, `field "msg.tracking_number": want a string, got JSON object`},
		{"emails of the wrong type", asMsg(num, `,"smses":5`), 400, `field "msg.smses": want an array, got JSON number`},
		{"checkpoints of the wrong type", []byte(`{"msg":{"tracking_number":"1","slug":"usps","checkpoints":"x"}}`), 400, `field "msg.checkpoints": want an array, got JSON string`},
		{"ts of the wrong type", []byte(`{"ts":"yesterday","msg":{"tracking_number":"1","slug":"usps"}}`), 400, `field "ts": want a number, got JSON string`},
		{"100,000 levels of nesting", []byte(strings.Repeat("[", 100000)), 400, "invalid JSON at byte 10001: invalid character '[' exceeded max depth"},
		{"100,000 levels inside msg", []byte(`{"msg":{"emails":` + strings.Repeat("[", 100000)), 400, "exceeded max depth"},
		{"invalid UTF-8", asMsg(num, `,"customer_name":"Ana `+"\xc3\x28"+`"`), 400, "malformed payload: body is not valid UTF-8 (byte "},
		{"CRLF in the tracking number", asMsg(num+`\r\nBcc: x@evil.example`, ""), 400, "msg.tracking_number contains a line break"},
		{"NUL in the tracking number", asMsg(num+`\u0000`, ""), 400, "msg.tracking_number contains a NUL byte"},
		{"CRLF in the slug", []byte(`{"msg":{"tracking_number":"1","slug":"usps\r\nBcc: x@evil.example"}}`), 400, `msg.slug "usps-bcc:-x@evil.example" is not a carrier slug`},
		{"10,000-character tracking number", asMsg(strings.Repeat("9", 10000), ""), 400, "msg.tracking_number is 10000 bytes long, at most 100"},
		{"10,000-character slug", []byte(`{"msg":{"tracking_number":"1","slug":"` + long + `"}}`), 400, "msg.slug is 10000 bytes long, at most 64"},
		{"markup for a slug", []byte(`{"msg":{"tracking_number":"1","slug":"<img src=x>"}}`), 400, `msg.slug "<img-src=x>" is not a carrier slug`},
		{"over 1 MiB", asMsg(num, `,"note":"`+strings.Repeat("x", receiver.MaxBodyBytes)+`"`), 413, "body exceeds the size limit"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			before := e.snapshot(t)
			code, out := e.webhook(t, tc.body)
			var got struct{ Error string }
			if err := json.Unmarshal([]byte(out), &got); err != nil {
				t.Fatalf("answer %d is not JSON: %.200s", code, out)
			}
			if code != tc.code || !strings.Contains(got.Error, tc.msg) {
				t.Fatalf("answered %d %q, want %d naming %q", code, got.Error, tc.code, tc.msg)
			}
			if len(got.Error) > 300 {
				t.Errorf("error is %d bytes: it echoes the input", len(got.Error))
			}
			e.unchanged(t, before)
		})
	}
	// Kept: bad input in what is only shown is cleaned, a bad or surplus
	// subscriber dropped, surplus checkpoints cut; the update is stored.
	for i, tc := range []struct {
		name  string
		extra string // fields added to the msg
		check func(t *testing.T, tr tracking.Tracking)
	}{
		{"100,000 emails", `,"subscribed_emails":` + repeatJSON(`"a@b.cc"`, 100000), func(t *testing.T, tr tracking.Tracking) {
			if fmt.Sprint(tr.Emails) != "[kim@example.com a@b.cc]" {
				t.Fatalf("emails %q", tr.Emails)
			}
		}},
		{"100,000 phone numbers", `,"smses":` + repeatJSON(`"+1"`, 100000), func(t *testing.T, tr tracking.Tracking) {
			if len(tr.SMSes) != 0 {
				t.Fatalf("smses %q", tr.SMSes)
			}
		}},
		{"100,000 checkpoints", `,"checkpoints":` + repeatJSON(`{}`, 100000), func(t *testing.T, tr tracking.Tracking) {
			if n := len(tr.Checkpoints); n == 0 || n > tracking.DefaultPolicy.MaxCheckpoints {
				t.Fatalf("%d checkpoints", n)
			}
		}},
		{"NUL in the title", `,"title":"Order\u0000 1001"`, func(t *testing.T, tr tracking.Tracking) {
			if tr.Title != "Order 1001" {
				t.Fatalf("title %q", tr.Title)
			}
		}},
		{"NUL in a checkpoint message", `,"checkpoints":[{"checkpoint_time":"2026-11-20T08:00:00Z","message":"a\u0000"}]`, func(t *testing.T, tr tracking.Tracking) {
			if tr.Checkpoints[0].Message != "a" {
				t.Fatalf("message %q", tr.Checkpoints[0].Message)
			}
		}},
		{"CRLF in the customer name", `,"customer_name":"Ana\r\nBcc: x@evil.example"`, func(t *testing.T, tr tracking.Tracking) {
			if tr.CustomerName != "Ana Bcc: x@evil.example" {
				t.Fatalf("customer name %q", tr.CustomerName)
			}
		}},
		{"CRLF in the title", `,"title":"Order\r\nBcc: x@evil.example"`, func(t *testing.T, tr tracking.Tracking) {
			if tr.Title != "Order Bcc: x@evil.example" {
				t.Fatalf("title %q", tr.Title)
			}
		}},
		{"CRLF in the order number", `,"order_number":"1001\r\nBcc: x@evil.example"`, func(t *testing.T, tr tracking.Tracking) {
			if tr.OrderNumber != "1001 Bcc: x@evil.example" {
				t.Fatalf("order number %q", tr.OrderNumber)
			}
		}},
		{"CRLF in an email", `,"subscribed_emails":["ana@example.com\r\nBcc: x@evil.example"]`, func(t *testing.T, tr tracking.Tracking) {
			if fmt.Sprint(tr.Emails) != "[kim@example.com]" {
				t.Fatalf("emails %q", tr.Emails)
			}
		}},
		{"CRLF in a phone number", `,"smses":"+14155552671\r\nBcc: x@evil.example"`, func(t *testing.T, tr tracking.Tracking) {
			if len(tr.SMSes) != 0 {
				t.Fatalf("smses %q", tr.SMSes)
			}
		}},
		{"10,000-character title", `,"title":"` + long + `"`, func(t *testing.T, tr tracking.Tracking) {
			if tr.Title != long[:300] {
				t.Fatalf("title of %d bytes", len(tr.Title))
			}
		}},
		{"10,000-character customer name", `,"customer_name":"` + long + `"`, func(t *testing.T, tr tracking.Tracking) {
			if tr.CustomerName != long[:200] {
				t.Fatalf("customer name of %d bytes", len(tr.CustomerName))
			}
		}},
		{"10,000-character checkpoint message", `,"checkpoints":[{"checkpoint_time":"2026-11-20T08:00:00Z","message":"` + long + `"}]`, func(t *testing.T, tr tracking.Tracking) {
			if tr.Checkpoints[0].Message != long[:500] {
				t.Fatalf("message of %d bytes", len(tr.Checkpoints[0].Message))
			}
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			n := fmt.Sprintf("94001000000000000001%02d", i)
			if code, out := e.webhook(t, asMsgID("evt-kept-"+n, n, tc.extra)); code != 200 || !strings.Contains(out, "created") {
				t.Fatalf("answered %d %.300s, want 200 created", code, out)
			}
			tr, err := e.store.Get(context.Background(), tracking.ID("usps", n))
			if err != nil {
				t.Fatal(err)
			}
			tc.check(t, tr)
		})
	}
	// The endpoint is live: the same tracking, well formed, is stored.
	if code, out := e.webhook(t, asMsg(num, `,"customer_name":"Ana García","title":"Order 1001"`)); code != 200 || !strings.Contains(out, "created") {
		t.Fatalf("good webhook: %d %s", code, out)
	}
	tr, err := e.store.Get(context.Background(), tracking.ID("usps", num))
	if err != nil || tr.CustomerName != "Ana García" || fmt.Sprint(tr.Emails) != "[kim@example.com]" {
		t.Fatalf("stored %+v, %v", tr, err)
	}
}

func TestBadInputAPI(t *testing.T) {
	e := newBadEnv(t)
	ctx := context.Background()
	existing, err := e.store.Create(ctx, tracking.Tracking{Slug: "dhl-germany", TrackingNumber: "00340434161094042557",
		DestinationCountry: "DEU", Emails: []string{"kim@example.com"}, SMSes: []string{"+4915112345678"}, Title: "Bestellung 77"})
	if err != nil {
		t.Fatal(err)
	}
	const base = "/tracking/2024-04"
	create := func(fields string) string {
		return `{"tracking":{"tracking_number":"1Z999AA10123456784","slug":"ups"` + fields + `}}`
	}
	update := func(fields string) string { return `{"tracking":{` + fields + `}}` }
	long := strings.Repeat("x", 10000)
	manyEmails := make([]string, 4000)
	for i := range manyEmails {
		manyEmails[i] = fmt.Sprintf(`"a%d@b.co"`, i)
	}
	customFields := make([]string, 51)
	for i := range customFields {
		customFields[i] = fmt.Sprintf(`"k%d":"v"`, i)
	}
	tPath := base + "/trackings/" + existing.ID
	nPath := base + "/notifications/" + existing.ID + "/add"
	for _, tc := range []struct {
		name, method, path, body string
		http, code               int
		msg                      string // the meta.message, or a part of it
	}{
		{"malformed JSON", "POST", base + "/trackings", `{"tracking":{"slug":`, 400, 4001, "Invalid JSON data. Syntax error at byte 20: unexpected end of JSON input."},
		{"garbage after the object", "POST", base + "/trackings", create(``) + `}`, 400, 4001, "Invalid JSON data. Syntax error at byte 67: invalid character '}' after top-level value."},
		{"tracking of the wrong type", "POST", base + "/trackings", `{"tracking":[]}`, 400, 4008, "The value of `tracking` is invalid: a JSON array where an object is expected."},
		{"title of the wrong type", "POST", base + "/trackings", create(`,"title":5`), 400, 4008, "The value of `title` is invalid: a JSON number where a string is expected."},
		{"emails of the wrong type", "POST", base + "/trackings", create(`,"emails":{"a":"b"}`), 400, 4008, "The value of `emails` is invalid: a JSON object where an array of strings or a comma-separated string is expected."},
		{"custom field of the wrong type", "POST", base + "/trackings", create(`,"custom_fields":{"a":[1]}`), 400, 4008, "The value of `custom_fields` is invalid: a JSON array where a string is expected."},
		{"100,000 emails", "POST", base + "/trackings", create(`,"emails":` + repeatJSON(`"a@b.cc"`, 100000)), 413, 413, "The request body is too large."},
		{"4,000 emails", "POST", base + "/trackings", create(`,"emails":[` + strings.Join(manyEmails, ",") + `]`), 400, 4008, "The value of `emails` is invalid: 4000 recipients, at most 3 per tracking."},
		{"51 custom fields", "POST", base + "/trackings", create(`,"custom_fields":{` + strings.Join(customFields, ",") + `}`), 400, 4008, "The value of `custom_fields` is invalid: 51 fields, at most 50."},
		{"100,000 levels of nesting", "POST", base + "/trackings", strings.Repeat("[", 100000), 413, 413, "The request body is too large."},
		{"60,000 levels of nesting", "POST", base + "/trackings", `{"tracking":` + strings.Repeat("[", 60000), 400, 4001, "Invalid JSON data. Syntax error at byte 10012: invalid character '[' exceeded max depth."},
		{"invalid UTF-8", "POST", base + "/trackings", create(`,"customer_name":"Ana ` + "\xc3\x28" + `"`), 400, 4001, "Invalid JSON data. The body is not valid UTF-8 (byte 86)."},
		{"NUL in the title", "POST", base + "/trackings", create(`,"title":"a\u0000b"`), 400, 4008, "The value of `title` is invalid: \"a\\x00b\" (at most 500 characters on one line)."},
		{"NUL in the note", "POST", base + "/trackings", create(`,"note":"a\u0000b"`), 400, 4008, "The value of `note` is invalid: \"a\\x00b\" (at most 5000 characters, no NUL)."},
		{"NUL in a custom field", "POST", base + "/trackings", create(`,"custom_fields":{"gift":"a\u0000"}`), 400, 4008, "The value of `custom_fields.gift` is invalid"},
		{"CRLF in a custom field name", "POST", base + "/trackings", create(`,"custom_fields":{"a\r\nBcc: x":"v"}`), 400, 4008, "keys up to 100 characters on one line"},
		{"CRLF in the customer name", "POST", base + "/trackings", create(`,"customer_name":"Ana\r\nBcc: x@evil.example"`), 400, 4008, "The value of `customer_name` is invalid: \"Ana\\r\\nBcc: x@evil.example\" (at most 500 characters on one line)."},
		{"CRLF in the title", "POST", base + "/trackings", create(`,"title":"Order\r\nBcc: x@evil.example"`), 400, 4008, "The value of `title` is invalid"},
		{"CRLF in the order number", "POST", base + "/trackings", create(`,"order_number":"1\r\nBcc: x@evil.example"`), 400, 4008, "The value of `order_number` is invalid"},
		{"CRLF in the tracking number", "POST", base + "/trackings", `{"tracking":{"tracking_number":"1Z\r\nBcc: x","slug":"ups"}}`, 400, 4005, "The value of `tracking_number` is invalid."},
		{"CRLF in an email", "POST", base + "/trackings", create(`,"emails":["kim@example.com\r\nBcc: x@evil.example"]`), 400, 4008, "The value of `emails` is invalid: \"kim@example.com\\r\\nBcc: x@evil.example\" (not an email address)."},
		{"CRLF in a phone number", "POST", base + "/trackings", create(`,"smses":"+14155552671\r\nBcc: x"`), 400, 4008, "The value of `smses` is invalid: \"+14155552671\\r\\nBcc: x\" (not a phone number in E.164 (+ and country code))."},
		{"10,000-character title", "POST", base + "/trackings", create(`,"title":"` + long + `"`), 400, 4008, "(at most 500 characters on one line)."},
		{"10,000-character note", "POST", base + "/trackings", create(`,"note":"` + long + `"`), 400, 4008, "(at most 5000 characters, no NUL)."},
		{"10,000-character tracking number", "POST", base + "/trackings", `{"tracking":{"tracking_number":"` + long + `","slug":"ups"}}`, 400, 4005, "The value of `tracking_number` is invalid."},
		{"10,000-character slug", "POST", base + "/trackings", `{"tracking":{"tracking_number":"1","slug":"` + long + `"}}`, 400, 4010, "The value of `slug` is invalid: \"" + strings.Repeat("x", 100) + "…\"."},
		{"10,000-character language", "POST", base + "/trackings", create(`,"language":"` + long + `"`), 400, 4008, "(not an ISO 639-1 or BCP 47 language code)."},

		{"update: malformed JSON", "PUT", tPath, `{"tracking":`, 400, 4001, "Syntax error at byte 12: unexpected end of JSON input."},
		{"update: CRLF in the title", "PUT", tPath, update(`"title":"New\r\nBcc: x@evil.example"`), 400, 4008, "The value of `title` is invalid"},
		{"update: 10,000-character customer name", "PUT", tPath, update(`"customer_name":"` + long + `"`), 400, 4008, "The value of `customer_name` is invalid"},
		{"update: NUL in the note", "PUT", tPath, update(`"note":"\u0000"`), 400, 4008, "The value of `note` is invalid"},
		{"update: CRLF in a phone number", "PUT", tPath, update(`"smses":["0151 12345678\r\nBcc: x"]`), 400, 4008, "(not a valid phone number for DEU)."},
		{"update: invalid UTF-8", "PUT", tPath, update(`"title":"` + "\xff" + `"`), 400, 4001, "The body is not valid UTF-8 (byte 22)."},
		{"update: emails of the wrong type", "PUT", tPath, update(`"emails":true`), 400, 4008, "a JSON bool where an array of strings or a comma-separated string is expected."},

		{"notification: CRLF in an email", "POST", nPath, `{"notification":{"emails":"ana@example.com\r\nBcc: x@evil.example"}}`, 400, 4008, "(not an email address)."},
		{"notification: CRLF in a phone number", "POST", nPath, `{"notification":{"smses":["+4915112345678\r\nBcc: x"]}}`, 400, 4008, "(not a valid phone number for DEU)."},
		{"notification: 4,000 emails", "POST", nPath, `{"notification":{"emails":[` + strings.Join(manyEmails, ",") + `]}}`, 400, 4008, "The value of `emails` is invalid: 4001 recipients, at most 3 per tracking."},
		{"notification: wrong type", "POST", nPath, `{"notification":[]}`, 400, 4008, "The value of `notification` is invalid: a JSON array where an object is expected."},
		{"notification: NUL", "POST", nPath, `{"notification":{"emails":["\u0000@example.com"]}}`, 400, 4008, "(not an email address)."},

		{"suppression: CRLF in an email", "POST", base + "/suppressions/add", `{"suppression":{"emails":["kim@example.com\r\nBcc: x@evil.example"]}}`, 400, 4008, "(not an email address)."},
		{"suppression: national phone number", "POST", base + "/suppressions/add", `{"suppression":{"smses":"0151 12345678"}}`, 400, 4008, "(not a phone number in E.164 (+ and country code))."},
		{"suppression: wrong type", "POST", base + "/suppressions/add", `{"suppression":{"emails":5}}`, 400, 4008, "The value of `emails` is invalid: a JSON number"},
		{"suppression: malformed JSON", "POST", base + "/suppressions/remove", `{"suppression":{`, 400, 4001, "Invalid JSON data."},

		{"list: 10,000-character keyword", "GET", base + "/trackings?keyword=" + long, "", 400, 4008, "The value of `keyword` is invalid: \"" + strings.Repeat("x", 100) + "…\" (at most 500 characters on one line)."},
		{"list: CRLF and NUL in the keyword", "GET", base + "/trackings?keyword=a%0D%0Ab%00", "", 400, 4008, "The value of `keyword` is invalid: \"a\\r\\nb\\x00\""},
		{"list: page of the wrong type", "GET", base + "/trackings?page=two", "", 400, 4008, "The value of `page` is invalid: \"two\" (a whole number from 1 to 1048576)."},
		{"list: 60 tracking numbers", "GET", base + "/trackings?tracking_numbers=" + strings.Repeat("1,", 60), "", 400, 4008, "The value of `tracking_numbers` is invalid: 60 tracking numbers, at most 50."},
	} {
		t.Run(tc.name, func(t *testing.T) {
			before := e.snapshot(t)
			code, out := e.do(t, tc.method, tc.path, []byte(tc.body), http.Header{"As-Api-Key": {badAPIKey}, "Content-Type": {"application/json"}})
			var env struct {
				Meta struct {
					Code    int    `json:"code"`
					Message string `json:"message"`
					Type    string `json:"type"`
				} `json:"meta"`
			}
			if err := json.Unmarshal([]byte(out), &env); err != nil {
				t.Fatalf("answer %d is not an envelope: %.200s", code, out)
			}
			if code != tc.http || env.Meta.Code != tc.code || !strings.Contains(env.Meta.Message, tc.msg) {
				t.Fatalf("answered %d %+v, want %d {%d …%s…}", code, env.Meta, tc.http, tc.code, tc.msg)
			}
			if len(env.Meta.Message) > 300 {
				t.Errorf("message is %d bytes: it echoes the input", len(env.Meta.Message))
			}
			e.unchanged(t, before)
		})
	}
	// Live: a good create, update, add and suppression change what they should.
	for _, r := range []struct{ method, path, body string }{
		{"POST", base + "/trackings", create(`,"customer_name":"Ana García"`)},
		{"PUT", tPath, update(`"title":"Bestellung 78"`)},
		{"POST", nPath, `{"notification":{"smses":"0151 12345679"}}`},
		{"POST", base + "/suppressions/add", `{"suppression":{"emails":"kim@example.com"}}`},
	} {
		if code, out := e.do(t, r.method, r.path, []byte(r.body), http.Header{"As-Api-Key": {badAPIKey}}); code/100 != 2 {
			t.Fatalf("good %s %s: %d %s", r.method, r.path, code, out)
		}
	}
	tr, _ := e.store.Get(ctx, existing.ID)
	if tr.Title != "Bestellung 78" || fmt.Sprint(tr.SMSes) != "[+4915112345678 +4915112345679]" {
		t.Fatalf("after the good requests: %+v", tr)
	}
	// Limits count characters, not bytes: 500 of them in Greek is 1,000 bytes.
	greek := strings.Repeat("λ", 500)
	if code, out := e.do(t, "POST", base+"/trackings", []byte(`{"tracking":{"tracking_number":"CX500","slug":"ups","title":"`+greek+`"}}`),
		http.Header{"As-Api-Key": {badAPIKey}}); code != 201 || !strings.Contains(out, greek) {
		t.Fatalf("a 500-character Greek title: %d %.200s", code, out)
	}
}

func TestBadInputTwilioInbound(t *testing.T) {
	e := newBadEnv(t)
	form := func(from, body string) url.Values {
		return url.Values{"From": {from}, "To": {"+15005550006"}, "Body": {body}, "MessageSid": {"SM0123456789abcdef0123456789abcdef"}}
	}
	signed := func(p url.Values) (body []byte, h http.Header) {
		return []byte(p.Encode()), http.Header{"Content-Type": {"application/x-www-form-urlencoded"},
			signature.HeaderTwilio: {e.tw.Sign(badPublicURL+"/webhooks/twilio", p)}}
	}
	unsigned := http.Header{"Content-Type": {"application/x-www-form-urlencoded"}}
	for _, tc := range []struct {
		name   string
		params url.Values // signed as Twilio would; nil: raw and h are sent as they are
		raw    []byte
		h      http.Header
		code   int
		msg    string
	}{
		{name: "garbage, unsigned", raw: []byte("\x00\xff{[garbage"), h: unsigned, code: 403, msg: "forbidden"},
		{name: "garbage with a made-up signature", raw: []byte("From=%zz"), h: http.Header{"Content-Type": {"application/x-www-form-urlencoded"},
			signature.HeaderTwilio: {"AAAAAAAAAAAAAAAAAAAAAAAAAAA="}}, code: 403, msg: "forbidden"},
		{name: "JSON instead of a form", raw: []byte(`{"From":"+14155552671","Body":"STOP"}`), h: http.Header{"Content-Type": {"application/json"},
			signature.HeaderTwilio: {e.tw.Sign(badPublicURL+"/webhooks/twilio", nil)}}, code: 403, msg: "forbidden"},
		{name: "no From", params: url.Values{"Body": {"STOP"}}, code: 400, msg: "From is missing or too long"},
		{name: "10,000-character From", params: form(strings.Repeat("1", 10000), "STOP"), code: 400, msg: "From is missing or too long"},
		{name: "CRLF in From", params: form("+14155552671\r\nBcc: x@evil.example", "STOP"), code: 400, msg: "From contains control characters"},
		{name: "NUL in From", params: form("+1415555\x002671", "STOP"), code: 400, msg: "From contains control characters"},
		{name: "invalid UTF-8 in From", params: form("+1415\xff", "STOP"), code: 400, msg: "invalid UTF-8"},
		{name: "70 KiB", params: form("+14155552671", strings.Repeat("x", 70<<10)), code: 413, msg: "body too large"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			body, h := tc.raw, tc.h
			if tc.params != nil {
				body, h = signed(tc.params)
			}
			before := e.snapshot(t)
			code, out := e.do(t, http.MethodPost, "/webhooks/twilio", body, h)
			if code != tc.code || !strings.Contains(out, tc.msg) {
				t.Fatalf("answered %d %q, want %d naming %q", code, out, tc.code, tc.msg)
			}
			e.unchanged(t, before)
		})
	}
	// Not a keyword: 200 with an empty TwiML answer, nothing stored.
	before := e.snapshot(t)
	b, h := signed(form("+14155552671", "STOP\x00\r\nBcc: x"))
	if code, out := e.do(t, http.MethodPost, "/webhooks/twilio", b, h); code != 200 || !strings.Contains(out, "<Response/>") {
		t.Fatalf("garbage message: %d %s", code, out)
	}
	e.unchanged(t, before)
	// Live: a real STOP suppresses the sender.
	b, h = signed(form("+14155552671", " stop "))
	if code, out := e.do(t, http.MethodPost, "/webhooks/twilio", b, h); code != 200 {
		t.Fatalf("STOP: %d %s", code, out)
	}
	if s, err := e.notify.Suppressions(context.Background()); err != nil || len(s) != 1 || s[0].Recipient != "+14155552671" {
		t.Fatalf("after STOP: suppressions %+v, %v", s, err)
	}
}

func TestBadInputUnsubscribe(t *testing.T) {
	e := newBadEnv(t)
	ctx := context.Background()
	tr, err := e.store.Create(ctx, tracking.Tracking{Slug: "usps", TrackingNumber: "9400100000000000000042", Emails: []string{"kim@example.com"}})
	if err != nil {
		t.Fatal(err)
	}
	token := e.tokens.Make(tr.ID, dispatcher.ChannelEmail, "kim@example.com")
	formH := http.Header{"Content-Type": {"application/x-www-form-urlencoded"}}
	var mp bytes.Buffer
	mw := multipart.NewWriter(&mp)
	_ = mw.WriteField("scope", "bogus")
	_ = mw.Close()
	const bad = "This link does not work"
	for _, tc := range []struct {
		name, method, path string
		body               []byte
		h                  http.Header
		code               int
	}{
		{"garbage token", "GET", "/unsubscribe/garbage", nil, nil, 404},
		{"garbage token, POST", "POST", "/unsubscribe/garbage", []byte("List-Unsubscribe=One-Click"), formH, 404},
		{"10,000-character token", "POST", "/unsubscribe/" + strings.Repeat("A", 10000), nil, formH, 404},
		{"CRLF in the token", "GET", "/unsubscribe/" + url.PathEscape(token+"\r\nBcc: x"), nil, nil, 404},
		{"NUL in the token", "POST", "/unsubscribe/" + url.PathEscape(token[:20]+"\x00"+token[20:]), nil, formH, 404},
		{"token with one character changed", "POST", "/unsubscribe/" + token[:len(token)-2] + flip(token[len(token)-2]) + token[len(token)-1:], nil, formH, 404},
		{"unknown scope", "POST", "/unsubscribe/" + token, []byte("scope=bogus"), formH, 400},
		{"CRLF and NUL in the scope", "POST", "/unsubscribe/" + token, []byte("scope=all%0D%0ABcc:%00"), formH, 400},
		{"not a form", "POST", "/unsubscribe/" + token, []byte("scope=%zz"), formH, 400},
		{"garbage multipart", "POST", "/unsubscribe/" + token, []byte("--x\r\n\x00garbage"), http.Header{"Content-Type": {"multipart/form-data; boundary=x"}}, 400},
		{"multipart with an unknown scope", "POST", "/unsubscribe/" + token, mp.Bytes(), http.Header{"Content-Type": {mw.FormDataContentType()}}, 400},
		{"20 KiB form", "POST", "/unsubscribe/" + token, []byte("scope=all&x=" + strings.Repeat("x", 20<<10)), formH, 413},
	} {
		t.Run(tc.name, func(t *testing.T) {
			before := e.snapshot(t)
			code, out := e.do(t, tc.method, tc.path, tc.body, tc.h)
			if code != tc.code || !strings.Contains(out, bad) {
				t.Fatalf("answered %d, want %d with %q: %.300s", code, tc.code, bad, out)
			}
			e.unchanged(t, before)
		})
	}
	// Live: the real token, one click, suppresses the address.
	if code, out := e.do(t, "POST", "/unsubscribe/"+token, []byte("List-Unsubscribe=One-Click"), formH); code != 200 {
		t.Fatalf("one-click unsubscribe: %d %.300s", code, out)
	}
	if ok, _, err := e.notify.Gate(e.store).Allowed(ctx, tr.ID, dispatcher.ChannelEmail, "kim@example.com"); ok || err != nil {
		t.Fatalf("after unsubscribing the address is still allowed (%v)", err)
	}
}

// flip changes a base64url character into another one.
func flip(c byte) string {
	if c == 'A' {
		return "B"
	}
	return "A"
}
