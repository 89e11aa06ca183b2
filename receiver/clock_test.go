package receiver_test

import (
	"context"
	"encoding/json"
	"sync"
	"testing"
	"time"

	"github.com/trackhook/trackhook/dispatcher"
	"github.com/trackhook/trackhook/receiver/tracking"
)

// fakeClock is a clock a test sets and moves.
type fakeClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *fakeClock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *fakeClock) Add(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

// The receiver reads one clock, its store's: the outbox's timestamps, the
// sweeper's grace and the notifications' QueuedAt agree whatever instant
// the store is given (a year ahead, a year back), never the wall clock.
func TestReceiverGoesByTheStoreClock(t *testing.T) {
	for _, start := range []time.Time{
		time.Date(2027, 12, 4, 3, 0, 0, 0, time.UTC),   // a year ahead, at night
		time.Date(2025, 11, 20, 15, 0, 0, 0, time.UTC), // a year back, in the afternoon
	} {
		t.Run(start.Format("2006-01-02T15"), func(t *testing.T) {
			clock := &fakeClock{t: start}
			e := newEnv(t, func(o *tracking.Options) { o.Now = clock.Now })
			queue := e.queue
			queue.down.Store(true)
			if code, out := e.post(t, body("c1", "9400100000000000000009", "OutForDelivery", start)); code != 200 {
				t.Fatalf("%d %s", code, out)
			}
			queue.down.Store(false)
			// 29 s after the write, by the store's clock: inside a 30 s grace.
			clock.Add(29 * time.Second)
			if n, err := e.srv.Sweep(context.Background(), 30*time.Second); err != nil || n != 0 {
				t.Fatalf("sweep inside the grace period: %d jobs, %v", n, err)
			}
			clock.Add(2 * time.Second)
			if n, err := e.srv.Sweep(context.Background(), 30*time.Second); err != nil || n != 2 {
				t.Fatalf("sweep past the grace period: %d jobs, %v; want 2", n, err)
			}
			tasks, err := e.insp.ListPendingTasks(dispatcher.QueueEmail)
			if err != nil || len(tasks) != 1 {
				t.Fatalf("pending emails: %v, %v", tasks, err)
			}
			var n dispatcher.Notification
			if err := json.Unmarshal(tasks[0].Payload, &n); err != nil {
				t.Fatal(err)
			}
			if !n.QueuedAt.Equal(start) {
				t.Errorf("QueuedAt %v, want the store clock's %v", n.QueuedAt, start)
			}
		})
	}
}
