package main

import (
	"context"
	"time"

	"github.com/hibiken/asynq"

	"github.com/trackhook/trackhook/dispatcher"
)

// resumeResult is what a SIGKILL of `trackhook serve` in the middle of
// sending cost: how long until the emails it had in flight went out from
// the process started in its place.
type resumeResult struct {
	latency   time.Duration // the SMTP server's answer time during the run
	inFlight  int           // emails being sent (active tasks) at the kill
	queued    int           // emails due at the kill (pending + active)
	restarted time.Duration // kill → the new process started
	first     time.Duration // new process started → its first email accepted
	resumed   time.Duration // new process started → the last in-flight email accepted
	drained   time.Duration // new process started → nothing left due
	missing   int           // in-flight emails not accepted within the limit
	ran       bool
}

// resumeLimit bounds how long the bench waits for the in-flight emails.
const resumeLimit = 3 * time.Minute

// resumeAfterKill queues a backlog to an SMTP server answering after
// latency, SIGKILLs `trackhook serve` while it has messages in flight,
// starts a new one at once (as a supervisor would), and measures when the
// emails that were in flight are accepted.
func (b *bench) resumeAfterKill(ctx context.Context, url string, srv *child, start func() (*child, error), latency time.Duration) (resumeResult, *child, error) {
	r := resumeResult{latency: latency, ran: true}
	b.sink.latency.Store(int64(latency))
	defer b.sink.latency.Store(0)
	gen, err := newGenerator(b.secret, "K"+b.runID)
	if err != nil {
		return r, srv, err
	}
	closedLoop(ctx, url, gen, 4, 0, 300*time.Millisecond)
	insp := asynq.NewInspectorFromRedisClient(b.rdb)
	// Kill once the worker is busy: a full set of sessions in flight.
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) && ctx.Err() == nil {
		if qi, err := insp.GetQueueInfo(dispatcher.QueueEmail); err == nil && qi.Active >= b.workers()/2 {
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	active, err := insp.ListActiveTasks(dispatcher.QueueEmail, asynq.PageSize(1000))
	if err != nil {
		return r, srv, err
	}
	b.sink.watch()
	defer b.sink.unwatch()
	killed := time.Now()
	srv.kill()
	if qi, err := insp.GetQueueInfo(dispatcher.QueueEmail); err == nil {
		r.queued = qi.Pending + qi.Active
	}
	ids := make([]string, 0, len(active))
	for _, t := range active {
		ids = append(ids, t.ID)
	}
	r.inFlight = len(ids)
	next, err := start()
	if err != nil {
		return r, nil, err
	}
	up := time.Now()
	r.restarted = up.Sub(killed)

	// An acceptance counts from the new process only once the old one's
	// last transactions are surely over: the SMTP server may still accept,
	// up to latency after the kill, a message whose sender is gone.
	after := killed.Add(latency + 100*time.Millisecond)
	if up.After(after) {
		after = up
	}
	limit := up.Add(resumeLimit)
	for ctx.Err() == nil {
		seen := b.sink.snapshot()
		var last, first time.Time
		done := 0
		for _, at := range seen {
			if at.After(after) && (first.IsZero() || at.Before(first)) {
				first = at
			}
		}
		for _, id := range ids {
			if at, ok := seen[id]; ok && at.After(after) {
				done++
				if at.After(last) {
					last = at
				}
			}
		}
		if !first.IsZero() && r.first == 0 {
			r.first = first.Sub(up)
		}
		if done == len(ids) || time.Now().After(limit) {
			r.missing = len(ids) - done
			if !last.IsZero() {
				r.resumed = last.Sub(up)
			}
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	for time.Now().Before(limit) && ctx.Err() == nil {
		if qi, err := insp.GetQueueInfo(dispatcher.QueueEmail); err == nil && qi.Pending == 0 && qi.Active == 0 && qi.Retry == 0 {
			r.drained = time.Since(up)
			break
		}
		time.Sleep(50 * time.Millisecond)
	}
	return r, next, b.clearQueue(insp, dispatcher.QueueEmail)
}
