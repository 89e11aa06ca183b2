// Package groupcommit sends the Redis commands of many concurrent callers
// as one pipeline: group commit, as databases do for their log.
//
// A caller hands over the commands of one step (Submit, or Do to wait for
// them). A few flusher goroutines take whatever steps are waiting, up to
// MaxBatch commands, write them on one connection in one write, and hand
// every caller its replies. There is no timer: a step that finds a flusher
// idle goes out at once, alone, as it would without this package; steps
// that arrive while every flusher is waiting on Redis are collected and go
// out together in the next pipeline. Under load that turns hundreds of
// round trips, each a write and a read on both sides, into a few.
//
// A step's commands keep their order and are never split between batches,
// so a step may rely on Redis running them in order on one node (for
// example an index entry written before the state it points at). With a
// Cluster client go-redis splits each pipeline by node, and commands on
// different nodes are then not ordered: such a step submits in two parts.
//
// Commands run with the batcher's own context, not the caller's: a caller
// that gives up (Wait returns its context's error) does not cancel the
// others' commands. Its own step is dropped if it has not gone out yet
// (so a webhook answered 503 is not stored behind its back once Redis
// answers again); if it has, it may still run, as with a plain pipeline
// whose reply never came.
package groupcommit

import (
	"context"
	"errors"
	"net"
	"sync"
	"sync/atomic"

	"github.com/redis/go-redis/v9"
)

// Options configure a Batcher. Zero values take the defaults.
type Options struct {
	// Flushers is how many pipelines may be in flight at once (default 2).
	Flushers int
	// MaxBatch bounds the commands of one pipeline (default 256). A step
	// with more commands than this still goes out whole, alone.
	MaxBatch int
	// Queue is how many steps may wait for a flusher before Submit blocks
	// (default 4096).
	Queue int
}

// Batcher collects the commands of concurrent callers into pipelines.
type Batcher struct {
	rdb    redis.UniversalClient
	max    int
	steps  chan *Pending
	stop   chan struct{}
	wg     sync.WaitGroup
	mu     sync.RWMutex // held by Submit while it hands over; Close takes it to set closed
	closed bool
	direct bool // Direct: no flushers
}

// ErrClosed is returned for a step submitted after Close.
var ErrClosed = errors.New("groupcommit: batcher closed")

// New starts a batcher on rdb. Close stops it.
func New(rdb redis.UniversalClient, opts Options) *Batcher {
	if opts.Flushers <= 0 {
		opts.Flushers = 2
	}
	if opts.MaxBatch <= 0 {
		opts.MaxBatch = 256
	}
	if opts.Queue <= 0 {
		opts.Queue = 4096
	}
	b := &Batcher{rdb: rdb, max: opts.MaxBatch, steps: make(chan *Pending, opts.Queue), stop: make(chan struct{})}
	b.wg.Add(opts.Flushers)
	for range opts.Flushers {
		go b.flush()
	}
	return b
}

// Direct returns a batcher without flushers: every step runs at once, in
// the caller's goroutine, as its own pipeline. It is what a store uses when
// it was given no batcher (tests, tools); Close does nothing.
func Direct(rdb redis.UniversalClient) *Batcher {
	return &Batcher{rdb: rdb, direct: true}
}

// Pending is a submitted step.
type Pending struct {
	cmds []redis.Cmder
	done chan struct{}
	// gone reports the caller gave up waiting (its context ended): a
	// step not yet sent is then dropped, not sent late.
	gone atomic.Bool
}

// Submit hands cmds over as one step and returns at once; Wait for the
// replies, which are in the commands themselves (each Cmder's Val and Err,
// as after a pipeline's Exec).
func (b *Batcher) Submit(cmds ...redis.Cmder) *Pending {
	p := &Pending{cmds: cmds, done: make(chan struct{})}
	if len(cmds) == 0 {
		close(p.done)
		return p
	}
	if b.direct {
		b.exec(context.Background(), cmds)
		close(p.done)
		return p
	}
	b.mu.RLock()
	defer b.mu.RUnlock()
	if b.closed {
		fail(cmds, ErrClosed)
		close(p.done)
		return p
	}
	b.steps <- p // the flushers drain the queue until Close, which waits for this
	return p
}

// Wait waits until the step has run, or ctx ends. It returns nil once the
// commands have their replies (each may carry its own error: redis.Nil, a
// script's error, a connection failure), and ctx's error if it ended first.
func (p *Pending) Wait(ctx context.Context) error {
	select {
	case <-p.done:
		return nil
	case <-ctx.Done():
		p.gone.Store(true)
		return ctx.Err()
	}
}

// Do submits cmds as one step and waits for it: the replies are in the
// commands. The error is the first command's error other than redis.Nil,
// or ctx's.
func (b *Batcher) Do(ctx context.Context, cmds ...redis.Cmder) error {
	if err := b.Submit(cmds...).Wait(ctx); err != nil {
		return err
	}
	for _, c := range cmds {
		if err := c.Err(); err != nil && !errors.Is(err, redis.Nil) {
			return err
		}
	}
	return nil
}

// Close stops the flushers once the steps already submitted have run.
// Steps submitted afterwards fail with ErrClosed.
func (b *Batcher) Close() {
	if b.direct {
		return
	}
	b.mu.Lock()
	already := b.closed
	b.closed = true
	b.mu.Unlock()
	if !already {
		close(b.stop)
	}
	b.wg.Wait()
}

func (b *Batcher) flush() {
	defer b.wg.Done()
	ctx := context.Background()
	var batch []*Pending
	var cmds []redis.Cmder
	for {
		var first *Pending
		select {
		case first = <-b.steps:
		case <-b.stop:
			// Run what was submitted before Close, then stop.
			select {
			case first = <-b.steps:
			default:
				return
			}
		}
		batch, cmds = append(batch[:0], first), cmds[:0]
	collect:
		for n := len(first.cmds); n < b.max; {
			select {
			case p := <-b.steps:
				batch = append(batch, p)
				n += len(p.cmds)
			default:
				break collect
			}
		}
		for _, p := range batch {
			if p.gone.Load() {
				// Its caller has given up (and answered, say, 503):
				// sent now, it could store what the caller reported
				// as not stored.
				fail(p.cmds, context.Canceled)
				continue
			}
			cmds = append(cmds, p.cmds...)
		}
		if len(cmds) > 0 {
			b.exec(ctx, cmds)
		}
		for _, p := range batch {
			close(p.done)
		}
		clear(batch)
		clear(cmds)
	}
}

// exec runs cmds as one pipeline. A script Redis does not know (NOSCRIPT:
// Redis restarted, or failed over, since it was loaded) is run again by its
// source, after the rest of the pipeline.
func (b *Batcher) exec(ctx context.Context, cmds []redis.Cmder) {
	pipe := b.rdb.Pipeline()
	for _, c := range cmds {
		_ = pipe.Process(ctx, c)
	}
	_, _ = pipe.Exec(ctx)
	var retry []redis.Cmder
	var orig []*redis.Cmd
	for _, c := range cmds {
		cmd, ok := c.(*redis.Cmd)
		if !ok || !redis.HasErrorPrefix(cmd.Err(), "NOSCRIPT") {
			continue
		}
		args := cmd.Args()
		src, ok := sourceOf(args)
		if !ok {
			continue
		}
		again := make([]any, len(args))
		copy(again, args)
		again[0], again[1] = "eval", src
		retry = append(retry, redis.NewCmd(ctx, again...))
		orig = append(orig, cmd)
	}
	if len(retry) == 0 {
		return
	}
	pipe = b.rdb.Pipeline()
	for _, c := range retry {
		_ = pipe.Process(ctx, c)
	}
	_, _ = pipe.Exec(ctx)
	for i, c := range retry {
		r := c.(*redis.Cmd)
		orig[i].SetVal(r.Val())
		orig[i].SetErr(r.Err())
	}
}

func fail(cmds []redis.Cmder, err error) {
	for _, c := range cmds {
		c.SetErr(err)
	}
}

// Client returns a client whose commands go through b, each as a step of
// its own, instead of on a connection of its own: a library that sends one
// command at a time and waits for it (asynq's Client enqueues a task in one
// EVALSHA) then shares pipelines with every other caller of b. It is for
// commands that answer at once (a blocking one, BLPOP, would hold up every
// step in its pipeline), and it has no connections: its pipelines and
// transactions fail with ErrSingleCommands. Close it when done.
func (b *Batcher) Client() *redis.Client {
	c := redis.NewClient(&redis.Options{
		Addr: "groupcommit", // never dialled
		Dialer: func(context.Context, string, string) (net.Conn, error) {
			return nil, ErrSingleCommands
		},
		MaxRetries: -1,
	})
	c.AddHook(hook{b: b})
	return c
}

// Hook returns a hook that sends the single commands of the client it is
// added to through b, as Client does, while the client keeps its own
// connections for what cannot go through b: its pipelines and transactions,
// and Pub/Sub. It is for a library that also subscribes (asynq's Server
// listens for cancellations) on a client of its own; the same caution about
// blocking commands applies.
func (b *Batcher) Hook() redis.Hook { return hook{b: b, own: true} }

// ErrSingleCommands is the error of a pipeline sent on Batcher.Client.
var ErrSingleCommands = errors.New("groupcommit: this client sends single commands only (its pipelines would not be batched)")

type hook struct {
	b   *Batcher
	own bool // the client has connections of its own (Hook)
}

func (hook) DialHook(next redis.DialHook) redis.DialHook { return next }

func (h hook) ProcessHook(redis.ProcessHook) redis.ProcessHook {
	return func(ctx context.Context, cmd redis.Cmder) error {
		if err := h.b.Submit(cmd).Wait(ctx); err != nil {
			cmd.SetErr(err)
		}
		return cmd.Err()
	}
}

func (h hook) ProcessPipelineHook(next redis.ProcessPipelineHook) redis.ProcessPipelineHook {
	if h.own {
		return next
	}
	return func(_ context.Context, cmds []redis.Cmder) error {
		fail(cmds, ErrSingleCommands)
		return ErrSingleCommands
	}
}
