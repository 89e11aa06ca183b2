package state

import (
	"context"
	"encoding/json"
	"sort"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/trackhook/trackhook/dispatcher"
)

// Suppression is a recipient who opted out of every shipment on a channel.
type Suppression struct {
	Channel   dispatcher.Channel `json:"channel"`
	Recipient string             `json:"recipient"`
	Reason    string             `json:"reason"` // "unsubscribe link", "sms STOP" (the keyword sent), "admin"
	CreatedAt time.Time          `json:"created_at"`
}

// Suppress adds a recipient to the suppression list. An existing entry is
// kept as it is: the first reason (the customer's own opt-out) and time win.
func (s *Store) Suppress(ctx context.Context, c dispatcher.Channel, recipient, reason string) error {
	b, err := json.Marshal(Suppression{Channel: c, Recipient: recipient, Reason: reason, CreatedAt: s.opts.Now().UTC()})
	if err != nil {
		return err
	}
	return s.rdb.HSetNX(ctx, suppressionsKey(), dispatcher.RecipientKey(c, recipient), b).Err()
}

// Unsuppress lifts a suppression; it reports whether there was one.
func (s *Store) Unsuppress(ctx context.Context, c dispatcher.Channel, recipient string) (bool, error) {
	n, err := s.rdb.HDel(ctx, suppressionsKey(), dispatcher.RecipientKey(c, recipient)).Result()
	return n > 0, err
}

// Suppressed reports whether the recipient is on the suppression list.
func (s *Store) Suppressed(ctx context.Context, c dispatcher.Channel, recipient string) (bool, error) {
	cmd := redis.NewBoolCmd(ctx, "hexists", suppressionsKey(), dispatcher.RecipientKey(c, recipient))
	if err := s.b.Do(ctx, cmd); err != nil {
		return false, err
	}
	return cmd.Val(), nil
}

// Suppressions lists the suppression list, oldest first.
func (s *Store) Suppressions(ctx context.Context) ([]Suppression, error) {
	m, err := s.rdb.HGetAll(ctx, suppressionsKey()).Result()
	if err != nil {
		return nil, err
	}
	out := make([]Suppression, 0, len(m))
	for _, raw := range m {
		var sup Suppression
		if json.Unmarshal([]byte(raw), &sup) == nil {
			out = append(out, sup)
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].CreatedAt.Before(out[j].CreatedAt) })
	return out, nil
}
