package receiver_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/hibiken/asynq"

	"github.com/trackhook/trackhook/dispatcher/state"
	"github.com/trackhook/trackhook/receiver"
	"github.com/trackhook/trackhook/receiver/api"
	"github.com/trackhook/trackhook/receiver/carrier"
	"github.com/trackhook/trackhook/receiver/redistest"
	"github.com/trackhook/trackhook/receiver/tracking"
	"github.com/trackhook/trackhook/receiver/trackingmore"
)

const apiKey = "admin-key-1"

// sdk sends requests exactly as AfterShip's Go SDK v4 (API 2024-04) does:
// every URI ends in "?" (query after it), content-type on every request,
// date, request-id, user-agent, aftership-client and as-api-key headers,
// and bodies wrapped in {"tracking":…} or {"notification":…}.
type sdk struct {
	t    *testing.T
	base string
	key  string
}

type sdkMeta struct {
	Code    int    `json:"code"`
	Message string `json:"message"`
	Type    string `json:"type"`
}

// sdkTracking mirrors the SDK's model.Tracking fields we read, with the
// SDK's Go types (a type mismatch would fail the SDK's decode).
type sdkTracking struct {
	ID                     string            `json:"id,omitempty"`
	CreatedAt              string            `json:"created_at,omitempty"`
	UpdatedAt              string            `json:"updated_at,omitempty"`
	TrackingNumber         string            `json:"tracking_number,omitempty"`
	Slug                   string            `json:"slug,omitempty"`
	Active                 bool              `json:"active,omitempty"`
	CustomFields           map[string]string `json:"custom_fields,omitempty"`
	CustomerName           string            `json:"customer_name,omitempty"`
	TransitTime            int               `json:"transit_time,omitempty"`
	DestinationCountryIso3 string            `json:"destination_country_iso3,omitempty"`
	Emails                 []string          `json:"emails,omitempty"`
	Smses                  []string          `json:"smses,omitempty"`
	Note                   string            `json:"note,omitempty"`
	OrderId                string            `json:"order_id,omitempty"`
	OrderNumber            string            `json:"order_number,omitempty"`
	ShipmentWeight         float64           `json:"shipment_weight,omitempty"`
	Tag                    string            `json:"tag,omitempty"`
	Subtag                 string            `json:"subtag,omitempty"`
	Title                  string            `json:"title,omitempty"`
	Language               string            `json:"language,omitempty"`
	CourierTrackingLink    string            `json:"courier_tracking_link,omitempty"`
	Checkpoints            []struct {
		CheckpointTime string            `json:"checkpoint_time,omitempty"`
		Coordinate     map[string]string `json:"coordinate,omitempty"`
		Message        string            `json:"message,omitempty"`
		Tag            string            `json:"tag,omitempty"`
		Events         *struct {
			Code string `json:"code,omitempty"`
		} `json:"events,omitempty"`
	} `json:"checkpoints,omitempty"`
	FailedDeliveryAttempts int `json:"failed_delivery_attempts,omitempty"`
}

type sdkNotification struct {
	Emails []string `json:"emails,omitempty"`
	Smses  []string `json:"smses,omitempty"`
}

type sdkResponse[T any] struct {
	status int
	header http.Header
	Meta   sdkMeta `json:"meta"`
	Data   T       `json:"data"`
}

// ok is the SDK's success test: HTTP 2xx and meta.code ≤ 300.
func (r sdkResponse[T]) ok() bool { return r.status/100 == 2 && r.Meta.Code <= 300 }

func call[T any](s sdk, method, path string, query string, body any) sdkResponse[T] {
	s.t.Helper()
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			s.t.Fatal(err)
		}
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequest(method, s.base+path+"?"+query, rd)
	if err != nil {
		s.t.Fatal(err)
	}
	req.Header.Set("content-type", "application/json")
	req.Header.Set("date", time.Now().UTC().Format(http.TimeFormat))
	req.Header.Set("request-id", "3f0f3b4e-3c55-4b0c-8f0e-6f5f2c3b9a10")
	req.Header.Set("user-agent", "tracking-sdk-go/v4 (https://www.aftership.com) Go-http-client/1.1")
	req.Header.Set("aftership-client", "tracking-sdk-go/v4 (https://www.aftership.com) Go-http-client/1.1")
	if s.key != "" {
		req.Header.Set("as-api-key", s.key)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		s.t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	out := sdkResponse[T]{status: resp.StatusCode, header: resp.Header}
	// Strict like the SDK: any type mismatch inside data fails the call.
	if err := json.Unmarshal(raw, &out); err != nil {
		s.t.Fatalf("%s %s: the SDK could not decode the answer (%v): %s", method, path, err, raw)
	}
	if out.Meta.Code == 0 {
		s.t.Fatalf("%s %s: no meta.code in %s", method, path, raw)
	}
	return out
}

type trackingData struct {
	Tracking sdkTracking `json:"tracking"`
}
type notificationData struct {
	Notification sdkNotification `json:"notification"`
}
type listData struct {
	Page      int           `json:"page"`
	Limit     int           `json:"limit"`
	Count     int           `json:"count"`
	Trackings []sdkTracking `json:"trackings"`
}

func newAPIServer(t *testing.T, keys ...string) (*httptest.Server, *tracking.Store, *redistest.Server) {
	t.Helper()
	rs := redistest.Start(t)
	rdb := rs.Client()
	store := tracking.NewStore(rdb, tracking.Options{})
	a, err := api.New(api.Config{Store: store, Notifications: state.New(rdb, state.Options{TrackingKey: tracking.StateKey}), Carriers: carrier.Default(), Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		t.Fatal(err)
	}
	tm, err := trackingmore.New(trackingmore.Config{Store: store, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		t.Fatal(err)
	}
	srv, err := receiver.New(receiver.Config{Store: store, Queue: asynq.NewClientFromRedisClient(rdb), API: a, TrackingMore: tm, APIKeys: api.NewKeys(keys),
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		t.Fatal(err)
	}
	hs := httptest.NewServer(srv)
	t.Cleanup(hs.Close)
	return hs, store, rs
}

type createTracking struct {
	TrackingNumber         string            `json:"tracking_number,omitempty"`
	Slug                   string            `json:"slug,omitempty"`
	Title                  string            `json:"title,omitempty"`
	OrderId                string            `json:"order_id,omitempty"`
	OrderNumber            string            `json:"order_number,omitempty"`
	CustomerName           string            `json:"customer_name,omitempty"`
	Language               string            `json:"language,omitempty"`
	DestinationCountryIso3 string            `json:"destination_country_iso3,omitempty"`
	Emails                 []string          `json:"emails,omitempty"`
	Smses                  []string          `json:"smses,omitempty"`
	CustomFields           map[string]string `json:"custom_fields,omitempty"`
	Note                   string            `json:"note,omitempty"`
}

func TestAPIWithSDKRequests(t *testing.T) {
	hs, _, _ := newAPIServer(t, "other-key", apiKey)
	s := sdk{t: t, base: hs.URL, key: apiKey}
	const base = "/tracking/2024-04"

	created := call[trackingData](s, "POST", base+"/trackings", "", map[string]any{"tracking": createTracking{
		TrackingNumber: "1Z999AA10123456784", Slug: "UPS", Title: "Order #1001", OrderId: "4711", OrderNumber: "1001",
		CustomerName: "Ana García", Language: "es", DestinationCountryIso3: "ESP",
		Emails: []string{"ana@Example.com", "pedro@example.com"}, Smses: []string{"612 345 678"},
		CustomFields: map[string]string{"store": "madrid"}, Note: "fragile",
	}})
	if created.status != 201 || created.Meta.Code != 201 || !created.ok() {
		t.Fatalf("create: HTTP %d meta %+v", created.status, created.Meta)
	}
	tr := created.Data.Tracking
	if tr.ID != tracking.ID("ups", "1Z999AA10123456784") || tr.Slug != "ups" || tr.Tag != "Pending" || !tr.Active ||
		strings.Join(tr.Emails, ",") != "ana@example.com,pedro@example.com" || strings.Join(tr.Smses, ",") != "+34612345678" ||
		tr.CustomFields["store"] != "madrid" || tr.Language != "es" || tr.CreatedAt == "" ||
		!strings.Contains(tr.CourierTrackingLink, "1Z999AA10123456784") {
		t.Fatalf("created tracking %+v", tr)
	}
	for _, h := range []string{"X-Ratelimit-Reset", "X-Ratelimit-Remaining", "X-Ratelimit-Limit"} {
		if created.header.Get(h) != "" {
			t.Errorf("answer carries %s, which can make the SDK refuse calls", h)
		}
	}

	dup := call[struct{}](s, "POST", base+"/trackings", "", map[string]any{"tracking": createTracking{TrackingNumber: "1Z999AA10123456784", Slug: "ups"}})
	if dup.status != 400 || dup.Meta != (sdkMeta{4003, "Tracking already exists.", "BadRequest"}) {
		t.Fatalf("duplicate: %d %+v", dup.status, dup.Meta)
	}

	byID := call[trackingData](s, "GET", base+"/trackings/"+tr.ID, "", nil)
	bySlug := call[trackingData](s, "GET", base+"/trackings/ups/1Z999AA10123456784", "", nil)
	if !byID.ok() || !bySlug.ok() || byID.Data.Tracking.ID != tr.ID || bySlug.Data.Tracking.ID != tr.ID {
		t.Fatalf("get: %+v / %+v", byID.Meta, bySlug.Meta)
	}

	upd := call[trackingData](s, "PUT", base+"/trackings/"+tr.ID, "", map[string]any{"tracking": map[string]any{"title": "Pedido 1001", "smses": []string{"+34 699 111 222"}}})
	if !upd.ok() || upd.Data.Tracking.Title != "Pedido 1001" || strings.Join(upd.Data.Tracking.Smses, ",") != "+34699111222" ||
		len(upd.Data.Tracking.Emails) != 2 {
		t.Fatalf("update: %+v %+v", upd.Meta, upd.Data.Tracking)
	}

	// Notifications by id and by slug/number; both list forms accepted.
	n := call[notificationData](s, "GET", base+"/notifications/"+tr.ID, "", nil)
	if !n.ok() || len(n.Data.Notification.Emails) != 2 {
		t.Fatalf("get notification: %+v %+v", n.Meta, n.Data)
	}
	rm := call[notificationData](s, "POST", base+"/notifications/ups/1Z999AA10123456784/remove", "", map[string]any{"notification": map[string]any{"emails": []string{"pedro@example.com", "absent@example.com"}}})
	if !rm.ok() || strings.Join(rm.Data.Notification.Emails, ",") != "ana@example.com" || len(rm.Data.Notification.Smses) != 1 {
		t.Fatalf("remove: %+v %+v", rm.Meta, rm.Data)
	}
	add := call[notificationData](s, "POST", base+"/notifications/"+tr.ID+"/add", "", map[string]any{"notification": map[string]any{"emails": "luis@example.com, ana@example.com", "smses": "+34600000001"}})
	if !add.ok() || strings.Join(add.Data.Notification.Emails, ",") != "ana@example.com,luis@example.com" || len(add.Data.Notification.Smses) != 2 {
		t.Fatalf("add: %+v %+v", add.Meta, add.Data)
	}

	// A second tracking, then list with filters.
	call[trackingData](s, "POST", base+"/trackings", "", map[string]any{"tracking": createTracking{TrackingNumber: "00340434161094042557", Slug: "dhl-germany", Title: "Bestellung 77"}})
	all := call[listData](s, "GET", base+"/trackings", "", nil)
	if !all.ok() || all.Data.Count != 2 || len(all.Data.Trackings) != 2 || all.Data.Page != 1 || all.Data.Limit != 100 {
		t.Fatalf("list: %+v %+v", all.Meta, all.Data)
	}
	for _, tc := range []struct {
		query string
		want  int
	}{{"slug=ups", 1}, {"slug=dhl-germany,ups", 2}, {"keyword=bestellung", 1}, {"tag=Pending", 2}, {"tag=Delivered", 0},
		{"tracking_numbers=1Z999AA10123456784", 1}, {"limit=1&page=2", 2}, {"created_at_min=2000-01-01T00:00:00Z", 2}} {
		l := call[listData](s, "GET", base+"/trackings", tc.query, nil)
		if !l.ok() || l.Data.Count != tc.want {
			t.Errorf("list ?%s: count %d, want %d (%+v)", tc.query, l.Data.Count, tc.want, l.Meta)
		}
	}
	if l := call[listData](s, "GET", base+"/trackings", "limit=1&page=2", nil); len(l.Data.Trackings) != 1 || l.Data.Trackings[0].ID != tr.ID {
		t.Errorf("page 2 of 1: %+v (newest first, so the first tracking is on page 2)", l.Data.Trackings)
	}

	del := call[trackingData](s, "DELETE", base+"/trackings/"+tr.ID, "", nil)
	if !del.ok() || del.Data.Tracking.ID != tr.ID || del.Data.Tracking.TrackingNumber != "1Z999AA10123456784" {
		t.Fatalf("delete: %+v %+v", del.Meta, del.Data)
	}
	gone := call[struct{}](s, "GET", base+"/trackings/"+tr.ID, "", nil)
	if gone.status != 404 || gone.Meta != (sdkMeta{4004, "Tracking does not exist.", "BadRequest"}) {
		t.Fatalf("after delete: %d %+v", gone.status, gone.Meta)
	}

	// Older SDKs: /tracking/2023-10 and the legacy /v4 with aftership-api-key.
	if r := call[listData](s, "GET", "/tracking/2023-10/trackings", "", nil); !r.ok() || r.Data.Count != 1 {
		t.Fatalf("2023-10: %+v", r.Meta)
	}
	legacy := s
	legacy.key = ""
	req, _ := http.NewRequest("GET", hs.URL+"/v4/trackings", nil)
	req.Header.Set("aftership-api-key", apiKey)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Fatalf("/v4 with aftership-api-key: %d", resp.StatusCode)
	}
	req, _ = http.NewRequest("GET", hs.URL+"/tracking/2024-04/trackings", nil)
	req.Header.Set("aftership-api-key", apiKey)
	resp, _ = http.DefaultClient.Do(req)
	resp.Body.Close()
	if resp.StatusCode != 401 {
		t.Fatalf("versioned API with the legacy header: %d, want 401", resp.StatusCode)
	}
}

// TestAPIErrorEnvelopes checks every error code with its exact envelope.
func TestAPIErrorEnvelopes(t *testing.T) {
	hs, store, _ := newAPIServer(t, apiKey)
	s := sdk{t: t, base: hs.URL, key: apiKey}
	const base = "/tracking/2024-04"
	existing, err := store.Create(t.Context(), tracking.Tracking{Slug: "usps", TrackingNumber: "9400100000000000000001",
		Emails: []string{"a@example.com", "b@example.com", "c@example.com"}})
	if err != nil {
		t.Fatal(err)
	}
	before, _ := store.Get(t.Context(), existing.ID)
	raw := func(method, path, body string, key string) (int, sdkMeta) {
		req, _ := http.NewRequest(method, hs.URL+path, strings.NewReader(body))
		req.Header.Set("content-type", "application/json")
		if key != "" {
			req.Header.Set("as-api-key", key)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var env struct {
			Meta sdkMeta        `json:"meta"`
			Data map[string]any `json:"data"`
		}
		if err := json.NewDecoder(resp.Body).Decode(&env); err != nil {
			t.Fatalf("%s %s: not an envelope: %v", method, path, err)
		}
		if env.Data == nil {
			t.Errorf("%s %s: data is not an object", method, path)
		}
		return resp.StatusCode, env.Meta
	}
	create := func(tracking string) string { return `{"tracking":` + tracking + `}` }
	for _, tc := range []struct {
		name, method, path, body, key string
		http, code                    int
		typ, msg                      string
	}{
		{"no key", "GET", base + "/trackings", "", "", 401, 401, "Unauthorized", "Invalid API key."},
		{"wrong key", "GET", base + "/trackings", "", "nope", 401, 401, "Unauthorized", "Invalid API key."},
		{"invalid JSON", "POST", base + "/trackings", `{"tracking":`, apiKey, 400, 4001, "BadRequest", ""},
		{"empty body", "POST", base + "/trackings", ``, apiKey, 400, 4001, "BadRequest", ""},
		{"not an object", "POST", base + "/trackings", `[1]`, apiKey, 400, 4001, "BadRequest", ""},
		{"exists", "POST", base + "/trackings", create(`{"tracking_number":"9400100000000000000001","slug":"usps"}`), apiKey, 400, 4003, "BadRequest", "Tracking already exists."},
		{"not found by id", "GET", base + "/trackings/aaaaaaaaaaaaaaaaaaaaaaaa", "", apiKey, 404, 4004, "BadRequest", "Tracking does not exist."},
		{"not found by slug", "GET", base + "/trackings/ups/NOPE", "", apiKey, 404, 4004, "BadRequest", "Tracking does not exist."},
		{"malformed id", "GET", base + "/trackings/not-an-id", "", apiKey, 404, 4004, "BadRequest", "Tracking does not exist."},
		{"invalid number", "POST", base + "/trackings", create(`{"tracking_number":"a/b","slug":"usps"}`), apiKey, 400, 4005, "BadRequest", "The value of `tracking_number` is invalid."},
		{"tracking required", "POST", base + "/trackings", `{"trackings":{}}`, apiKey, 400, 4006, "BadRequest", "`tracking` object is required."},
		{"number required", "POST", base + "/trackings", create(`{"slug":"usps"}`), apiKey, 400, 4007, "BadRequest", "`tracking_number` is required."},
		{"bad email", "POST", base + "/trackings", create(`{"tracking_number":"X1","slug":"usps","emails":["ok@example.com","not-an-email"]}`), apiKey, 400, 4008, "BadRequest", "The value of `emails` is invalid: \"not-an-email\" (not an email address)."},
		{"bad phone", "POST", base + "/trackings", create(`{"tracking_number":"X1","slug":"usps","smses":"0151 12345678"}`), apiKey, 400, 4008, "BadRequest", "The value of `smses` is invalid: \"0151 12345678\" (not a phone number in E.164 (+ and country code))."},
		{"too many emails", "POST", base + "/trackings", create(`{"tracking_number":"X1","slug":"usps","emails":"a@x.com,b@x.com,c@x.com,d@x.com"}`), apiKey, 400, 4008, "BadRequest", ""},
		{"bad language", "POST", base + "/trackings", create(`{"tracking_number":"X1","slug":"usps","language":"klingon!"}`), apiKey, 400, 4008, "BadRequest", ""},
		{"bad country", "POST", base + "/trackings", create(`{"tracking_number":"X1","slug":"usps","destination_country_iso3":"XXX"}`), apiKey, 400, 4008, "BadRequest", ""},
		{"emails of the wrong type", "POST", base + "/trackings", create(`{"tracking_number":"X1","slug":"usps","emails":5}`), apiKey, 400, 4008, "BadRequest", "The value of `emails` is invalid: a JSON number where an array of strings or a comma-separated string is expected."},
		{"wrong type", "POST", base + "/trackings", create(`{"tracking_number":12,"slug":"usps"}`), apiKey, 400, 4008, "BadRequest", ""},
		{"invalid slug", "POST", base + "/trackings", create(`{"tracking_number":"X1","slug":"<script>"}`), apiKey, 400, 4010, "BadRequest", ""},
		{"no slug", "POST", base + "/trackings", create(`{"tracking_number":"X1"}`), apiKey, 400, 4012, "BadRequest", ""},
		{"notification required", "POST", base + "/notifications/" + existing.ID + "/add", `{"emails":["x@example.com"]}`, apiKey, 400, 4014, "BadRequest", "`notification` object is required."},
		{"fourth email", "POST", base + "/notifications/" + existing.ID + "/add", `{"notification":{"emails":["d@example.com"]}}`, apiKey, 400, 4008, "BadRequest", ""},
		{"bad email on add", "POST", base + "/notifications/" + existing.ID + "/add", `{"notification":{"emails":"x@example.com, bad"}}`, apiKey, 400, 4008, "BadRequest", ""},
		{"notification of unknown tracking", "GET", base + "/notifications/usps/NOPE", "", apiKey, 404, 4004, "BadRequest", "Tracking does not exist."},
		{"unknown route", "GET", base + "/nothing", "", apiKey, 404, 404, "NotFound", ""},
		{"wrong method", "PATCH", base + "/trackings", "", apiKey, 405, 405, "MethodNotAllowed", ""},
		{"too large", "POST", base + "/trackings", create(`{"note":"` + strings.Repeat("x", 70<<10) + `"}`), apiKey, 413, 413, "PayloadTooLarge", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			status, meta := raw(tc.method, tc.path, tc.body, tc.key)
			if status != tc.http || meta.Code != tc.code || meta.Type != tc.typ || (tc.msg != "" && meta.Message != tc.msg) {
				t.Fatalf("got HTTP %d %+v, want HTTP %d {%d %q %s}", status, meta, tc.http, tc.code, tc.msg, tc.typ)
			}
		})
	}
	after, _ := store.Get(t.Context(), existing.ID)
	if fmt.Sprint(after.Emails) != fmt.Sprint(before.Emails) || after.UpdatedAt != before.UpdatedAt {
		t.Fatalf("a rejected request changed the tracking: %v → %v", before.Emails, after.Emails)
	}
	if list, _, _ := store.List(t.Context(), tracking.ListQuery{}); len(list) != 1 {
		t.Fatalf("rejected creates stored trackings: %d", len(list))
	}
	_ = s
}

func TestAPIRefusesEverythingWithoutKeys(t *testing.T) {
	hs, _, _ := newAPIServer(t)
	for _, key := range []string{"", "anything"} {
		r := call[struct{}](sdk{t: t, base: hs.URL, key: key}, "GET", "/tracking/2024-04/trackings", "", nil)
		if r.status != 401 || r.Meta.Code != 401 {
			t.Fatalf("no keys configured, key %q: %d %+v", key, r.status, r.Meta)
		}
	}
}

func TestAPIStoreDown(t *testing.T) {
	hs, _, rs := newAPIServer(t, apiKey)
	rs.Stop()
	r := call[struct{}](sdk{t: t, base: hs.URL, key: apiKey}, "GET", "/tracking/2024-04/trackings", "", nil)
	if r.status != 503 || r.Meta.Code != 503 {
		t.Fatalf("redis down: %d %+v", r.status, r.Meta)
	}
}
