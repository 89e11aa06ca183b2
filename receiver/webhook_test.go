package receiver_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/hibiken/asynq"

	"github.com/trackhook/trackhook/dispatcher"
	"github.com/trackhook/trackhook/receiver"
	"github.com/trackhook/trackhook/receiver/carrier"
	"github.com/trackhook/trackhook/receiver/redistest"
	"github.com/trackhook/trackhook/receiver/source"
	"github.com/trackhook/trackhook/receiver/tracking"
	"github.com/trackhook/trackhook/signature"
)

const secret = "receiver-test-secret"

// flakyQueue fails while down is set, then passes through to asynq.
type flakyQueue struct {
	down atomic.Bool
	next receiver.Queue
}

func (q *flakyQueue) EnqueueContext(ctx context.Context, t *asynq.Task, opts ...asynq.Option) (*asynq.TaskInfo, error) {
	if q.down.Load() {
		return nil, errors.New("enqueue: connection refused")
	}
	return q.next.EnqueueContext(ctx, t, opts...)
}

type env struct {
	srv   *receiver.Server
	http  *httptest.Server
	redis *redistest.Server
	queue *flakyQueue
	insp  *asynq.Inspector
	store *tracking.Store
}

func newEnv(t *testing.T, opts ...func(*tracking.Options)) *env {
	t.Helper()
	rs := redistest.Start(t)
	rdb := rs.Client()
	client := asynq.NewClientFromRedisClient(rdb)
	v, err := signature.NewAfterShip([]string{secret})
	if err != nil {
		t.Fatal(err)
	}
	e := &env{redis: rs, queue: &flakyQueue{next: client}, insp: asynq.NewInspectorFromRedisClient(rdb), store: tracking.NewStore(rdb, storeOptions(opts))}
	e.srv, err = receiver.New(receiver.Config{
		Store: e.store, Queue: e.queue, Carriers: carrier.Default(),
		Sources: receiver.Registry{"aftership": {Verifier: v, Adapter: source.AfterShip{Carriers: carrier.Default()}}},
		Logger:  slog.New(slog.NewTextHandler(io.Discard, nil)),
	})
	if err != nil {
		t.Fatal(err)
	}
	e.http = httptest.NewServer(e.srv)
	t.Cleanup(e.http.Close)
	return e
}

func body(eventID, number, tag string, at time.Time) []byte {
	b, _ := json.Marshal(map[string]any{"event": "tracking_update", "event_id": eventID, "ts": at.Unix(),
		"msg": map[string]any{"tracking_number": number, "slug": "usps", "tag": tag, "language": "fr",
			"emails": []string{"ana@example.com"}, "smses": []string{"+33612345678"},
			"checkpoints": []map[string]any{{"checkpoint_time": at.Format(time.RFC3339), "message": tag}}}})
	return b
}

func (e *env) post(t *testing.T, b []byte) (int, string) {
	t.Helper()
	v, _ := signature.NewAfterShip([]string{secret})
	h, _ := v.Sign(b, time.Now())
	req, _ := http.NewRequest(http.MethodPost, e.http.URL+"/webhooks/aftership", bytes.NewReader(b))
	req.Header = h
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	out, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(out)
}

func (e *env) pending(t *testing.T) map[string]string {
	t.Helper()
	ids := map[string]string{}
	for _, q := range []string{dispatcher.QueueEmail, dispatcher.QueueSMS} {
		tasks, err := e.insp.ListPendingTasks(q)
		if err != nil {
			continue
		}
		for _, tk := range tasks {
			ids[tk.ID] = tk.Type
		}
	}
	return ids
}

func TestWebhookEnqueuesOneTaskPerNotification(t *testing.T) {
	e := newEnv(t)
	now := time.Now().UTC().Truncate(time.Second)
	if code, out := e.post(t, body("e1", "9400100000000000000001", "InTransit", now)); code != 200 || !strings.Contains(out, "created") {
		t.Fatalf("%d %s", code, out)
	}
	id := tracking.ID("usps", "9400100000000000000001")
	want := map[string]string{
		dispatcher.TaskID(id, "InTransit", "email", "ana@example.com"): dispatcher.TypeEmail,
		dispatcher.TaskID(id, "InTransit", "sms", "+33612345678"):      dispatcher.TypeSMS,
	}
	if got := e.pending(t); !equalMaps(got, want) {
		t.Fatalf("pending tasks %v, want %v", got, want)
	}
	// A checkpoint without a status change, and a replay: no new tasks.
	e.post(t, body("e2", "9400100000000000000001", "InTransit", now.Add(time.Hour)))
	e.post(t, body("e1", "9400100000000000000001", "InTransit", now))
	if got := e.pending(t); len(got) != 2 {
		t.Fatalf("pending tasks %v, want still 2", got)
	}
	// The payload carries what the worker needs.
	tasks, _ := e.insp.ListPendingTasks(dispatcher.QueueEmail)
	var n dispatcher.Notification
	if err := json.Unmarshal(tasks[0].Payload, &n); err != nil {
		t.Fatal(err)
	}
	if n.Language != "fr" || n.Shipment.CarrierName != "USPS" || !strings.Contains(n.Shipment.TrackingURL, "9400100000000000000001") {
		t.Fatalf("payload %+v", n)
	}
	// And the outbox is empty: nothing for the sweeper.
	if jobs, err := e.srv.Sweep(context.Background(), -time.Hour); err != nil || jobs != 0 {
		t.Fatalf("sweep after a clean enqueue: %d jobs, %v", jobs, err)
	}
}

// A process that stores the event but cannot enqueue (asynq down, or killed
// in between) leaves the jobs in the outbox; the sweeper enqueues them once.
func TestOutboxSweeperEnqueuesWhatWasLeft(t *testing.T) {
	e := newEnv(t)
	e.queue.down.Store(true)
	if code, out := e.post(t, body("e1", "9400100000000000000002", "OutForDelivery", time.Now())); code != 200 {
		t.Fatalf("%d %s", code, out)
	}
	if got := e.pending(t); len(got) != 0 {
		t.Fatalf("tasks enqueued while the queue was down: %v", got)
	}
	// Not yet past the grace period: left alone.
	if n, _ := e.srv.Sweep(context.Background(), time.Hour); n != 0 {
		t.Fatalf("sweep inside the grace period enqueued %d", n)
	}
	e.queue.down.Store(false)
	n, err := e.srv.Sweep(context.Background(), -time.Second)
	if err != nil || n != 2 {
		t.Fatalf("sweep: %d, %v; want 2", n, err)
	}
	if got := e.pending(t); len(got) != 2 {
		t.Fatalf("pending after sweep: %v", got)
	}
	if n, _ := e.srv.Sweep(context.Background(), -time.Second); n != 0 {
		t.Fatalf("second sweep enqueued %d more", n)
	}
}

func TestStatusCodes(t *testing.T) {
	e := newEnv(t)
	do := func(method, path string, b []byte, h http.Header) int {
		req, _ := http.NewRequest(method, e.http.URL+path, bytes.NewReader(b))
		for k, v := range h {
			req.Header[k] = v
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	good := body("e1", "9400100000000000000003", "InTransit", time.Now())
	v, _ := signature.NewAfterShip([]string{secret})
	signed := func(b []byte) http.Header { h, _ := v.Sign(b, time.Now()); return h }
	bad := http.Header{}
	bad.Set(signature.HeaderAfterShip, "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=")
	huge := bytes.Repeat([]byte(" "), receiver.MaxBodyBytes+1)
	for _, tc := range []struct {
		name   string
		method string
		path   string
		body   []byte
		h      http.Header
		want   int
	}{
		{"no signature", "POST", "/webhooks/aftership", good, nil, 401},
		{"wrong signature", "POST", "/webhooks/aftership", good, bad, 401},
		{"malformed", "POST", "/webhooks/aftership", []byte("{"), signed([]byte("{")), 400},
		{"too large", "POST", "/webhooks/aftership", huge, signed(huge), 413},
		{"unknown source", "POST", "/webhooks/nope", good, nil, 404},
		{"unconfigured source", "POST", "/webhooks/easypost", good, nil, 404},
		{"GET on webhook", "GET", "/webhooks/aftership", nil, nil, 405},
		{"healthz", "GET", "/healthz", nil, nil, 200},
		{"readyz", "GET", "/readyz", nil, nil, 200},
		{"good", "POST", "/webhooks/aftership", good, signed(good), 200},
	} {
		if got := do(tc.method, tc.path, tc.body, tc.h); got != tc.want {
			t.Errorf("%s: %d, want %d", tc.name, got, tc.want)
		}
	}
	if _, err := e.store.Get(context.Background(), tracking.ID("usps", "9400100000000000000003")); err != nil {
		t.Fatalf("the good webhook was not stored: %v", err)
	}
	e.redis.Stop()
	if got := do("POST", "/webhooks/aftership", body("e9", "X1", "InTransit", time.Now()), signed(body("e9", "X1", "InTransit", time.Now()))); got != 503 {
		t.Errorf("redis down: %d, want 503", got)
	}
	if got := do("GET", "/readyz", nil, nil); got != 503 {
		t.Errorf("readyz with redis down: %d, want 503", got)
	}
}

func equalMaps(a, b map[string]string) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if b[k] != v {
			return false
		}
	}
	return true
}

func storeOptions(opts []func(*tracking.Options)) tracking.Options {
	var o tracking.Options
	for _, f := range opts {
		f(&o)
	}
	return o
}
