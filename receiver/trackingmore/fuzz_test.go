package trackingmore_test

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/trackhook/trackhook/receiver/contact"
	"github.com/trackhook/trackhook/receiver/tracking"
	"github.com/trackhook/trackhook/receiver/trackingmore"
)

// memStore is an in-memory api.Trackings, so the fuzzer runs without Redis
// at full speed. It keeps deep copies, as the Redis store does.
type memStore struct {
	mu sync.Mutex
	m  map[string][]byte
	n  int64
}

func newMemStore() *memStore { return &memStore{m: map[string][]byte{}} }

func (s *memStore) put(t tracking.Tracking) {
	b, _ := json.Marshal(t)
	s.m[t.ID] = b
}

func (s *memStore) load(id string) (tracking.Tracking, bool) {
	b, ok := s.m[id]
	var t tracking.Tracking
	if ok {
		_ = json.Unmarshal(b, &t)
	}
	return t, ok
}

func (s *memStore) Create(_ context.Context, t tracking.Tracking) (tracking.Tracking, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	t.ID = tracking.ID(t.Slug, t.TrackingNumber)
	if _, ok := s.m[t.ID]; ok {
		return tracking.Tracking{}, tracking.ErrExists
	}
	if !t.Status.Valid() {
		t.Status = tracking.Pending
	}
	s.n++
	t.CreatedAt = time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC).Add(time.Duration(s.n) * time.Second)
	t.UpdatedAt = t.CreatedAt
	s.put(t)
	return t, nil
}

func (s *memStore) Get(_ context.Context, id string) (tracking.Tracking, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	t, ok := s.load(id)
	if !ok {
		return tracking.Tracking{}, tracking.ErrNotFound
	}
	return t, nil
}

func (s *memStore) Update(_ context.Context, id string, fn func(*tracking.Tracking) error) (tracking.Tracking, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	t, ok := s.load(id)
	if !ok {
		return tracking.Tracking{}, tracking.ErrNotFound
	}
	if err := fn(&t); err != nil {
		return tracking.Tracking{}, err
	}
	s.put(t)
	return t, nil
}

func (s *memStore) Delete(_ context.Context, id string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.m[id]; !ok {
		return tracking.ErrNotFound
	}
	delete(s.m, id)
	return nil
}

func (s *memStore) List(_ context.Context, q tracking.ListQuery) ([]tracking.Tracking, int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	var all []tracking.Tracking
	for id := range s.m {
		t, _ := s.load(id)
		if len(q.Tags) > 0 && !slices.Contains(q.Tags, t.Status) || len(q.Slugs) > 0 && !slices.Contains(q.Slugs, t.Slug) ||
			!q.CreatedAfter.IsZero() && t.CreatedAt.Before(q.CreatedAfter) || !q.CreatedUntil.IsZero() && t.CreatedAt.After(q.CreatedUntil) {
			continue
		}
		all = append(all, t)
	}
	sort.Slice(all, func(i, j int) bool { return all[i].CreatedAt.After(all[j].CreatedAt) })
	if q.Limit <= 0 {
		q.Limit = 100
	}
	if q.Page <= 0 {
		q.Page = 1
	}
	start := min((q.Page-1)*q.Limit, len(all))
	end := min(start+q.Limit, len(all))
	return all[start:end], len(all), nil
}

// snapshot is the whole store, to tell whether a request changed it.
func (s *memStore) snapshot() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	ids := make([]string, 0, len(s.m))
	for id := range s.m {
		ids = append(ids, id)
	}
	slices.Sort(ids)
	var b strings.Builder
	for _, id := range ids {
		b.Write(s.m[id])
	}
	return b.String()
}

// fuzzRoutes are the requests the fuzzer sends; %s is the fuzzed path
// segment, the body and query are fuzzed too.
var fuzzRoutes = []struct{ method, path, header string }{
	{"POST", "/v2/trackings/post", "Trackingmore-Api-Key"},
	{"POST", "/v2/trackings/batch", "Trackingmore-Api-Key"},
	{"PUT", "/v2/trackings/usps/%s", "Trackingmore-Api-Key"},
	{"POST", "/v2/trackings/get", "Trackingmore-Api-Key"},
	{"GET", "/v2/trackings/get", "Trackingmore-Api-Key"},
	{"GET", "/v2/trackings/%s/9400100000000000000001", "Trackingmore-Api-Key"},
	{"DELETE", "/v2/trackings/usps/%s", "Trackingmore-Api-Key"},
	{"POST", "/v4/trackings/create", "Tracking-Api-Key"},
	{"POST", "/v4/trackings/batch", "Tracking-Api-Key"},
	{"PUT", "/v4/trackings/update/%s", "Tracking-Api-Key"},
	{"GET", "/v4/trackings/get", "Tracking-Api-Key"},
	{"DELETE", "/v4/trackings/delete/%s", "Tracking-Api-Key"},
}

// FuzzRequests sends fuzzed bodies, path segments and queries to every
// request parser. It must never panic; every answer is TrackingMore's
// envelope with a known status; a refused request leaves the store as it
// was; and whatever is stored keeps the product's rules (valid, normalised
// and bounded subscribers, clean tracking numbers and text).
func FuzzRequests(f *testing.F) {
	id := tracking.ID("usps", "9400100000000000000001")
	seeds := []struct {
		route      uint8
		seg, query string
		body       string
	}{
		{0, "", "", `{"tracking_number":"RP325552475CN","carrier_code":"china-post","customer_email":"a@example.com","customer_phone":"+16502530000","lang":"en","order_id":"#1","title":"t"}`},
		{0, "", "", `{"tracking_number":"RP1CN","carrier_code":"china-post","destination_code":"us","customer_phone":"(650) 253-0000, +16502530001"}`},
		{0, "", "", `{"tracking_number":"RP1CN","carrier_code":"china-post","customer_email":["a@example.com","b@example.com"]}`},
		{0, "", "", `{"tracking_number":12,"carrier_code":null}`},
		{0, "", "", `{"tracking_number":"RP1CN","carrier_code":"china-post","unknown":1}`},
		{1, "", "", `[{"tracking_number":"A1","carrier_code":"usps"},{"tracking_number":"A1","carrier_code":"usps"},"x",{"tracking_number":"a/b","carrier_code":"usps"}]`},
		{2, "9400100000000000000001", "", `{"customer_email":"x@example.com","status":"8","archived":"true","comment":"c"}`},
		{2, "9400100000000000000001", "", `{"status":4}`},
		{3, "", "", `{"page":1,"limit":50,"lang":"","numbers":"9400100000000000000001"}`},
		{4, "", "page=1&limit=10&status=pending&created_at_min=1441314361&numbers=1,2", ""},
		{5, "usps", "", ""},
		{5, "usps", "", ""},
		{6, "9400100000000000000001", "", ""},
		{7, "", "", `{"tracking_number":"9400111899562537683144","courier_code":"usps","customer_email":"","customer_sms":"","language":"fr","note":"n","order_number":"1"}`},
		{8, "", "", `[{"tracking_number":"1","courier_code":"usps","customer_sms":"+16502530000"},{"tracking_number":"","courier_code":""}]`},
		{9, id, "", `{"courier_code_new":"","customer_name":"New","customer_email":"c@example.com"}`},
		{9, id, "", `{"courier_code_new":"fedex"}`},
		{10, "", "tracking_numbers=9400100000000000000001&delivery_status=pending&created_date_min=2020-01-01T00:00:00+00:00&items_amount=5&pages_amount=1", ""},
		{11, id, "", ""},
		{2, "..", "", `{}`},
	}
	for _, s := range seeds {
		f.Add(s.route, s.seg, s.query, []byte(s.body))
	}
	f.Fuzz(func(t *testing.T, route uint8, seg, query string, body []byte) {
		store := newMemStore()
		if _, err := store.Create(context.Background(), tracking.Tracking{Slug: "usps", TrackingNumber: "9400100000000000000001",
			Emails: []string{"a@example.com"}, OptedOut: []string{"email:b@example.com"}}); err != nil {
			t.Fatal(err)
		}
		a, err := trackingmore.New(trackingmore.Config{Store: store, Logger: quiet()})
		if err != nil {
			t.Fatal(err)
		}
		h := mount(t, a, nil)
		rt := fuzzRoutes[int(route)%len(fuzzRoutes)]
		path := "/trackingmore" + strings.Replace(rt.path, "%s", url.PathEscape(seg), 1)
		req, err := http.NewRequest(rt.method, "http://h"+path+"?"+query, bytes.NewReader(body))
		if err != nil {
			return
		}
		req.Header.Set(rt.header, testKey)
		before := store.snapshot()
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)

		if rec.Code == http.StatusMovedPermanently {
			// gorilla/mux redirects a path that is not clean ("/./",
			// "/../"); nothing of the API ran.
			if store.snapshot() != before {
				t.Fatal("a redirected request changed the store")
			}
			return
		}
		switch rec.Code {
		case 200, 201, 400, 404, 405, 413:
		default:
			t.Fatalf("status %d: %s", rec.Code, rec.Body)
		}
		var env struct {
			Meta *struct {
				Code    int    `json:"code"`
				Message string `json:"message"`
			} `json:"meta"`
			Data json.RawMessage `json:"data"`
		}
		if err := json.Unmarshal(rec.Body.Bytes(), &env); err != nil || env.Meta == nil || env.Meta.Code == 0 {
			t.Fatalf("not the envelope: %v %s", err, rec.Body)
		}
		if !utf8.ValidString(env.Meta.Message) {
			t.Fatalf("message is not UTF-8: %q", env.Meta.Message)
		}
		if rec.Code >= 400 && store.snapshot() != before {
			t.Fatalf("a refused request (%d %s) changed the store", rec.Code, env.Meta.Message)
		}
		for _, tr := range store.all() {
			checkStored(t, tr)
		}
	})
}

func (s *memStore) all() []tracking.Tracking {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []tracking.Tracking
	for id := range s.m {
		t, _ := s.load(id)
		out = append(out, t)
	}
	return out
}

// checkStored asserts the product's rules on a stored tracking.
func checkStored(t *testing.T, tr tracking.Tracking) {
	t.Helper()
	n := tr.TrackingNumber
	if n == "" || len(n) > 100 || n != strings.TrimSpace(n) || strings.ContainsAny(n, "/\x00\r\n") {
		t.Fatalf("stored tracking number %q", n)
	}
	if len(tr.Emails) > 3 || len(tr.SMSes) > 3 {
		t.Fatalf("stored %d emails and %d phones", len(tr.Emails), len(tr.SMSes))
	}
	for _, e := range tr.Emails {
		if norm, err := contact.Email(e); err != nil || norm != e {
			t.Fatalf("stored email %q", e)
		}
	}
	for _, p := range tr.SMSes {
		if norm, err := contact.Phone(p, ""); err != nil || norm != p {
			t.Fatalf("stored phone %q", p)
		}
	}
	for _, s := range []string{tr.Title, tr.OrderID, tr.OrderNumber, tr.CustomerName} {
		if strings.ContainsAny(s, "\x00\r\n") || utf8.RuneCountInString(s) > 500 || !utf8.ValidString(s) {
			t.Fatalf("stored text %q", s)
		}
	}
}
