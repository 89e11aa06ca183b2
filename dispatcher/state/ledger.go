package state

import (
	"context"
	"fmt"

	"github.com/redis/go-redis/v9"

	"github.com/trackhook/trackhook/dispatcher"
	"github.com/trackhook/trackhook/dispatcher/groupcommit"
)

// Delivered reports whether the provider already accepted the notification
// with this key (see MarkDelivered).
func (s *Store) Delivered(ctx context.Context, trackingID, key string) (bool, error) {
	cmd := redis.NewBoolCmd(ctx, "sismember", sentKey(trackingID), key)
	if err := s.b.Do(ctx, cmd); err != nil {
		return false, err
	}
	return cmd.Val(), nil
}

// addScript adds a member to a set and sets the set's time to live, in one
// step (a batch may not hold MULTI: in a Cluster it would go to any node).
//
// KEYS[1] the set; ARGV[1] member, ARGV[2] time to live (ms).
// Returns 1 if the member is new, 0 if it was there.
var addScript = groupcommit.NewScript(`
local added = redis.call("SADD", KEYS[1], ARGV[1])
redis.call("PEXPIRE", KEYS[1], ARGV[2])
return added
`)

// MarkDelivered records that the provider accepted the notification, so a
// task run again (a crash before asynq recorded success, a re-enqueue from
// the outbox) does not send it twice.
func (s *Store) MarkDelivered(ctx context.Context, trackingID, key string) error {
	return s.b.Do(ctx, addScript.Cmd(ctx, []string{sentKey(trackingID)}, key, s.opts.Retention.Milliseconds()))
}

// MarkDeliveredAndRecord is MarkDelivered and Record in one step
// (dispatcher.SentRecorder): the ledger's entry and the delivery log's, one
// round trip after each send.
func (s *Store) MarkDeliveredAndRecord(ctx context.Context, trackingID, key string, d dispatcher.Delivery) (markErr, recordErr error) {
	mark := addScript.Cmd(ctx, []string{sentKey(trackingID)}, key, s.opts.Retention.Milliseconds())
	record, err := s.recordCmd(ctx, trackingID, d)
	if err != nil {
		return s.b.Do(ctx, mark), fmt.Errorf("record delivery: %w", err)
	}
	if err := s.b.Submit(mark, record).Wait(ctx); err != nil {
		return err, fmt.Errorf("record delivery: %w", err)
	}
	if err := record.Err(); err != nil {
		recordErr = fmt.Errorf("record delivery: %w", err)
	}
	return mark.Err(), recordErr
}

// BeginSend records that an attempt is about to hand the notification to the
// provider and reports whether an earlier attempt did (see
// dispatcher.Ledger).
func (s *Store) BeginSend(ctx context.Context, trackingID, key string) (again bool, err error) {
	cmd := addScript.Cmd(ctx, []string{attemptedKey(trackingID)}, key, s.opts.Retention.Milliseconds())
	if err := s.b.Do(ctx, cmd); err != nil {
		return false, err
	}
	added, err := cmd.Int64()
	if err != nil {
		return false, err
	}
	return added == 0, nil
}

// Settle records that the notification ended without a send that will
// happen (skipped, suppressed, failed permanently), so the one queued after
// it for the same recipient does not wait for it (dispatcher.Settler).
func (s *Store) Settle(ctx context.Context, trackingID, key string) error {
	return s.b.Do(ctx, addScript.Cmd(ctx, []string{settledKey(trackingID)}, key, s.opts.Retention.Milliseconds()))
}

var _ dispatcher.SentRecorder = (*Store)(nil)
