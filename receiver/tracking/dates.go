package tracking

import (
	"slices"
	"strings"
	"time"

	"github.com/trackhook/trackhook/dispatcher"
)

// The messages about the expected delivery day (Due.Kind).
const (
	// KindNewDate: the carrier's expected delivery day moved. Once per
	// new day (its Ref), and not when the same update also brings a
	// status message (which shows the new day).
	KindNewDate = "NewDate"
	// KindLate: the expected day is over and the parcel is not delivered.
	// Once per expected day (its Ref).
	KindLate = "Late"
)

// LateDeadline tells when t's expected delivery day (t.ExpectedDelivery)
// is over where the parcel is going; zero when it cannot tell.
type LateDeadline func(t *Tracking) time.Time

// underway reports whether a parcel in status s is still on its way to the
// customer, so news about its delivery day concerns them.
func underway(s Status) bool {
	switch s {
	case InTransit, OutForDelivery, AttemptFail, Exception, AvailableForPickup:
		return true
	}
	return false
}

// dateDues returns the new-delivery-day notices for next, whose expected
// day moved from prev by ev; none when the event also made status
// messages due (they show the new day).
func dateDues(prev string, next *Tracking, ev Event, now time.Time, p Policy, statusDue bool) []Due {
	if !p.NotifyDateChanges || statusDue || prev == "" || next.ExpectedDelivery == prev || !underway(next.Status) {
		return nil
	}
	suppressed := ""
	if isStale(ev, now, p) {
		suppressed = SuppressedStale
	}
	return next.notices(KindNewDate, next.ExpectedDelivery, suppressed, func(*Tracking, dispatcher.Channel, string) bool { return true })
}

// notices plans a message of kind for each recipient want accepts that has
// not had it for ref.
func (t *Tracking) notices(kind, ref, suppressed string, want func(*Tracking, dispatcher.Channel, string) bool) []Due {
	var due []Due
	for _, r := range t.recipients() {
		if !want(t, r.ch, r.addr) {
			continue
		}
		d := Due{Status: t.Status, Kind: kind, Ref: ref, Channel: r.ch, Recipient: r.addr, Seq: t.Seq, Suppressed: suppressed}
		k := d.Key()
		if slices.Contains(t.Notified, k) {
			continue
		}
		t.Notified = append(t.Notified, k)
		if suppressed == "" {
			d.After = t.queueAfter(r.ch, r.addr, k, false)
		}
		due = append(due, d)
	}
	return due
}

// LateCheck is the running-late rule applied to t at now: the notices due
// because its expected day is over and it is still underway, or when to
// look again (the day is not over yet; zero: nothing to wait for).
func LateCheck(t Tracking, now time.Time, deadline LateDeadline) (next Tracking, due []Due, pending time.Time) {
	if t.ExpectedDelivery == "" || !underway(t.Status) {
		return t, nil, time.Time{}
	}
	when := deadline(&t)
	if when.IsZero() {
		return t, nil, time.Time{}
	}
	if when.After(now) {
		return t, nil, when
	}
	next = t.clone()
	due = next.notices(KindLate, t.ExpectedDelivery, "", func(*Tracking, dispatcher.Channel, string) bool { return true })
	return next, due, time.Time{}
}

// schedules returns the rules' schedules the change from cur to next puts
// the tracking on, and when. A stale event (older than the policy's
// StaleAfter: an import, a backfill) puts it on none: its parcel would
// count as stuck, or late, at once, and the rule would notify about the
// very update the stale rule kept quiet.
func (s *Store) schedules(cur, next *Tracking, fresh bool) map[Schedule]time.Time {
	if !fresh {
		return nil
	}
	var at map[Schedule]time.Time
	put := func(sched Schedule, when time.Time) {
		if when.IsZero() {
			return
		}
		if at == nil {
			at = map[Schedule]time.Time{}
		}
		at[sched] = when
	}
	if s.opts.Stuck != nil && armsStuck(cur, next) {
		put(ScheduleStuck, firstStuck(next, s.opts.Stuck))
	}
	if s.opts.Late != nil && next.ExpectedDelivery != "" && underway(next.Status) &&
		(cur == nil || cur.ExpectedDelivery != next.ExpectedDelivery || !underway(cur.Status)) {
		put(ScheduleLate, s.opts.Late(next))
	}
	return at
}

// isStale reports whether ev happened longer than p.StaleAfter before now
// (never when the rule is off).
func isStale(ev Event, now time.Time, p Policy) bool {
	return p.StaleAfter > 0 && !ev.OccurredAt.IsZero() && now.Sub(ev.OccurredAt) > p.StaleAfter
}

// EndOfDay returns when the civil day date ("2006-01-02") is over in loc.
func EndOfDay(date string, loc *time.Location) time.Time {
	d, err := time.ParseInLocation(time.DateOnly, strings.TrimSpace(date), loc)
	if err != nil {
		return time.Time{}
	}
	return d.AddDate(0, 0, 1)
}
