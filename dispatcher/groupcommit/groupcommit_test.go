package groupcommit_test

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/hibiken/asynq"
	"github.com/redis/go-redis/v9"

	"github.com/trackhook/trackhook/dispatcher/groupcommit"
	"github.com/trackhook/trackhook/receiver/redistest"
)

// countPipelines counts the pipelines (and single commands) a client sends.
type countPipelines struct{ pipelines, cmds atomic.Int64 }

func (c *countPipelines) DialHook(next redis.DialHook) redis.DialHook { return next }
func (c *countPipelines) ProcessHook(next redis.ProcessHook) redis.ProcessHook {
	return func(ctx context.Context, cmd redis.Cmder) error {
		c.pipelines.Add(1)
		c.cmds.Add(1)
		return next(ctx, cmd)
	}
}
func (c *countPipelines) ProcessPipelineHook(next redis.ProcessPipelineHook) redis.ProcessPipelineHook {
	return func(ctx context.Context, cmds []redis.Cmder) error {
		c.pipelines.Add(1)
		c.cmds.Add(int64(len(cmds)))
		return next(ctx, cmds)
	}
}

func TestConcurrentStepsShareAPipelineAndGetTheirOwnReplies(t *testing.T) {
	srv := redistest.Start(t, "--enable-debug-command", "local")
	rdb := srv.Client()
	hook := &countPipelines{}
	rdb.AddHook(hook)
	b := groupcommit.New(rdb, groupcommit.Options{Flushers: 1})
	defer b.Close()

	// One flusher, and Redis busy for 50 ms: every step submitted
	// meanwhile waits, and they all go out in the next pipeline.
	slow := b.Submit(redis.NewCmd(context.Background(), "debug", "sleep", "0.05"))
	const steps = 100
	var wg sync.WaitGroup
	errs := make(chan error, steps)
	for i := range steps {
		wg.Add(1)
		go func() {
			defer wg.Done()
			ctx := context.Background()
			key := fmt.Sprintf("k%d", i)
			set := redis.NewStatusCmd(ctx, "set", key, i)
			get := redis.NewStringCmd(ctx, "get", key)
			if err := b.Do(ctx, set, get); err != nil {
				errs <- err
				return
			}
			if got, want := get.Val(), fmt.Sprint(i); got != want {
				errs <- fmt.Errorf("step %d read %q: the commands of a step ran out of order or got another's reply", i, got)
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	if err := slow.Wait(context.Background()); err != nil {
		t.Fatal(err)
	}
	if got := hook.cmds.Load(); got < 2*steps+1 {
		t.Errorf("sent %d commands, want %d", got, 2*steps+1)
	}
	// Without batching that is 101 round trips; the steps that queued
	// behind the sleep share a handful.
	if got := hook.pipelines.Load(); got > 20 {
		t.Errorf("%d pipelines for %d concurrent steps: they were not batched", got, steps)
	}
}

var incrBy = groupcommit.NewScript(`return redis.call("INCRBY", KEYS[1], ARGV[1])`)

func TestAScriptRedisForgotRunsAgainBySource(t *testing.T) {
	srv := redistest.Start(t)
	rdb := srv.Client()
	b := groupcommit.New(rdb, groupcommit.Options{})
	defer b.Close()
	ctx := context.Background()

	for round := 1; round <= 2; round++ {
		// The first round Redis never saw the script; the second, it was
		// flushed (as after a restart).
		if err := rdb.ScriptFlush(ctx).Err(); err != nil {
			t.Fatal(err)
		}
		cmd := incrBy.Cmd(ctx, []string{"counter"}, 5)
		if err := b.Do(ctx, cmd); err != nil {
			t.Fatalf("round %d: %v", round, err)
		}
		if n, err := cmd.Int(); err != nil || n != 5*round {
			t.Fatalf("round %d: reply %d, %v; want %d", round, n, err, 5*round)
		}
	}
	if n, _ := rdb.Get(ctx, "counter").Int(); n != 10 {
		t.Fatalf("counter %d: the script ran other than once per call", n)
	}
}

func TestRedisDownFailsTheStepNotTheBatcher(t *testing.T) {
	srv := redistest.Start(t)
	rdb := redis.NewClient(&redis.Options{Addr: srv.Addr(), MaxRetries: -1, DialTimeout: 200 * time.Millisecond})
	defer rdb.Close()
	b := groupcommit.New(rdb, groupcommit.Options{})
	defer b.Close()
	ctx := context.Background()

	srv.Kill()
	cmd := redis.NewStatusCmd(ctx, "set", "k", "v")
	if err := b.Do(ctx, cmd); err == nil || cmd.Err() == nil {
		t.Fatal("a step with Redis down succeeded")
	}
	// So does a command of the batcher's Client (asynq's enqueue).
	lib := b.Client()
	defer lib.Close()
	if _, err := asynq.NewClientFromRedisClient(lib).EnqueueContext(ctx, asynq.NewTask("t", nil)); err == nil {
		t.Fatal("enqueue through Client with Redis down succeeded")
	}
	srv.Restart()
	deadline := time.Now().Add(10 * time.Second)
	for {
		cmd = redis.NewStatusCmd(ctx, "set", "k", "v")
		err := b.Do(ctx, cmd)
		if err == nil {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("still failing after Redis came back: %v", err)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func TestAStepSplitAcrossClusterNodes(t *testing.T) {
	c := redistest.StartCluster(t)
	rdb := c.Client()
	defer rdb.Close()
	b := groupcommit.New(rdb, groupcommit.Options{})
	defer b.Close()
	ctx := context.Background()
	var cmds []redis.Cmder
	var gets []*redis.StringCmd
	for i := range 50 {
		key := fmt.Sprintf("key-%d", i) // spread over every node
		cmds = append(cmds, redis.NewStatusCmd(ctx, "set", key, i), incrBy.Cmd(ctx, []string{"{" + key + "}:n"}, i))
		g := redis.NewStringCmd(ctx, "get", key)
		gets = append(gets, g)
		cmds = append(cmds, g)
	}
	if err := b.Do(ctx, cmds...); err != nil {
		t.Fatal(err)
	}
	for i, g := range gets {
		if g.Val() != fmt.Sprint(i) {
			t.Fatalf("get key-%d = %q", i, g.Val())
		}
	}
}

func TestCloseRunsWhatWasSubmittedAndRefusesTheRest(t *testing.T) {
	srv := redistest.Start(t)
	rdb := srv.Client()
	b := groupcommit.New(rdb, groupcommit.Options{Flushers: 1})
	ctx := context.Background()
	var pending []*groupcommit.Pending
	var cmds []*redis.IntCmd
	for range 100 {
		c := redis.NewIntCmd(ctx, "incr", "n")
		cmds = append(cmds, c)
		pending = append(pending, b.Submit(c))
	}
	b.Close()
	for i, p := range pending {
		if err := p.Wait(ctx); err != nil || cmds[i].Err() != nil {
			t.Fatalf("step %d submitted before Close: %v, %v", i, err, cmds[i].Err())
		}
	}
	late := redis.NewIntCmd(ctx, "incr", "n")
	if err := b.Do(ctx, late); !errors.Is(err, groupcommit.ErrClosed) {
		t.Fatalf("a step after Close: %v, want ErrClosed", err)
	}
	if n, _ := rdb.Get(ctx, "n").Int(); n != 100 {
		t.Fatalf("n = %d, want 100", n)
	}
}

func TestWaitGivesUpWithItsContext(t *testing.T) {
	srv := redistest.Start(t, "--enable-debug-command", "local")
	rdb := srv.Client()
	busy := make(chan struct{})
	rdb.AddHook(onPipeline(func(cmds []redis.Cmder) {
		if cmds[0].Name() == "debug" {
			close(busy)
		}
	}))
	b := groupcommit.New(rdb, groupcommit.Options{Flushers: 1})
	defer b.Close()
	sleep := b.Submit(redis.NewCmd(context.Background(), "debug", "sleep", "0.3"))
	<-busy // the one flusher is waiting on Redis
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
	defer cancel()
	incr := redis.NewIntCmd(ctx, "incr", "n")
	if err := b.Do(ctx, incr); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("err = %v, want the context's", err)
	}
	// The step had not gone out when its caller gave up: it never does
	// (a webhook answered 503 must not be stored behind its back).
	_ = sleep.Wait(context.Background())
	later := redis.NewStringCmd(context.Background(), "get", "n")
	if err := b.Do(context.Background(), later); err != nil && !errors.Is(err, redis.Nil) {
		t.Fatal(err)
	}
	if later.Val() != "" {
		t.Fatalf("n = %q: the abandoned step ran", later.Val())
	}
}

// onPipeline calls f with every pipeline a client sends.
type onPipeline func(cmds []redis.Cmder)

func (f onPipeline) DialHook(next redis.DialHook) redis.DialHook          { return next }
func (f onPipeline) ProcessHook(next redis.ProcessHook) redis.ProcessHook { return next }
func (f onPipeline) ProcessPipelineHook(next redis.ProcessPipelineHook) redis.ProcessPipelineHook {
	return func(ctx context.Context, cmds []redis.Cmder) error {
		f(cmds)
		return next(ctx, cmds)
	}
}

// asynq's Client sends one EVALSHA per task and waits for it: on Client,
// concurrent enqueues share pipelines, each still told its own outcome.
func TestClientBatchesAsynqEnqueues(t *testing.T) {
	srv := redistest.Start(t, "--enable-debug-command", "local")
	rdb := srv.Client()
	count := &countPipelines{}
	rdb.AddHook(count)
	b := groupcommit.New(rdb, groupcommit.Options{Flushers: 1})
	defer b.Close()

	// The library's client: every command goes through b.
	lib := b.Client()
	defer lib.Close()
	client := asynq.NewClientFromRedisClient(lib)
	defer client.Close()

	slow := b.Submit(redis.NewCmd(context.Background(), "debug", "sleep", "0.05"))
	const tasks = 50
	var wg sync.WaitGroup
	errs := make(chan error, 2*tasks)
	for i := range tasks {
		wg.Add(1)
		go func() {
			defer wg.Done()
			task := asynq.NewTask("t", []byte("x"), asynq.TaskID(fmt.Sprintf("id-%d", i)))
			if _, err := client.Enqueue(task); err != nil {
				errs <- err
			}
		}()
	}
	wg.Wait()
	if err := slow.Wait(context.Background()); err != nil {
		t.Fatal(err)
	}
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	// One pipeline for the sleep, a few for the enqueues (asynq's first
	// SADD of the queue's name, the scripts' first EVAL after NOSCRIPT).
	if p := count.pipelines.Load(); p > 10 {
		t.Errorf("%d enqueues took %d pipelines; want them to share a few", tasks, p)
	}
	n, err := rdb.LLen(context.Background(), "asynq:{default}:pending").Result()
	if err != nil || n != tasks {
		t.Fatalf("pending = %d, %v; want %d", n, err, tasks)
	}
	// A task id already queued is still a conflict, as without the hook.
	_, err = client.Enqueue(asynq.NewTask("t", []byte("x"), asynq.TaskID("id-7")))
	if !errors.Is(err, asynq.ErrTaskIDConflict) {
		t.Fatalf("enqueue of a queued id: %v; want ErrTaskIDConflict", err)
	}
	// It has no connection of its own: a pipeline says so.
	if _, err := lib.Pipelined(context.Background(), func(p redis.Pipeliner) error {
		p.Get(context.Background(), "k")
		return nil
	}); !errors.Is(err, groupcommit.ErrSingleCommands) {
		t.Fatalf("pipeline on Client: %v; want ErrSingleCommands", err)
	}
}

func TestHookRoutesAnAsynqServersCommandsAndKeepsItsSubscription(t *testing.T) {
	srv := redistest.Start(t)
	rdb := srv.Client()
	count := &countPipelines{}
	rdb.AddHook(count)
	b := groupcommit.New(rdb, groupcommit.Options{})
	defer b.Close()

	// The server's own client, its single commands routed through b.
	lib := srv.Client()
	lib.AddHook(b.Hook())
	const tasks = 200
	var done atomic.Int64
	cancelled := make(chan struct{})
	mux := asynq.NewServeMux()
	mux.HandleFunc("t", func(context.Context, *asynq.Task) error {
		done.Add(1)
		return nil
	})
	mux.HandleFunc("block", func(ctx context.Context, _ *asynq.Task) error {
		<-ctx.Done() // until the inspector cancels it, over Pub/Sub
		close(cancelled)
		return ctx.Err()
	})
	server := asynq.NewServerFromRedisClient(lib, asynq.Config{
		Concurrency: 20, Queues: map[string]int{"q": 1}, TaskCheckInterval: 10 * time.Millisecond,
		LogLevel: asynq.FatalLevel,
	})
	if err := server.Start(mux); err != nil {
		t.Fatal(err)
	}
	defer server.Shutdown()

	queue := redis.NewClient(&redis.Options{Addr: srv.Addr()}) // not counted
	defer queue.Close()
	client := asynq.NewClientFromRedisClient(queue)
	for i := range tasks {
		if _, err := client.Enqueue(asynq.NewTask("t", nil, asynq.Queue("q"), asynq.TaskID(fmt.Sprint(i)))); err != nil {
			t.Fatal(err)
		}
	}
	deadline := time.Now().Add(15 * time.Second)
	for done.Load() < tasks && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	if n := done.Load(); n != tasks {
		t.Fatalf("%d of %d tasks processed", n, tasks)
	}
	// Each task was found (a Lua call) and marked done (another) through
	// b, on rdb: without the hook the server's client sends them itself.
	if got := count.cmds.Load(); got < 2*tasks {
		t.Errorf("b sent %d commands for %d tasks; want at least %d (the server's commands go through it)", got, tasks, 2*tasks)
	}

	// Pub/Sub keeps the client's own connection: a cancellation arrives.
	info, err := client.Enqueue(asynq.NewTask("block", nil, asynq.Queue("q")))
	if err != nil {
		t.Fatal(err)
	}
	insp := asynq.NewInspectorFromRedisClient(queue)
	for time.Now().Before(deadline) {
		if active, err := insp.ListActiveTasks("q"); err == nil && len(active) == 1 {
			break
		}
		time.Sleep(10 * time.Millisecond)
	}
	if err := insp.CancelProcessing(info.ID); err != nil {
		t.Fatal(err)
	}
	select {
	case <-cancelled:
	case <-time.After(10 * time.Second):
		t.Fatal("the cancellation never reached the handler: the server's subscription is broken")
	}
	// And so do its pipelines.
	if _, err := lib.Pipelined(context.Background(), func(p redis.Pipeliner) error {
		p.Get(context.Background(), "k")
		return nil
	}); err != nil && !errors.Is(err, redis.Nil) {
		t.Fatalf("pipeline on a hooked client: %v", err)
	}
}
