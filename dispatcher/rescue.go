package dispatcher

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"strings"
	"sync"
	"time"

	"github.com/hibiken/asynq"
	"github.com/redis/go-redis/v9"
)

// RescueSuffix ends the task id of a rescued copy (Rescuer).
const RescueSuffix = "+rescued"

// Rescuer puts the notifications a dead worker was sending back in the
// queue soon after it died.
//
// asynq leases each active task to its worker for 30 seconds and extends
// the lease to 30 seconds from now at every heartbeat, every 5 seconds,
// while the worker lives. When the worker dies, asynq's own recoverer takes
// the task back only once the lease has been expired for another 30
// seconds, and looks only once a minute, so the work of a killed process
// waits up to two minutes (a constant in asynq; hibiken/asynq#1030).
//
// The rescuer looks every few seconds at the leases of the active tasks and
// remembers, by its own clock, since when each has kept its end: a lease
// that has not been extended for Silence (12 seconds: two heartbeats missed
// and more), which no live worker lets happen, is a dead worker's. It
// queues a copy of each such task under its own id (the original's plus
// RescueSuffix) at the head of the queue, since its notification was due
// before whatever was queued after it: 12 to 17 seconds after the kill the
// copy is the next task a worker takes, whatever the backlog. The original
// is recovered by asynq later and, the notification being in the ledger by
// then, sends nothing: the handler's ledger check, keyed by the
// notification and not by the task, makes the copy and the original one
// delivery. Every worker runs a rescuer; the copy's fixed id
// makes them agree.
//
// Watching for a change rather than comparing a lease's end with the clock
// keeps the rescuer right when hosts' clocks differ; and when the rescuer
// cannot read Redis it forgets what it saw, so an outage (during which no
// worker can extend a lease either) is not taken for the death of every
// worker. A worker alive but unable to reach Redis, or starved of CPU, for
// longer than Silence while the rescuer can would have its task copied
// while it still runs: the ledger keeps the two from both sending unless
// they race, which is the at-least-once bound the README documents.
//
// It reads the queue's lease set, asynq's key "asynq:{<queue>}:lease"
// (member: task id, score: the lease's end in Unix seconds), which asynq's
// inspector does not show; the rescuer's tests fail if asynq changes it.
type Rescuer struct {
	rdb    redis.UniversalClient
	insp   *asynq.Inspector
	client *asynq.Client
	log    *slog.Logger
	now    func() time.Time

	mu   sync.Mutex
	seen map[string]leaseSeen // by queue + "/" + task id
}

// leaseSeen is a lease's end as the rescuer last saw it, and since when (by
// the rescuer's clock) it has been that.
type leaseSeen struct {
	end   float64
	since time.Time
}

// Silence is how long a lease goes without being extended before the
// rescuer takes its worker for dead.
const Silence = 12 * time.Second

// NewRescuer returns a rescuer over the notify queues in rdb, asynq's
// Redis. now is the clock the leases are compared with (nil: time.Now);
// asynq writes them from the worker's clock.
func NewRescuer(rdb redis.UniversalClient, now func() time.Time, log *slog.Logger) *Rescuer {
	if log == nil {
		log = slog.Default()
	}
	if now == nil {
		now = time.Now
	}
	return &Rescuer{rdb: rdb, insp: asynq.NewInspectorFromRedisClient(rdb), client: asynq.NewClientFromRedisClient(rdb), log: log, now: now,
		seen: map[string]leaseSeen{}}
}

// Close releases the rescuer's asynq client (not rdb).
func (r *Rescuer) Close() error { return r.client.Close() }

// Rescue queues a copy of every notify task whose lease it has seen go
// unextended for Silence.
// It returns how many copies it queued (a copy another rescuer queued
// first is not counted).
func (r *Rescuer) Rescue(ctx context.Context) (int, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	n := 0
	var errs []error
	now := r.now()
	for _, q := range []string{QueueEmail, QueueSMS} {
		leases, err := r.rdb.ZRangeWithScores(ctx, "asynq:{"+q+"}:lease", 0, -1).Result()
		if err != nil {
			// No worker can extend its lease while Redis is out of reach
			// either: start watching afresh once it is back.
			clear(r.seen)
			errs = append(errs, fmt.Errorf("leases of %s: %w", q, err))
			continue
		}
		current := make(map[string]bool, len(leases))
		for _, l := range leases {
			id, _ := l.Member.(string)
			key := q + "/" + id
			current[key] = true
			prev, ok := r.seen[key]
			if !ok || prev.end != l.Score {
				r.seen[key] = leaseSeen{end: l.Score, since: now}
				continue
			}
			if now.Sub(prev.since) < Silence {
				continue
			}
			t, err := r.insp.GetTaskInfo(q, id)
			if err != nil || t.State != asynq.TaskStateActive {
				continue // gone or handed back meanwhile
			}
			ok, err = r.copy(ctx, t)
			if err != nil {
				errs = append(errs, err)
				continue
			}
			if ok {
				n++
				r.log.Info("rescued a notification its worker left when it died", "task_id", t.ID, "queue", q)
			}
		}
		for key := range r.seen {
			if strings.HasPrefix(key, q+"/") && !current[key] {
				delete(r.seen, key)
			}
		}
	}
	return n, errors.Join(errs...)
}

// copy queues t's copy; false if it is queued (or was) already.
func (r *Rescuer) copy(ctx context.Context, t *asynq.TaskInfo) (bool, error) {
	// A copy that is itself left behind gets a copy of its own.
	id := t.ID + RescueSuffix
	task, err := RebuildTask(t.Type, id, t.Payload)
	if err != nil {
		// Not a notify task of ours: leave it to asynq's recoverer.
		return false, nil
	}
	_, err = r.client.EnqueueContext(ctx, task)
	switch {
	case errors.Is(err, asynq.ErrTaskIDConflict):
		return false, nil
	case err != nil:
		return false, fmt.Errorf("rescue %s: %w", t.ID, err)
	}
	// The copy is at the back of the queue; its notification was due
	// before everything queued since. Put it first: a dead worker's
	// messages then go out within seconds of the rescue, not after the
	// backlog. A failure here only leaves the copy where it is.
	if err := jumpQueue.Run(ctx, r.rdb, []string{"asynq:{" + t.Queue + "}:pending"}, id).Err(); err != nil {
		r.log.Warn("rescued copy stays at the back of the queue", "task_id", t.ID, "err", err)
	}
	return true, nil
}

// jumpQueue moves a pending task to the end of asynq's pending list that
// its workers take from next (asynq pushes on the left, and its dequeue
// pops from the right), if it is still pending there.
//
// KEYS[1] asynq:{<queue>}:pending; ARGV[1] the task id.
var jumpQueue = redis.NewScript(`
if redis.call("LREM", KEYS[1], 1, ARGV[1]) == 1 then
  return redis.call("RPUSH", KEYS[1], ARGV[1])
end
return 0
`)

// Rescued reports whether the task with this id was rescued: its copy is
// queued, running or done. The original, recovered by asynq after its
// copy, then has nothing to do. An error (Redis unreachable) says no: the
// ledger still keeps the two from both sending, but for a race.
func (r *Rescuer) Rescued(queue, taskID string) bool {
	_, err := r.insp.GetTaskInfo(queue, taskID+RescueSuffix)
	return err == nil
}

// Run calls Rescue every interval (with jitter) until ctx ends.
func (r *Rescuer) Run(ctx context.Context, interval time.Duration) {
	for {
		d := interval/2 + time.Duration(rand.Int64N(int64(interval)))
		select {
		case <-ctx.Done():
			return
		case <-time.After(d):
		}
		if _, err := r.Rescue(ctx); err != nil && ctx.Err() == nil {
			r.log.Warn("rescuing the tasks of dead workers failed", "err", err)
		}
	}
}
