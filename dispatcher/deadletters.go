package dispatcher

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/hibiken/asynq"
)

// DeadLetters finds a tracking's dead letters, the notify tasks asynq
// archived after a permanent failure, and runs them again: the admin API's
// POST /trackings/{id}/deliveries/retry, for after the cause was fixed.
type DeadLetters struct {
	insp *asynq.Inspector
}

// NewDeadLetters returns DeadLetters working through insp (asynq's
// Inspector on the queue's Redis).
func NewDeadLetters(insp *asynq.Inspector) *DeadLetters { return &DeadLetters{insp: insp} }

// deadLetterPage is how many archived tasks are listed per call. asynq keeps
// at most 10,000 archived tasks per queue (for 90 days), so a retry reads at
// most 10 pages a queue.
const deadLetterPage = 1000

// Retry moves the tracking's archived email and SMS tasks back to pending and
// reports how many it moved. Each runs through the handler again: the
// ledger keeps one that was delivered meanwhile from going out twice, and the
// gate one whose recipient was removed or suppressed. A task another caller
// moved first is not counted.
func (d *DeadLetters) Retry(ctx context.Context, trackingID string) (int, error) {
	type ref struct{ queue, id string }
	var found []ref
	// Collect first, then run: running shrinks the archive under the pages.
	for _, queue := range []string{QueueEmail, QueueSMS} {
		for page := 1; ; page++ {
			if err := ctx.Err(); err != nil {
				return 0, err
			}
			tasks, err := d.insp.ListArchivedTasks(queue, asynq.PageSize(deadLetterPage), asynq.Page(page))
			if errors.Is(err, asynq.ErrQueueNotFound) {
				break // nothing was ever queued there
			}
			if err != nil {
				return 0, fmt.Errorf("list dead letters in %s: %w", queue, err)
			}
			for _, t := range tasks {
				if (t.Type == TypeEmail || t.Type == TypeSMS) && payloadTracking(t.Payload) == trackingID {
					found = append(found, ref{queue, t.ID})
				}
			}
			if len(tasks) < deadLetterPage {
				break
			}
		}
	}
	n := 0
	for _, r := range found {
		err := d.insp.RunTask(r.queue, r.id)
		if err == nil {
			n++
			continue
		}
		// Retried (now pending or running) or deleted by someone else
		// meanwhile is not an error; anything else is.
		info, ierr := d.insp.GetTaskInfo(r.queue, r.id)
		if errors.Is(ierr, asynq.ErrTaskNotFound) || ierr == nil && info.State != asynq.TaskStateArchived {
			continue
		}
		return n, fmt.Errorf("retry %s task %s: %w", r.queue, r.id, err)
	}
	return n, nil
}

// payloadTracking is the tracking id of a notify task's payload.
func payloadTracking(payload []byte) string {
	var n Notification
	if json.Unmarshal(payload, &n) != nil {
		return ""
	}
	return n.TrackingID
}
