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
	r := dispatcher.NewRescuer(insp, client, slog.New(slog.NewTextHandler(io.Discard, nil)))
	ctx := context.Background()

	dead := notification(dispatcher.ChannelEmail, "ana@example.com", "de")
	alive := notification(dispatcher.ChannelEmail, "bo@example.com", "de")
	for _, n := range []dispatcher.Notification{dead, alive} {
		if _, err := client.Enqueue(task(t, n)); err != nil {
			t.Fatal(err)
		}
	}
	// One worker died ten seconds after its lease was last extended; the
	// other still holds a live lease.
	leaveActive(t, rdb, dispatcher.QueueEmail, dead.ID(), time.Now().Add(-time.Second))
	leaveActive(t, rdb, dispatcher.QueueEmail, alive.ID(), time.Now().Add(25*time.Second))

	n, err := r.Rescue(ctx)
	if err != nil || n != 1 {
		t.Fatalf("Rescue: %d, %v; want the one task whose lease ran out", n, err)
	}
	copyID := dead.ID() + dispatcher.RescueSuffix
	info, err := insp.GetTaskInfo(dispatcher.QueueEmail, copyID)
	if err != nil {
		t.Fatalf("no copy queued: %v", err)
	}
	if info.State != asynq.TaskStatePending || string(info.Payload) != string(task(t, dead).Payload()) || info.Type != dispatcher.TypeEmail {
		t.Fatalf("copy %+v: want the same notification, pending", info)
	}
	if _, err := insp.GetTaskInfo(dispatcher.QueueEmail, alive.ID()+dispatcher.RescueSuffix); !errors.Is(err, asynq.ErrTaskNotFound) {
		t.Fatalf("the task of a live worker was copied: %v", err)
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
	r := dispatcher.NewRescuer(asynq.NewInspectorFromRedisClient(rdb), asynq.NewClientFromRedisClient(rdb), nil)
	if n, err := r.Rescue(context.Background()); err != nil || n != 0 {
		t.Fatalf("Rescue on empty queues: %d, %v", n, err)
	}
	rs.Stop()
	if _, err := r.Rescue(context.Background()); err == nil {
		t.Fatal("Rescue with Redis down reported no error")
	}
}
