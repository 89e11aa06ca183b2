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
	// Stuck is the stuck-parcel rule (the store's Options.Stuck), Late the
	// running-late rule (Options.Late); nil leaves a rule off.
	Stuck  tracking.StuckDeadline
	Late   tracking.LateDeadline
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
	queued := 0
	for _, rule := range r.rules() {
		for {
			entries, err := r.cfg.Store.ScheduleDue(ctx, rule.sched, r.cfg.Store.Now(), rulesPage)
			if err != nil {
				return queued, err
			}
			for _, e := range entries {
				n, err := r.apply(ctx, rule, e)
				if err != nil {
					return queued, err
				}
				queued += n
			}
			if len(entries) < rulesPage {
				break
			}
		}
	}
	return queued, nil
}

// rule is one time-driven rule: its schedule, and its check of a tracking
// at a time (the notices due, and when to look again).
type rule struct {
	sched tracking.Schedule
	what  string // for the log
	check func(t tracking.Tracking, now time.Time) (tracking.Tracking, []tracking.Due, time.Time)
}

func (r *Rules) rules() []rule {
	var out []rule
	if stuck := r.cfg.Stuck; stuck != nil {
		out = append(out, rule{tracking.ScheduleStuck, "parcel stuck in transit", func(t tracking.Tracking, now time.Time) (tracking.Tracking, []tracking.Due, time.Time) {
			return tracking.StuckCheck(t, now, stuck)
		}})
	}
	if late := r.cfg.Late; late != nil {
		out = append(out, rule{tracking.ScheduleLate, "parcel running late", func(t tracking.Tracking, now time.Time) (tracking.Tracking, []tracking.Due, time.Time) {
			return tracking.LateCheck(t, now, late)
		}})
	}
	return out
}

// apply runs one rule on one tracking on its schedule.
func (r *Rules) apply(ctx context.Context, rl rule, e tracking.ScheduleEntry) (int, error) {
	var pending time.Time
	res, err := r.cfg.Store.ApplyChange(ctx, e.TrackingID, func(cur tracking.Tracking, now time.Time) (tracking.Tracking, []tracking.Due, bool) {
		next, due, p := rl.check(cur, now)
		pending = p
		return next, due, len(due) > 0
	}, r.plan)
	switch {
	case errors.Is(err, tracking.ErrNotFound):
		// Deleted meanwhile: off the schedule.
	case err != nil:
		return 0, fmt.Errorf("%s rule on %s: %w", rl.sched, e.TrackingID, err)
	case len(res.Jobs) > 0:
		r.log.Info(rl.what+": notices queued", "tracking_id", e.TrackingID, "notifications", len(res.Jobs))
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
	if err := r.cfg.Store.ScheduleDone(ctx, rl.sched, e, pending); err != nil {
		return len(res.Jobs), fmt.Errorf("%s schedule: %w", rl.sched, err)
	}
	return len(res.Jobs), nil
}
