package receiver

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	mrand "math/rand/v2"
	"time"

	"github.com/hibiken/asynq"

	"github.com/trackhook/trackhook/dispatcher"
	"github.com/trackhook/trackhook/receiver/carrier"
	"github.com/trackhook/trackhook/receiver/tracking"
)

// ShipmentOf is what the messages about t show: its numbers, the carrier's
// name and tracking link from carriers, and the newest checkpoint.
func ShipmentOf(carriers *carrier.Catalog, t *tracking.Tracking) dispatcher.Shipment {
	ship := dispatcher.Shipment{
		TrackingNumber:   t.TrackingNumber,
		CarrierSlug:      t.Slug,
		TrackingURL:      t.TrackingURL,
		OrderNumber:      t.OrderNumber,
		Title:            t.Title,
		CustomerName:     t.CustomerName,
		Subtag:           t.Subtag,
		SubtagMessage:    t.SubtagMessage,
		ItemsShipped:     t.ItemsShipped(),
		ItemsTotal:       t.ItemsTotal,
		ExpectedDelivery: t.ExpectedDelivery,
	}
	if c, ok := carriers.Lookup(t.Slug); ok {
		ship.CarrierName = c.Name
		if ship.TrackingURL == "" {
			ship.TrackingURL = c.TrackingURL(t.TrackingNumber)
		}
	}
	if cp, ok := t.LatestCheckpoint(); ok {
		ship.CheckpointMessage = cp.Message
		ship.CheckpointLocation = cp.Location
		ship.CheckpointCity, ship.CheckpointState, ship.CheckpointCountry = cp.City, cp.State, cp.CountryISO3
		ship.CheckpointTime = cp.Time
	}
	return ship
}

// plan is the tracking.Planner of the server's webhooks and API events.
func (s *Server) plan(t *tracking.Tracking, due []tracking.Due) ([]tracking.Job, error) {
	return Plan(s.carriers, s.store.Now)(t, due)
}

// Plan returns the tracking.Planner: one notify task per due notification,
// with a snapshot of the shipment as it is now (carriers name the carrier
// and give its tracking link; now is the store's clock).
func Plan(carriers *carrier.Catalog, now func() time.Time) tracking.Planner {
	return func(t *tracking.Tracking, due []tracking.Due) ([]tracking.Job, error) {
		return plan(carriers, now().UTC(), t, due)
	}
}

func plan(carriers *carrier.Catalog, now time.Time, t *tracking.Tracking, due []tracking.Due) ([]tracking.Job, error) {
	ship := ShipmentOf(carriers, t)
	order := tracking.OrderRef(t)
	jobs := make([]tracking.Job, 0, len(due))
	for _, d := range due {
		n := dispatcher.Notification{
			TrackingID: t.ID, Key: d.Key(), Status: d.Status.String(), Ref: d.Ref, Channel: d.Channel,
			Recipient: d.Recipient, Language: t.LanguageFor(d.Channel, d.Recipient), Country: t.DestinationCountry, Shipment: ship,
			QueuedAt: now, Seq: d.Seq, After: d.After, Order: order,
		}
		// Each recipient is greeted by their own name, or by none.
		n.Shipment.CustomerName = t.NameFor(d.Channel, d.Recipient)
		if d.Kind != "" {
			// A Stuck notice is moot once the parcel has moved on to
			// another status: it is superseded like a delayed one.
			n.Status, n.Collapse = d.Kind, true
		}
		var at time.Time
		if d.Delay > 0 {
			at = now.Add(d.Delay)
			n.Collapse, n.NotBefore = true, at
		}
		task, err := dispatcher.NewTask(n)
		if err != nil {
			return nil, err
		}
		jobs = append(jobs, tracking.Job{Key: d.Key(), Type: task.Type(), TaskID: n.ID(), Payload: task.Payload(), ProcessAt: at})
	}
	return jobs, nil
}

// handoff is the jobs of one stored event, on their way to asynq.
type handoff struct {
	trackingID string
	jobs       []tracking.Job
	log        *slog.Logger
}

// startHandoff starts n goroutines that enqueue the jobs of stored events
// after their webhook was answered (Config.Enqueuers).
func (s *Server) startHandoff(n int) {
	s.handoffs = make(chan handoff, 4*n)
	s.handoffDone.Add(n)
	for range n {
		go func() {
			defer s.handoffDone.Done()
			for h := range s.handoffs {
				s.handOver(context.Background(), h, handoffRetries)
			}
		}()
	}
}

// handoffRetries are the pauses between the attempts of an enqueuer to hand
// a job over while Redis is failing (a restart, a failover), before it
// leaves the job to the sweeper, which looks only after its grace.
var handoffRetries = []time.Duration{50 * time.Millisecond, 200 * time.Millisecond, 500 * time.Millisecond, time.Second, 2 * time.Second}

// handOver enqueues h's jobs, trying again after each of the pauses in
// retries, and acks them in the outbox. A failure here is logged, not
// answered: the jobs are safe in the outbox, and the sweeper enqueues them
// later.
func (s *Server) handOver(ctx context.Context, h handoff, retries []time.Duration) {
	acked := make([]string, 0, len(h.jobs))
	for _, j := range h.jobs {
		for attempt := 0; ; attempt++ {
			jctx, cancel := context.WithTimeout(ctx, 5*time.Second)
			err := s.enqueueJob(jctx, j)
			cancel()
			if err == nil {
				acked = append(acked, j.Key)
				break
			}
			if attempt >= len(retries) {
				h.log.Warn("enqueue failed; left in the outbox for the sweeper", "task_id", j.TaskID, "err", err)
				break
			}
			time.Sleep(retries[attempt])
		}
	}
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	if err := s.store.Ack(ctx, h.trackingID, acked...); err != nil {
		h.log.Warn("outbox ack failed; the sweeper will re-enqueue (deduplicated by task id)", "err", err)
	}
}

// Close hands over the jobs of every webhook answered so far and stops the
// goroutines that do (Config.Enqueuers). Call it after the HTTP server has
// stopped taking webhooks.
func (s *Server) Close() {
	s.closing.Do(func() {
		if s.handoffs != nil {
			close(s.handoffs)
			s.handoffDone.Wait()
		}
	})
}

// enqueueJob enqueues one job. A task id conflict means it is queued (or was
// processed) already, which is success.
func (s *Server) enqueueJob(ctx context.Context, j tracking.Job) error {
	return enqueueJob(ctx, s.queue, j)
}

func enqueueJob(ctx context.Context, queue Queue, j tracking.Job) error {
	task, err := dispatcher.RebuildTask(j.Type, j.TaskID, j.Payload)
	if err != nil {
		return fmt.Errorf("rebuild task: %w", err)
	}
	var opts []asynq.Option
	if !j.ProcessAt.IsZero() {
		opts = append(opts, asynq.ProcessAt(j.ProcessAt))
	}
	if _, err := queue.EnqueueContext(ctx, task, opts...); err != nil && !errors.Is(err, asynq.ErrTaskIDConflict) {
		return err
	}
	return nil
}

// sweepPage is how many trackings Sweep reads from the outbox index at once.
const sweepPage = 200

// Sweep enqueues what is left in outboxes written more than grace ago: the
// jobs of webhooks whose process died, or lost Redis, between storing the
// event and enqueueing its tasks. Safe to run in every receiver at once.
// It goes on page after page while it finds them full and every job goes
// through, and returns the number of jobs enqueued.
func (s *Server) Sweep(ctx context.Context, grace time.Duration) (int, error) {
	n := 0
	for {
		items, err := s.store.OutboxDue(ctx, s.store.Now().Add(-grace), sweepPage)
		if err != nil {
			return n, err
		}
		clean := true
		done := make([]tracking.OutboxItem, 0, len(items))
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
				done = append(done, it)
			} else {
				clean = false
			}
		}
		if len(done) > 0 {
			if err := s.store.OutboxDone(ctx, done...); err != nil {
				return n, err
			}
		}
		if len(items) < sweepPage || !clean || ctx.Err() != nil {
			return n, ctx.Err()
		}
	}
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
