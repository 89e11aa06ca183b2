package tracking_test

import (
	"context"
	"testing"
	"time"

	"github.com/trackhook/trackhook/dispatcher"
	"github.com/trackhook/trackhook/receiver/redistest"
	"github.com/trackhook/trackhook/receiver/tracking"
)

// Parcels sharing an order number are counted together; when both are
// delivered, exactly one Delivered message per recipient announces the
// whole order, and asking again for it answers the same.
func TestOrderProgress(t *testing.T) {
	s, _ := newStore(t)
	ctx := context.Background()
	at := time.Now().Add(-time.Hour)
	noPlan := func(*tracking.Tracking, []tracking.Due) ([]tracking.Job, error) { return nil, nil }
	apply := func(number string, st tracking.Status, order string) tracking.Tracking {
		t.Helper()
		at = at.Add(time.Minute)
		res, err := s.Apply(ctx, tracking.Event{Source: "test", Slug: "dhl", TrackingNumber: number, Status: st, OccurredAt: at, OrderNumber: order}, noPlan)
		if err != nil {
			t.Fatal(err)
		}
		return res.Tracking
	}
	a := apply("A1", tracking.InTransit, "7")
	apply("B1", tracking.InTransit, "7")
	order := tracking.OrderRef(&a)
	if order == "" || order != tracking.OrderRef(&tracking.Tracking{OrderNumber: " 7 "}) {
		t.Fatalf("order ref %q", order)
	}
	progress := func(key string) (int, int, bool) {
		t.Helper()
		d, n, all, err := s.OrderProgress(ctx, order, "email:kim@example.com", key)
		if err != nil {
			t.Fatal(err)
		}
		return d, n, all
	}
	if d, n, all := progress("k0"); d != 0 || n != 2 || all {
		t.Fatalf("nothing delivered: %d of %d, all %v", d, n, all)
	}
	apply("A1", tracking.Delivered, "7")
	if d, n, all := progress("Delivered|email|kim@example.com#A1"); d != 1 || n != 2 || all {
		t.Fatalf("one delivered: %d of %d, all %v", d, n, all)
	}
	apply("B1", tracking.Delivered, "7")
	// Both messages race to announce the order: one wins, on every asking.
	if _, _, all := progress("B"); !all {
		t.Fatal("the first message after the last delivery does not announce the order")
	}
	if _, _, all := progress("A"); all {
		t.Fatal("a second message announces the order too")
	}
	if d, n, all := progress("B"); d != 2 || n != 2 || !all {
		t.Fatalf("asked again: %d of %d, all %v", d, n, all)
	}
	// Another recipient gets their own announcement.
	if _, _, all, _ := s.OrderProgress(ctx, order, "sms:+4915112345678", "A"); !all {
		t.Fatal("the other recipient's announcement")
	}
	// A parcel moved to another order, and a deleted one, leave it.
	apply("B1", tracking.Delivered, "8")
	if d, n, _ := progress("x"); d != 1 || n != 1 {
		t.Fatalf("after B1 left: %d of %d", d, n)
	}
	if err := s.Delete(ctx, a.ID); err != nil {
		t.Fatal(err)
	}
	if _, n, _ := progress("x"); n != 0 {
		t.Fatalf("after A1 was deleted: %d parcels", n)
	}
}

// An import of an old in-transit scan (older than the stale rule's week)
// is not put on the stuck-parcel schedule: it would count as stuck at once
// and the rule would speak about the update the stale rule kept quiet. A
// fresh one is.
func TestStaleEventsArmNoTimedRule(t *testing.T) {
	rs := redistest.Start(t)
	now := time.Date(2027, 5, 12, 10, 0, 0, 0, time.UTC)
	deadline := func(t *tracking.Tracking, _ dispatcher.Channel, _ string) time.Time {
		return t.OccurredAt.Add(5 * 24 * time.Hour)
	}
	late := func(t *tracking.Tracking) time.Time { return tracking.EndOfDay(t.ExpectedDelivery, time.UTC) }
	s := tracking.NewStore(rs.Client(), tracking.Options{Policy: tracking.ServicePolicy(), Now: func() time.Time { return now }, Stuck: deadline, Late: late})
	ctx := context.Background()
	noPlan := func(*tracking.Tracking, []tracking.Due) ([]tracking.Job, error) { return nil, nil }
	for _, c := range []struct {
		number string
		age    time.Duration
	}{{"OLDSCAN1", 8 * 24 * time.Hour}, {"NEWSCAN1", time.Hour}} {
		if _, err := s.Apply(ctx, tracking.Event{Source: "test", Slug: "dhl", TrackingNumber: c.number, Status: tracking.InTransit,
			OccurredAt: now.Add(-c.age), Emails: []string{"kim@example.com"}, ExpectedDelivery: "2027-05-01"}, noPlan); err != nil {
			t.Fatal(err)
		}
	}
	for _, sched := range []tracking.Schedule{tracking.ScheduleStuck, tracking.ScheduleLate} {
		due, err := s.ScheduleDue(ctx, sched, now.AddDate(0, 1, 0), 10)
		if err != nil {
			t.Fatal(err)
		}
		if len(due) != 1 || due[0].TrackingID != tracking.ID("dhl", "NEWSCAN1") {
			t.Fatalf("%s schedule: %+v, want only the fresh scan", sched, due)
		}
	}
}
