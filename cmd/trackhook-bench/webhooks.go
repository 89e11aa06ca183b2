package main

import (
	"fmt"
	"math/rand/v2"
	"strconv"
	"sync/atomic"
	"time"

	"github.com/trackhook/trackhook/dispatcher"
	"github.com/trackhook/trackhook/receiver/carrier"
	"github.com/trackhook/trackhook/receiver/tracking"
	"github.com/trackhook/trackhook/signature"
)

// The workload: AfterShip tracking_update webhooks, alternately
//
//   - a status change: a parcel seen for the first time, InTransit, with two
//     email subscribers, so the receiver plans and enqueues two notify tasks;
//   - a checkpoint-only update: a new scan for a parcel created earlier in
//     the same run, same status, nothing to notify.
//
// Every webhook has its own event_id (no duplicates) and is signed with the
// product's own AfterShip signer.
const (
	benchSlug   = "dhl-germany"
	benchFrom   = "Bench Shop <noreply@shop.example>"
	benchDomain = "shop.example" // what trackhook derives from benchFrom for Message-IDs
)

type locale struct{ lang, country, city string }

var locales = []locale{{"en", "USA", "Memphis"}, {"de", "DEU", "Leipzig"}, {"fr", "FRA", "Roissy"}, {"es", "ESP", "Madrid"}}

// webhook is one signed request body.
type webhook struct {
	body   []byte
	sig    string
	change bool  // a status change (two notifications) rather than a checkpoint
	k      int64 // the parcel
}

// generator makes the webhooks of one run; it is safe for concurrent use.
type generator struct {
	signer *signature.AfterShip
	prefix string // makes this run's tracking numbers unique
	start  time.Time
	seq    atomic.Int64
	parcel atomic.Int64
	ring   createdRing
	slug   string // the slug trackhook stores, for Message-IDs
	// sms: a status change has one SMS subscriber and no email ones
	// (the relay phase's SMS run).
	sms bool
}

func newGenerator(secret, prefix string) (*generator, error) {
	s, err := signature.NewAfterShip([]string{secret})
	if err != nil {
		return nil, err
	}
	return &generator{signer: s, prefix: prefix, start: time.Now().UTC(), slug: carrier.Default().Normalize(benchSlug)}, nil
}

// next returns the next webhook of the mix. Call created(w.k) once a status
// change was answered 2xx, so later checkpoints can go to that parcel.
func (g *generator) next() webhook {
	n := g.seq.Add(1)
	k, ok := int64(0), false
	if n%2 == 1 {
		k, ok = g.ring.pick()
	}
	change := !ok
	if change {
		k = g.parcel.Add(1)
	}
	body := g.body(n, k, change, time.Now().UTC())
	h, _ := g.signer.Sign(body, time.Time{}) // HMAC over bytes: cannot fail
	return webhook{body: body, sig: h.Get(signature.HeaderAfterShip), change: change, k: k}
}

func (g *generator) created(k int64) { g.ring.add(k) }

func (g *generator) number(k int64) string {
	return g.prefix + strconv.FormatInt(1_000_000_000+k, 10)
}

func (g *generator) recipients(k int64) [2]string {
	ks := strconv.FormatInt(k, 10)
	return [2]string{"kim." + ks + "@example.com", "alex." + ks + "@example.com"}
}

// messageIDs are the Message-IDs (left of the @) of the two emails a status
// change of parcel k causes, as the dispatcher derives them.
func (g *generator) messageIDs(k int64) [2]string {
	id := tracking.ID(g.slug, g.number(k))
	rs := g.recipients(k)
	var out [2]string
	for i, r := range rs {
		out[i] = dispatcher.TaskID(id, tracking.InTransit.String(), dispatcher.ChannelEmail, r)
	}
	return out
}

// body builds the JSON by appending: the load generator shares the CPUs
// with what it measures, so it should cost little.
func (g *generator) body(n, k int64, change bool, now time.Time) []byte {
	loc := locales[k%int64(len(locales))]
	ks := strconv.FormatInt(k, 10)
	rs := g.recipients(k)
	b := make([]byte, 0, 1400)
	b = append(b, `{"event":"tracking_update","event_id":"`...)
	b = append(b, g.prefix...)
	b = append(b, '-')
	b = strconv.AppendInt(b, n, 10)
	b = append(b, `","is_tracking_first_tag":`...)
	b = strconv.AppendBool(b, change)
	b = append(b, `,"msg":{"id":"`...)
	b = append(b, g.prefix...)
	b = append(b, 't')
	b = append(b, ks...)
	b = append(b, `","tracking_number":"`...)
	b = append(b, g.number(k)...)
	b = append(b, `","slug":"`+benchSlug+`","title":"Order #`...)
	b = append(b, ks...)
	b = append(b, `","order_id":"`...)
	b = append(b, ks...)
	b = append(b, `","order_number":"`...)
	b = append(b, ks...)
	b = append(b, `","customer_name":"Kim Schmidt","language":"`...)
	b = append(b, loc.lang...)
	b = append(b, `","destination_country_iso3":"`...)
	b = append(b, loc.country...)
	if g.sms {
		b = append(b, `","emails":[],"smses":["+49151`...)
		b = append(b, fmt.Sprintf("%08d", k%100_000_000)...)
		b = append(b, `"],"tag":"InTransit","subtag":"InTransit_003","subtag_message":"Arrival Scan","checkpoints":[`...)
		return g.checkpoints(b, n, now, loc)
	}
	b = append(b, `","emails":["`...)
	b = append(b, rs[0]...)
	b = append(b, `","`...)
	b = append(b, rs[1]...)
	b = append(b, `"],"smses":[],"tag":"InTransit","subtag":"InTransit_003","subtag_message":"Arrival Scan","checkpoints":[`...)
	return g.checkpoints(b, n, now, loc)
}

// checkpoints appends the two checkpoints and the end of the webhook.
func (g *generator) checkpoints(b []byte, n int64, now time.Time, loc locale) []byte {
	b = checkpoint(b, g.start.Add(-time.Hour), "Origin", "The shipment has been processed in the parcel center of origin", "InTransit_007", "Departure Scan")
	b = append(b, ',')
	msg := "Arrival scan " + strconv.FormatInt(n, 10)
	b = checkpoint(b, now, loc.city, msg, "InTransit_003", "Arrival Scan")
	b = append(b, `]},"ts":`...)
	b = strconv.AppendInt(b, now.Unix(), 10)
	b = append(b, '}')
	return b
}

func checkpoint(b []byte, at time.Time, city, msg, subtag, subtagMsg string) []byte {
	b = append(b, `{"checkpoint_time":"`...)
	b = at.AppendFormat(b, time.RFC3339Nano)
	b = append(b, `","slug":"`+benchSlug+`","city":"`...)
	b = append(b, city...)
	b = append(b, `","message":"`...)
	b = append(b, msg...)
	b = append(b, `","tag":"InTransit","subtag":"`...)
	b = append(b, subtag...)
	b = append(b, `","subtag_message":"`...)
	b = append(b, subtagMsg...)
	b = append(b, `"}`...)
	return b
}

// createdRing remembers the most recent parcels created, for checkpoints.
type createdRing struct {
	n     atomic.Int64
	slots [4096]atomic.Int64 // parcel+1; 0 is empty
}

func (r *createdRing) add(k int64) {
	i := r.n.Add(1) - 1
	r.slots[i%int64(len(r.slots))].Store(k + 1)
}

func (r *createdRing) pick() (int64, bool) {
	n := min(r.n.Load(), int64(len(r.slots)))
	if n == 0 {
		return 0, false
	}
	v := r.slots[rand.Int64N(n)].Load()
	return v - 1, v != 0
}
