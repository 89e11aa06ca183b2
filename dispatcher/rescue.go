package dispatcher

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"time"

	"github.com/hibiken/asynq"
)

// RescueSuffix ends the task id of a rescued copy (Rescuer).
const RescueSuffix = "+rescued"

// Rescuer puts the notifications a dead worker was sending back in the
// queue as soon as its lease on them has run out.
//
// asynq leases each active task to its worker for 30 seconds and extends
// the lease while the worker lives. When the worker dies, asynq's own
// recoverer takes the task back only once the lease has been expired for
// another 30 seconds, and looks only once a minute, so the work of a killed
// process waits up to two minutes (a constant in asynq; hibiken/asynq#1030).
// The rescuer looks every few seconds and, for each task whose lease has
// run out, queues a copy under its own id (the original's plus
// RescueSuffix); the copy goes out at once. The original is recovered by
// asynq later and, the notification being in the ledger by then, sends
// nothing: the handler's ledger check, keyed by the notification and not by
// the task, makes the copy and the original one delivery. Every worker runs
// a rescuer; the copy's fixed id makes them agree.
type Rescuer struct {
	insp   *asynq.Inspector
	client *asynq.Client
	log    *slog.Logger
}

// NewRescuer returns a rescuer over the notify queues.
func NewRescuer(insp *asynq.Inspector, client *asynq.Client, log *slog.Logger) *Rescuer {
	if log == nil {
		log = slog.Default()
	}
	return &Rescuer{insp: insp, client: client, log: log}
}

// Rescue queues a copy of every notify task whose worker's lease ran out.
// It returns how many copies it queued (a copy another rescuer queued
// first is not counted).
func (r *Rescuer) Rescue(ctx context.Context) (int, error) {
	n := 0
	var errs []error
	for _, q := range []string{QueueEmail, QueueSMS} {
		for page := 1; ; page++ {
			tasks, err := r.insp.ListActiveTasks(q, asynq.PageSize(500), asynq.Page(page))
			if err != nil {
				if !errors.Is(err, asynq.ErrQueueNotFound) {
					errs = append(errs, fmt.Errorf("list active tasks of %s: %w", q, err))
				}
				break
			}
			for _, t := range tasks {
				if !t.IsOrphaned {
					continue
				}
				ok, err := r.copy(ctx, t)
				if err != nil {
					errs = append(errs, err)
					continue
				}
				if ok {
					n++
					r.log.Info("rescued a notification its worker left when it died", "task_id", t.ID, "queue", q)
				}
			}
			if len(tasks) < 500 {
				break
			}
		}
	}
	return n, errors.Join(errs...)
}

// copy queues t's copy; false if it is queued (or was) already.
func (r *Rescuer) copy(ctx context.Context, t *asynq.TaskInfo) (bool, error) {
	// A copy that is itself left behind gets a copy of its own.
	task, err := RebuildTask(t.Type, t.ID+RescueSuffix, t.Payload)
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
	return true, nil
}

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
