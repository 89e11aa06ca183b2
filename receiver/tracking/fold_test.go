package tracking

import (
	"testing"
	"time"
)

var t0 = time.Date(2026, 11, 20, 8, 0, 0, 0, time.UTC)

func ev(status Status, at time.Time, mut ...func(*Event)) Event {
	e := Event{Source: "test", Slug: "dhl", TrackingNumber: "00340434161094042557", Status: status,
		OccurredAt: at, SentAt: at, Emails: []string{"kim@example.com"}, SMSes: []string{"+4915112345678"}}
	for _, m := range mut {
		m(&e)
	}
	return e
}

func keys(due []Due) []string {
	var out []string
	for _, d := range due {
		out = append(out, d.Key())
	}
	return out
}

func TestFold(t *testing.T) {
	p := DefaultPolicy
	type step struct {
		ev      Event
		outcome Outcome
		due     []string
		status  Status
	}
	tests := []struct {
		name  string
		steps []step
	}{
		{"first entry notifies both channels", []step{
			{ev(InTransit, t0), Created, []string{"InTransit|email|kim@example.com", "InTransit|sms|+4915112345678"}, InTransit},
		}},
		{"same status again notifies nobody", []step{
			{ev(InTransit, t0), Created, []string{"InTransit|email|kim@example.com", "InTransit|sms|+4915112345678"}, InTransit},
			{ev(InTransit, t0.Add(time.Hour)), Updated, nil, InTransit},
		}},
		{"not in trigger set", []step{
			{ev(InfoReceived, t0), Created, nil, InfoReceived},
			{ev(Pending, t0.Add(time.Hour)), Updated, nil, Pending},
		}},
		{"older event is stale and changes nothing", []step{
			{ev(Delivered, t0.Add(2*time.Hour)), Created, []string{"Delivered|email|kim@example.com", "Delivered|sms|+4915112345678"}, Delivered},
			{ev(OutForDelivery, t0), Stale, nil, Delivered},
		}},
		{"same time, older send time is stale", []step{
			{ev(Delivered, t0, func(e *Event) { e.SentAt = t0.Add(time.Minute) }), Created, []string{"Delivered|email|kim@example.com", "Delivered|sms|+4915112345678"}, Delivered},
			{ev(OutForDelivery, t0), Stale, nil, Delivered},
		}},
		{"back to a status already notified does not notify again", []step{
			{ev(InTransit, t0), Created, []string{"InTransit|email|kim@example.com", "InTransit|sms|+4915112345678"}, InTransit},
			{ev(Exception, t0.Add(time.Hour), func(e *Event) { e.SMSes = nil }), Updated, []string{"Exception|email|kim@example.com", "Exception|sms|+4915112345678"}, Exception},
			{ev(InTransit, t0.Add(2*time.Hour)), Updated, nil, InTransit},
		}},
		{"a subscriber added later gets the next status only", []step{
			{ev(InTransit, t0, func(e *Event) { e.SMSes = nil }), Created, []string{"InTransit|email|kim@example.com"}, InTransit},
			{ev(InTransit, t0.Add(time.Hour), func(e *Event) { e.Emails = []string{"lee@example.com"}; e.SMSes = nil }), Updated, nil, InTransit},
			{ev(Delivered, t0.Add(2*time.Hour), func(e *Event) { e.Emails = nil; e.SMSes = nil }), Updated, []string{"Delivered|email|kim@example.com", "Delivered|email|lee@example.com"}, Delivered},
		}},
		{"event without status keeps the status", []step{
			{ev(InTransit, t0), Created, []string{"InTransit|email|kim@example.com", "InTransit|sms|+4915112345678"}, InTransit},
			{ev(StatusInvalid, t0.Add(time.Hour)), Updated, nil, InTransit},
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var cur *Tracking
			for i, s := range tc.steps {
				var before Tracking
				if cur != nil {
					before = cur.clone()
				}
				next, due, out := Fold(cur, s.ev, t0, p)
				if out != s.outcome {
					t.Fatalf("step %d: outcome %v, want %v", i, out, s.outcome)
				}
				if got := keys(due); !equal(got, s.due) {
					t.Fatalf("step %d: due %q, want %q", i, got, s.due)
				}
				if next.Status != s.status {
					t.Fatalf("step %d: status %v, want %v", i, next.Status, s.status)
				}
				if cur != nil && len(cur.Notified) != len(before.Notified) {
					t.Fatalf("step %d: Fold modified its input", i)
				}
				cur = &next
			}
		})
	}
}

func TestFoldMergesCheckpointsAndFields(t *testing.T) {
	cp1 := Checkpoint{Time: t0, Message: "Picked up"}
	cp2 := Checkpoint{Time: t0.Add(time.Hour), Message: "Arrived at sort facility", Location: "Leipzig, DE"}
	a, _, _ := Fold(nil, ev(InTransit, t0, func(e *Event) { e.Checkpoints = []Checkpoint{cp1}; e.OrderNumber = "1001" }), t0, DefaultPolicy)
	b, _, _ := Fold(&a, ev(InTransit, cp2.Time, func(e *Event) { e.Checkpoints = []Checkpoint{cp2, cp1} }), t0, DefaultPolicy)
	if len(b.Checkpoints) != 2 || b.Checkpoints[1].Message != cp2.Message {
		t.Fatalf("checkpoints %+v", b.Checkpoints)
	}
	if b.OrderNumber != "1001" {
		t.Fatalf("order number lost: %q", b.OrderNumber)
	}
	p := DefaultPolicy
	p.MaxCheckpoints = 1
	c, _, _ := Fold(&a, ev(InTransit, cp2.Time, func(e *Event) { e.Checkpoints = []Checkpoint{cp2} }), t0, p)
	if len(c.Checkpoints) != 1 || c.Checkpoints[0].Message != cp2.Message {
		t.Fatalf("cap kept %+v, want the newest", c.Checkpoints)
	}
}

func TestIDIsStable(t *testing.T) {
	if ID("dhl", "0034 0434-161094042557") != ID("DHL", "00340434161094042557") {
		t.Fatal("same parcel, different ids")
	}
	if ID("dhl", "1") == ID("ups", "1") {
		t.Fatal("different carriers, same id")
	}
	if got := ID("dhl", "1"); len(got) != 24 {
		t.Fatalf("id %q is not 24 characters", got)
	}
}

func equal(a, b []string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

func TestFoldNeverMovesBackToLabelCreated(t *testing.T) {
	cur, _, _ := Fold(nil, ev(InTransit, t0), t0, DefaultPolicy)
	next, due, out := Fold(&cur, ev(InfoReceived, t0.Add(time.Hour), func(e *Event) { e.OrderNumber = "1001" }), t0, DefaultPolicy)
	if out != Updated || next.Status != InTransit || len(due) != 0 || next.OrderNumber != "1001" {
		t.Fatalf("InTransit then InfoReceived: %v %v %d due, order %q; want InTransit kept, the data merged", out, next.Status, len(due), next.OrderNumber)
	}
	// Pending → InfoReceived still moves.
	p, _, _ := Fold(nil, ev(Pending, t0), t0, DefaultPolicy)
	if n, _, _ := Fold(&p, ev(InfoReceived, t0.Add(time.Hour)), t0, DefaultPolicy); n.Status != InfoReceived {
		t.Fatalf("Pending then InfoReceived: %v", n.Status)
	}
}
