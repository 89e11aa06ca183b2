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
	cpu      cpuUse // from the first webhook until the last email arrived
}

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

	// Wait for the emails of every accepted status change, at most 60s.
	res := e2eResult{hooks: hooks, expected: len(okAt)}
	deadline := time.Now().Add(60 * time.Second)
	for ctx.Err() == nil && time.Now().Before(deadline) {
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
