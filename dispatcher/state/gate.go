package state

import (
	"context"
	"errors"
	"fmt"

	"github.com/redis/go-redis/v9"

	"github.com/trackhook/trackhook/dispatcher"
)

// Subscriptions says whether a recipient is still subscribed to a tracking:
// the tracking exists and still lists the recipient on that channel. The
// receiver, which owns trackings, implements it.
type Subscriptions interface {
	Subscribed(ctx context.Context, trackingID string, c dispatcher.Channel, recipient string) (ok bool, reason string, err error)
}

// BatchedSubscriptions is Subscriptions whose question can go to Redis in
// one step with the gate's and the ledger's: SubscribedCmd returns the
// command to send and the function that reads its reply as Subscribed
// would answer (that function may ask Redis once more, as the tracking
// store does for a tracking last written by an earlier version). The
// tracking store implements it.
type BatchedSubscriptions interface {
	Subscriptions
	SubscribedCmd(ctx context.Context, n dispatcher.Notification) (redis.Cmder, func() (ok bool, reason string, err error))
}

// Gate is the send-time check: a queued notification goes out only while
// its recipient is not suppressed and still subscribed to the tracking.
type Gate struct {
	store *Store
	subs  Subscriptions
}

// Gate returns the send-time check over s's suppression list and subs.
func (s *Store) Gate(subs Subscriptions) *Gate { return &Gate{store: s, subs: subs} }

// Allowed implements dispatcher.Gate.
func (g *Gate) Allowed(ctx context.Context, trackingID string, c dispatcher.Channel, recipient string) (bool, string, error) {
	sup, err := g.store.Suppressed(ctx, c, recipient)
	if err != nil {
		return false, "", fmt.Errorf("check suppression list: %w", err)
	}
	if sup {
		return false, "recipient is on the suppression list", nil
	}
	return g.subs.Subscribed(ctx, trackingID, c, recipient)
}

// Check implements dispatcher.Checker: the ledger's question and the
// gate's in one round trip (when the subscriptions can be batched; see
// BatchedSubscriptions for the exception). When
// everything else lets n go out but the notification it must follow
// (n.After) is neither sent nor settled, it answers not ok with
// dispatcher.ReasonWaiting.
func (g *Gate) Check(ctx context.Context, n dispatcher.Notification) (delivered, ok bool, reason string, err error) {
	sent := redis.NewBoolCmd(ctx, "sismember", sentKey(n.TrackingID), n.Key)
	sup := redis.NewBoolCmd(ctx, "hexists", suppressionsKey(), dispatcher.RecipientKey(n.Channel, n.Recipient))
	step := []redis.Cmder{sent, sup}
	var judge func() (bool, string, error)
	if bs, ok := g.subs.(BatchedSubscriptions); ok {
		var cmd redis.Cmder
		cmd, judge = bs.SubscribedCmd(ctx, n)
		step = append(step, cmd)
	}
	var afterSent, afterSettled *redis.BoolCmd
	if n.After != "" {
		afterSent = redis.NewBoolCmd(ctx, "sismember", sentKey(n.TrackingID), n.After)
		afterSettled = redis.NewBoolCmd(ctx, "sismember", settledKey(n.TrackingID), n.After)
		step = append(step, afterSent, afterSettled)
	}
	if err := g.store.b.Submit(step...).Wait(ctx); err != nil {
		return false, false, "", fmt.Errorf("check ledger: %w", err)
	}
	if err := sent.Err(); err != nil {
		return false, false, "", fmt.Errorf("check ledger: %w", err)
	}
	if sent.Val() {
		return true, false, "", nil
	}
	if err := sup.Err(); err != nil {
		return false, false, "", fmt.Errorf("check suppression list: %w", err)
	}
	if sup.Val() {
		return false, false, "recipient is on the suppression list", nil
	}
	if judge == nil {
		ok, reason, err = g.subs.Subscribed(ctx, n.TrackingID, n.Channel, n.Recipient)
	} else {
		ok, reason, err = judge()
	}
	if err != nil || !ok || afterSent == nil {
		return false, ok, reason, err
	}
	if err := errors.Join(afterSent.Err(), afterSettled.Err()); err != nil {
		return false, false, "", fmt.Errorf("check the earlier notification: %w", err)
	}
	if !afterSent.Val() && !afterSettled.Val() {
		return false, false, dispatcher.ReasonWaiting, nil
	}
	return false, true, "", nil
}
