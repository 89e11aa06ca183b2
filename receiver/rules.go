package receiver

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/hibiken/asynq"

	"github.com/trackhook/trackhook/receiver/carrier"
	"github.com/trackhook/trackhook/receiver/tracking"
)

// The time-driven notification rules run as one asynq task, TypeRulesTick,
// that asynq's scheduler enqueues every RulesInterval (unique for a little
// less than that, so several workers' schedulers enqueue it once). Each run
// takes the trackings whose time has come from their schedule in Redis and
// applies the rule to each atomically: a restart loses nothing, and two
// runs at once send nothing twice (a notice is planned once per tracking
// and update).
const (
	TypeRulesTick = "rules:tick"
	QueueRules    = "rules"
	RulesInterval = 30 * time.Second
)

// RulesConfig wires a Rules runner.
type RulesConfig struct {
	Store    *tracking.Store
	Queue    Queue
	Carriers *carrier.Catalog
	// Stuck is the stuck-parcel rule (the store's Options.Stuck); nil
	// leaves the rule off.
	Stuck  tracking.StuckDeadline
	Logger *slog.Logger
}

// Rules runs the time-driven rules.
type Rules struct {
	cfg  RulesConfig
	log  *slog.Logger
	plan tracking.Planner
}

// NewRules returns a runner.
func NewRules(cfg RulesConfig) (*Rules, error) {
	if cfg.Store == nil || cfg.Queue == nil {
		return nil, errors.New("rules: a store and a queue are required")
	}
	if cfg.Carriers == nil {
		cfg.Carriers = carrier.Default()
	}
	log := cfg.Logger
	if log == nil {
		log = slog.Default()
	}
	return &Rules{cfg: cfg, log: log, plan: Plan(cfg.Carriers, cfg.Store.Now)}, nil
}

// rulesPage is how many trackings one step of a tick takes.
const rulesPage = 100

// ProcessTick is the asynq handler of TypeRulesTick.
func (r *Rules) ProcessTick(ctx context.Context, _ *asynq.Task) error {
	_, err := r.Tick(ctx)
	return err
}

// Tick applies the rules to every tracking whose time has come on the
// store's clock and returns how many notifications it queued.
func (r *Rules) Tick(ctx context.Context) (int, error) {
	if r.cfg.Stuck == nil {
		return 0, nil
	}
	queued := 0
	for {
		entries, err := r.cfg.Store.StuckDue(ctx, r.cfg.Store.Now(), rulesPage)
		if err != nil {
			return queued, err
		}
		for _, e := range entries {
			n, err := r.stuck(ctx, e)
			if err != nil {
				return queued, err
			}
			queued += n
		}
		if len(entries) < rulesPage {
			return queued, nil
		}
	}
}

// stuck applies the stuck-parcel rule to one tracking on its schedule.
func (r *Rules) stuck(ctx context.Context, e tracking.StuckEntry) (int, error) {
	var pending time.Time
	res, err := r.cfg.Store.ApplyChange(ctx, e.TrackingID, func(cur tracking.Tracking, now time.Time) (tracking.Tracking, []tracking.Due, bool) {
		next, due, p := tracking.StuckCheck(cur, now, r.cfg.Stuck)
		pending = p
		return next, due, len(due) > 0
	}, r.plan)
	switch {
	case errors.Is(err, tracking.ErrNotFound):
		// Deleted meanwhile: off the schedule.
	case err != nil:
		return 0, fmt.Errorf("stuck-parcel rule on %s: %w", e.TrackingID, err)
	case len(res.Jobs) > 0:
		r.log.Info("parcel stuck in transit: notices queued", "tracking_id", e.TrackingID, "notifications", len(res.Jobs),
			"last_update", res.Tracking.OccurredAt)
		// In the outbox already: a failure here leaves them to the sweeper.
		var acked []string
		for _, j := range res.Jobs {
			if err := enqueueJob(ctx, r.cfg.Queue, j); err != nil {
				r.log.Warn("enqueue failed; left in the outbox for the sweeper", "task_id", j.TaskID, "err", err)
				continue
			}
			acked = append(acked, j.Key)
		}
		if err := r.cfg.Store.Ack(ctx, e.TrackingID, acked...); err != nil {
			r.log.Warn("outbox ack failed; the sweeper will re-enqueue (deduplicated by task id)", "err", err)
		}
	}
	if err := r.cfg.Store.StuckDone(ctx, e, pending); err != nil {
		return len(res.Jobs), fmt.Errorf("stuck schedule: %w", err)
	}
	return len(res.Jobs), nil
}
