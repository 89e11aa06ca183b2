package receiver_test

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/hibiken/asynq"

	"github.com/trackhook/trackhook/dispatcher"
	"github.com/trackhook/trackhook/receiver"
	"github.com/trackhook/trackhook/receiver/redistest"
	"github.com/trackhook/trackhook/receiver/tracking"
)

// Several workers run the rules at the same moment (each worker's
// scheduler queues the tick; two may overlap): each notice is queued once.
func TestRulesFireOnceAcrossWorkers(t *testing.T) {
	rs := redistest.Start(t)
	rdb := rs.Client()
	var mu sync.Mutex
	now := time.Date(2027, 5, 12, 10, 0, 0, 0, time.UTC)
	clock := func() time.Time { mu.Lock(); defer mu.Unlock(); return now }
	deadline := func(t *tracking.Tracking, _ dispatcher.Channel, _ string) time.Time {
		return t.OccurredAt.Add(48 * time.Hour)
	}
	store := tracking.NewStore(rdb, tracking.Options{Now: clock, Stuck: deadline})
	ctx := context.Background()
	const parcels = 20
	for i := range parcels {
		_, err := store.Apply(ctx, tracking.Event{Source: "test", Slug: "dhl", TrackingNumber: "ONCE" + string(rune('A'+i)), Status: tracking.InTransit,
			OccurredAt: now.Add(-time.Hour), Emails: []string{"kim@example.com"}, SMSes: []string{"+4915112345678"}}, noPlan)
		if err != nil {
			t.Fatal(err)
		}
	}
	mu.Lock()
	now = now.Add(72 * time.Hour)
	mu.Unlock()

	const workers = 4
	var wg sync.WaitGroup
	queued := make([]int, workers)
	for w := range workers {
		client := asynq.NewClientFromRedisClient(rdb)
		r, err := receiver.NewRules(receiver.RulesConfig{Store: store, Queue: client, Stuck: deadline})
		if err != nil {
			t.Fatal(err)
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			n, err := r.Tick(ctx)
			if err != nil {
				t.Error(err)
			}
			queued[w] = n
		}()
	}
	wg.Wait()
	total := 0
	for _, n := range queued {
		total += n
	}
	tasks := pendingTasks(t, asynq.NewInspectorFromRedisClient(rdb))
	if total != 2*parcels || len(tasks) != 2*parcels {
		t.Fatalf("%d notices planned by %d workers (%v), %d queued; want %d", total, workers, queued, len(tasks), 2*parcels)
	}
	for _, n := range tasks {
		if n.Status != tracking.KindStuck {
			t.Fatalf("queued %+v", n)
		}
	}
	// And again: nothing more.
	r, _ := receiver.NewRules(receiver.RulesConfig{Store: store, Queue: asynq.NewClientFromRedisClient(rdb), Stuck: deadline})
	if n, err := r.Tick(ctx); n != 0 || err != nil {
		t.Fatalf("a later tick queued %d (%v)", n, err)
	}
}
