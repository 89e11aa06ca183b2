package trackingmore_test

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/trackhook/trackhook/receiver/redistest"
	"github.com/trackhook/trackhook/receiver/tracking"
	"github.com/trackhook/trackhook/receiver/trackingmore"
)

// call sends body to path with the given key header and returns the status
// and meta of the answer, failing unless it is TrackingMore's envelope.
func call(t *testing.T, e *env, method, path, header, body string) (int, v2Meta, string) {
	t.Helper()
	var r io.Reader
	if body != "" {
		r = strings.NewReader(body)
	}
	req, _ := http.NewRequest(method, e.url+path, r)
	req.Header.Set("Content-Type", "application/json")
	if header != "" {
		req.Header.Set(header, testKey)
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	raw, _ := io.ReadAll(res.Body)
	var env struct {
		Meta *v2Meta         `json:"meta"`
		Data json.RawMessage `json:"data"`
	}
	if err := json.Unmarshal(raw, &env); err != nil || env.Meta == nil || env.Data == nil {
		t.Fatalf("%s %s: not TrackingMore's envelope: %s", method, path, raw)
	}
	if ct := res.Header.Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
		t.Fatalf("%s %s: Content-Type %q", method, path, ct)
	}
	return res.StatusCode, *env.Meta, string(env.Data)
}

// Every error code each version answers, with a request that earns it; a
// refused request stores nothing.
func TestErrorCodes(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	if _, err := e.store.Create(ctx, tracking.Tracking{Slug: "usps", TrackingNumber: "9400100000000000000001", Title: "kept"}); err != nil {
		t.Fatal(err)
	}
	existing := tracking.ID("usps", "9400100000000000000001")
	const v2h, v4h = "Trackingmore-Api-Key", "Tracking-Api-Key"
	cases := []struct {
		name, method, path, header, body string
		status, code                     int
		mention                          string // the message names this
	}{
		// v2
		{"v2 bad key", "POST", "/v2/trackings/post", "", `{}`, 401, 4001, "Trackingmore-Api-Key"},
		{"v2 malformed JSON", "POST", "/v2/trackings/post", v2h, `{"tracking_number":`, 400, 4012, "invalid JSON"},
		{"v2 empty body", "POST", "/v2/trackings/post", v2h, ``, 400, 4012, "empty"},
		{"v2 not an object", "POST", "/v2/trackings/post", v2h, `["x"]`, 400, 4012, "JSON object"},
		{"v2 not UTF-8", "POST", "/v2/trackings/post", v2h, "{\"title\":\"\xff\"}", 400, 4012, "UTF-8"},
		{"v2 unknown field", "POST", "/v2/trackings/post", v2h, `{"tracking_number":"RP1CN","carrier_code":"china-post","emails":"a@example.com"}`, 400, 4012, "`emails`"},
		{"v2 wrong type", "POST", "/v2/trackings/post", v2h, `{"tracking_number":"RP1CN","carrier_code":"china-post","order_id":12}`, 400, 4012, "`order_id`"},
		{"v2 bad email", "POST", "/v2/trackings/post", v2h, `{"tracking_number":"RP1CN","carrier_code":"china-post","customer_email":"a@b"}`, 400, 4012, "customer_email"},
		{"v2 bad phone", "POST", "/v2/trackings/post", v2h, `{"tracking_number":"RP1CN","carrier_code":"china-post","customer_phone":"12345"}`, 400, 4012, "customer_phone"},
		{"v2 national phone, no country", "POST", "/v2/trackings/post", v2h, `{"tracking_number":"RP1CN","carrier_code":"china-post","customer_phone":"6502530000"}`, 400, 4012, "E.164"},
		{"v2 too many emails", "POST", "/v2/trackings/post", v2h, `{"tracking_number":"RP1CN","carrier_code":"china-post","customer_email":"a@x.io,b@x.io,c@x.io,d@x.io"}`, 400, 4012, "at most 3"},
		{"v2 bad lang", "POST", "/v2/trackings/post", v2h, `{"tracking_number":"RP1CN","carrier_code":"china-post","lang":"english please"}`, 400, 4012, "lang"},
		{"v2 bad country", "POST", "/v2/trackings/post", v2h, `{"tracking_number":"RP1CN","carrier_code":"china-post","destination_code":"United States"}`, 400, 4012, "destination_code"},
		{"v2 title on two lines", "POST", "/v2/trackings/post", v2h, `{"tracking_number":"RP1CN","carrier_code":"china-post","title":"a\nb"}`, 400, 4012, "title"},
		{"v2 number required", "POST", "/v2/trackings/post", v2h, `{"carrier_code":"china-post"}`, 400, 4013, "tracking_number"},
		{"v2 number blank", "POST", "/v2/trackings/post", v2h, `{"tracking_number":"  ","carrier_code":"china-post"}`, 400, 4013, "tracking_number"},
		{"v2 number invalid", "POST", "/v2/trackings/post", v2h, `{"tracking_number":"RP1\u0007CN","carrier_code":"china-post"}`, 400, 4014, "tracking_number"},
		{"v2 number too long", "POST", "/v2/trackings/post", v2h, `{"tracking_number":"` + strings.Repeat("9", 101) + `","carrier_code":"china-post"}`, 400, 4014, "100 bytes"},
		{"v2 carrier missing", "POST", "/v2/trackings/post", v2h, `{"tracking_number":"RP1CN"}`, 400, 4015, "carrier_code"},
		{"v2 carrier invalid", "POST", "/v2/trackings/post", v2h, `{"tracking_number":"RP1CN","carrier_code":"china/post"}`, 400, 4015, "carrier_code"},
		{"v2 exists", "POST", "/v2/trackings/post", v2h, `{"tracking_number":"9400 1000 0000 0000 0000 01","carrier_code":"USPS"}`, 400, 4016, "already exists"},
		{"v2 does not exist", "GET", "/v2/trackings/usps/9400100000000000000999", v2h, ``, 400, 4017, "does not exist"},
		{"v2 update does not exist", "PUT", "/v2/trackings/usps/9400100000000000000999", v2h, `{"title":"x"}`, 400, 4017, "does not exist"},
		{"v2 update other number", "PUT", "/v2/trackings/usps/9400100000000000000001", v2h, `{"tracking_number":"123","title":"x"}`, 400, 4014, "cannot change"},
		{"v2 update other carrier", "PUT", "/v2/trackings/usps/9400100000000000000001", v2h, `{"carrier_code":"fedex","title":"x"}`, 400, 4015, "cannot change"},
		{"v2 update unknown field", "PUT", "/v2/trackings/usps/9400100000000000000001", v2h, `{"title":"x","smses":["+16502530000"]}`, 400, 4012, "`smses`"},
		{"v2 update bad email", "PUT", "/v2/trackings/usps/9400100000000000000001", v2h, `{"title":"x","customer_email":"nope"}`, 400, 4012, "customer_email"},
		{"v2 update archived", "PUT", "/v2/trackings/usps/9400100000000000000001", v2h, `{"title":"x","archived":"maybe"}`, 400, 4012, "archived"},
		{"v2 status change", "PUT", "/v2/trackings/usps/9400100000000000000001", v2h, `{"title":"x","status":"4"}`, 400, 4033, "status"},
		{"v2 status change number", "PUT", "/v2/trackings/usps/9400100000000000000001", v2h, `{"status":7}`, 400, 4033, "status"},
		{"v2 bad lang in path", "GET", "/v2/trackings/usps/9400100000000000000001/english", v2h, ``, 400, 4012, "lang"},
		{"v2 batch too many", "POST", "/v2/trackings/batch", v2h, "[" + strings.TrimSuffix(strings.Repeat(`{"tracking_number":"1","carrier_code":"usps"},`, 41), ",") + "]", 400, 4020, "40"},
		{"v2 batch not an array", "POST", "/v2/trackings/batch", v2h, `{"tracking_number":"1"}`, 400, 4012, "array"},
		{"v2 list bad page", "GET", "/v2/trackings/get?page=0", v2h, ``, 400, 4012, "page"},
		{"v2 list bad time", "GET", "/v2/trackings/get?created_at_min=yesterday", v2h, ``, 400, 4012, "created_at_min"},
		{"v2 list too many numbers", "GET", "/v2/trackings/get?numbers=" + strings.Repeat("1,", 201), v2h, ``, 400, 4020, "200"},
		{"v2 no such path", "GET", "/v2/trackings/usps/1/en/x", v2h, ``, 404, 404, "no endpoint"},
		{"v2 no such method", "PATCH", "/v2/trackings/usps/9400100000000000000001", v2h, `{}`, 405, 405, "PATCH"},

		// v4
		{"v4 bad key", "POST", "/v4/trackings/create", "", `{}`, 401, 401, "Tracking-Api-Key"},
		{"v4 malformed JSON", "POST", "/v4/trackings/create", v4h, `{"tracking_number" "x"}`, 400, 400, "invalid JSON"},
		{"v4 unknown field", "POST", "/v4/trackings/create", v4h, `{"tracking_number":"1","courier_code":"usps","carrier_code":"usps"}`, 400, 4130, "`carrier_code`"},
		{"v4 wrong type", "POST", "/v4/trackings/create", v4h, `{"tracking_number":"1","courier_code":"usps","customer_email":{"a":1}}`, 400, 4130, "customer_email"},
		{"v4 bad phone", "POST", "/v4/trackings/create", v4h, `{"tracking_number":"1","courier_code":"usps","customer_sms":"+1"}`, 400, 4130, "customer_sms"},
		{"v4 exists", "POST", "/v4/trackings/create", v4h, `{"tracking_number":"9400100000000000000001","courier_code":"usps"}`, 400, 4101, "already exists"},
		{"v4 number invalid", "POST", "/v4/trackings/create", v4h, `{"tracking_number":"a/b","courier_code":"usps"}`, 400, 4110, "tracking_number"},
		{"v4 number required", "POST", "/v4/trackings/create", v4h, `{"tracking_number":"","courier_code":"usps"}`, 400, 4111, "tracking_number"},
		{"v4 courier invalid", "POST", "/v4/trackings/create", v4h, `{"tracking_number":"1","courier_code":"u s p s"}`, 400, 4120, "courier_code"},
		{"v4 courier missing", "POST", "/v4/trackings/create", v4h, `{"tracking_number":"1","courier_code":""}`, 400, 4121, "courier_code"},
		{"v4 invalid id", "PUT", "/v4/trackings/update/123", v4h, `{}`, 400, 4112, "Invalid Tracking ID"},
		{"v4 delete invalid id", "DELETE", "/v4/trackings/delete/ABC", v4h, ``, 400, 4112, "Invalid Tracking ID"},
		{"v4 does not exist", "DELETE", "/v4/trackings/delete/aaaaaaaaaaaaaaaaaaaaaaaa", v4h, ``, 400, 4102, "does not exist"},
		{"v4 update unknown field", "PUT", "/v4/trackings/update/" + existing, v4h, `{"title":"x","tracking_number":"1"}`, 400, 4130, "`tracking_number`"},
		{"v4 batch too many", "POST", "/v4/trackings/batch", v4h, "[" + strings.TrimSuffix(strings.Repeat(`{"tracking_number":"1","courier_code":"usps"},`, 41), ",") + "]", 400, 4103, "40"},
		{"v4 list bad status", "GET", "/v4/trackings/get?delivery_status=lost", v4h, ``, 400, 4130, "delivery_status"},
		{"v4 list bad date", "GET", "/v4/trackings/get?created_date_min=2024-13-01", v4h, ``, 400, 4130, "created_date_min"},
		{"v4 no such path", "POST", "/v4/trackings/retrack/" + existing, v4h, ``, 404, 404, "no endpoint"},
		{"v4 no such method", "POST", "/v4/trackings/get", v4h, `{}`, 405, 405, "POST"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			status, m, data := call(t, e, c.method, c.path, c.header, c.body)
			if status != c.status || m.Code != c.code || !strings.Contains(m.Message, c.mention) {
				t.Fatalf("got %d %+v, want %d code %d naming %q", status, m, c.status, c.code, c.mention)
			}
			wantData := "[]"
			if strings.HasPrefix(c.path, "/v4/") {
				wantData = "null"
			}
			if data != wantData {
				t.Fatalf("data = %s, want %s", data, wantData)
			}
		})
	}
	if n := e.count(t); n != 1 {
		t.Fatalf("store holds %d trackings after refused requests, want 1", n)
	}
	if st := e.get(t, "usps", "9400100000000000000001"); st.Title != "kept" {
		t.Fatalf("a refused update changed the tracking: %+v", st)
	}
}

// 429 comes from the caller's rate limiter, answered in the envelope.
func TestTooManyRequests(t *testing.T) {
	rec := httptest.NewRecorder()
	trackingmore.TooManyRequests(rec, 30)
	var env struct {
		Meta v2Meta `json:"meta"`
		Data any    `json:"data"`
	}
	if err := json.Unmarshal(rec.Body.Bytes(), &env); err != nil || rec.Code != 429 || env.Meta.Code != 429 || rec.Header().Get("Retry-After") != "30" {
		t.Fatalf("%d %v %s %q", rec.Code, err, rec.Body, rec.Header().Get("Retry-After"))
	}
}

// An unknown field is refused naming it, and nothing is stored, in every
// request that carries a tracking.
func TestUnknownFieldStoresNothing(t *testing.T) {
	e := newEnv(t)
	for _, c := range []struct{ path, header, body string }{
		{"/v2/trackings/post", "Trackingmore-Api-Key", `{"tracking_number":"RP1CN","carrier_code":"china-post","customer_email":"a@example.com","customer_emails":"b@example.com"}`},
		{"/v2/trackings/batch", "Trackingmore-Api-Key", `[{"tracking_number":"RP1CN","carrier_code":"china-post"},{"tracking_number":"RP2CN","carrier_code":"china-post","smses":"+16502530000"}]`},
		{"/v4/trackings/create", "Tracking-Api-Key", `{"tracking_number":"RP1CN","courier_code":"china-post","customer_phone":"+16502530000"}`},
		{"/v4/trackings/batch", "Tracking-Api-Key", `[{"tracking_number":"RP1CN","courier_code":"china-post"},{"tracking_number":"RP2CN","courier_code":"china-post","slug":"x"}]`},
	} {
		status, m, _ := call(t, e, "POST", c.path, c.header, c.body)
		if status != 400 || !strings.Contains(m.Message, "is not a field") || !strings.Contains(m.Message, "nothing was stored") {
			t.Fatalf("%s: %d %+v", c.path, status, m)
		}
	}
	if n := e.count(t); n != 0 {
		t.Fatalf("store holds %d trackings, want 0", n)
	}
}

// A body over the limit is 413 and stores nothing; a batch may be larger
// than a single create.
func TestBodyTooLarge(t *testing.T) {
	e := newEnv(t)
	big := `{"tracking_number":"RP1CN","carrier_code":"china-post","logistics_channel":"` + strings.Repeat("x", 64<<10) + `"}`
	for _, c := range []struct{ path, header string }{{"/v2/trackings/post", "Trackingmore-Api-Key"}, {"/v4/trackings/create", "Tracking-Api-Key"}} {
		body := big
		if strings.HasPrefix(c.path, "/v4") {
			body = strings.Replace(big, "carrier_code", "courier_code", 1)
		}
		if status, m, _ := call(t, e, "POST", c.path, c.header, body); status != 413 || m.Code != 413 {
			t.Fatalf("%s: %d %+v", c.path, status, m)
		}
	}
	if status, m, _ := call(t, e, "PUT", "/v2/trackings/china-post/RP1CN", "Trackingmore-Api-Key", big); status != 413 {
		t.Fatalf("update: %d %+v", status, m)
	}
	// 40 items of 2 KiB each: over 64 KiB, under the batch limit.
	var items []string
	for i := 0; i < 40; i++ {
		items = append(items, `{"tracking_number":"RP`+strings.Repeat("1", i+1)+`CN","carrier_code":"china-post","logistics_channel":"`+strings.Repeat("x", 2<<10)+`"}`)
	}
	status, m, _ := call(t, e, "POST", "/v2/trackings/batch", "Trackingmore-Api-Key", "["+strings.Join(items, ",")+"]")
	if status != 201 || m.Code != 201 {
		t.Fatalf("80 KiB batch: %d %+v", status, m)
	}
	huge := `[{"tracking_number":"RP9CN","carrier_code":"china-post","logistics_channel":"` + strings.Repeat("x", 1<<20) + `"}]`
	if status, m, _ := call(t, e, "POST", "/v4/trackings/batch", "Tracking-Api-Key", strings.Replace(huge, "carrier_code", "courier_code", 1)); status != 413 || m.Code != 413 {
		t.Fatalf("1 MiB batch: %d %+v", status, m)
	}
	if n := e.count(t); n != 40 {
		t.Fatalf("store holds %d trackings, want 40", n)
	}
}

// With Redis down every endpoint answers 503 in the envelope, never 2xx.
func TestStoreDown(t *testing.T) {
	// A client that does not retry, so each call fails fast.
	e := newEnvWith(t, func(rs *redistest.Server) *redis.Client {
		c := redis.NewClient(&redis.Options{Addr: rs.Addr(), MaxRetries: -1})
		t.Cleanup(func() { c.Close() })
		return c
	})
	if status, m, _ := call(t, e, "POST", "/v2/trackings/post", "Trackingmore-Api-Key", `{"tracking_number":"RP1CN","carrier_code":"china-post"}`); status != 201 {
		t.Fatalf("create: %d %+v", status, m)
	}
	e.redis.Stop()
	id := tracking.ID("china-post", "RP1CN")
	for _, c := range []struct{ method, path, header, body string }{
		{"POST", "/v2/trackings/post", "Trackingmore-Api-Key", `{"tracking_number":"RP2CN","carrier_code":"china-post"}`},
		{"GET", "/v2/trackings/china-post/RP1CN", "Trackingmore-Api-Key", ``},
		{"PUT", "/v2/trackings/china-post/RP1CN", "Trackingmore-Api-Key", `{"title":"x"}`},
		{"DELETE", "/v2/trackings/china-post/RP1CN", "Trackingmore-Api-Key", ``},
		{"POST", "/v2/trackings/batch", "Trackingmore-Api-Key", `[{"tracking_number":"RP3CN","carrier_code":"china-post"}]`},
		{"GET", "/v2/trackings/get", "Trackingmore-Api-Key", ``},
		{"GET", "/v2/trackings/get?numbers=RP1CN", "Trackingmore-Api-Key", ``},
		{"POST", "/v4/trackings/create", "Tracking-Api-Key", `{"tracking_number":"RP2CN","courier_code":"china-post"}`},
		{"GET", "/v4/trackings/get", "Tracking-Api-Key", ``},
		{"POST", "/v4/trackings/batch", "Tracking-Api-Key", `[{"tracking_number":"RP3CN","courier_code":"china-post"}]`},
		{"PUT", "/v4/trackings/update/" + id, "Tracking-Api-Key", `{"title":"x"}`},
		{"DELETE", "/v4/trackings/delete/" + id, "Tracking-Api-Key", ``},
	} {
		status, m, _ := call(t, e, c.method, c.path, c.header, c.body)
		if status != 503 || m.Code != 503 {
			t.Errorf("%s %s: %d %+v, want 503", c.method, c.path, status, m)
		}
	}
	// Validation still answers 400 first: the client's mistake is not an outage.
	if status, m, _ := call(t, e, "POST", "/v2/trackings/post", "Trackingmore-Api-Key", `{"carrier_code":"china-post"}`); status != 400 || m.Code != 4013 {
		t.Errorf("invalid request with the store down: %d %+v", status, m)
	}
	e.redis.Restart()
	// The client's pool needs a moment to dial again after its failures.
	var st tracking.Tracking
	var err error
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(100 * time.Millisecond) {
		if st, err = e.store.Get(context.Background(), id); err == nil {
			break
		}
	}
	if err != nil || st.Title != "" {
		t.Fatalf("after restart: %v %+v (a failed update must not be stored)", err, st)
	}
}
