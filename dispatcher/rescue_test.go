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
	now := time.Date(2026, 11, 20, 8, 0, 0, 0, time.UTC) // the leases below are written for this instant
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
	// the worker lives. One was last extended 15 s ago (its worker died:
	// longer than Silence), one 3 s ago (alive), one 10 s ago (two
	// heartbeats late: not yet taken for dead).
	leaveActive(t, rdb, dispatcher.QueueEmail, dead.ID(), now.Add(15*time.Second))
	leaveActive(t, rdb, dispatcher.QueueEmail, alive.ID(), now.Add(27*time.Second))
	leaveActive(t, rdb, dispatcher.QueueEmail, late.ID(), now.Add(20*time.Second))

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
