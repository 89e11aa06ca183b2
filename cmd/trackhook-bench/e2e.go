package main

import (
	"context"
	"slices"
	"sync"
	"time"
)

// e2eResult is the end-to-end run: webhooks at a fixed rate, and for each
// email a status change caused, the time from the webhook's 2xx to the SMTP
// server's acceptance.
type e2eResult struct {
	hooks    loadResult
	expected int
	arrived  int
	negative int // accepted before the client saw the 2xx (counted as 0)
	lat      []time.Duration
	cpu      cpuUse   // from the first webhook until the last email arrived
	redis    redisUse // what Redis ran meanwhile
}

// How long section 3 waits for the emails after the load: until none has
// arrived for e2eStall, at most e2eMaxWait.
const (
	e2eStall   = 15 * time.Second
	e2eMaxWait = 5 * time.Minute
)

func (b *bench) endToEnd(ctx context.Context, url string, rate float64, dur time.Duration) (e2eResult, error) {
	gen, err := newGenerator(b.secret, "E"+b.runID)
	if err != nil {
		return e2eResult{}, err
	}
	var mu sync.Mutex
	okAt := map[string]time.Time{}
	b.sink.watch()
	hooks := openLoop(ctx, url, gen, rate, dur, 512, func(w webhook, at time.Time) {
		ids := gen.messageIDs(w.k)
		mu.Lock()
		for _, id := range ids {
			okAt[id] = at
		}
		mu.Unlock()
	})

	// Wait for the emails of every accepted status change: for as long as
	// they keep arriving (a worker behind the load drains its backlog after
	// it), until none has come for e2eStall, or e2eMaxWait at most. A fixed
	// wait would count a backlog not yet drained as emails that never came.
	res := e2eResult{hooks: hooks, expected: len(okAt)}
	start, last, lastAt := time.Now(), -1, time.Now()
	for ctx.Err() == nil && time.Since(lastAt) < e2eStall && time.Since(start) < e2eMaxWait {
		b.sink.mu.Lock()
		n := 0
		for id := range okAt {
			if _, ok := b.sink.watching[id]; ok {
				n++
			}
		}
		b.sink.mu.Unlock()
		if n == len(okAt) {
			break
		}
		if n > last {
			last, lastAt = n, time.Now()
		}
		time.Sleep(250 * time.Millisecond)
	}
	acceptedAt := b.sink.unwatch()
	for id, t2xx := range okAt {
		at, ok := acceptedAt[id]
		if !ok {
			continue
		}
		res.arrived++
		d := at.Sub(t2xx)
		if d < 0 {
			res.negative++
			d = 0
		}
		res.lat = append(res.lat, d)
	}
	slices.Sort(res.lat)
	return res, nil
}
