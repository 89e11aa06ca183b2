package tracking

import (
	"context"
	crand "crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"math/rand/v2"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/trackhook/trackhook/dispatcher"
	"github.com/trackhook/trackhook/dispatcher/state"
)

// ErrExists is returned by Create for a tracking that already exists.
var ErrExists = errors.New("tracking already exists")

// Create stores a new tracking (Pending until an event says otherwise).
// t.Slug and t.TrackingNumber must be set; the id is derived from them.
func (s *Store) Create(ctx context.Context, t Tracking) (Tracking, error) {
	if t.Slug == "" || t.TrackingNumber == "" {
		return Tracking{}, errors.New("tracking has no slug or tracking number")
	}
	now := s.opts.Now()
	t.ID = ID(t.Slug, t.TrackingNumber)
	if !t.Status.Valid() {
		t.Status = Pending
	}
	t.CreatedAt, t.UpdatedAt = now, now
	if err := s.index(ctx, t.ID, now); err != nil {
		return Tracking{}, err
	}
	ok, err := s.commit(ctx, &t, "0")
	if err != nil {
		return Tracking{}, err
	}
	if !ok {
		return Tracking{}, ErrExists
	}
	return t, nil
}

// index adds id to the listing index unless it is there already.
func (s *Store) index(ctx context.Context, id string, created time.Time) error {
	if err := s.rdb.ZAddNX(ctx, indexKey(), redis.Z{Score: float64(created.UnixMilli()), Member: id}).Err(); err != nil {
		return fmt.Errorf("tracking index: %w", err)
	}
	return nil
}

// commit writes t if its stored version is still version. It reports false
// on a version conflict.
func (s *Store) commit(ctx context.Context, t *Tracking, version string) (bool, error) {
	now := s.opts.Now()
	args, err := s.applyArgs(version, t, "", now, now)
	if err != nil {
		return false, err
	}
	res, err := applyScript.Run(ctx, s.rdb, []string{stateKey(t.ID), seenKey(t.ID), outboxKey(t.ID)}, args...).Int()
	if err != nil {
		return false, fmt.Errorf("write tracking: %w", err)
	}
	return res == 1, nil
}

// Update applies fn to the stored tracking atomically (optimistic retries
// when it changes meanwhile). fn may return an error to abort; it must not
// change ID, Slug or TrackingNumber.
func (s *Store) Update(ctx context.Context, id string, fn func(*Tracking) error) (Tracking, error) {
	for attempt := 0; attempt < maxApplyAttempts; attempt++ {
		cur, version, _, err := s.read(ctx, id, "")
		if err != nil {
			return Tracking{}, err
		}
		if cur == nil {
			return Tracking{}, ErrNotFound
		}
		next := cur.clone()
		if err := fn(&next); err != nil {
			return Tracking{}, err
		}
		next.ID, next.Slug, next.TrackingNumber = cur.ID, cur.Slug, cur.TrackingNumber
		next.UpdatedAt = s.opts.Now()
		ok, err := s.commit(ctx, &next, version)
		if err != nil {
			return Tracking{}, err
		}
		if ok {
			return next, nil
		}
		if err := backoff(ctx, attempt); err != nil {
			return Tracking{}, err
		}
	}
	return Tracking{}, ErrContention
}

func backoff(ctx context.Context, attempt int) error {
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-time.After(time.Duration(rand.Int64N(int64(attempt+1) * int64(time.Millisecond)))):
		return nil
	}
}

// Delete removes a tracking and everything kept for it, the dispatcher's
// ledger and delivery log of it included. Notifications already queued for
// it are not sent (see Subscribed).
func (s *Store) Delete(ctx context.Context, id string) error {
	// Its order's entry goes too: read which order it is in first.
	var order string
	if t, _, _, err := s.read(ctx, id, ""); err == nil && t != nil {
		order = OrderRef(t)
	}
	keys := append([]string{stateKey(id), seenKey(id), outboxKey(id)}, state.TrackingKeys(id)...)
	n, err := s.rdb.Del(ctx, keys...).Result()
	if err != nil {
		return fmt.Errorf("delete tracking: %w", err)
	}
	pipe := s.rdb.Pipeline()
	pipe.ZRem(ctx, indexKey(), id)
	pipe.ZRem(ctx, outboxIndexKey(), id)
	pipe.ZRem(ctx, scheduleKey(ScheduleStuck), id)
	pipe.ZRem(ctx, scheduleKey(ScheduleLate), id)
	if order != "" {
		pipe.HDel(ctx, orderKey(order), "t:"+id)
	}
	if _, err := pipe.Exec(ctx); err != nil {
		return fmt.Errorf("delete tracking: %w", err)
	}
	if n == 0 {
		return ErrNotFound
	}
	return nil
}

// ListQuery selects trackings. Zero fields do not filter.
type ListQuery struct {
	Page, Limit  int       // 1-based page; Limit per page
	Tags         []Status  // any of
	Slugs        []string  // any of (canonical slugs)
	Keyword      string    // in tracking number, title, order id/number, customer name (case-insensitive)
	CreatedAfter time.Time // inclusive
	CreatedUntil time.Time // inclusive
}

// List returns one page of the trackings matching q, newest first, and how
// many match in all. It reads the index in batches and filters in Redis
// order, which is fine for the tens of thousands of live trackings a shop has.
func (s *Store) List(ctx context.Context, q ListQuery) ([]Tracking, int, error) {
	if q.Limit <= 0 {
		q.Limit = 100
	}
	if q.Page <= 0 {
		q.Page = 1
	}
	max, min := "+inf", "-inf"
	if !q.CreatedUntil.IsZero() {
		max = strconv.FormatInt(q.CreatedUntil.UnixMilli(), 10)
	}
	if !q.CreatedAfter.IsZero() {
		min = strconv.FormatInt(q.CreatedAfter.UnixMilli(), 10)
	}
	skip := (q.Page - 1) * q.Limit
	kw := strings.ToLower(strings.TrimSpace(q.Keyword))
	var (
		page  []Tracking
		total int
	)
	const batch = 500
	for offset := int64(0); ; offset += batch {
		ids, err := s.rdb.ZRevRangeByScore(ctx, indexKey(), &redis.ZRangeBy{Max: max, Min: min, Offset: offset, Count: batch}).Result()
		if err != nil {
			return nil, 0, fmt.Errorf("list trackings: %w", err)
		}
		if len(ids) == 0 {
			break
		}
		pipe := s.rdb.Pipeline()
		cmds := make([]*redis.StringCmd, len(ids))
		for i, id := range ids {
			cmds[i] = pipe.HGet(ctx, stateKey(id), "d")
		}
		if _, err := pipe.Exec(ctx); err != nil && !errors.Is(err, redis.Nil) {
			return nil, 0, fmt.Errorf("list trackings: %w", err)
		}
		var gone []any
		for i, c := range cmds {
			raw, err := c.Result()
			if errors.Is(err, redis.Nil) {
				gone = append(gone, ids[i])
				continue
			}
			var t Tracking
			if err != nil || json.Unmarshal([]byte(raw), &t) != nil {
				continue
			}
			if !q.match(&t, kw) {
				continue
			}
			total++
			if total > skip && len(page) < q.Limit {
				page = append(page, t)
			}
		}
		if len(gone) > 0 {
			// Expired or half-created: drop from the index.
			_ = s.rdb.ZRem(ctx, indexKey(), gone...).Err()
		}
		if len(ids) < batch {
			break
		}
	}
	return page, total, nil
}

func (q ListQuery) match(t *Tracking, kw string) bool {
	if len(q.Tags) > 0 && !slices.Contains(q.Tags, t.Status) {
		return false
	}
	if len(q.Slugs) > 0 && !slices.Contains(q.Slugs, t.Slug) {
		return false
	}
	if kw != "" {
		found := false
		for _, f := range []string{t.TrackingNumber, t.Title, t.OrderID, t.OrderNumber, t.CustomerName} {
			if strings.Contains(strings.ToLower(f), kw) {
				found = true
				break
			}
		}
		if !found {
			return false
		}
	}
	return true
}

// OptOut unsubscribes a recipient from one tracking: removed from its
// subscribers and kept out of them when later payloads name it again.
func (s *Store) OptOut(ctx context.Context, trackingID string, c dispatcher.Channel, recipient string) error {
	_, err := s.Update(ctx, trackingID, func(t *Tracking) error {
		t.Emails = slices.DeleteFunc(t.Emails, func(v string) bool { return c == dispatcher.ChannelEmail && v == recipient })
		t.SMSes = slices.DeleteFunc(t.SMSes, func(v string) bool { return c == dispatcher.ChannelSMS && v == recipient })
		if k := dispatcher.RecipientKey(c, recipient); !slices.Contains(t.OptedOut, k) {
			t.OptedOut = append(t.OptedOut, k)
		}
		return nil
	})
	return err
}

// Subscribed reports whether a queued notification's recipient is still
// subscribed: the tracking exists and still lists the recipient on that
// channel (an admin may have removed them, or they opted out of this
// shipment). reason says why not. It implements the dispatcher's
// state.Subscriptions, half of the send-time gate.
func (s *Store) Subscribed(ctx context.Context, trackingID string, c dispatcher.Channel, recipient string) (bool, string, error) {
	cmd, judge := s.SubscribedCmd(ctx, dispatcher.Notification{TrackingID: trackingID, Channel: c, Recipient: recipient})
	if err := s.b.Submit(cmd).Wait(ctx); err != nil {
		return false, "", fmt.Errorf("check recipient: %w", err)
	}
	return judge()
}

// SubscribedCmd is Subscribed as a command to send in a batch with others
// (state.BatchedSubscriptions) and the function that reads its reply. For
// a delayed notification (n.Collapse) it also answers
// dispatcher.ReasonSuperseded when the tracking has entered a later
// notifying status since n was planned (Tracking.Seq above n.Seq).
func (s *Store) SubscribedCmd(ctx context.Context, n dispatcher.Notification) (redis.Cmder, func() (bool, string, error)) {
	key := stateKey(n.TrackingID)
	cmd := redis.NewSliceCmd(ctx, "hmget", key, "v", "s")
	return cmd, func() (bool, string, error) {
		vals, err := cmd.Result()
		if err != nil {
			return false, "", fmt.Errorf("check recipient: %w", err)
		}
		v, _ := vals[0].(string)
		if v == "" {
			return false, "tracking was deleted", nil
		}
		var t subscribers
		raw, _ := vals[1].(string)
		if rest, ok := strings.CutPrefix(raw, v+":"); ok {
			err = json.Unmarshal([]byte(rest), &t)
		} else {
			// Written by a trackhook before "s" (or whose "s" is not of
			// this version): the subscribers are in the whole tracking.
			err = s.subscribersOf(ctx, key, &t)
			if errors.Is(err, redis.Nil) {
				return false, "tracking was deleted", nil
			}
		}
		if err != nil {
			return false, "", fmt.Errorf("check recipient of tracking %s: %w", n.TrackingID, err)
		}
		list := t.Emails
		if n.Channel == dispatcher.ChannelSMS {
			list = t.SMSes
		}
		if !slices.Contains(list, n.Recipient) {
			return false, "recipient was removed from the tracking", nil
		}
		if n.Collapse && t.Seq > n.Seq {
			return false, dispatcher.ReasonSuperseded, nil
		}
		return true, "", nil
	}
}

// subscribersOf reads the subscribers out of the whole tracking stored at
// key (its "d"), for a state hash without a current "s" (subscribers).
func (s *Store) subscribersOf(ctx context.Context, key string, t *subscribers) error {
	raw, err := s.rdb.HGet(ctx, key, "d").Bytes()
	if err != nil {
		return err
	}
	// The tracking's fields of the same names.
	return json.Unmarshal(raw, t)
}

// Secret returns the shared secret called name, creating 32 random bytes the
// first time, so every receiver behind a load balancer signs alike without
// configuration. Operators who want to control it set it explicitly instead.
func (s *Store) Secret(ctx context.Context, name string) ([]byte, error) {
	key := secretKey(name)
	b := make([]byte, 32)
	if _, err := crand.Read(b); err != nil {
		return nil, err
	}
	if err := s.rdb.SetNX(ctx, key, b, 0).Err(); err != nil {
		return nil, fmt.Errorf("secret %s: %w", name, err)
	}
	v, err := s.rdb.Get(ctx, key).Bytes()
	if err != nil {
		return nil, fmt.Errorf("secret %s: %w", name, err)
	}
	return v, nil
}
