package tracking_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/trackhook/trackhook/dispatcher"
	"github.com/trackhook/trackhook/dispatcher/state"
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

// deliveryStore is a tracking store and the dispatcher's state beside it,
// on one clock, as the program wires them: the delivery log is kept only
// for trackings that exist (state.Options.TrackingKey).
func deliveryStore(t *testing.T, opts state.Options) (*tracking.Store, *state.Store, *redistest.Server, *clock) {
	t.Helper()
	srv := redistest.Start(t)
	c := &clock{now: t0}
	opts.Now, opts.TrackingKey = c.Now, tracking.StateKey
	return tracking.NewStore(srv.Client(), tracking.Options{Now: c.Now}), state.New(srv.Client(), opts), srv, c
}

func TestDeliveryLogRoundTrip(t *testing.T) {
	ctx := context.Background()
	s, n, _, c := deliveryStore(t, state.Options{})
	tr, err := s.Create(ctx, tracking.Tracking{Slug: "dhl", TrackingNumber: "00340434161094042557", Emails: []string{"kim@example.com"}})
	if err != nil {
		t.Fatal(err)
	}
	if got, err := n.Deliveries(ctx, tr.ID); err != nil || len(got) != 0 {
		t.Fatalf("empty log: %v, %v", got, err)
	}

	entries := []dispatcher.Delivery{
		{Status: "InTransit", Channel: dispatcher.ChannelEmail, Recipient: "k***@example.com", Attempt: 1,
			Outcome: dispatcher.OutcomeFailedTemporary, Error: "smtp: 451 4.3.0 try again later"},
		{Status: "InTransit", Channel: dispatcher.ChannelEmail, Recipient: "k***@example.com", Attempt: 2,
			Outcome: dispatcher.OutcomeSent, ProviderMessageID: "n-1@shop.example"},
		// A caller that forgot to mask: the store masks.
		{Status: "InTransit", Channel: dispatcher.ChannelSMS, Recipient: "+4915112345678", Attempt: 1,
			Outcome: dispatcher.OutcomeSkipped, Reason: "recipient is on the suppression list"},
		{Status: "Delivered", Channel: dispatcher.ChannelEmail, Recipient: "kim@example.com", Attempt: 1,
			Outcome: dispatcher.OutcomeFailedPermanent, Reason: "rejected by the provider", Error: strings.Repeat("x", 5000)},
	}
	for _, d := range entries {
		c.Add(time.Minute)
		if err := n.Record(ctx, tr.ID, d); err != nil {
			t.Fatal(err)
		}
	}
	got, err := n.Deliveries(ctx, tr.ID)
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
	if err := n.Record(ctx, tr.ID, dispatcher.Delivery{Status: "Delivered", Channel: dispatcher.ChannelEmail,
		Recipient: "k***@example.com", Attempt: 1, Outcome: dispatcher.OutcomeSent, At: at}); err != nil {
		t.Fatal(err)
	}
	if got, _ := n.Deliveries(ctx, tr.ID); !got[0].At.Equal(at) || got[0].At.Location() != time.UTC {
		t.Fatalf("explicit time: %v, want %v in UTC", got[0].At, at)
	}

	if err := n.Record(ctx, tr.ID, dispatcher.Delivery{Status: "InTransit", Channel: dispatcher.ChannelEmail}); err == nil {
		t.Fatal("an entry without an outcome was recorded")
	}
	if _, err := dispatcher.ParseOutcome("delivered"); err == nil {
		t.Fatal("ParseOutcome accepted an unknown outcome")
	}
	for _, o := range []dispatcher.Outcome{dispatcher.OutcomeSent, dispatcher.OutcomeFailedTemporary, dispatcher.OutcomeFailedPermanent, dispatcher.OutcomeSkipped} {
		if p, err := dispatcher.ParseOutcome(o.String()); err != nil || p != o {
			t.Errorf("ParseOutcome(%q) = %v, %v", o, p, err)
		}
	}
}

func TestDeliveryLogUnknownAndDeletedTracking(t *testing.T) {
	ctx := context.Background()
	s, n, srv, _ := deliveryStore(t, state.Options{})
	d := dispatcher.Delivery{Status: "InTransit", Channel: dispatcher.ChannelEmail, Recipient: "k***@example.com", Attempt: 1, Outcome: dispatcher.OutcomeSent}
	if err := n.Record(ctx, "nosuchtracking", d); err != nil {
		t.Fatalf("record for an unknown tracking: %v, want nothing recorded and no error", err)
	}
	if _, err := n.Deliveries(ctx, "nosuchtracking"); !errors.Is(err, state.ErrNoTracking) {
		t.Fatalf("log of an unknown tracking: %v, want ErrNoTracking", err)
	}

	tr, err := s.Create(ctx, tracking.Tracking{Slug: "ups", TrackingNumber: "1Z1"})
	if err != nil {
		t.Fatal(err)
	}
	if err := n.Record(ctx, tr.ID, d); err != nil {
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
	if err := n.Record(ctx, tr.ID, d); err != nil {
		t.Fatalf("record after delete: %v, want nothing recorded and no error", err)
	}
	if n := srv.Client().Exists(ctx, key).Val(); n != 0 {
		t.Fatal("recording for a deleted tracking recreated its log")
	}
}

func TestDeliveryLogCapAndRetention(t *testing.T) {
	ctx := context.Background()
	s, n, srv, c := deliveryStore(t, state.Options{DeliveryRetention: 48 * time.Hour})
	tr, err := s.Create(ctx, tracking.Tracking{Slug: "dhl", TrackingNumber: "CAP1"})
	if err != nil {
		t.Fatal(err)
	}
	key := "trackhook:{" + tr.ID + "}:deliveries"
	rec := func(attempt int) {
		t.Helper()
		if err := n.Record(ctx, tr.ID, dispatcher.Delivery{Status: "InTransit", Channel: dispatcher.ChannelEmail,
			Recipient: "k***@example.com", Attempt: attempt, Outcome: dispatcher.OutcomeFailedTemporary, Error: fmt.Sprint("try ", attempt)}); err != nil {
			t.Fatal(err)
		}
	}

	// Cap: the newest MaxDeliveries are kept.
	extra := 7
	for i := 1; i <= state.MaxDeliveries+extra; i++ {
		c.Add(time.Millisecond)
		rec(i)
	}
	got, err := n.Deliveries(ctx, tr.ID)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != state.MaxDeliveries || got[0].Attempt != state.MaxDeliveries+extra || got[len(got)-1].Attempt != extra+1 {
		t.Fatalf("after %d entries: %d kept, newest attempt %d, oldest %d; want %d from %d to %d",
			state.MaxDeliveries+extra, len(got), got[0].Attempt, got[len(got)-1].Attempt, state.MaxDeliveries, state.MaxDeliveries+extra, extra+1)
	}
	if n := srv.Client().ZCard(ctx, key).Val(); n != state.MaxDeliveries {
		t.Fatalf("%d entries stored, want %d", n, state.MaxDeliveries)
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
	got, err = n.Deliveries(ctx, tr.ID)
	if err != nil || len(got) != 1 || got[0].Attempt != 1000 {
		t.Fatalf("after 49h: %+v, %v; want only the entry from 25h ago", got, err)
	}
	rec(1001)
	if n := srv.Client().ZCard(ctx, key).Val(); n != 2 {
		t.Fatalf("%d entries stored after a write past retention, want 2", n)
	}
}
