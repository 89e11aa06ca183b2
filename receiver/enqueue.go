package receiver

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	mrand "math/rand/v2"
	"time"

	"github.com/hibiken/asynq"

	"github.com/trackhook/trackhook/dispatcher"
	"github.com/trackhook/trackhook/receiver/tracking"
)

// plan is the tracking.Planner: one notify task per due notification, with
// a snapshot of the shipment as it is now.
func (s *Server) plan(t *tracking.Tracking, due []tracking.Due) ([]tracking.Job, error) {
	ship := dispatcher.Shipment{
		TrackingNumber: t.TrackingNumber,
		CarrierSlug:    t.Slug,
		TrackingURL:    t.TrackingURL,
		OrderNumber:    t.OrderNumber,
		Title:          t.Title,
		CustomerName:   t.CustomerName,
		Subtag:         t.Subtag,
		SubtagMessage:  t.SubtagMessage,
		ItemsShipped:   t.ItemsShipped(),
		ItemsTotal:     t.ItemsTotal,
	}
	if c, ok := s.carriers.Lookup(t.Slug); ok {
		ship.CarrierName = c.Name
		if ship.TrackingURL == "" {
			ship.TrackingURL = c.TrackingURL(t.TrackingNumber)
		}
	}
	if cp, ok := t.LatestCheckpoint(); ok {
		ship.CheckpointMessage = cp.Message
		ship.CheckpointLocation = cp.Place()
		ship.CheckpointTime = cp.Time
	}
	now := s.store.Now().UTC()
	jobs := make([]tracking.Job, 0, len(due))
	for _, d := range due {
		n := dispatcher.Notification{
			TrackingID: t.ID, Key: d.Key(), Status: d.Status.String(), Channel: d.Channel,
			Recipient: d.Recipient, Language: t.Language, Country: t.DestinationCountry, Shipment: ship,
			QueuedAt: now,
		}
		task, err := dispatcher.NewTask(n)
		if err != nil {
			return nil, err
		}
		jobs = append(jobs, tracking.Job{Key: d.Key(), Type: task.Type(), TaskID: n.ID(), Payload: task.Payload()})
	}
	return jobs, nil
}

// enqueueJob enqueues one job. A task id conflict means it is queued (or was
// processed) already, which is success.
func (s *Server) enqueueJob(ctx context.Context, j tracking.Job) error {
	task, err := dispatcher.RebuildTask(j.Type, j.TaskID, j.Payload)
	if err != nil {
		return fmt.Errorf("rebuild task: %w", err)
	}
	if _, err := s.queue.EnqueueContext(ctx, task); err != nil && !errors.Is(err, asynq.ErrTaskIDConflict) {
		return err
	}
	return nil
}

// Sweep enqueues what is left in outboxes written more than grace ago: the
// jobs of webhooks whose process died, or lost Redis, between storing the
// event and enqueueing its tasks. Safe to run in every receiver at once.
// It returns the number of jobs enqueued.
func (s *Server) Sweep(ctx context.Context, grace time.Duration) (int, error) {
	items, err := s.store.OutboxDue(ctx, s.store.Now().Add(-grace), 200)
	if err != nil {
		return 0, err
	}
	n := 0
	for _, it := range items {
		ok := true
		for _, j := range it.Jobs {
			if err := s.enqueueJob(ctx, j); err != nil {
				s.log.Warn("sweep: enqueue failed", "tracking_id", it.TrackingID, "task_id", j.TaskID, "err", err)
				ok = false
				continue
			}
			n++
		}
		if ok {
			if err := s.store.OutboxDone(ctx, it); err != nil {
				return n, err
			}
		}
	}
	return n, nil
}

// RunSweeper calls Sweep every interval (with jitter) until ctx ends.
func (s *Server) RunSweeper(ctx context.Context, interval, grace time.Duration) {
	for {
		d := interval/2 + time.Duration(mrand.Int64N(int64(interval)))
		select {
		case <-ctx.Done():
			return
		case <-time.After(d):
		}
		if n, err := s.Sweep(ctx, grace); err != nil {
			s.log.Warn("outbox sweep failed", "err", err)
		} else if n > 0 {
			s.log.Info("outbox sweep re-enqueued jobs", "jobs", n)
		}
	}
}

func newRequestID() string {
	var b [8]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}
