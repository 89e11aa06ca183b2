package main

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"slices"
	"sync"
	"time"

	"github.com/trackhook/trackhook/signature"
)

// newHTTPClient returns a keep-alive client with room for conc connections
// to one host.
func newHTTPClient(conc int) *http.Client {
	return &http.Client{
		Timeout: 10 * time.Second,
		Transport: &http.Transport{
			MaxIdleConns:        2 * conc,
			MaxIdleConnsPerHost: 2 * conc,
			MaxConnsPerHost:     2 * conc,
			IdleConnTimeout:     90 * time.Second,
			DisableCompression:  true,
		},
	}
}

// sample is the outcome of one request.
type sample struct {
	lat    time.Duration
	status int // 0: transport error
}

// loadResult is what one load run measured.
type loadResult struct {
	window   time.Duration // the measured window
	ok       int           // 2xx answers in the window
	failed   int           // anything else in the window
	statuses map[int]int   // non-2xx answers by status (0: transport error)
	lat      []time.Duration
	late     time.Duration // open loop: the latest a request started behind schedule
	cpu      cpuUse
}

func (r loadResult) rate() float64 {
	if r.window <= 0 {
		return 0
	}
	return float64(r.ok) / r.window.Seconds()
}

// percentile of the sorted latencies (nearest rank).
func percentile(sorted []time.Duration, p float64) time.Duration {
	if len(sorted) == 0 {
		return 0
	}
	i := int(float64(len(sorted))*p+0.999999) - 1
	return sorted[min(max(i, 0), len(sorted)-1)]
}

func (r *loadResult) add(samples []sample) {
	if r.statuses == nil {
		r.statuses = map[int]int{}
	}
	for _, s := range samples {
		if s.status >= 200 && s.status < 300 {
			r.ok++
			r.lat = append(r.lat, s.lat)
		} else {
			r.failed++
			r.statuses[s.status]++
		}
	}
}

// post sends one webhook and returns its status (0 on a transport error)
// and when the answer arrived.
func post(ctx context.Context, client *http.Client, url string, w webhook) (int, time.Time) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, url, bytes.NewReader(w.body))
	if err != nil {
		return 0, time.Now()
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set(signature.HeaderAfterShip, w.sig)
	resp, err := client.Do(req)
	if err != nil {
		return 0, time.Now()
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	return resp.StatusCode, time.Now()
}

// closedLoop keeps conc requests in flight for warmup+dur and measures the
// requests that started after warmup and finished within dur.
func closedLoop(ctx context.Context, url string, gen *generator, conc int, warmup, dur time.Duration) loadResult {
	client := newHTTPClient(conc)
	defer client.CloseIdleConnections()
	start := time.Now()
	from, until := start.Add(warmup), start.Add(warmup+dur)
	ctx, cancel := context.WithDeadline(ctx, until.Add(5*time.Second))
	defer cancel()

	var mu sync.Mutex
	var res loadResult
	var wg sync.WaitGroup
	for range conc {
		wg.Go(func() {
			samples := make([]sample, 0, 1<<12)
			for ctx.Err() == nil {
				t0 := time.Now()
				if !t0.Before(until) {
					break
				}
				w := gen.next()
				status, t1 := post(ctx, client, url, w)
				if w.change && status >= 200 && status < 300 {
					gen.created(w.k)
				}
				if !t0.Before(from) && !t1.After(until) {
					samples = append(samples, sample{lat: t1.Sub(t0), status: status})
				}
			}
			mu.Lock()
			res.add(samples)
			mu.Unlock()
		})
	}
	wg.Wait()
	res.window = dur
	slices.Sort(res.lat)
	return res
}

// openLoop starts requests at a fixed rate for dur, whatever the answers,
// with at most maxInFlight outstanding; onOK is told of every 2xx status
// change with the time its answer arrived.
func openLoop(ctx context.Context, url string, gen *generator, rate float64, dur time.Duration, maxInFlight int, onOK func(w webhook, at time.Time)) loadResult {
	client := newHTTPClient(maxInFlight)
	defer client.CloseIdleConnections()
	interval := time.Duration(float64(time.Second) / rate)
	start := time.Now()
	total := int(dur / interval)

	var mu sync.Mutex
	var res loadResult
	sem := make(chan struct{}, maxInFlight)
	var wg sync.WaitGroup
	for i := range total {
		due := start.Add(time.Duration(i) * interval)
		if d := time.Until(due); d > 0 {
			select {
			case <-time.After(d):
			case <-ctx.Done():
			}
		}
		if ctx.Err() != nil {
			break
		}
		sem <- struct{}{}
		if late := time.Since(due); late > res.late {
			res.late = late
		}
		wg.Go(func() {
			defer func() { <-sem }()
			w := gen.next()
			t0 := time.Now()
			status, t1 := post(ctx, client, url, w)
			if status >= 200 && status < 300 && w.change {
				gen.created(w.k)
				onOK(w, t1)
			}
			mu.Lock()
			res.add([]sample{{lat: t1.Sub(t0), status: status}})
			mu.Unlock()
		})
	}
	wg.Wait()
	res.window = time.Since(start)
	slices.Sort(res.lat)
	return res
}
