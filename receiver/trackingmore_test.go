package receiver_test

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"slices"
	"testing"

	"github.com/hibiken/asynq"
)

// tmMeta and tmAnswer are TrackingMore's envelope as its SDKs read it
// (TrackingMore-API/trackingmore-sdk-go response.go: Meta{Code, Message}
// and Data; the v2 PHP SDK reads meta.code and meta.type).
type tmAnswer struct {
	Meta struct {
		Code    int    `json:"code"`
		Type    string `json:"type"`
		Message string `json:"message"`
	} `json:"meta"`
	Data json.RawMessage `json:"data"`
}

func tmCall(t *testing.T, base, header, key, method, path string, body any) (int, tmAnswer) {
	t.Helper()
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			t.Fatal(err)
		}
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequest(method, base+path, rd)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	if key != "" {
		req.Header.Set(header, key)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var a tmAnswer
	if err := json.NewDecoder(resp.Body).Decode(&a); err != nil {
		t.Fatalf("%s %s: %d, not TrackingMore's envelope: %v", method, path, resp.StatusCode, err)
	}
	return resp.StatusCode, a
}

// TestTrackingMoreMounted: the real server serves TrackingMore's API under
// /trackingmore with its key headers and envelope, on the trackings and
// subscribers the AfterShip-compatible API sees, and a status change of a
// tracking created there notifies its TrackingMore subscribers in the
// language TrackingMore's lang set.
func TestTrackingMoreMounted(t *testing.T) {
	hs, _, rs := newAPIServer(t, apiKey)
	ins := asynq.NewInspectorFromRedisClient(rs.Client())
	const v2 = "Trackingmore-Api-Key"

	// The key: missing or wrong is TrackingMore's 4001 in its envelope.
	for _, key := range []string{"", "wrong"} {
		if st, a := tmCall(t, hs.URL, v2, key, "POST", "/trackingmore/v2/trackings/post", map[string]string{
			"tracking_number": "1Z999AA10123456784", "carrier_code": "ups"}); st != 401 || a.Meta.Code != 4001 {
			t.Fatalf("key %q: %d %+v", key, st, a.Meta)
		}
	}
	// An AfterShip key header is not a TrackingMore one.
	if st, a := tmCall(t, hs.URL, "as-api-key", apiKey, "GET", "/trackingmore/v4/trackings/get", nil); st != 401 || a.Meta.Code != 401 {
		t.Fatalf("as-api-key on TrackingMore: %d %+v", st, a.Meta)
	}

	st, a := tmCall(t, hs.URL, v2, apiKey, "POST", "/trackingmore/v2/trackings/post", map[string]string{
		"tracking_number": "1Z999AA10123456784", "carrier_code": "ups", "title": "Blue mug", "order_id": "#1001",
		"customer_name": "Kim Schmidt", "customer_email": "kim@example.com", "customer_phone": "+49 151 23456789", "lang": "de"})
	if st != 201 || a.Meta.Code != 201 {
		t.Fatalf("v2 create: %d %+v %s", st, a.Meta, a.Data)
	}

	var created struct {
		ID string `json:"id"`
	}
	if err := json.Unmarshal(a.Data, &created); err != nil || created.ID == "" {
		t.Fatalf("v2 create answered %s (%v)", a.Data, err)
	}

	// The same tracking through the AfterShip-compatible API, both views.
	s := sdk{t: t, base: hs.URL, key: apiKey}
	got := call[sdkTracking2025](s, "GET", "/tracking/2025-07/trackings/"+created.ID, "", nil)
	if !got.ok() || got.Data.Title != "Blue mug" || got.Data.OrderID != "#1001" || len(got.Data.Customers) != 2 ||
		got.Data.Customers[0].Email != "kim@example.com" || got.Data.Customers[1].PhoneNumber != "+4915123456789" ||
		got.Data.Language != "de" {
		t.Fatalf("the TrackingMore tracking seen through /tracking/2025-07: %+v %+v", got.Meta, got.Data)
	}
	id := got.Data.ID

	// v4 reads it by id; the v4 key header works too.
	st, a = tmCall(t, hs.URL, "Tracking-Api-Key", apiKey, "GET", "/trackingmore/v4/trackings/get?tracking_numbers=1Z999AA10123456784", nil)
	if st != 200 || a.Meta.Code != 200 || !bytes.Contains(a.Data, []byte(`"`+id+`"`)) {
		t.Fatalf("v4 list: %d %+v %s", st, a.Meta, a.Data)
	}

	// Wrong method and unknown path: TrackingMore's envelope, not AfterShip's.
	if st, a := tmCall(t, hs.URL, v2, apiKey, "PATCH", "/trackingmore/v2/trackings/post", nil); st != 405 || a.Meta.Code != 405 {
		t.Fatalf("PATCH: %d %+v", st, a.Meta)
	}
	if st, a := tmCall(t, hs.URL, v2, apiKey, "GET", "/trackingmore/v2/carriers", nil); st != 404 || a.Meta.Code != 404 {
		t.Fatalf("unknown path: %d %+v", st, a.Meta)
	}

	// A status change notifies the subscribers TrackingMore gave, in German.
	done := call[sdkTracking2025](s, "POST", "/tracking/2025-07/trackings/"+id+"/mark-as-completed", "", sdkMarkCompleted{Reason: "DELIVERED"})
	if !done.ok() {
		t.Fatalf("mark as completed: %+v", done.Meta)
	}
	var to []string
	for _, n := range pendingTasks(t, ins) {
		if n.TrackingID != id || n.Status != "Delivered" || n.Language != "de" {
			t.Errorf("queued %+v", n)
		}
		to = append(to, n.Recipient)
	}
	slices.Sort(to)
	if !slices.Equal(to, []string{"+4915123456789", "kim@example.com"}) {
		t.Fatalf("notified %v", to)
	}

	// Deleted through TrackingMore: gone for AfterShip too.
	if st, a := tmCall(t, hs.URL, v2, apiKey, "DELETE", "/trackingmore/v2/trackings/ups/1Z999AA10123456784", nil); st != 200 || a.Meta.Code != 200 {
		t.Fatalf("v2 delete: %d %+v", st, a.Meta)
	}
	if gone := call[sdkTracking2025](s, "GET", "/tracking/2025-07/trackings/"+id, "", nil); gone.status != 404 {
		t.Fatalf("after a TrackingMore delete: %d", gone.status)
	}
}
