package state

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"unicode/utf8"

	"github.com/redis/go-redis/v9"

	"github.com/trackhook/trackhook/dispatcher"
	"github.com/trackhook/trackhook/dispatcher/groupcommit"
	"github.com/trackhook/trackhook/dispatcher/redact"
)

// MaxDeliveries is how many delivery-log entries a tracking keeps; older
// ones are dropped as new ones arrive.
const MaxDeliveries = 200

// maxDeliveryError bounds the stored error text (bytes).
const maxDeliveryError = 1024

// recordDeliveryScript adds one entry to a tracking's delivery log, unless
// the tracking is gone (deleted or expired: its log went with it).
//
// KEYS[1] deliveries zset, KEYS[2] the tracking's key (Options.TrackingKey;
// absent: no check), one hash slot
// ARGV[1] score: the entry's time (µs)
// ARGV[2] entry JSON
// ARGV[3] cutoff (µs): entries older than this are dropped
// ARGV[4] how many entries to keep (the newest)
// ARGV[5] retention (ms) of the log key
// Returns 1 recorded, 0 no such tracking.
var recordDeliveryScript = groupcommit.NewScript(`
if KEYS[2] and redis.call("EXISTS", KEYS[2]) == 0 then
  return 0
end
redis.call("ZADD", KEYS[1], ARGV[1], ARGV[2])
redis.call("ZREMRANGEBYSCORE", KEYS[1], "-inf", "(" .. ARGV[3])
redis.call("ZREMRANGEBYRANK", KEYS[1], 0, -(tonumber(ARGV[4]) + 1))
redis.call("PEXPIRE", KEYS[1], ARGV[5])
return 1
`)

// Record appends d to the tracking's delivery log, keeping the newest
// MaxDeliveries entries of the last DeliveryRetention. A zero d.At is now.
// The recipient is masked here too, whatever the caller passed. An attempt
// for a tracking that does not exist is not recorded, and that is no
// error: its log went with it, and there is nobody to show the entry to.
func (s *Store) Record(ctx context.Context, trackingID string, d dispatcher.Delivery) error {
	cmd, err := s.recordCmd(ctx, trackingID, d)
	if err == nil {
		err = s.b.Do(ctx, cmd)
	}
	if err != nil {
		return fmt.Errorf("record delivery: %w", err)
	}
	return nil
}

// recordCmd is the command that appends d to the tracking's delivery log
// (Record).
func (s *Store) recordCmd(ctx context.Context, trackingID string, d dispatcher.Delivery) (redis.Cmder, error) {
	if !d.Outcome.Valid() {
		return nil, fmt.Errorf("invalid outcome %d", uint8(d.Outcome))
	}
	now := s.opts.Now()
	if d.At.IsZero() {
		d.At = now
	}
	d.At = d.At.UTC()
	d.Recipient = redact.Recipient(d.Recipient)
	d.Error = clip(d.Error, maxDeliveryError)
	b, err := json.Marshal(d)
	if err != nil {
		return nil, err
	}
	keys := []string{deliveriesKey(trackingID)}
	if s.opts.TrackingKey != nil && trackingID != dispatcher.TestLog { // the test log belongs to no tracking
		keys = append(keys, s.opts.TrackingKey(trackingID))
	}
	return recordDeliveryScript.Cmd(ctx, keys,
		d.At.UnixMicro(), b, now.Add(-s.opts.DeliveryRetention).UnixMicro(), MaxDeliveries,
		s.opts.DeliveryRetention.Milliseconds()), nil
}

// Deliveries returns a tracking's delivery log, newest first, without the
// entries older than DeliveryRetention. It returns ErrNoTracking for a
// tracking that does not exist.
func (s *Store) Deliveries(ctx context.Context, trackingID string) ([]dispatcher.Delivery, error) {
	cutoff := s.opts.Now().Add(-s.opts.DeliveryRetention).UnixMicro()
	pipe := s.rdb.Pipeline()
	var exists *redis.IntCmd
	if s.opts.TrackingKey != nil && trackingID != dispatcher.TestLog {
		exists = pipe.Exists(ctx, s.opts.TrackingKey(trackingID))
	}
	entries := pipe.ZRevRangeByScore(ctx, deliveriesKey(trackingID), &redis.ZRangeBy{
		Max: "+inf", Min: strconv.FormatInt(cutoff, 10), Count: MaxDeliveries,
	})
	if _, err := pipe.Exec(ctx); err != nil && !errors.Is(err, redis.Nil) {
		return nil, fmt.Errorf("delivery log: %w", err)
	}
	if exists != nil && exists.Val() == 0 {
		return nil, ErrNoTracking
	}
	out := make([]dispatcher.Delivery, 0, len(entries.Val()))
	for _, raw := range entries.Val() {
		var d dispatcher.Delivery
		if json.Unmarshal([]byte(raw), &d) == nil {
			out = append(out, d)
		}
	}
	return out, nil
}

// clip cuts s to at most n bytes on a rune boundary.
func clip(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n] + "…"
}
