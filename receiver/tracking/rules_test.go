package tracking

import (
	"slices"
	"strconv"
	"testing"
	"time"

	"github.com/trackhook/trackhook/dispatcher"
)

// suppressedBy returns the keys of due that rule holds back and those it
// does not.
func suppressedBy(due []Due) (sent, held map[string]string) {
	sent, held = map[string]string{}, map[string]string{}
	for _, d := range due {
		if d.Suppressed != "" {
			held[d.Key()] = d.Suppressed
		} else {
			sent[d.Key()] = ""
		}
	}
	return sent, held
}

// The service's rules, at several instants so the test means the same on
// any date: an event older than StaleAfter, measured against the fold's
// now, updates the state and notifies nobody; a first status of Delivered
// notifies nobody; what follows either is notified as usual.
func TestFoldStaleAndFirstDelivered(t *testing.T) {
	p := ServicePolicy()
	for _, now := range []time.Time{t0, t0.AddDate(1, 2, 3).Add(17 * time.Hour), time.Date(2031, 2, 28, 23, 59, 0, 0, time.UTC)} {
		// Stale: eight days old.
		next, due, outcome := Fold(nil, ev(InTransit, now.Add(-8*24*time.Hour)), now, p)
		sent, held := suppressedBy(due)
		if outcome != Created || next.Status != InTransit || len(sent) != 0 || len(held) != 2 ||
			held["InTransit|email|kim@example.com"] != SuppressedStale {
			t.Fatalf("now %v: stale event: %v %v sent %v held %v", now, outcome, next.Status, sent, held)
		}
		if !slices.Contains(next.Notified, "InTransit|email|kim@example.com") || next.Seq != 1 || len(next.Last) != 0 {
			t.Fatalf("a suppressed notification must count as planned and queue nothing: %+v", next)
		}
		// Just inside the week: notified.
		fresh := ev(OutForDelivery, now.Add(-DefaultStaleAfter+time.Minute))
		next2, due, _ := Fold(&next, fresh, now, p)
		if sent, held := suppressedBy(due); len(sent) != 2 || len(held) != 0 {
			t.Fatalf("now %v: an event six days and 23 hours old: sent %v held %v", now, sent, held)
		}
		for _, d := range due {
			if d.After != "" || d.Seq != 2 {
				t.Fatalf("after a suppressed status nothing is waited for: %+v", d)
			}
		}
		// Same status again, fresh: nothing new (the state did enter it).
		if _, due, _ := Fold(&next2, ev(OutForDelivery, now), now, p); len(due) != 0 {
			t.Fatalf("same status again: %v", keys(due))
		}

		// First status Delivered: held back; Pending before it changes nothing.
		for _, start := range []*Tracking{nil, {ID: "x", Status: Pending}} {
			_, due, _ := Fold(start, ev(Delivered, now.Add(-time.Hour)), now, p)
			if sent, held := suppressedBy(due); len(sent) != 0 || held["Delivered|sms|+4915112345678"] != SuppressedFirstDelivered {
				t.Fatalf("first status Delivered (from %v): sent %v held %v", start, sent, held)
			}
		}
		// Delivered after InTransit is news.
		if _, due, _ := Fold(&next2, ev(Delivered, now.Add(-time.Minute)), now, p); len(due) != 2 || due[0].Suppressed != "" {
			t.Fatalf("Delivered after OutForDelivery: %+v", due)
		}
	}

	// The rules are configurable: off, everything notifies.
	off := ServicePolicy()
	off.StaleAfter, off.NotifyFirstDelivered = 0, true
	if _, due, _ := Fold(nil, ev(Delivered, t0.AddDate(-1, 0, 0)), t0, off); len(due) != 2 || due[0].Suppressed != "" {
		t.Fatalf("rules off: %+v", due)
	}
	// The package default keeps them off (callers opt in).
	if DefaultPolicy.StaleAfter != 0 || !DefaultPolicy.NotifyFirstDelivered {
		t.Fatalf("DefaultPolicy = %+v", DefaultPolicy)
	}
}

// Each notification names the one it must follow for its recipient, and
// a delayed one is not waited for: the next status supersedes it.
func TestFoldOrderAndDelays(t *testing.T) {
	p := DefaultPolicy
	p.Delays = map[Status]time.Duration{InTransit: 10 * time.Minute}

	s1, due, _ := Fold(nil, ev(InfoReceived, t0), t0, p)
	if len(due) != 0 {
		t.Fatalf("InfoReceived does not notify: %v", keys(due))
	}
	s2, due, _ := Fold(&s1, ev(InTransit, t0.Add(time.Hour)), t0, p)
	for _, d := range due {
		if d.Delay != 10*time.Minute || d.After != "" || d.Seq != 1 {
			t.Fatalf("delayed InTransit: %+v", d)
		}
	}
	s3, due, _ := Fold(&s2, ev(OutForDelivery, t0.Add(2*time.Hour)), t0, p)
	for _, d := range due {
		if d.Delay != 0 || d.After != "" || d.Seq != 2 {
			t.Fatalf("OutForDelivery after a delayed InTransit must not wait for it: %+v", d)
		}
	}
	_, due, _ = Fold(&s3, ev(Delivered, t0.Add(3*time.Hour), func(e *Event) { e.Emails = append(e.Emails, "lee@example.com") }), t0, p)
	after := map[string]string{}
	for _, d := range due {
		after[d.Key()] = d.After
		if d.Seq != 3 {
			t.Fatalf("Delivered: %+v", d)
		}
	}
	want := map[string]string{
		"Delivered|email|kim@example.com": "OutForDelivery|email|kim@example.com",
		"Delivered|sms|+4915112345678":    "OutForDelivery|sms|+4915112345678",
		"Delivered|email|lee@example.com": "", // new subscriber: nothing before
	}
	for k, v := range want {
		if got, ok := after[k]; !ok || got != v {
			t.Errorf("%s follows %q, want %q", k, got, v)
		}
	}
	if s3.Last["email:kim@example.com"] != "OutForDelivery|email|kim@example.com" || s2.Last["email:kim@example.com"] != "~InTransit|email|kim@example.com" {
		t.Errorf("Last = %v then %v", s2.Last, s3.Last)
	}
}

// The stuck-parcel rule, pure: a notice per recipient whose deadline has
// passed, once per update; the next deadline for the rest; nothing once the
// parcel has left InTransit.
func TestStuckCheck(t *testing.T) {
	tr, _, _ := Fold(nil, ev(InTransit, t0), t0, DefaultPolicy)
	// The text's deadline is a day after the email's.
	deadline := func(t *Tracking, c dispatcher.Channel, _ string) time.Time {
		if c == dispatcher.ChannelSMS {
			return t.OccurredAt.Add(6 * 24 * time.Hour)
		}
		return t.OccurredAt.Add(5 * 24 * time.Hour)
	}
	if _, due, pending := StuckCheck(tr, t0.Add(4*24*time.Hour), deadline); len(due) != 0 || !pending.Equal(t0.Add(5*24*time.Hour)) {
		t.Fatalf("before the deadline: %v, pending %v", keys(due), pending)
	}
	next, due, pending := StuckCheck(tr, t0.Add(5*24*time.Hour), deadline)
	ref := strconv.FormatInt(t0.Unix(), 10)
	if len(due) != 1 || due[0].Key() != "Stuck@"+ref+"|email|kim@example.com" || !pending.Equal(t0.Add(6*24*time.Hour)) {
		t.Fatalf("at the email's deadline: %v, pending %v", keys(due), pending)
	}
	if due[0].After != "InTransit|email|kim@example.com" || due[0].Kind != KindStuck || due[0].Message() != "Stuck@"+ref {
		t.Fatalf("notice %+v", due[0])
	}
	next2, due, pending := StuckCheck(next, t0.Add(7*24*time.Hour), deadline)
	if len(due) != 1 || due[0].Channel != dispatcher.ChannelSMS || !pending.IsZero() {
		t.Fatalf("later: %v, pending %v", keys(due), pending)
	}
	if _, due, _ := StuckCheck(next2, t0.Add(30*24*time.Hour), deadline); len(due) != 0 {
		t.Fatalf("twice for one update: %v", keys(due))
	}
	// A new update starts the clock again: one more notice each.
	moved, _, _ := Fold(&next2, ev(InTransit, t0.Add(8*24*time.Hour)), t0, DefaultPolicy)
	if _, due, _ := StuckCheck(moved, t0.Add(14*24*time.Hour), deadline); len(due) != 2 {
		t.Fatalf("after a new update: %v", keys(due))
	}
	// Delivered: nothing is owed.
	done, _, _ := Fold(&next2, ev(Delivered, t0.Add(8*24*time.Hour)), t0, DefaultPolicy)
	if _, due, pending := StuckCheck(done, t0.Add(30*24*time.Hour), deadline); len(due) != 0 || !pending.IsZero() {
		t.Fatalf("delivered: %v, %v", keys(due), pending)
	}
}

// The expected delivery day: a move while underway is news (once per new
// day), unless the same update brings a status message; the day passing
// without delivery is news once.
func TestDeliveryDateRules(t *testing.T) {
	p := ServicePolicy()
	withDate := func(s Status, at time.Time, day string) Event {
		return ev(s, at, func(e *Event) { e.ExpectedDelivery = day })
	}
	now := t0.Add(time.Hour)
	s1, _, _ := Fold(nil, withDate(InTransit, t0, "2026-11-24"), now, p)
	if s1.ExpectedDelivery != "2026-11-24" {
		t.Fatalf("expected delivery not kept: %q", s1.ExpectedDelivery)
	}
	s2, due, _ := Fold(&s1, withDate(InTransit, t0.Add(time.Minute), "2026-11-26"), now, p)
	if len(due) != 2 || due[0].Key() != "NewDate@2026-11-26|email|kim@example.com" || due[0].After != "InTransit|email|kim@example.com" {
		t.Fatalf("moved day: %v %+v", keys(due), due)
	}
	if _, due, _ := Fold(&s2, withDate(InTransit, t0.Add(2*time.Minute), "2026-11-26"), now, p); len(due) != 0 {
		t.Fatalf("same day again: %v", keys(due))
	}
	// A day that arrives with nothing before it is no move.
	if _, due, _ := Fold(&s2, withDate(InTransit, t0.Add(2*time.Minute), ""), now, p); len(due) != 0 {
		t.Fatalf("no day: %v", keys(due))
	}
	// With a status message, that message carries the day: no second one.
	s3, due, _ := Fold(&s2, withDate(OutForDelivery, t0.Add(3*time.Minute), "2026-11-25"), now, p)
	if len(due) != 2 || due[0].Kind != "" {
		t.Fatalf("status change with a new day: %v", keys(due))
	}
	// Off: no date messages.
	off := p
	off.NotifyDateChanges = false
	if _, due, _ := Fold(&s1, withDate(InTransit, t0.Add(time.Minute), "2026-11-27"), now, off); len(due) != 0 {
		t.Fatalf("rule off: %v", keys(due))
	}

	// Running late: the day is over at midnight (here UTC).
	late := func(t *Tracking) time.Time { return EndOfDay(t.ExpectedDelivery, time.UTC) }
	if _, due, pending := LateCheck(s3, time.Date(2026, 11, 25, 23, 59, 0, 0, time.UTC), late); len(due) != 0 ||
		!pending.Equal(time.Date(2026, 11, 26, 0, 0, 0, 0, time.UTC)) {
		t.Fatalf("on the day: %v, pending %v", keys(due), pending)
	}
	l1, due, pending := LateCheck(s3, time.Date(2026, 11, 26, 0, 0, 0, 0, time.UTC), late)
	if len(due) != 2 || due[0].Key() != "Late@2026-11-25|email|kim@example.com" || !pending.IsZero() {
		t.Fatalf("the day is over: %v, pending %v", keys(due), pending)
	}
	if _, due, _ := LateCheck(l1, time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC), late); len(due) != 0 {
		t.Fatalf("late twice for one day: %v", keys(due))
	}
	delivered, _, _ := Fold(&s3, withDate(Delivered, t0.Add(4*time.Minute), "2026-11-25"), now, p)
	if _, due, pending := LateCheck(delivered, time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC), late); len(due) != 0 || !pending.IsZero() {
		t.Fatalf("delivered: %v %v", keys(due), pending)
	}
	if d, ok := ParseDeliveryDate("2026-01-05T09:00:00-05:00"); !ok || d != "2026-01-05" {
		t.Fatalf("ParseDeliveryDate = %q %v", d, ok)
	}
	for _, bad := range []string{"", "soon", "2026-13-01", "26-01-05", "2026-01-05X", "1999-12-31"} {
		if _, ok := ParseDeliveryDate(bad); ok {
			t.Errorf("ParseDeliveryDate(%q) ok", bad)
		}
	}
}

// Each recipient is greeted by their own name or by none: a subscriber
// added later is not greeted with the tracking's customer name.
func TestNameFor(t *testing.T) {
	legacy := Tracking{CustomerName: "Kim Schmidt", Emails: []string{"kim@example.com", "lee@example.com"}, SMSes: []string{"+4915112345678"}}
	for _, c := range []struct {
		ch   dispatcher.Channel
		to   string
		want string
	}{
		{dispatcher.ChannelEmail, "kim@example.com", "Kim Schmidt"},
		{dispatcher.ChannelEmail, "lee@example.com", ""},
		{dispatcher.ChannelSMS, "+4915112345678", "Kim Schmidt"},
	} {
		if got := legacy.NameFor(c.ch, c.to); got != c.want {
			t.Errorf("customer_name only, %s: %q, want %q", c.to, got, c.want)
		}
	}
	named := legacy
	named.Customers = []Customer{{Name: "Kim Schmidt", Email: "kim@example.com"}, {Name: "Lee Park", Email: "lee@example.com"}, {Phone: "+4915112345678"}}
	for to, want := range map[string]string{"kim@example.com": "Kim Schmidt", "lee@example.com": "Lee Park", "ann@example.com": ""} {
		if got := named.NameFor(dispatcher.ChannelEmail, to); got != want {
			t.Errorf("customers[], %s: %q, want %q", to, got, want)
		}
	}
	if got := named.NameFor(dispatcher.ChannelSMS, "+4915112345678"); got != "" {
		t.Errorf("a customer without a name: %q", got)
	}
}
