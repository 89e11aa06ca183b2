package state

import (
	"context"
	"fmt"

	"github.com/trackhook/trackhook/dispatcher"
)

// Subscriptions says whether a recipient is still subscribed to a tracking:
// the tracking exists and still lists the recipient on that channel. The
// receiver, which owns trackings, implements it.
type Subscriptions interface {
	Subscribed(ctx context.Context, trackingID string, c dispatcher.Channel, recipient string) (ok bool, reason string, err error)
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
