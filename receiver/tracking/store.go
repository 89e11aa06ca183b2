package tracking

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/trackhook/trackhook/dispatcher/groupcommit"
)

// ErrNotFound is returned for a tracking that does not exist.
var ErrNotFound = errors.New("tracking not found")

// ErrContention is returned when a tracking changed under Apply more times
// than it retries; the sender should try again.
var ErrContention = errors.New("tracking changed concurrently too often")

// Job is one notification task, planned by the caller of Apply and written
// to the tracking's outbox in the same atomic step as the new state.
type Job struct {
	Key     string `json:"key"`     // notification key within the tracking (Due.Key)
	Type    string `json:"type"`    // task type, "notify:email"
	TaskID  string `json:"task_id"` // derived from tracking, status, channel, recipient
	Payload []byte `json:"payload"` // task payload
	// ProcessAt, when set, is when the task is to run (a delayed
	// notification); the enqueuer schedules it for then.
	ProcessAt time.Time `json:"process_at,omitzero"`
}

// Planner turns due notifications into jobs. Apply calls it before it
// commits, so the jobs are stored atomically with the state that made them due.
type Planner func(t *Tracking, due []Due) ([]Job, error)

// Result is what Apply did.
type Result struct {
	Tracking Tracking
	Outcome  Outcome
	Jobs     []Job
	// Suppressed are the notifications a rule of the policy held back
	// (Due.Suppressed says which): planned, never to be sent.
	Suppressed []Due
	// Delayed are the notifications planned to go out after their
	// status's delay (Due.Delay), unless a later status supersedes them.
	Delayed []Due
}

// Options configure a Store.
type Options struct {
	Policy Policy
	// Retention is how long a tracking's keys live after its last update.
	Retention time.Duration
	// SeenRetention is how long event ids are remembered for dedupe.
	SeenRetention time.Duration
	// Now is the clock of every time the store writes (created, updated,
	// the outbox's timestamps, delivery-log entries) and of the cut-offs it
	// reads them back by. nil is time.Now.
	Now func() time.Time
	// Stuck, when set, is the stuck-parcel rule: each update that leaves a
	// tracking in transit puts it on the rule's schedule (ScheduleStuck)
	// for the earliest of its recipients' deadlines, in the same step as
	// the state.
	Stuck StuckDeadline
	// Late, when set, is the running-late rule: a tracking whose expected
	// delivery day is new or moved goes on ScheduleLate for when that day
	// is over where the parcel is going.
	Late LateDeadline
	// Batcher carries the webhook path's commands (Apply's read and write,
	// Ack), so concurrent webhooks share pipelines (package groupcommit).
	// nil sends each step as its own pipeline.
	Batcher *groupcommit.Batcher
}

// Store keeps trackings in Redis.
type Store struct {
	rdb  redis.UniversalClient
	opts Options
	b    *groupcommit.Batcher
	// cluster: commands for different hash slots may run on different
	// nodes, in no set order.
	cluster bool
}

// NewStore returns a store on rdb. Zero options take defaults: DefaultPolicy,
// 180 days retention, 30 days of event ids, time.Now.
func NewStore(rdb redis.UniversalClient, opts Options) *Store {
	if opts.Policy.Triggers == 0 {
		opts.Policy = DefaultPolicy
	}
	if opts.Retention <= 0 {
		opts.Retention = 180 * 24 * time.Hour
	}
	if opts.SeenRetention <= 0 {
		opts.SeenRetention = 30 * 24 * time.Hour
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	b := opts.Batcher
	if b == nil {
		b = groupcommit.Direct(rdb)
	}
	_, cluster := rdb.(*redis.ClusterClient)
	return &Store{rdb: rdb, opts: opts, b: b, cluster: cluster}
}

// Stuck returns the store's stuck-parcel rule (Options.Stuck), or nil.
func (s *Store) Stuck() StuckDeadline { return s.opts.Stuck }

// Late returns the store's running-late rule (Options.Late), or nil.
func (s *Store) Late() LateDeadline { return s.opts.Late }

// Policy returns the store's policy.
func (s *Store) Policy() Policy { return s.opts.Policy }

// Now is the store's clock. Whoever compares a time with one the store wrote
// (the sweeper's grace against the outbox's timestamps) reads this clock, so
// both sides agree whatever clock the store was given.
func (s *Store) Now() time.Time { return s.opts.Now() }

// applyScript commits a new tracking state if nobody else did since it was
// read, records the event id, and writes the planned jobs to the outbox.
//
// KEYS[1] state hash, KEYS[2] seen zset, KEYS[3] outbox hash (one hash slot)
// ARGV[1] expected version ("0" for a new tracking)
// ARGV[2] new state JSON
// ARGV[3] seen member ("" when the event has no id)
// ARGV[4] now (ms)
// ARGV[5] seen cutoff (ms): ids older than this are forgotten
// ARGV[6] retention (ms) for all three keys
// ARGV[7] the new state's subscribers JSON (see subscribers)
// ARGV[8], ARGV[9], … outbox field, value pairs
// Returns 1 committed, 0 version conflict (read again), 2 duplicate event id.
var applyScript = groupcommit.NewScript(`
if ARGV[3] ~= "" and redis.call("ZSCORE", KEYS[2], ARGV[3]) then
  return 2
end
local v = redis.call("HGET", KEYS[1], "v") or "0"
if v ~= ARGV[1] then
  return 0
end
local next = tostring(tonumber(v) + 1)
redis.call("HSET", KEYS[1], "v", next, "d", ARGV[2], "s", next .. ":" .. ARGV[7])
redis.call("PEXPIRE", KEYS[1], ARGV[6])
if ARGV[3] ~= "" then
  redis.call("ZADD", KEYS[2], ARGV[4], ARGV[3])
  redis.call("ZREMRANGEBYSCORE", KEYS[2], "-inf", "(" .. ARGV[5])
  redis.call("PEXPIRE", KEYS[2], ARGV[6])
end
if #ARGV > 7 then
  for i = 8, #ARGV, 2 do
    redis.call("HSET", KEYS[3], ARGV[i], ARGV[i + 1])
  end
  redis.call("PEXPIRE", KEYS[3], ARGV[6])
end
return 1
`)

// subscribers is what a send-time check needs of a tracking (SubscribedCmd):
// who is subscribed and how many notifying statuses it has entered.
// applyScript keeps it in the state hash beside the whole tracking, as
// field "s": "<version>:<JSON>", written in the same HSET as "v" and "d".
// A check then reads a few dozen bytes instead of the whole tracking with
// its hundred checkpoints. The version ties it to the "d" it was made
// from: a tracking written by an earlier trackhook (whose script knows no
// "s") has a newer "v" than its "s", and the check reads "d" instead.
type subscribers struct {
	Emails []string `json:"emails,omitempty"`
	SMSes  []string `json:"smses,omitempty"`
	Seq    int      `json:"seq,omitempty"`
}

// applyArgs is applyScript's ARGV up to the outbox pairs: the expected
// version, t, the seen member and its clock, and t's subscribers.
func (s *Store) applyArgs(version string, t *Tracking, seen string, now, seenCutoff time.Time) ([]any, error) {
	state, err := json.Marshal(t)
	if err != nil {
		return nil, err
	}
	subs, err := json.Marshal(subscribers{Emails: t.Emails, SMSes: t.SMSes, Seq: t.Seq})
	if err != nil {
		return nil, err
	}
	return []any{version, state, seen, now.UnixMilli(), seenCutoff.UnixMilli(), s.opts.Retention.Milliseconds(), subs}, nil
}

// maxApplyAttempts bounds optimistic retries when webhooks for one tracking
// race; between attempts Apply backs off for a short random time so the
// racers spread out.
const maxApplyAttempts = 25

// Apply folds ev into its tracking in one atomic step: dedupe on the event
// id, no going back to an older state, subscribers kept, and the jobs for
// the notifications now due written to the tracking's outbox. The caller
// enqueues Result.Jobs and then calls Ack; jobs it never acks are found
// again by OutboxDue.
func (s *Store) Apply(ctx context.Context, ev Event, plan Planner) (Result, error) {
	if ev.Slug == "" || ev.TrackingNumber == "" {
		return Result{}, errors.New("event has no carrier slug or tracking number")
	}
	id := ID(ev.Slug, ev.TrackingNumber)
	keys := []string{stateKey(id), seenKey(id), outboxKey(id)}
	seen := ""
	if ev.EventID != "" {
		seen = ev.Source + ":" + ev.EventID
	}
	for attempt := 0; attempt < maxApplyAttempts; attempt++ {
		cur, version, dup, err := s.read(ctx, id, seen)
		if err != nil {
			return Result{}, err
		}
		if dup {
			return Result{Tracking: derefOr(cur, id), Outcome: Duplicate}, nil
		}
		now := s.opts.Now()
		next, due, outcome := Fold(cur, ev, now, s.opts.Policy)
		if outcome == Stale {
			return Result{Tracking: next, Outcome: Stale}, nil
		}
		var jobs []Job
		send, suppressed := splitSuppressed(due)
		if len(send) > 0 {
			if jobs, err = plan(&next, send); err != nil {
				return Result{}, fmt.Errorf("plan notifications: %w", err)
			}
		}
		args, err := s.applyArgs(version, &next, seen, now, now.Add(-s.opts.SeenRetention))
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
		res, err := s.applyStep(ctx, id, now, cur == nil, len(jobs) > 0, s.schedules(cur, &next, !isStale(ev, now, s.opts.Policy)), s.orderCmds(ctx, cur, &next), applyScript.Cmd(ctx, keys, args...))
		if err != nil {
			return Result{}, err
		}
		switch res {
		case 1:
			return Result{Tracking: next, Outcome: outcome, Jobs: jobs, Suppressed: suppressed, Delayed: delayed(send)}, nil
		case 2:
			return Result{Tracking: next, Outcome: Duplicate}, nil
		}
		// 0: somebody else committed first; read again after a short,
		// growing, random pause.
		if err := backoff(ctx, attempt); err != nil {
			return Result{}, err
		}
	}
	return Result{}, ErrContention
}

// applyStep runs Apply's write step, apply (applyScript), after the index
// entries it needs: the tracking index for a new tracking, the outbox index
// when it writes jobs, the rules' schedules in at, and extra (the order's
// entry). The index entries go first: if we die after them, the
// list skips an id without state and the sweeper finds an empty outbox and
// drops it; the other order could leave an outbox nobody looks at. On one
// node they go in the same pipeline as apply, which Redis runs in order;
// in a Cluster they may live on another node, so they go in a round trip of
// their own first.
func (s *Store) applyStep(ctx context.Context, id string, now time.Time, isNew, hasJobs bool, at map[Schedule]time.Time, extra []redis.Cmder, apply *redis.Cmd) (int64, error) {
	var idx, out *redis.IntCmd
	var step []redis.Cmder
	score := float64(now.UnixMilli())
	if isNew {
		idx = redis.NewIntCmd(ctx, "zadd", indexKey(), "nx", score, id)
		step = append(step, idx)
	}
	if hasJobs {
		out = redis.NewIntCmd(ctx, "zadd", outboxIndexKey(), score, id)
		step = append(step, out)
	}
	for sched, when := range at {
		// Not checked like the two above: losing it loses one reminder,
		// never an event, and an entry without a state is skipped.
		step = append(step, redis.NewIntCmd(ctx, "zadd", scheduleKey(sched), when.UnixMilli(), id))
	}
	// The order's entry likewise (orderCmds): a missing one only makes a
	// Delivered message count one parcel fewer.
	step = append(step, extra...)
	if s.cluster && len(step) > 0 {
		if err := s.b.Submit(step...).Wait(ctx); err != nil {
			return 0, err
		}
		if err := indexErr(idx, out); err != nil {
			return 0, err
		}
		step = step[:0]
	}
	step = append(step, apply)
	if err := s.b.Submit(step...).Wait(ctx); err != nil {
		return 0, err
	}
	if err := indexErr(idx, out); err != nil {
		// On one node an index entry that failed (a dropped connection,
		// Redis out of memory) leaves apply unrun or failed too, unless
		// Redis answered the two differently; then apply's outcome stands
		// only if the entry can still be written.
		if apply.Err() != nil {
			return 0, err
		}
		retry := make([]redis.Cmder, 0, 2)
		for _, c := range []*redis.IntCmd{idx, out} {
			if c != nil {
				c2 := redis.NewIntCmd(ctx, c.Args()...)
				retry = append(retry, c2)
			}
		}
		if err := s.b.Do(ctx, retry...); err != nil {
			return 0, fmt.Errorf("index after apply: %w", err)
		}
	}
	res, err := apply.Int64()
	if err != nil {
		return 0, fmt.Errorf("apply: %w", err)
	}
	return res, nil
}

func indexErr(idx, out *redis.IntCmd) error {
	if idx != nil && idx.Err() != nil {
		return fmt.Errorf("tracking index: %w", idx.Err())
	}
	if out != nil && out.Err() != nil {
		return fmt.Errorf("outbox index: %w", out.Err())
	}
	return nil
}

// splitSuppressed parts due into the notifications to send and those a
// rule suppressed.
func splitSuppressed(due []Due) (send, suppressed []Due) {
	for _, d := range due {
		if d.Suppressed != "" {
			suppressed = append(suppressed, d)
		} else {
			send = append(send, d)
		}
	}
	return send, suppressed
}

// delayed returns the notifications of due that wait for a delay.
func delayed(due []Due) []Due {
	var out []Due
	for _, d := range due {
		if d.Delay > 0 {
			out = append(out, d)
		}
	}
	return out
}

func derefOr(t *Tracking, id string) Tracking {
	if t == nil {
		return Tracking{ID: id}
	}
	return *t
}

// read returns the tracking (nil if new), its version and whether seen is
// already recorded, in one round trip.
func (s *Store) read(ctx context.Context, id, seen string) (*Tracking, string, bool, error) {
	hm := redis.NewSliceCmd(ctx, "hmget", stateKey(id), "v", "d")
	step := []redis.Cmder{hm}
	var zs *redis.FloatCmd
	if seen != "" {
		zs = redis.NewFloatCmd(ctx, "zscore", seenKey(id), seen)
		step = append(step, zs)
	}
	if err := s.b.Do(ctx, step...); err != nil {
		return nil, "", false, fmt.Errorf("read tracking: %w", err)
	}
	dup := zs != nil && zs.Err() == nil
	vals := hm.Val()
	v, _ := vals[0].(string)
	d, _ := vals[1].(string)
	if v == "" || d == "" {
		return nil, "0", dup, nil
	}
	var t Tracking
	if err := json.Unmarshal([]byte(d), &t); err != nil {
		return nil, "", false, fmt.Errorf("decode tracking %s: %w", id, err)
	}
	return &t, v, dup, nil
}

// Get returns one tracking.
func (s *Store) Get(ctx context.Context, id string) (Tracking, error) {
	t, _, _, err := s.read(ctx, id, "")
	if err != nil {
		return Tracking{}, err
	}
	if t == nil {
		return Tracking{}, ErrNotFound
	}
	return *t, nil
}

// Ack removes enqueued jobs from a tracking's outbox. The tracking stays
// on the outbox index until the sweeper finds its outbox empty and takes it
// off, a page at a time (OutboxDone): cheaper than a second step per ack.
func (s *Store) Ack(ctx context.Context, trackingID string, jobKeys ...string) error {
	if len(jobKeys) == 0 {
		return nil
	}
	return s.b.Do(ctx, hdel(ctx, trackingID, jobKeys))
}

func hdel(ctx context.Context, trackingID string, jobKeys []string) *redis.IntCmd {
	args := make([]any, 0, 2+len(jobKeys))
	args = append(args, "hdel", outboxKey(trackingID))
	for _, k := range jobKeys {
		args = append(args, k)
	}
	return redis.NewIntCmd(ctx, args...)
}

// OutboxItem is the leftover outbox of one tracking.
type OutboxItem struct {
	TrackingID string
	score      float64
	Jobs       []Job
}

// OutboxDue returns up to limit trackings whose outbox was written before
// `before` and may still hold jobs, with those jobs. Jobs that do not decode
// are dropped from the result (and reported in err only if nothing decodes).
func (s *Store) OutboxDue(ctx context.Context, before time.Time, limit int) ([]OutboxItem, error) {
	zs, err := s.rdb.ZRangeByScoreWithScores(ctx, outboxIndexKey(), &redis.ZRangeBy{
		Min: "-inf", Max: strconv.FormatInt(before.UnixMilli(), 10), Count: int64(limit),
	}).Result()
	if err != nil {
		return nil, fmt.Errorf("outbox index: %w", err)
	}
	// Every outbox of the page in one step.
	gets := make([]*redis.MapStringStringCmd, len(zs))
	step := make([]redis.Cmder, len(zs))
	for i, z := range zs {
		id, _ := z.Member.(string)
		gets[i] = redis.NewMapStringStringCmd(ctx, "hgetall", outboxKey(id))
		step[i] = gets[i]
	}
	if err := s.b.Do(ctx, step...); err != nil {
		return nil, fmt.Errorf("outbox: %w", err)
	}
	items := make([]OutboxItem, 0, len(zs))
	for i, z := range zs {
		id, _ := z.Member.(string)
		it := OutboxItem{TrackingID: id, score: z.Score}
		for _, raw := range gets[i].Val() {
			var j Job
			if json.Unmarshal([]byte(raw), &j) == nil {
				it.Jobs = append(it.Jobs, j)
			}
		}
		items = append(items, it)
	}
	return items, nil
}

// dropIndexScript removes a tracking from the outbox index unless it was
// written again since it was read.
//
// KEYS[1] outbox index; ARGV[1] tracking id; ARGV[2] the score that was read.
var dropIndexScript = groupcommit.NewScript(`
local s = redis.call("ZSCORE", KEYS[1], ARGV[1])
if s and tonumber(s) == tonumber(ARGV[2]) then
  return redis.call("ZREM", KEYS[1], ARGV[1])
end
return 0
`)

// OutboxDone acks the items' jobs and takes each tracking off the index
// unless new jobs arrived meanwhile, all in one step.
func (s *Store) OutboxDone(ctx context.Context, items ...OutboxItem) error {
	step := make([]redis.Cmder, 0, 2*len(items))
	for _, it := range items {
		if len(it.Jobs) > 0 {
			keys := make([]string, len(it.Jobs))
			for i, j := range it.Jobs {
				keys[i] = j.Key
			}
			step = append(step, hdel(ctx, it.TrackingID, keys))
		}
		step = append(step, dropIndexScript.Cmd(ctx, []string{outboxIndexKey()}, it.TrackingID, strconv.FormatFloat(it.score, 'f', -1, 64)))
	}
	return s.b.Do(ctx, step...)
}

// Ping checks that Redis answers.
func (s *Store) Ping(ctx context.Context) error { return s.rdb.Ping(ctx).Err() }
