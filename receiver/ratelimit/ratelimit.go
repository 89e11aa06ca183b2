// Package ratelimit is a token bucket kept in Redis, so every receiver
// behind a load balancer draws from the same buckets.
package ratelimit

import (
	"context"
	"fmt"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/trackhook/trackhook/dispatcher/groupcommit"
)

// Limiter hands out tokens at Rate per second, up to Burst saved up, per
// bucket name. A nil *Limiter allows everything.
type Limiter struct {
	b     *groupcommit.Batcher
	rate  float64
	burst int
}

// New returns a limiter; rate ≤ 0 returns nil (no limit).
func New(rdb redis.UniversalClient, rate float64, burst int) *Limiter {
	if rate <= 0 {
		return nil
	}
	if burst < 1 {
		burst = max(1, int(rate))
	}
	return &Limiter{b: groupcommit.Direct(rdb), rate: rate, burst: burst}
}

// Batched sends the limiter's steps through b (package groupcommit), so
// concurrent requests share pipelines with each other and with the rest of
// the webhook path. It returns l; on a nil *Limiter it does nothing.
func (l *Limiter) Batched(b *groupcommit.Batcher) *Limiter {
	if l != nil && b != nil {
		l.b = b
	}
	return l
}

func bucketKey(name string) string { return "trackhook:ratelimit:{" + name + "}" }

// takeScript takes one token from a bucket, refilling it for the time since
// it was last touched. Redis's own clock is used, so receivers on machines
// whose clocks differ share one notion of time.
//
// KEYS[1] the bucket hash (t: tokens, ts: last refill in µs)
// ARGV[1] rate (tokens per second), ARGV[2] burst
// Returns {1, 0} when a token was taken, {0, µs until one is available} when not.
var takeScript = groupcommit.NewScript(`
local now = redis.call("TIME")
local t_now = tonumber(now[1]) * 1000000 + tonumber(now[2])
local rate = tonumber(ARGV[1])
local burst = tonumber(ARGV[2])
local b = redis.call("HMGET", KEYS[1], "t", "ts")
local tokens = tonumber(b[1]) or burst
local ts = tonumber(b[2]) or t_now
tokens = math.min(burst, tokens + (t_now - ts) * rate / 1000000)
local ok, wait = 0, 0
if tokens >= 1 then
  tokens = tokens - 1
  ok = 1
else
  wait = math.ceil((1 - tokens) * 1000000 / rate)
end
redis.call("HSET", KEYS[1], "t", tostring(tokens), "ts", tostring(t_now))
redis.call("PEXPIRE", KEYS[1], math.ceil(burst / rate * 1000) + 1000)
return {ok, wait}
`)

// Allow takes a token from the bucket called name. When there is none it
// reports how long until there is. Errors (Redis unreachable) are returned
// with ok true: a limiter must not turn a Redis hiccup into refusals; the
// request then fails on its own if it needs Redis.
func (l *Limiter) Allow(ctx context.Context, name string) (ok bool, retryAfter time.Duration, err error) {
	return l.Take(ctx, name).Result(ctx)
}

// Take asks for a token from the bucket called name and returns at once, so
// the caller can do other work (read and verify a body) while Redis
// answers; Result has the answer, as Allow's.
func (l *Limiter) Take(ctx context.Context, name string) *Decision {
	if l == nil {
		return &Decision{}
	}
	cmd := takeScript.Cmd(ctx, []string{bucketKey(name)}, l.rate, l.burst)
	return &Decision{cmd: cmd, p: l.b.Submit(cmd)}
}

// Decision is a pending Take.
type Decision struct {
	cmd *redis.Cmd
	p   *groupcommit.Pending
}

// Result waits for the decision; see Allow.
func (d *Decision) Result(ctx context.Context) (ok bool, retryAfter time.Duration, err error) {
	if d.cmd == nil {
		return true, 0, nil
	}
	if err := d.p.Wait(ctx); err != nil {
		return true, 0, fmt.Errorf("rate limit: %w", err)
	}
	res, err := d.cmd.Int64Slice()
	if err != nil || len(res) != 2 {
		if err == nil {
			err = fmt.Errorf("rate limit script answered %v", res)
		}
		return true, 0, fmt.Errorf("rate limit: %w", err)
	}
	return res[0] == 1, time.Duration(res[1]) * time.Microsecond, nil
}

// RetryAfterSeconds rounds a wait up to whole seconds for the Retry-After
// header (at least 1).
func RetryAfterSeconds(d time.Duration) int {
	s := int((d + time.Second - 1) / time.Second)
	return max(1, s)
}
