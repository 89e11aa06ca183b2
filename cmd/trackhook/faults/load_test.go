package faults

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"math/rand/v2"
	"net/http"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/trackhook/trackhook/receiver/tracking"
	"github.com/trackhook/trackhook/signature"
)

// AfterShip tags.
const (
	pending            = "Pending"
	infoReceived       = "InfoReceived"
	inTransit          = "InTransit"
	outForDelivery     = "OutForDelivery"
	attemptFail        = "AttemptFail"
	availableForPickup = "AvailableForPickup"
	delivered          = "Delivered"
	exception          = "Exception"
	expired            = "Expired"
)

var allStatuses = []string{pending, infoReceived, inTransit, outForDelivery, attemptFail, availableForPickup, delivered, exception, expired}

// triggers is the default notify set (README: TRACKHOOK_NOTIFY_STATUSES).
var triggers = map[string]bool{
	inTransit: true, outForDelivery: true, availableForPickup: true, attemptFail: true, delivered: true, exception: true,
}

const slug = "dhl-germany"

// A step of a tracking's script: a webhook with a tag and a checkpoint time
// (after the tracking's base time), or a replay of an earlier step (the same
// body, event id and signature, as a sender's redelivery).
type step struct {
	tag    string
	at     time.Duration
	replay int // > 0: send step number replay (1-based) again, verbatim
}

const hour = time.Hour

// scripts are played per tracking, one webhook after the other; tracking i
// plays scripts[i%len(scripts)]. What each makes due, by the rules in
// ARCHITECTURE.md, is computed by expect, not written down here.
var scripts = [][]step{
	// The plain path, and a redelivery of the last webhook.
	{{tag: inTransit, at: 1 * hour}, {tag: outForDelivery, at: 20 * hour}, {tag: delivered, at: 26 * hour}, {replay: 3}},
	// Label first (not a trigger), then a second in-transit scan (no new
	// notification).
	{{tag: infoReceived, at: 0}, {tag: inTransit, at: 2 * hour}, {tag: inTransit, at: 8 * hour}, {tag: outForDelivery, at: 20 * hour}, {tag: delivered, at: 26 * hour}},
	// Out of order: out for delivery arrives before in transit, which is
	// then older than what is known and notifies nobody, also when redelivered.
	{{tag: outForDelivery, at: 20 * hour}, {tag: inTransit, at: 2 * hour}, {tag: delivered, at: 26 * hour}, {replay: 2}},
	// A failed attempt, out for delivery again (already notified), delivered.
	{{tag: inTransit, at: 1 * hour}, {tag: outForDelivery, at: 20 * hour}, {tag: attemptFail, at: 23 * hour}, {tag: outForDelivery, at: 44 * hour}, {tag: delivered, at: 47 * hour}},
	// Exception, pickup point, collected; then a late scan from before
	// (under a new event id) that must not move the state back.
	{{tag: inTransit, at: 1 * hour}, {tag: exception, at: 10 * hour}, {tag: availableForPickup, at: 30 * hour}, {tag: delivered, at: 50 * hour}, {tag: outForDelivery, at: 25 * hour}},
}

// trk is one tracking of the load, with one email and one SMS subscriber.
type trk struct {
	idx    int
	number string
	id     string // tracking.ID(slug, number)
	email  string
	phone  string
	hooks  []*hook
}

// hook is one webhook (one event id). Its results are written by the one
// goroutine that plays its tracking, and read after the load.
type hook struct {
	tr      *trk
	seq     int
	eventID string
	tag     string
	at, ts  time.Time // checkpoint time, and the webhook's ts
	body    []byte
	header  http.Header

	answered bool   // a 2xx came back (perhaps after retries)
	outcome  string // the status in the 2xx body: created, updated, duplicate, stale
	want     string // the outcome the model expects (set by expect)
	attempts int
	failed   string // why it never got a 2xx
}

type plan struct {
	scen      int
	trackings []*trk
	hooks     []*hook
	byNumber  map[string]*trk
	byID      map[string]*trk
}

// newPlan makes n trackings for scenario scen, each with its script signed
// and ready to send.
func newPlan(t testing.TB, scen, n int) *plan {
	t.Helper()
	signer, err := signature.NewAfterShip([]string{webhookSecret})
	if err != nil {
		t.Fatal(err)
	}
	p := &plan{scen: scen, byNumber: map[string]*trk{}, byID: map[string]*trk{}}
	// Four days ago (a script spans up to 47 hours and 2,300 parcels start a
	// minute apart, so every event stays in the past): recent enough that
	// no event is stale (TRACKHOOK_STALE_AFTER,
	// 7 days) and no parcel counts as stuck (5 business days), so every
	// status message is due and no other message is.
	epoch := time.Now().Add(-4 * 24 * time.Hour).Truncate(time.Hour)
	for i := 0; i < n; i++ {
		tr := &trk{
			idx:    i,
			number: fmt.Sprintf("TH%dX%05d", scen, i),
			email:  fmt.Sprintf("c%d.%05d@example.com", scen, i),
			phone:  fmt.Sprintf("+49151%d%07d", scen, i),
		}
		tr.id = tracking.ID(slug, tr.number)
		base := epoch.Add(time.Duration(i) * time.Minute)
		for j, st := range scripts[i%len(scripts)] {
			var h *hook
			if st.replay > 0 {
				orig := tr.hooks[st.replay-1]
				h = &hook{tr: tr, seq: j, eventID: orig.eventID, tag: orig.tag, at: orig.at, ts: orig.ts, body: orig.body, header: orig.header}
			} else {
				at := base.Add(st.at)
				h = &hook{tr: tr, seq: j, eventID: fmt.Sprintf("evt-%s-%d", tr.number, j), tag: st.tag, at: at, ts: at.Add(90 * time.Second)}
				h.body = webhookBody(tr, h)
				if h.header, err = signer.Sign(h.body, time.Now()); err != nil {
					t.Fatal(err)
				}
				h.header.Set("Content-Type", "application/json")
			}
			tr.hooks = append(tr.hooks, h)
			p.hooks = append(p.hooks, h)
		}
		p.trackings = append(p.trackings, tr)
		p.byNumber[tr.number] = tr
		p.byID[tr.id] = tr
	}
	return p
}

// webhookBody is an AfterShip tracking_update as AfterShip sends it.
func webhookBody(tr *trk, h *hook) []byte {
	msg := map[string]any{
		"id": "as-" + tr.number, "tracking_number": tr.number, "slug": slug,
		"tag": h.tag, "subtag": h.tag + "_001",
		"order_number": fmt.Sprintf("%d", 100000+tr.idx), "language": "en", "destination_country_iso3": "DEU",
		"emails": []string{tr.email}, "smses": []string{tr.phone},
		"checkpoints": []map[string]any{{
			"checkpoint_time": h.at.Format(time.RFC3339), "message": "Scan " + h.tag, "city": "Leipzig",
			"country_iso3": "DEU", "tag": h.tag, "subtag": h.tag + "_001",
		}},
	}
	b, _ := json.Marshal(map[string]any{"event": "tracking_update", "event_id": h.eventID, "msg": msg, "ts": h.ts.Unix()})
	return b
}

// expect is the suite's own model of the rules (ARCHITECTURE.md, "Canonical
// status"), applied to tr's webhooks in the order they were answered 2xx:
// a repeated event id changes nothing; an event older than the known state
// changes nothing and notifies nobody; a parcel that is moving does not go
// back to InfoReceived/Pending; each subscriber is notified the first time
// the tracking enters a trigger status. It returns those statuses, and
// certain=false when some webhook never got a 2xx (then whether it was
// stored is unknown).
func expect(tr *trk) (statuses []string, certain bool) {
	var (
		known    bool
		status   string
		occ, ts  time.Time
		seen     = map[string]bool{}
		notified = map[string]bool{}
	)
	early := func(s string) bool { return s == pending || s == infoReceived }
	for _, h := range tr.hooks {
		if !h.answered {
			return statuses, false
		}
		if seen[h.eventID] {
			h.want = "duplicate"
			continue
		}
		if known && (h.at.Before(occ) || (h.at.Equal(occ) && h.ts.Before(ts))) {
			h.want = "stale"
			continue
		}
		h.want = "updated"
		if !known {
			h.want = "created"
		}
		seen[h.eventID] = true
		prev := status
		if !(known && !early(prev) && early(h.tag)) {
			status = h.tag
		}
		known, occ, ts = true, h.at, h.ts
		if status != prev && triggers[status] && !notified[status] {
			notified[status] = true
			statuses = append(statuses, status)
		}
	}
	return statuses, true
}

// attempt is one HTTP request of the load.
type attempt struct {
	hook       *hook
	reqID      string
	sent, done time.Time
	code       int // 0: no HTTP answer (connection refused, reset, timeout)
	err        string
}

// load plays every tracking's script against trackhook: the trackings in
// parallel, each one's webhooks one after the other, each retried (as
// AfterShip does) until it is answered 2xx. New webhooks start at a fixed
// rate so the load spans dur; at most conc requests are in flight.
type load struct {
	e        *env
	p        *plan
	client   *http.Client
	sem      chan struct{}
	tokens   chan struct{}
	deadline time.Duration // per webhook, retries included
	start    time.Time
	finished chan struct{}
	seq      atomic.Int64

	mu       sync.Mutex
	attempts []attempt
	sent     int           // webhooks whose first attempt has gone out
	progress chan struct{} // closed and replaced whenever sent grows
}

func startLoad(e *env, p *plan, dur time.Duration, conc int, hookDeadline time.Duration) *load {
	l := &load{
		e: e, p: p,
		client: &http.Client{
			Timeout:   20 * time.Second,
			Transport: &http.Transport{MaxIdleConnsPerHost: conc, MaxIdleConns: conc, IdleConnTimeout: 30 * time.Second},
		},
		sem:      make(chan struct{}, conc),
		tokens:   make(chan struct{}),
		deadline: hookDeadline,
		start:    time.Now(),
		finished: make(chan struct{}),
		progress: make(chan struct{}),
	}
	stop := make(chan struct{})
	go func() {
		tick := time.NewTicker(dur / time.Duration(len(p.hooks)))
		defer tick.Stop()
		for {
			select {
			case <-stop:
				return
			case <-tick.C:
			}
			select {
			case <-stop:
				return
			case l.tokens <- struct{}{}:
			}
		}
	}()
	var wg sync.WaitGroup
	for _, tr := range p.trackings {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for _, h := range tr.hooks {
				<-l.tokens
				l.markSent()
				l.send(h)
				if !h.answered {
					return // the rest of this tracking's story would be guesswork
				}
			}
		}()
	}
	go func() {
		wg.Wait()
		close(stop)
		l.client.CloseIdleConnections()
		close(l.finished)
	}()
	return l
}

func (l *load) markSent() {
	l.mu.Lock()
	l.sent++
	close(l.progress)
	l.progress = make(chan struct{})
	l.mu.Unlock()
}

// waitSent waits until the load has sent (made the first attempt of) at
// least frac of its webhooks: a point on the load's own timeline, whatever
// the machine's speed. It reports false when the load finished before that.
func (l *load) waitSent(frac float64) bool {
	want := int(math.Ceil(frac * float64(len(l.p.hooks))))
	for {
		l.mu.Lock()
		got, progress := l.sent, l.progress
		l.mu.Unlock()
		if got >= want {
			return true
		}
		select {
		case <-progress:
		case <-l.finished:
			l.mu.Lock()
			defer l.mu.Unlock()
			return l.sent >= want
		}
	}
}

// sentCount is the number of webhooks sent so far.
func (l *load) sentCount() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.sent
}

func (l *load) running() bool {
	select {
	case <-l.finished:
		return false
	default:
		return true
	}
}

// send posts h until it is answered 2xx, a 4xx says it never will be, or
// the deadline passes.
func (l *load) send(h *hook) {
	deadline := time.Now().Add(l.deadline)
	for a := 0; ; a++ {
		l.sem <- struct{}{}
		at := l.do(h)
		<-l.sem
		h.attempts++
		switch {
		case at.code >= 200 && at.code < 300:
			h.answered = true
			return
		case at.code >= 400 && at.code < 500 && at.code != http.StatusTooManyRequests:
			h.failed = fmt.Sprintf("answered %d: %s", at.code, at.err)
			return
		}
		if time.Now().After(deadline) {
			h.failed = fmt.Sprintf("no 2xx in %d attempts within %v; last: %d %s", h.attempts, l.deadline, at.code, at.err)
			return
		}
		d := min(50*time.Millisecond<<min(a, 5), time.Second)
		time.Sleep(d + rand.N(d/2))
	}
}

func (l *load) do(h *hook) attempt {
	at := attempt{hook: h, reqID: fmt.Sprintf("f%d-%d", l.p.scen, l.seq.Add(1))}
	req, err := http.NewRequest(http.MethodPost, l.e.base+"/webhooks/aftership", bytes.NewReader(h.body))
	if err != nil {
		panic(err)
	}
	for k, v := range h.header {
		req.Header[k] = v
	}
	req.Header.Set("X-Request-Id", at.reqID)
	at.sent = time.Now()
	resp, err := l.client.Do(req)
	if err != nil {
		at.done = time.Now()
		at.err = err.Error()
		l.record(at)
		return at
	}
	b, _ := io.ReadAll(io.LimitReader(resp.Body, 4096))
	resp.Body.Close()
	at.done = time.Now()
	at.code = resp.StatusCode
	if at.code >= 200 && at.code < 300 {
		var v struct {
			Status string `json:"status"`
		}
		_ = json.Unmarshal(b, &v)
		h.outcome = v.Status
	} else {
		at.err = string(bytes.TrimSpace(b))
	}
	l.record(at)
	return at
}

func (l *load) record(at attempt) {
	l.mu.Lock()
	l.attempts = append(l.attempts, at)
	l.mu.Unlock()
}

func (l *load) allAttempts() []attempt {
	l.mu.Lock()
	defer l.mu.Unlock()
	return append([]attempt(nil), l.attempts...)
}
