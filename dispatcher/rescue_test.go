package dispatcher_test

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"testing"
	"time"

	"github.com/hibiken/asynq"
	"github.com/redis/go-redis/v9"

	"github.com/trackhook/trackhook/dispatcher"
	"github.com/trackhook/trackhook/receiver/redistest"
)

// leaveActive puts a queued task in the state a killed worker leaves it in:
// active, its lease run out at leaseEnd. asynq offers no call for that (a
// live server extends its leases, a stopped one hands its tasks back), so
// the test writes asynq's own keys: the pending and active lists and the
// lease set of the queue.
func leaveActive(t *testing.T, rdb *redis.Client, queue, id string, leaseEnd time.Time) {
	t.Helper()
	ctx := context.Background()
	pending, active, lease := "asynq:{"+queue+"}:pending", "asynq:{"+queue+"}:active", "asynq:{"+queue+"}:lease"
	if n, err := rdb.LRem(ctx, pending, 0, id).Result(); err != nil || n != 1 {
		t.Fatalf("task %s not pending (asynq's keys changed?): %d, %v", id, n, err)
	}
	pipe := rdb.TxPipeline()
	pipe.LPush(ctx, active, id)
	pipe.ZAdd(ctx, lease, redis.Z{Score: float64(leaseEnd.Unix()), Member: id})
	pipe.HSet(ctx, "asynq:{"+queue+"}:t:"+id, "state", "active")
	if _, err := pipe.Exec(ctx); err != nil {
		t.Fatal(err)
	}
}

func TestRescuerQueuesACopyOfWhatADeadWorkerLeft(t *testing.T) {
	rs := redistest.Start(t)
	rdb := rs.Client()
	client := asynq.NewClientFromRedisClient(rdb)
	insp := asynq.NewInspectorFromRedisClient(rdb)
	now := time.Date(2026, 11, 20, 8, 0, 0, 0, time.UTC) // the rescuer's clock, moved by hand
	r := dispatcher.NewRescuer(rdb, func() time.Time { return now }, slog.New(slog.NewTextHandler(io.Discard, nil)))
	ctx := context.Background()

	dead := notification(dispatcher.ChannelEmail, "ana@example.com", "de")
	alive := notification(dispatcher.ChannelEmail, "bo@example.com", "de")
	late := notification(dispatcher.ChannelEmail, "cy@example.com", "de")
	for _, n := range []dispatcher.Notification{dead, alive, late} {
		if _, err := client.Enqueue(task(t, n)); err != nil {
			t.Fatal(err)
		}
	}
	// asynq's leases run 30 s from their last extension, every 5 s while
	// the worker lives. The rescuer watches them by its own clock (here 40
	// s ahead of the workers': it does not matter) and takes a lease that
	// stays unextended for Silence for a dead worker's.
	workers := now.Add(-40 * time.Second)
	for _, n := range []dispatcher.Notification{dead, alive, late} {
		leaveActive(t, rdb, dispatcher.QueueEmail, n.ID(), workers.Add(30*time.Second))
	}
	if n, err := r.Rescue(ctx); err != nil || n != 0 {
		t.Fatalf("first look: %d, %v; want nothing rescued before Silence has passed", n, err)
	}
	extend := func(n dispatcher.Notification, at time.Time) {
		if err := rdb.ZAdd(ctx, "asynq:{"+dispatcher.QueueEmail+"}:lease", redis.Z{Score: float64(at.Add(30 * time.Second).Unix()), Member: n.ID()}).Err(); err != nil {
			t.Fatal(err)
		}
	}
	// 10 s on: the live worker extended its lease twice; the others have
	// not, but not for long enough.
	now = now.Add(10 * time.Second)
	extend(alive, workers.Add(10*time.Second))
	if n, err := r.Rescue(ctx); err != nil || n != 0 {
		t.Fatalf("after 10 s: %d, %v; want nothing", n, err)
	}
	// 13 s on: the live worker extended again, the late one at last; the
	// dead one never.
	now = now.Add(3 * time.Second)
	extend(alive, workers.Add(13*time.Second))
	extend(late, workers.Add(13*time.Second))
	n, err := r.Rescue(ctx)
	if err != nil || n != 1 {
		t.Fatalf("Rescue: %d, %v; want the one task whose lease went unextended for longer than Silence", n, err)
	}
	copyID := dead.ID() + dispatcher.RescueSuffix
	info, err := insp.GetTaskInfo(dispatcher.QueueEmail, copyID)
	if err != nil {
		t.Fatalf("no copy queued: %v", err)
	}
	if info.State != asynq.TaskStatePending || string(info.Payload) != string(task(t, dead).Payload()) || info.Type != dispatcher.TypeEmail {
		t.Fatalf("copy %+v: want the same notification, pending", info)
	}
	for _, n := range []dispatcher.Notification{alive, late} {
		if _, err := insp.GetTaskInfo(dispatcher.QueueEmail, n.ID()+dispatcher.RescueSuffix); !errors.Is(err, asynq.ErrTaskNotFound) {
			t.Fatalf("the task of a live worker was copied: %v", err)
		}
	}
	if !r.Rescued(dispatcher.QueueEmail, dead.ID()) || r.Rescued(dispatcher.QueueEmail, alive.ID()) {
		t.Fatal("Rescued does not tell the rescued task from the other")
	}
	// Every worker runs a rescuer: a second pass, here or elsewhere,
	// queues nothing more.
	if n, err := r.Rescue(ctx); err != nil || n != 0 {
		t.Fatalf("second Rescue: %d, %v; want 0", n, err)
	}
}

func TestRescuerWithNothingQueued(t *testing.T) {
	rs := redistest.Start(t)
	rdb := rs.Client()
	r := dispatcher.NewRescuer(rdb, nil, nil)
	if n, err := r.Rescue(context.Background()); err != nil || n != 0 {
		t.Fatalf("Rescue on empty queues: %d, %v", n, err)
	}
	rs.Stop()
	if _, err := r.Rescue(context.Background()); err == nil {
		t.Fatal("Rescue with Redis down reported no error")
	}
}

// While the rescuer cannot read Redis no worker can extend a lease either:
// it forgets what it saw and watches afresh, rather than taking every
// worker for dead when Redis is back.
func TestRescuerForgetsAcrossAnOutage(t *testing.T) {
	rdb, client, r, now := deadWorker(t)
	ctx := context.Background()
	n := notification(dispatcher.ChannelEmail, "ana@example.com", "de")
	if _, err := client.Enqueue(task(t, n)); err != nil {
		t.Fatal(err)
	}
	leaveActive(t, rdb, dispatcher.QueueEmail, n.ID(), now.Add(30*time.Second))
	if got, err := r.Rescue(ctx); err != nil || got != 0 {
		t.Fatalf("first look: %d, %v", got, err)
	}
	out, cancel := context.WithCancel(ctx)
	cancel() // Redis out of reach
	if _, err := r.Rescue(out); err == nil {
		t.Fatal("Rescue without Redis reported no error")
	}
	*now = now.Add(13 * time.Second)
	if got, err := r.Rescue(ctx); err != nil || got != 0 {
		t.Fatalf("just after the outage: %d, %v; want nothing (watching afresh)", got, err)
	}
	*now = now.Add(13 * time.Second)
	if got, err := r.Rescue(ctx); err != nil || got != 1 {
		t.Fatalf("Silence after the outage: %d, %v; want the task rescued", got, err)
	}
}

// A rescued copy goes out before the backlog queued after its original:
// its workers take it next.
func TestRescuedCopyJumpsTheQueue(t *testing.T) {
	rdb, client, r, now := deadWorker(t)
	ctx := context.Background()

	dead := notification(dispatcher.ChannelEmail, "ana@example.com", "de")
	if _, err := client.Enqueue(task(t, dead)); err != nil {
		t.Fatal(err)
	}
	leaveActive(t, rdb, dispatcher.QueueEmail, dead.ID(), now.Add(30*time.Second))
	var backlog []string
	for _, to := range []string{"bo@example.com", "cy@example.com", "di@example.com"} {
		n := notification(dispatcher.ChannelEmail, to, "de")
		if _, err := client.Enqueue(task(t, n)); err != nil {
			t.Fatal(err)
		}
		backlog = append(backlog, n.ID())
	}
	if _, err := r.Rescue(ctx); err != nil {
		t.Fatal(err)
	}
	*now = now.Add(dispatcher.Silence)
	if n, err := r.Rescue(ctx); err != nil || n != 1 {
		t.Fatalf("Rescue: %d, %v; want 1", n, err)
	}
	// A worker takes tasks off the right end of asynq's pending list.
	next, err := rdb.LIndex(ctx, "asynq:{"+dispatcher.QueueEmail+"}:pending", -1).Result()
	if err != nil || next != dead.ID()+dispatcher.RescueSuffix {
		t.Fatalf("next task: %q, %v; want the rescued copy ahead of %v", next, err, backlog)
	}
	// And a real worker does take it first.
	got := make(chan string, 4)
	srv := asynq.NewServerFromRedisClient(rdb, asynq.Config{Concurrency: 1, Queues: map[string]int{dispatcher.QueueEmail: 1},
		Logger: quietAsynq{}})
	mux := asynq.NewServeMux()
	mux.HandleFunc(dispatcher.TypeEmail, func(ctx context.Context, _ *asynq.Task) error {
		id, _ := asynq.GetTaskID(ctx)
		got <- id
		return nil
	})
	if err := srv.Start(mux); err != nil {
		t.Fatal(err)
	}
	defer srv.Shutdown()
	select {
	case id := <-got:
		if id != dead.ID()+dispatcher.RescueSuffix {
			t.Fatalf("first task processed: %s; want the rescued copy", id)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("no task processed")
	}
}

type quietAsynq struct{}

func (quietAsynq) Debug(...any) {}
func (quietAsynq) Info(...any)  {}
func (quietAsynq) Warn(...any)  {}
func (quietAsynq) Error(...any) {}
func (quietAsynq) Fatal(...any) {}

// deadWorker starts Redis with an asynq client and a rescuer whose clock is
// *now (moved by hand), for tasks left active as a killed worker leaves
// them (leaveActive).
func deadWorker(t *testing.T) (*redis.Client, *asynq.Client, *dispatcher.Rescuer, *time.Time) {
	rs := redistest.Start(t)
	rdb := rs.Client()
	now := new(time.Time)
	*now = time.Date(2026, 11, 20, 8, 0, 0, 0, time.UTC)
	r := dispatcher.NewRescuer(rdb, func() time.Time { return *now }, slog.New(slog.NewTextHandler(io.Discard, nil)))
	return rdb, asynq.NewClientFromRedisClient(rdb), r, now
}
