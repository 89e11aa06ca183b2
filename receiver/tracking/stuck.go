package tracking

import (
	"context"
	"encoding/json"
	"fmt"
	"strconv"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/trackhook/trackhook/dispatcher"
	"github.com/trackhook/trackhook/dispatcher/groupcommit"
)

// KindStuck is the message a recipient gets when their parcel has been in
// transit without an update for the stuck-parcel rule's business days:
// once per update (its Ref is the update's time), again only after a new
// one.
const KindStuck = "Stuck"

// StuckDeadline tells when recipient (on channel c) counts t's parcel as
// stuck if nothing happens after t's last update (t.OccurredAt): the
// stuck-parcel rule, with the recipient's time zone and business days.
type StuckDeadline func(t *Tracking, c dispatcher.Channel, recipient string) time.Time

// firstStuck is the earliest deadline among t's recipients, or zero.
func firstStuck(t *Tracking, deadline StuckDeadline) time.Time {
	var first time.Time
	for _, r := range t.recipients() {
		if d := deadline(t, r.ch, r.addr); !d.IsZero() && (first.IsZero() || d.Before(first)) {
			first = d
		}
	}
	return first
}

type recipient struct {
	ch   dispatcher.Channel
	addr string
}

func (t *Tracking) recipients() []recipient {
	out := make([]recipient, 0, len(t.Emails)+len(t.SMSes))
	for _, e := range t.Emails {
		out = append(out, recipient{dispatcher.ChannelEmail, e})
	}
	for _, p := range t.SMSes {
		out = append(out, recipient{dispatcher.ChannelSMS, p})
	}
	return out
}

// armsStuck reports whether moving from cur to next starts the stuck-parcel
// clock again: next is in transit and this is news (a new tracking, a new
// status, a newer event).
func armsStuck(cur, next *Tracking) bool {
	return next.Status == InTransit && (cur == nil || cur.Status != InTransit || !cur.OccurredAt.Equal(next.OccurredAt))
}

// StuckCheck is the stuck-parcel rule applied to t at now: the Stuck
// notices now due (for the recipients whose deadline has passed and who
// have not had one for this update) and when the next recipient's deadline
// comes (zero when none is left). A tracking no longer in transit owes
// nothing. It is pure and does not modify t.
func StuckCheck(t Tracking, now time.Time, deadline StuckDeadline) (next Tracking, due []Due, pending time.Time) {
	if t.Status != InTransit || t.OccurredAt.IsZero() {
		return t, nil, time.Time{}
	}
	next = t.clone()
	due = next.notices(KindStuck, strconv.FormatInt(t.OccurredAt.Unix(), 10), "", func(_ *Tracking, c dispatcher.Channel, r string) bool {
		when := deadline(&t, c, r)
		if when.IsZero() {
			return false
		}
		if when.After(now) {
			if pending.IsZero() || when.Before(pending) {
				pending = when
			}
			return false
		}
		return true
	})
	return next, due, pending
}

// Schedule names the schedule of a time-driven rule.
type Schedule string

// The schedules.
const (
	ScheduleStuck Schedule = "stuck" // the stuck-parcel rule (Options.Stuck)
	ScheduleLate  Schedule = "late"  // the running-late rule (Options.Late)
)

// ScheduleEntry is a tracking on a rule's schedule whose time has come.
type ScheduleEntry struct {
	TrackingID string
	score      float64
}

// ScheduleDue returns up to limit trackings on schedule s whose time is
// not after now.
func (s *Store) ScheduleDue(ctx context.Context, sched Schedule, now time.Time, limit int) ([]ScheduleEntry, error) {
	zs, err := s.rdb.ZRangeByScoreWithScores(ctx, scheduleKey(sched), &redis.ZRangeBy{
		Min: "-inf", Max: strconv.FormatInt(now.UnixMilli(), 10), Count: int64(limit),
	}).Result()
	if err != nil {
		return nil, fmt.Errorf("%s schedule: %w", sched, err)
	}
	out := make([]ScheduleEntry, len(zs))
	for i, z := range zs {
		id, _ := z.Member.(string)
		out[i] = ScheduleEntry{TrackingID: id, score: z.Score}
	}
	return out, nil
}

// scheduleDoneScript moves a tracking on a schedule to its next
// deadline, or takes it off, unless an update armed it again since it was
// read.
//
// KEYS[1] the schedule; ARGV[1] tracking id; ARGV[2] the score read;
// ARGV[3] the next deadline (ms), "" for none.
var scheduleDoneScript = groupcommit.NewScript(`
local s = redis.call("ZSCORE", KEYS[1], ARGV[1])
if not s or tonumber(s) ~= tonumber(ARGV[2]) then
  return 0
end
if ARGV[3] == "" then
  return redis.call("ZREM", KEYS[1], ARGV[1])
end
redis.call("ZADD", KEYS[1], ARGV[3], ARGV[1])
return 1
`)

// ScheduleDone records that e was checked: it stays on the schedule for
// next (the rule's next time for it), or leaves it when next is zero.
func (s *Store) ScheduleDone(ctx context.Context, sched Schedule, e ScheduleEntry, next time.Time) error {
	at := ""
	if !next.IsZero() {
		at = strconv.FormatInt(next.UnixMilli(), 10)
	}
	return s.b.Do(ctx, scheduleDoneScript.Cmd(ctx, []string{scheduleKey(sched)}, e.TrackingID, strconv.FormatFloat(e.score, 'f', -1, 64), at))
}

// Change is a change to a tracking made by a rule rather than by an event
// (ApplyChange): it returns the new state and the notifications now due, and
// whether anything changed.
type Change func(cur Tracking, now time.Time) (next Tracking, due []Due, changed bool)

// ApplyChange applies change to an existing tracking in one atomic step, as
// Apply does for an event: the new state and the jobs planned for its due
// notifications together, retried when the tracking changed meanwhile.
func (s *Store) ApplyChange(ctx context.Context, id string, change Change, plan Planner) (Result, error) {
	keys := []string{stateKey(id), seenKey(id), outboxKey(id)}
	for attempt := 0; attempt < maxApplyAttempts; attempt++ {
		cur, version, _, err := s.read(ctx, id, "")
		if err != nil {
			return Result{}, err
		}
		if cur == nil {
			return Result{}, ErrNotFound
		}
		now := s.opts.Now()
		next, due, changed := change(*cur, now)
		if !changed {
			return Result{Tracking: *cur, Outcome: Duplicate}, nil
		}
		next.UpdatedAt = now
		var jobs []Job
		if len(due) > 0 {
			if jobs, err = plan(&next, due); err != nil {
				return Result{}, fmt.Errorf("plan notifications: %w", err)
			}
		}
		args, err := s.applyArgs(version, &next, "", now, now.Add(-s.opts.SeenRetention))
		if err != nil {
			return Result{}, err
		}
		for _, j := range jobs {
			b, err := json.Marshal(j)
			if err != nil {
				return Result{}, err
			}
			args = append(args, j.Key, b)
		}
		res, err := s.applyStep(ctx, id, now, false, len(jobs) > 0, nil, nil, applyScript.Cmd(ctx, keys, args...))
		if err != nil {
			return Result{}, err
		}
		if res == 1 {
			return Result{Tracking: next, Outcome: Updated, Jobs: jobs}, nil
		}
		if err := backoff(ctx, attempt); err != nil {
			return Result{}, err
		}
	}
	return Result{}, ErrContention
}
