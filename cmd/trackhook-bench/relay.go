package main

import (
	"context"
	"fmt"
	"time"

	"github.com/hibiken/asynq"

	"github.com/trackhook/trackhook/dispatcher"
)

// relayResult is what one run through a slow provider measured.
type relayResult struct {
	latency time.Duration // the provider's answer time
	sent    int64         // accepted in the window
	window  time.Duration
	queued  int // notifications due when the load stopped
	cpu     cpuUse
}

func (r relayResult) rate() float64 {
	if r.window <= 0 {
		return 0
	}
	return float64(r.sent) / r.window.Seconds()
}

// throughRelay measures `trackhook serve` sending through a provider that
// takes latency to accept each message: the SMTP sink answering the end of
// DATA late (sms false), or the Twilio sink answering late (sms true). It
// queues a backlog with a short burst of webhooks, then counts what the
// provider accepts over dur, from its first acceptance, and clears the rest.
func (b *bench) throughRelay(ctx context.Context, url string, pid int, sms bool, latency, dur time.Duration) (relayResult, error) {
	r := relayResult{latency: latency}
	counter, queue, prefix := &b.sink.accepted, dispatcher.QueueEmail, "M"
	if sms {
		counter, queue, prefix = &b.twilio.accepted, dispatcher.QueueSMS, "S"
		b.twilio.latency.Store(int64(latency))
		defer b.twilio.latency.Store(0)
	} else {
		b.sink.latency.Store(int64(latency))
		defer b.sink.latency.Store(0)
	}
	gen, err := newGenerator(b.secret, prefix+b.runID)
	if err != nil {
		return r, err
	}
	gen.sms = sms
	// Enough webhooks that the backlog outlasts the window at 10× the
	// target rate.
	closedLoop(ctx, url, gen, 16, 0, 2*time.Second)
	insp := asynq.NewInspectorFromRedisClient(b.rdb)
	if qi, err := insp.GetQueueInfo(queue); err == nil {
		r.queued = qi.Pending + qi.Active
	}
	// The window opens at the first acceptance after the burst.
	start := counter.Load()
	deadline := time.Now().Add(30 * time.Second)
	for counter.Load() == start && time.Now().Before(deadline) && ctx.Err() == nil {
		time.Sleep(5 * time.Millisecond)
	}
	cpu := b.cpuWindow(pid, 0)
	t0, c0 := time.Now(), counter.Load()
	waitUntil(ctx, t0.Add(dur), insp, queue)
	r.window, r.sent = time.Since(t0), counter.Load()-c0
	r.cpu = cpu()
	return r, b.clearQueue(insp, queue)
}

// waitUntil returns at deadline, or earlier once the queue is empty.
func waitUntil(ctx context.Context, deadline time.Time, insp *asynq.Inspector, queue string) {
	for time.Now().Before(deadline) && ctx.Err() == nil {
		if qi, err := insp.GetQueueInfo(queue); err == nil && qi.Pending == 0 && qi.Active == 0 {
			return
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// clearQueue deletes what is still pending and waits for the worker to go
// idle, so the next phase starts clean.
func (b *bench) clearQueue(insp *asynq.Inspector, queue string) error {
	idle := time.Now().Add(30 * time.Second)
	for time.Now().Before(idle) {
		_, _ = insp.DeleteAllPendingTasks(queue)
		qi, err := insp.GetQueueInfo(queue)
		if err != nil {
			return err
		}
		if qi.Pending == 0 && qi.Active == 0 {
			return nil
		}
		time.Sleep(100 * time.Millisecond)
	}
	return fmt.Errorf("the worker did not go idle within 30s after the %s backlog was cleared", queue)
}
