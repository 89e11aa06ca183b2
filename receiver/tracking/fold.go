package tracking

import (
	"slices"
	"strings"
	"time"

	"github.com/trackhook/trackhook/dispatcher"
)

// Outcome says what applying an event did.
type Outcome uint8

// The outcomes of Apply.
const (
	Created   Outcome = iota + 1 // first event for this tracking
	Updated                      // state moved forward (or gained data)
	Stale                        // older than what is known: nothing changed
	Duplicate                    // this event id was applied before: nothing changed
)

func (o Outcome) String() string {
	switch o {
	case Created:
		return "created"
	case Updated:
		return "updated"
	case Stale:
		return "stale"
	case Duplicate:
		return "duplicate"
	}
	return "unknown"
}

// Policy is what the fold needs to know of the configuration.
type Policy struct {
	Triggers       StatusSet // statuses that notify customers
	MaxCheckpoints int       // newest checkpoints kept per tracking
	MaxRecipients  int       // per channel; further subscribers from payloads are ignored

	// StaleAfter: a status entered by an event that happened longer ago
	// than this (its OccurredAt against the fold's now) updates the state
	// and notifies nobody (SuppressedStale). 0 turns the rule off.
	StaleAfter time.Duration
	// NotifyFirstDelivered sends the Delivered notifications of a tracking
	// whose first status is Delivered (nothing before it but Pending);
	// false suppresses them (SuppressedFirstDelivered), as AfterShip and
	// 17TRACK do: a parcel imported after it arrived is no news.
	NotifyFirstDelivered bool
	// NotifyDateChanges sends a message when the carrier's expected
	// delivery day moves (KindNewDate) while the parcel is underway.
	NotifyDateChanges bool
	// Delays hold the notifications of a status back for a while (none by
	// default): if the tracking enters a later notifying status meanwhile,
	// only the later one is sent and this one is superseded. Due.Delay
	// carries it to the planner.
	Delays map[Status]time.Duration
}

// DefaultPolicy is the policy of the tracking package when none is
// configured: every rule off. The service's defaults (README,
// Configuration) turn the rules on: see ServicePolicy.
var DefaultPolicy = Policy{Triggers: DefaultTriggers, MaxCheckpoints: 100, MaxRecipients: 10, NotifyFirstDelivered: true}

// DefaultStaleAfter is the service's default Policy.StaleAfter: a week, as
// 17TRACK and TrackMage use.
const DefaultStaleAfter = 7 * 24 * time.Hour

// ServicePolicy is DefaultPolicy with the rules the service applies by
// default: stale events and a first status of Delivered notify nobody.
func ServicePolicy() Policy {
	p := DefaultPolicy
	p.StaleAfter = DefaultStaleAfter
	p.NotifyFirstDelivered = false
	p.NotifyDateChanges = true
	return p
}

// The reasons a rule suppresses a due notification (Due.Suppressed): the
// delivery log's reason and the metrics' label.
const (
	SuppressedStale          = "stale"
	SuppressedFirstDelivered = "first_delivered"
)

// Fold applies ev to cur (nil for a tracking not seen before) and returns the
// next state and the notifications now due. It is pure: no I/O, no clock
// (now is passed in), and it does not modify cur.
//
// Rules: an event older than the known state changes nothing (Stale);
// subscribers from the payload are added to the tracking's; a notification
// is due for each subscriber the first time the tracking enters a status in
// p.Triggers, and never again for the same (status, channel, recipient).
// A due notification that a rule of p holds back (an event older than
// p.StaleAfter, a first status of Delivered) is returned with Suppressed
// set: it counts as planned, and is never sent.
//
// Each status entered that notifies increments the tracking's Seq; each due
// notification carries it, and After names the notification planned
// before it for the same recipient (the one it must not overtake).
func Fold(cur *Tracking, ev Event, now time.Time, p Policy) (Tracking, []Due, Outcome) {
	var next Tracking
	outcome := Updated
	if cur == nil {
		outcome = Created
		next = Tracking{
			ID:             ID(ev.Slug, ev.TrackingNumber),
			Slug:           ev.Slug,
			TrackingNumber: ev.TrackingNumber,
			CreatedAt:      now,
		}
	} else {
		if olderThan(ev, cur) {
			return *cur, nil, Stale
		}
		next = cur.clone()
	}
	prev := next.Status
	prevDate := next.ExpectedDelivery

	if ev.Status.Valid() && !regresses(prev, ev.Status) {
		next.Status = ev.Status
		next.Subtag = ev.Subtag
		next.SubtagMessage = ev.SubtagMessage
		next.RawStatus = ev.RawStatus
	}
	next.Source = ev.Source
	if !ev.OccurredAt.IsZero() {
		next.OccurredAt = ev.OccurredAt
	}
	if !ev.SentAt.IsZero() {
		next.SentAt = ev.SentAt
	}
	setIf(&next.Language, ev.Language)
	setIf(&next.OrderID, ev.OrderID)
	setIf(&next.OrderNumber, ev.OrderNumber)
	setIf(&next.Title, ev.Title)
	setIf(&next.CustomerName, ev.CustomerName)
	setIf(&next.DestinationCountry, ev.DestinationCountry)
	setIf(&next.TrackingURL, ev.TrackingURL)
	setIf(&next.ExpectedDelivery, ev.ExpectedDelivery)
	if ev.SourceRef != "" {
		if next.SourceRefs == nil {
			next.SourceRefs = map[string]string{}
		}
		next.SourceRefs[ev.Source] = ev.SourceRef
	}
	if len(ev.Items) > 0 {
		next.Items = slices.Clone(ev.Items)
	}
	if ev.ItemsTotal > 0 {
		next.ItemsTotal = ev.ItemsTotal
	}
	next.Checkpoints = mergeCheckpoints(next.Checkpoints, ev.Checkpoints, p.MaxCheckpoints)
	next.Emails = union(next.Emails, next.notOptedOut(dispatcher.ChannelEmail, ev.Emails), p.MaxRecipients)
	next.SMSes = union(next.SMSes, next.notOptedOut(dispatcher.ChannelSMS, ev.SMSes), p.MaxRecipients)
	next.UpdatedAt = now

	var due []Due
	if next.Status != prev && p.Triggers.Has(next.Status) {
		suppressed := suppression(prev, next.Status, ev, now, p)
		next.Seq++
		for _, r := range []struct {
			ch    dispatcher.Channel
			addrs []string
		}{{dispatcher.ChannelEmail, next.Emails}, {dispatcher.ChannelSMS, next.SMSes}} {
			for _, addr := range r.addrs {
				d := Due{Status: next.Status, Channel: r.ch, Recipient: addr, Seq: next.Seq, Suppressed: suppressed, Delay: p.Delays[next.Status]}
				k := d.Key()
				if slices.Contains(next.Notified, k) {
					continue
				}
				next.Notified = append(next.Notified, k)
				if suppressed == "" {
					d.After = next.queueAfter(r.ch, addr, k, d.Delay > 0)
				}
				due = append(due, d)
			}
		}
	}
	due = append(due, dateDues(prevDate, &next, ev, now, p, len(due) > 0)...)
	return next, due, outcome
}

// queueAfter records key as the last notification queued for recipient on
// c and returns the one it must follow: the one queued before it, unless
// that one was delayed (it is superseded by this one, so there is nothing
// to wait for). A delayed key is kept as "~key".
func (t *Tracking) queueAfter(c dispatcher.Channel, recipient, key string, delayed bool) string {
	rk := dispatcher.RecipientKey(c, recipient)
	prev := t.Last[rk]
	if t.Last == nil {
		t.Last = map[string]string{}
	}
	if delayed {
		t.Last[rk] = "~" + key
	} else {
		t.Last[rk] = key
	}
	if strings.HasPrefix(prev, "~") {
		return ""
	}
	return prev
}

// suppression is the rule of p that holds back the notifications of
// entering status next from prev by ev, or "".
func suppression(prev, next Status, ev Event, now time.Time, p Policy) string {
	if isStale(ev, now, p) {
		return SuppressedStale
	}
	if !p.NotifyFirstDelivered && next == Delivered && (!prev.Valid() || prev == Pending) {
		return SuppressedFirstDelivered
	}
	return ""
}

// regresses reports whether moving from cur to next would take a parcel that
// is already moving back to "label created": shop plugins report a parcel as
// shipped (InfoReceived) with the date the shop entered, which can be later
// than the carrier's first scans.
func regresses(cur, next Status) bool {
	early := func(s Status) bool { return s == Pending || s == InfoReceived }
	return cur.Valid() && !early(cur) && early(next)
}

// olderThan reports whether ev happened before the state in cur.
func olderThan(ev Event, cur *Tracking) bool {
	if ev.OccurredAt.IsZero() {
		return false
	}
	if ev.OccurredAt.Before(cur.OccurredAt) {
		return true
	}
	return ev.OccurredAt.Equal(cur.OccurredAt) && ev.SentAt.Before(cur.SentAt)
}

func (t *Tracking) clone() Tracking {
	c := *t
	c.Checkpoints = slices.Clone(t.Checkpoints)
	c.Emails = slices.Clone(t.Emails)
	c.SMSes = slices.Clone(t.SMSes)
	c.Notified = slices.Clone(t.Notified)
	c.OptedOut = slices.Clone(t.OptedOut)
	c.Items = slices.Clone(t.Items)
	c.Customers = slices.Clone(t.Customers)
	c.Last = cloneMap(t.Last)
	c.CustomFields = cloneMap(t.CustomFields)
	c.SourceRefs = cloneMap(t.SourceRefs)
	return c
}

func cloneMap(m map[string]string) map[string]string {
	if m == nil {
		return nil
	}
	c := make(map[string]string, len(m))
	for k, v := range m {
		c[k] = v
	}
	return c
}

// notOptedOut drops the recipients who unsubscribed from this tracking.
func (t *Tracking) notOptedOut(c dispatcher.Channel, rs []string) []string {
	if len(t.OptedOut) == 0 {
		return rs
	}
	out := make([]string, 0, len(rs))
	for _, r := range rs {
		if !slices.Contains(t.OptedOut, dispatcher.RecipientKey(c, r)) {
			out = append(out, r)
		}
	}
	return out
}

func setIf(dst *string, v string) {
	if v != "" {
		*dst = v
	}
}

// union appends the values of add not yet in have, keeping at most max.
func union(have, add []string, max int) []string {
	for _, v := range add {
		if v == "" || slices.Contains(have, v) {
			continue
		}
		if max > 0 && len(have) >= max {
			break
		}
		have = append(have, v)
	}
	return have
}

// mergeCheckpoints adds the checkpoints not already present (same time and
// message), keeps them sorted oldest first, and keeps the newest max.
func mergeCheckpoints(have, add []Checkpoint, max int) []Checkpoint {
	for _, c := range add {
		if !slices.ContainsFunc(have, func(h Checkpoint) bool { return h.Time.Equal(c.Time) && h.Message == c.Message }) {
			have = append(have, c)
		}
	}
	slices.SortStableFunc(have, func(a, b Checkpoint) int { return a.Time.Compare(b.Time) })
	if max > 0 && len(have) > max {
		have = slices.Clone(have[len(have)-max:])
	}
	return have
}
