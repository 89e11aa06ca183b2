package tracking_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/trackhook/trackhook/receiver/redistest"
	"github.com/trackhook/trackhook/receiver/tracking"
)

// clock is a settable clock for the store.
type clock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *clock) Add(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

func deliveryStore(t *testing.T, opts tracking.Options) (*tracking.Store, *redistest.Server, *clock) {
	t.Helper()
	srv := redistest.Start(t)
	c := &clock{now: t0}
	opts.Now = c.Now
	return tracking.NewStore(srv.Client(), opts), srv, c
}

func TestDeliveryLogRoundTrip(t *testing.T) {
	ctx := context.Background()
	s, _, c := deliveryStore(t, tracking.Options{})
	tr, err := s.Create(ctx, tracking.Tracking{Slug: "dhl", TrackingNumber: "00340434161094042557", Emails: []string{"kim@example.com"}})
	if err != nil {
		t.Fatal(err)
	}
	if got, err := s.Deliveries(ctx, tr.ID); err != nil || len(got) != 0 {
		t.Fatalf("empty log: %v, %v", got, err)
	}

	entries := []tracking.Delivery{
		{Status: tracking.InTransit, Channel: tracking.ChannelEmail, Recipient: "k***@example.com", Attempt: 1,
			Outcome: tracking.DeliveryFailedTemporary, Error: "smtp: 451 4.3.0 try again later"},
		{Status: tracking.InTransit, Channel: tracking.ChannelEmail, Recipient: "k***@example.com", Attempt: 2,
			Outcome: tracking.DeliverySent, ProviderMessageID: "n-1@shop.example"},
		// A caller that forgot to mask: the store masks.
		{Status: tracking.InTransit, Channel: tracking.ChannelSMS, Recipient: "+4915112345678", Attempt: 1,
			Outcome: tracking.DeliverySkipped, Reason: "recipient is on the suppression list"},
		{Status: tracking.Delivered, Channel: tracking.ChannelEmail, Recipient: "kim@example.com", Attempt: 1,
			Outcome: tracking.DeliveryFailedPermanent, Reason: "rejected by the provider", Error: strings.Repeat("x", 5000)},
	}
	for _, d := range entries {
		c.Add(time.Minute)
		if err := s.RecordDelivery(ctx, tr.ID, d); err != nil {
			t.Fatal(err)
		}
	}
	got, err := s.Deliveries(ctx, tr.ID)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != len(entries) {
		t.Fatalf("%d entries, want %d", len(got), len(entries))
	}
	// Newest first, every field kept, recipients masked, time from the store's clock.
	for i, d := range got {
		want := entries[len(entries)-1-i]
		want.At = t0.Add(time.Duration(len(entries)-i) * time.Minute)
		switch want.Recipient {
		case "+4915112345678":
			want.Recipient = "+49******78"
		case "kim@example.com":
			want.Recipient = "k***@example.com"
		}
		if len(want.Error) > 1024 {
			if len(d.Error) > 1100 || !strings.HasPrefix(want.Error, strings.TrimSuffix(d.Error, "…")) {
				t.Errorf("entry %d: a 5000-byte error was stored as %d bytes", i, len(d.Error))
			}
			want.Error = d.Error
		}
		if d != want {
			t.Errorf("entry %d:\n got %+v\nwant %+v", i, d, want)
		}
	}

	// An explicit time is kept.
	at := t0.Add(time.Hour).In(time.FixedZone("CET", 3600))
	if err := s.RecordDelivery(ctx, tr.ID, tracking.Delivery{Status: tracking.Delivered, Channel: tracking.ChannelEmail,
		Recipient: "k***@example.com", Attempt: 1, Outcome: tracking.DeliverySent, At: at}); err != nil {
		t.Fatal(err)
	}
	if got, _ := s.Deliveries(ctx, tr.ID); !got[0].At.Equal(at) || got[0].At.Location() != time.UTC {
		t.Fatalf("explicit time: %v, want %v in UTC", got[0].At, at)
	}

	if err := s.RecordDelivery(ctx, tr.ID, tracking.Delivery{Status: tracking.InTransit, Channel: tracking.ChannelEmail}); err == nil {
		t.Fatal("an entry without an outcome was recorded")
	}
	if _, err := tracking.ParseDeliveryOutcome("delivered"); err == nil {
		t.Fatal("ParseDeliveryOutcome accepted an unknown outcome")
	}
	for _, o := range []tracking.DeliveryOutcome{tracking.DeliverySent, tracking.DeliveryFailedTemporary, tracking.DeliveryFailedPermanent, tracking.DeliverySkipped} {
		if p, err := tracking.ParseDeliveryOutcome(o.String()); err != nil || p != o {
			t.Errorf("ParseDeliveryOutcome(%q) = %v, %v", o, p, err)
		}
	}
}

func TestDeliveryLogUnknownAndDeletedTracking(t *testing.T) {
	ctx := context.Background()
	s, srv, _ := deliveryStore(t, tracking.Options{})
	d := tracking.Delivery{Status: tracking.InTransit, Channel: tracking.ChannelEmail, Recipient: "k***@example.com", Attempt: 1, Outcome: tracking.DeliverySent}
	if err := s.RecordDelivery(ctx, "nosuchtracking", d); !errors.Is(err, tracking.ErrNotFound) {
		t.Fatalf("record for an unknown tracking: %v, want ErrNotFound", err)
	}
	if _, err := s.Deliveries(ctx, "nosuchtracking"); !errors.Is(err, tracking.ErrNotFound) {
		t.Fatalf("log of an unknown tracking: %v, want ErrNotFound", err)
	}

	tr, err := s.Create(ctx, tracking.Tracking{Slug: "ups", TrackingNumber: "1Z1"})
	if err != nil {
		t.Fatal(err)
	}
	if err := s.RecordDelivery(ctx, tr.ID, d); err != nil {
		t.Fatal(err)
	}
	key := "trackhook:{" + tr.ID + "}:deliveries"
	if n := srv.Client().Exists(ctx, key).Val(); n != 1 {
		t.Fatalf("no log key %s", key)
	}
	if err := s.Delete(ctx, tr.ID); err != nil {
		t.Fatal(err)
	}
	if n := srv.Client().Exists(ctx, key).Val(); n != 0 {
		t.Fatal("Delete left the delivery log behind")
	}
	// A task still in flight for the deleted tracking does not bring the log back.
	if err := s.RecordDelivery(ctx, tr.ID, d); !errors.Is(err, tracking.ErrNotFound) {
		t.Fatalf("record after delete: %v, want ErrNotFound", err)
	}
	if n := srv.Client().Exists(ctx, key).Val(); n != 0 {
		t.Fatal("recording for a deleted tracking recreated its log")
	}
}

func TestDeliveryLogCapAndRetention(t *testing.T) {
	ctx := context.Background()
	s, srv, c := deliveryStore(t, tracking.Options{DeliveryRetention: 48 * time.Hour})
	tr, err := s.Create(ctx, tracking.Tracking{Slug: "dhl", TrackingNumber: "CAP1"})
	if err != nil {
		t.Fatal(err)
	}
	key := "trackhook:{" + tr.ID + "}:deliveries"
	rec := func(attempt int) {
		t.Helper()
		if err := s.RecordDelivery(ctx, tr.ID, tracking.Delivery{Status: tracking.InTransit, Channel: tracking.ChannelEmail,
			Recipient: "k***@example.com", Attempt: attempt, Outcome: tracking.DeliveryFailedTemporary, Error: fmt.Sprint("try ", attempt)}); err != nil {
			t.Fatal(err)
		}
	}

	// Cap: the newest MaxDeliveries are kept.
	extra := 7
	for i := 1; i <= tracking.MaxDeliveries+extra; i++ {
		c.Add(time.Millisecond)
		rec(i)
	}
	got, err := s.Deliveries(ctx, tr.ID)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != tracking.MaxDeliveries || got[0].Attempt != tracking.MaxDeliveries+extra || got[len(got)-1].Attempt != extra+1 {
		t.Fatalf("after %d entries: %d kept, newest attempt %d, oldest %d; want %d from %d to %d",
			tracking.MaxDeliveries+extra, len(got), got[0].Attempt, got[len(got)-1].Attempt, tracking.MaxDeliveries, tracking.MaxDeliveries+extra, extra+1)
	}
	if n := srv.Client().ZCard(ctx, key).Val(); n != tracking.MaxDeliveries {
		t.Fatalf("%d entries stored, want %d", n, tracking.MaxDeliveries)
	}

	// Retention: the key expires DeliveryRetention after the last write …
	if ttl := srv.Client().PTTL(ctx, key).Val(); ttl <= 47*time.Hour || ttl > 48*time.Hour {
		t.Fatalf("log TTL %v, want 48h", ttl)
	}
	// … and entries older than it are neither shown nor kept, even while
	// newer ones keep the key alive.
	c.Add(24 * time.Hour)
	rec(1000)
	c.Add(25 * time.Hour) // the first 207 are now 49h old, the last one 25h
	got, err = s.Deliveries(ctx, tr.ID)
	if err != nil || len(got) != 1 || got[0].Attempt != 1000 {
		t.Fatalf("after 49h: %+v, %v; want only the entry from 25h ago", got, err)
	}
	rec(1001)
	if n := srv.Client().ZCard(ctx, key).Val(); n != 2 {
		t.Fatalf("%d entries stored after a write past retention, want 2", n)
	}
}
