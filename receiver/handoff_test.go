package receiver_test

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http/httptest"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/hibiken/asynq"
	"github.com/redis/go-redis/v9"

	"github.com/trackhook/trackhook/receiver"
	"github.com/trackhook/trackhook/receiver/carrier"
	"github.com/trackhook/trackhook/receiver/ratelimit"
	"github.com/trackhook/trackhook/receiver/redistest"
	"github.com/trackhook/trackhook/receiver/source"
	"github.com/trackhook/trackhook/receiver/tracking"
	"github.com/trackhook/trackhook/signature"
)

// gatedQueue holds every enqueue, while hold is set, until open is closed.
type gatedQueue struct {
	hold atomic.Bool
	open chan struct{}
	next receiver.Queue
	n    atomic.Int64
}

func (q *gatedQueue) EnqueueContext(ctx context.Context, t *asynq.Task, opts ...asynq.Option) (*asynq.TaskInfo, error) {
	if q.hold.Load() {
		<-q.open
	}
	q.n.Add(1)
	return q.next.EnqueueContext(ctx, t, opts...)
}

// roundTrips counts the round trips a client makes: each command sent
// alone, each pipeline.
type roundTrips struct {
	n     atomic.Int64
	mu    sync.Mutex
	names []string
}

func (c *roundTrips) DialHook(next redis.DialHook) redis.DialHook { return next }
func (c *roundTrips) ProcessHook(next redis.ProcessHook) redis.ProcessHook {
	return func(ctx context.Context, cmd redis.Cmder) error { c.n.Add(1); return next(ctx, cmd) }
}
func (c *roundTrips) ProcessPipelineHook(next redis.ProcessPipelineHook) redis.ProcessPipelineHook {
	return func(ctx context.Context, cmds []redis.Cmder) error {
		c.n.Add(1)
		c.mu.Lock()
		for _, cmd := range cmds {
			c.names = append(c.names, cmd.Name())
		}
		c.mu.Unlock()
		return next(ctx, cmds)
	}
}

// With Enqueuers the webhook is answered once Redis has the event and its
// outbox: a status change costs it three round trips (the rate limit, asked
// for before the body is read; the read; the write), and none for asynq.
// Close hands over whatever is still waiting.
func TestWebhookAnsweredBeforeItsJobsAreHandedOver(t *testing.T) {
	rs := redistest.Start(t)
	rdb := rs.Client()
	q := &gatedQueue{open: make(chan struct{}), next: asynq.NewClientFromRedisClient(rdb)}
	v, _ := signature.NewAfterShip([]string{secret})
	store := tracking.NewStore(rdb, tracking.Options{})
	srv, err := receiver.New(receiver.Config{
		Store: store, Queue: q, Carriers: carrier.Default(), Enqueuers: 2,
		WebhookLimit: ratelimit.New(rdb, 1000, 2000),
		Sources:      receiver.Registry{"aftership": {Verifier: v, Adapter: source.AfterShip{Carriers: carrier.Default()}}},
		Logger:       slog.New(slog.NewTextHandler(io.Discard, nil)),
	})
	if err != nil {
		t.Fatal(err)
	}
	hs := httptest.NewServer(srv)
	defer hs.Close()
	e := &env{srv: srv, http: hs, redis: rs, insp: asynq.NewInspectorFromRedisClient(rdb), store: store}

	// Warm up (the scripts loaded, a connection open) with another
	// parcel, until its jobs are handed over and acked.
	if code, out := e.post(t, body("w1", "HANDOFF0", "InTransit", time.Now())); code != 200 {
		t.Fatalf("%d %s", code, out)
	}
	waitUntil(t, func() bool {
		items, err := store.OutboxDue(context.Background(), time.Now().Add(time.Hour), 10)
		return len(e.pending(t)) == 2 && err == nil && len(items) == 1 && len(items[0].Jobs) == 0
	})
	q.hold.Store(true)

	trips := &roundTrips{}
	rdb.AddHook(trips)
	if code, out := e.post(t, body("h1", "HANDOFF1", "OutForDelivery", time.Now())); code != 200 {
		t.Fatalf("%d %s", code, out)
	}
	if got := trips.n.Load(); got != 3 {
		trips.mu.Lock()
		t.Errorf("the webhook made %d round trips to Redis before its answer, want 3 (rate limit, read, write): %v", got, trips.names)
		trips.mu.Unlock()
	}
	if got := q.n.Load(); got != 2 {
		t.Errorf("%d enqueues before the answer, want none (2 from the warm-up)", got-2)
	}
	if got := len(e.pending(t)); got != 2 {
		t.Fatalf("%d tasks pending while the queue holds them, want the warm-up's 2", got)
	}
	close(q.open)
	srv.Close()
	if got := len(e.pending(t)); got != 4 {
		t.Fatalf("%d tasks pending after Close, want 4", got)
	}
	// Acked: the sweeper finds the outboxes empty, enqueues nothing and
	// takes them off the index.
	if n, err := srv.Sweep(context.Background(), -time.Hour); err != nil || n != 0 {
		t.Fatalf("sweep after Close: %d jobs, %v; want the outbox acked", n, err)
	}
	if items, err := store.OutboxDue(context.Background(), time.Now().Add(time.Hour), 10); err != nil || len(items) != 0 {
		t.Fatalf("outbox index after a sweep: %+v, %v; want empty", items, err)
	}
}

// A dead receiver can leave more outboxes than the sweeper reads at once:
// one sweep takes them all.
func TestOneSweepTakesEveryPage(t *testing.T) {
	e := newEnv(t)
	e.queue.down.Store(true)
	const parcels = 230 // more than a page
	for i := range parcels {
		if code, out := e.post(t, body(fmt.Sprintf("p%d", i), fmt.Sprintf("PAGE%04d", i), "InTransit", time.Now())); code != 200 {
			t.Fatalf("%d %s", code, out)
		}
	}
	e.queue.down.Store(false)
	n, err := e.srv.Sweep(context.Background(), -time.Second)
	if err != nil || n != 2*parcels {
		t.Fatalf("sweep: %d jobs, %v; want %d", n, err, 2*parcels)
	}
	if items, _ := e.store.OutboxDue(context.Background(), time.Now().Add(time.Hour), 10); len(items) != 0 {
		t.Fatalf("%d outboxes left on the index after the sweep", len(items))
	}
}

func waitUntil(t *testing.T, ok func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !ok() {
		if time.Now().After(deadline) {
			t.Fatal("condition not met within 10s")
		}
		time.Sleep(10 * time.Millisecond)
	}
}
