package tracking

import (
	"context"
	"crypto/sha256"
	"fmt"
	"strings"

	"github.com/redis/go-redis/v9"

	"github.com/trackhook/trackhook/dispatcher/groupcommit"
)

// Split shipments. Trackings that share an order number are one order:
// each is a field of the order's hash ("t:<tracking id>" → "1" once
// delivered, else "0"), written with the tracking's own step. When a
// Delivered message is sent, OrderProgress says how many of the order's
// parcels are delivered, and lets exactly one Delivered message per
// recipient, the first sent once all are, announce the whole order.

// OrderRef names the order of a tracking: a hash of its order number (else
// its order id), "" when it has neither. Two trackings are parcels of one
// order when their refs are equal.
func OrderRef(t *Tracking) string {
	o := strings.TrimSpace(t.OrderNumber)
	if o == "" {
		o = strings.TrimSpace(t.OrderID)
	}
	if o == "" {
		return ""
	}
	sum := sha256.Sum256([]byte("order\x00" + o))
	return idEncoding.EncodeToString(sum[:15])
}

// orderKey is the hash of one order's parcels (see above). Its own hash
// tag: an order's trackings live in many slots.
func orderKey(ref string) string { return keyPrefix + "order:{" + ref + "}" }

// orderCmds are the commands that keep t's entry in its order's hash as
// the change from cur to next needs: added (or its delivered flag set) in
// the new order, removed from an order it left.
func (s *Store) orderCmds(ctx context.Context, cur, next *Tracking) []redis.Cmder {
	ref := OrderRef(next)
	var old string
	oldDelivered := false
	if cur != nil {
		old = OrderRef(cur)
		oldDelivered = cur.Status == Delivered
	}
	delivered := next.Status == Delivered
	var cmds []redis.Cmder
	if old != "" && old != ref {
		cmds = append(cmds, redis.NewIntCmd(ctx, "hdel", orderKey(old), "t:"+next.ID))
	}
	if ref != "" && (ref != old || delivered != oldDelivered) {
		flag := "0"
		if delivered {
			flag = "1"
		}
		cmds = append(cmds,
			redis.NewIntCmd(ctx, "hset", orderKey(ref), "t:"+next.ID, flag),
			redis.NewBoolCmd(ctx, "pexpire", orderKey(ref), s.opts.Retention.Milliseconds()))
	}
	return cmds
}

// orderProgressScript counts an order's parcels and lets one Delivered
// message per recipient announce the whole order.
//
// KEYS[1] the order's hash; ARGV[1] the claim field ("all:" + recipient
// key); ARGV[2] the claimant (the notification's key).
// Returns {delivered, total, claimed (1: this message announces all)}.
var orderProgressScript = groupcommit.NewScript(`
local all = redis.call("HGETALL", KEYS[1])
local delivered, total = 0, 0
for i = 1, #all, 2 do
  if string.sub(all[i], 1, 2) == "t:" then
    total = total + 1
    if all[i + 1] == "1" then delivered = delivered + 1 end
  end
end
local claimed = 0
if total > 1 and delivered == total then
  local holder = redis.call("HGET", KEYS[1], ARGV[1])
  if not holder then
    redis.call("HSET", KEYS[1], ARGV[1], ARGV[2])
    claimed = 1
  elseif holder == ARGV[2] then
    claimed = 1
  end
end
return {delivered, total, claimed}
`)

// OrderProgress implements the dispatcher's question about a Delivered
// message's order (dispatcher.Orders): how many of the order's parcels are
// delivered, of how many, and whether this message (key, to recipientKey)
// is the one that announces the whole order. Asked again for the same
// message it answers the same.
func (s *Store) OrderProgress(ctx context.Context, order, recipientKey, key string) (delivered, total int, all bool, err error) {
	cmd := orderProgressScript.Cmd(ctx, []string{orderKey(order)}, "all:"+recipientKey, key)
	if err := s.b.Do(ctx, cmd); err != nil {
		return 0, 0, false, fmt.Errorf("order progress: %w", err)
	}
	v, err := cmd.Int64Slice()
	if err != nil || len(v) != 3 {
		return 0, 0, false, fmt.Errorf("order progress: %v %v", v, err)
	}
	return int(v[0]), int(v[1]), v[2] == 1, nil
}
