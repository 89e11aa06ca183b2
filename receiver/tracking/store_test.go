package tracking_test

import (
	"context"
	"encoding/json"
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

var t0 = time.Date(2026, 11, 20, 8, 0, 0, 0, time.UTC)

func event(id string, st tracking.Status, at time.Time) tracking.Event {
	return tracking.Event{Source: "test", EventID: id, Slug: "dhl", TrackingNumber: "00340434161094042557",
		Status: st, OccurredAt: at, SentAt: at, Emails: []string{"kim@example.com"}, SMSes: []string{"+4915112345678"}}
}

func plan(t *tracking.Tracking, due []tracking.Due) ([]tracking.Job, error) {
	var jobs []tracking.Job
	for _, d := range due {
		jobs = append(jobs, tracking.Job{Key: d.Key(), Type: "notify:" + string(d.Channel), TaskID: t.ID + "/" + d.Key(), Payload: []byte(`{}`)})
	}
	return jobs, nil
}

func newStore(t *testing.T) (*tracking.Store, *redistest.Server) {
	t.Helper()
	srv := redistest.Start(t)
	return tracking.NewStore(srv.Client(), tracking.Options{}), srv
}

func TestApplyDedupeStaleAndOutbox(t *testing.T) {
	ctx := context.Background()
	s, _ := newStore(t)

	r, err := s.Apply(ctx, event("e1", tracking.InTransit, t0), plan)
	if err != nil {
		t.Fatal(err)
	}
	if r.Outcome != tracking.Created || len(r.Jobs) != 2 {
		t.Fatalf("first apply: %v with %d jobs, want created with 2", r.Outcome, len(r.Jobs))
	}
	got, err := s.Get(ctx, r.Tracking.ID)
	if err != nil || got.Status != tracking.InTransit || len(got.Emails) != 1 {
		t.Fatalf("stored %+v, %v", got, err)
	}

	// Same event id again: nothing.
	r2, err := s.Apply(ctx, event("e1", tracking.Delivered, t0.Add(time.Hour)), plan)
	if err != nil || r2.Outcome != tracking.Duplicate || len(r2.Jobs) != 0 {
		t.Fatalf("replay: %v, %d jobs, %v", r2.Outcome, len(r2.Jobs), err)
	}
	// Newer status.
	r3, err := s.Apply(ctx, event("e2", tracking.Delivered, t0.Add(2*time.Hour)), plan)
	if err != nil || r3.Outcome != tracking.Updated || len(r3.Jobs) != 2 {
		t.Fatalf("delivered: %v, %d jobs, %v", r3.Outcome, len(r3.Jobs), err)
	}
	// Older event, new id: stale.
	r4, err := s.Apply(ctx, event("e3", tracking.OutForDelivery, t0.Add(time.Hour)), plan)
	if err != nil || r4.Outcome != tracking.Stale || len(r4.Jobs) != 0 {
		t.Fatalf("older: %v, %d jobs, %v", r4.Outcome, len(r4.Jobs), err)
	}
	if got, _ := s.Get(ctx, r.Tracking.ID); got.Status != tracking.Delivered {
		t.Fatalf("stale event moved the state to %v", got.Status)
	}

	// Nothing acked yet: all four jobs are in the outbox for the sweeper.
	items, err := s.OutboxDue(ctx, time.Now().Add(time.Minute), 10)
	if err != nil || len(items) != 1 || len(items[0].Jobs) != 4 {
		t.Fatalf("outbox: %+v, %v", items, err)
	}
	// Ack two; the sweeper sees the other two, then clears the index.
	if err := s.Ack(ctx, r.Tracking.ID, r.Jobs[0].Key, r.Jobs[1].Key); err != nil {
		t.Fatal(err)
	}
	items, _ = s.OutboxDue(ctx, time.Now().Add(time.Minute), 10)
	if len(items) != 1 || len(items[0].Jobs) != 2 {
		t.Fatalf("after ack: %+v", items)
	}
	if err := s.OutboxDone(ctx, items[0]); err != nil {
		t.Fatal(err)
	}
	if items, _ = s.OutboxDue(ctx, time.Now().Add(time.Minute), 10); len(items) != 0 {
		t.Fatalf("after done: %+v", items)
	}
}

func TestApplyConcurrentEventsPlanEachNotificationOnce(t *testing.T) {
	ctx := context.Background()
	s, _ := newStore(t)
	var (
		mu   sync.Mutex
		jobs = map[string]int{}
		wg   sync.WaitGroup
	)
	statuses := []tracking.Status{tracking.InTransit, tracking.OutForDelivery, tracking.Delivered}
	for i := 0; i < 30; i++ {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			st := statuses[i%3]
			r, err := s.Apply(ctx, event(fmt.Sprintf("e%d", i), st, t0.Add(time.Duration(i%3)*time.Hour)), plan)
			if err != nil {
				t.Error(err)
				return
			}
			mu.Lock()
			for _, j := range r.Jobs {
				jobs[j.Key]++
			}
			mu.Unlock()
		}(i)
	}
	wg.Wait()
	for k, n := range jobs {
		if n != 1 {
			t.Errorf("%s planned %d times", k, n)
		}
	}
	got, _ := s.Get(ctx, tracking.ID("dhl", "00340434161094042557"))
	if got.Status != tracking.Delivered {
		t.Fatalf("final status %v, want Delivered (the newest)", got.Status)
	}
	// Delivered is always planned (it is the newest); the others only if
	// they were applied before it.
	if jobs["Delivered|email|kim@example.com"] != 1 {
		t.Fatalf("Delivered not planned: %v", jobs)
	}
}

func TestApplyRedisDown(t *testing.T) {
	ctx := context.Background()
	s, srv := newStore(t)
	srv.Stop()
	_, err := s.Apply(ctx, event("e1", tracking.InTransit, t0), plan)
	if err == nil {
		t.Fatal("Apply succeeded with Redis down")
	}
	srv.Restart()
	if _, err := s.Apply(ctx, event("e1", tracking.InTransit, t0), plan); err != nil {
		t.Fatalf("after restart: %v", err)
	}
}

func TestGetMissing(t *testing.T) {
	s, _ := newStore(t)
	if _, err := s.Get(context.Background(), "nope"); !errors.Is(err, tracking.ErrNotFound) {
		t.Fatalf("Get missing = %v", err)
	}
}

// The send-time gate as the program wires it: the dispatcher's suppression
// list and this store's subscribers.
func TestAllowedAtSendTime(t *testing.T) {
	ctx := context.Background()
	s, srv := newStore(t)
	n := state.New(srv.Client(), state.Options{TrackingKey: tracking.StateKey})
	gate := n.Gate(s)
	tr, err := s.Create(ctx, tracking.Tracking{Slug: "ups", TrackingNumber: "1Z1", Emails: []string{"a@example.com", "b@example.com"}, SMSes: []string{"+4915112345678"}})
	if err != nil {
		t.Fatal(err)
	}
	check := func(channel dispatcher.Channel, rcpt string, want bool) {
		t.Helper()
		ok, reason, err := gate.Allowed(ctx, tr.ID, channel, rcpt)
		if err != nil || ok != want {
			t.Fatalf("Allowed(%s, %s) = %v (%s), %v; want %v", channel, rcpt, ok, reason, err, want)
		}
		// The handler's one-step form agrees, reason and all.
		key := dispatcher.NotificationKey("InTransit", channel, rcpt)
		done, ok2, reason2, err := gate.Check(ctx, dispatcher.Notification{TrackingID: tr.ID, Key: key, Status: "InTransit", Channel: channel, Recipient: rcpt})
		if err != nil || done || ok2 != ok || reason2 != reason {
			t.Fatalf("Check(%s, %s) = delivered %v, %v (%s), %v; want not delivered, %v (%s)", channel, rcpt, done, ok2, reason2, err, ok, reason)
		}
	}
	check(dispatcher.ChannelEmail, "a@example.com", true)
	check(dispatcher.ChannelSMS, "+4915112345678", true)
	check(dispatcher.ChannelEmail, "stranger@example.com", false)
	// Delivered already: Check says so before anything else.
	if err := n.MarkDelivered(ctx, tr.ID, dispatcher.NotificationKey("Delivered", dispatcher.ChannelEmail, "a@example.com")); err != nil {
		t.Fatal(err)
	}
	if done, _, _, err := gate.Check(ctx, dispatcher.Notification{TrackingID: tr.ID, Key: dispatcher.NotificationKey("Delivered", dispatcher.ChannelEmail, "a@example.com"),
		Status: "Delivered", Channel: dispatcher.ChannelEmail, Recipient: "a@example.com"}); !done || err != nil {
		t.Fatalf("Check after MarkDelivered: delivered %v, %v", done, err)
	}

	// Removed after the notification was queued.
	if _, err := s.Update(ctx, tr.ID, func(t *tracking.Tracking) error { t.Emails = []string{"b@example.com"}; return nil }); err != nil {
		t.Fatal(err)
	}
	check(dispatcher.ChannelEmail, "a@example.com", false)
	// Unsubscribed from this shipment only: stays out even when a payload names it again.
	if err := s.OptOut(ctx, tr.ID, dispatcher.ChannelEmail, "b@example.com"); err != nil {
		t.Fatal(err)
	}
	check(dispatcher.ChannelEmail, "b@example.com", false)
	r, err := s.Apply(ctx, tracking.Event{Source: "test", Slug: "ups", TrackingNumber: "1Z1", Status: tracking.InTransit,
		OccurredAt: t0, Emails: []string{"b@example.com"}}, plan)
	if err != nil || len(r.Tracking.Emails) != 0 || len(r.Jobs) != 1 || r.Jobs[0].Key != "InTransit|sms|+4915112345678" {
		t.Fatalf("payload re-subscribed an opted-out recipient: %+v, jobs %+v, %v", r.Tracking.Emails, r.Jobs, err)
	}
	// Suppressed everywhere: the phone.
	if err := n.Suppress(ctx, dispatcher.ChannelSMS, "+4915112345678", "sms STOP"); err != nil {
		t.Fatal(err)
	}
	check(dispatcher.ChannelSMS, "+4915112345678", false)
	if err := n.Suppress(ctx, dispatcher.ChannelSMS, "+4915112345678", "admin"); err != nil {
		t.Fatal(err)
	}
	if list, _ := n.Suppressions(ctx); len(list) != 1 || list[0].Reason != "sms STOP" {
		t.Fatalf("suppressions %+v: the customer's own reason must be kept", list)
	}
	if ok, _ := n.Unsuppress(ctx, dispatcher.ChannelSMS, "+4915112345678"); !ok {
		t.Fatal("unsuppress found nothing")
	}
	check(dispatcher.ChannelSMS, "+4915112345678", true)
	// Deleted tracking.
	if err := s.Delete(ctx, tr.ID); err != nil {
		t.Fatal(err)
	}
	check(dispatcher.ChannelSMS, "+4915112345678", false)
}

// The send-time check reads the tracking's subscribers, kept beside it in
// the state hash, not the whole tracking: a tracking whose document does
// not even decode is still judged by its subscribers.
func TestSubscribedReadsOnlyTheSubscribers(t *testing.T) {
	ctx := context.Background()
	s, srv := newStore(t)
	r, err := s.Apply(ctx, event("e1", tracking.InTransit, t0), plan)
	if err != nil {
		t.Fatal(err)
	}
	key := tracking.StateKey(r.Tracking.ID)
	if err := srv.Client().HSet(ctx, key, "d", "{not json").Err(); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		ch        dispatcher.Channel
		recipient string
		want      bool
	}{{dispatcher.ChannelEmail, "kim@example.com", true}, {dispatcher.ChannelSMS, "+4915112345678", true}, {dispatcher.ChannelEmail, "eve@example.com", false}} {
		ok, reason, err := s.Subscribed(ctx, r.Tracking.ID, c.ch, c.recipient)
		if err != nil || ok != c.want {
			t.Errorf("%s %s: ok %v (%s), %v; want %v", c.ch, c.recipient, ok, reason, err, c.want)
		}
	}
}

// A tracking last written by a trackhook that kept no subscribers beside
// it (or one whose subscribers are of an older version) is judged by its
// whole document, never by subscribers that may be out of date.
func TestSubscribedFallsBackToTheTracking(t *testing.T) {
	ctx := context.Background()
	s, srv := newStore(t)
	r, err := s.Apply(ctx, event("e1", tracking.InTransit, t0), plan)
	if err != nil {
		t.Fatal(err)
	}
	rdb, key := srv.Client(), tracking.StateKey(r.Tracking.ID)
	if ok, reason, err := s.Subscribed(ctx, r.Tracking.ID, dispatcher.ChannelEmail, "kim@example.com"); !ok || err != nil {
		t.Fatalf("before: %v (%s), %v", ok, reason, err)
	}
	// An earlier trackhook removes kim: a new version and document, the
	// subscribers field left as it was.
	removed := r.Tracking
	removed.Emails = nil
	doc, err := json.Marshal(removed)
	if err != nil {
		t.Fatal(err)
	}
	if err := rdb.HSet(ctx, key, "v", "2", "d", doc).Err(); err != nil {
		t.Fatal(err)
	}
	if ok, reason, err := s.Subscribed(ctx, r.Tracking.ID, dispatcher.ChannelEmail, "kim@example.com"); ok || err != nil || reason != "recipient was removed from the tracking" {
		t.Fatalf("stale subscribers field trusted: %v (%s), %v", ok, reason, err)
	}
	if ok, _, err := s.Subscribed(ctx, r.Tracking.ID, dispatcher.ChannelSMS, "+4915112345678"); !ok || err != nil {
		t.Fatalf("the SMS subscriber from the document: %v, %v", ok, err)
	}
	// No subscribers field at all.
	if err := rdb.HDel(ctx, key, "s").Err(); err != nil {
		t.Fatal(err)
	}
	if ok, _, err := s.Subscribed(ctx, r.Tracking.ID, dispatcher.ChannelEmail, "kim@example.com"); ok || err != nil {
		t.Fatalf("without a subscribers field: %v, %v", ok, err)
	}
	// The next write brings the field back, of the new version.
	if _, err := s.Update(ctx, r.Tracking.ID, func(t *tracking.Tracking) error { t.Emails = []string{"kim@example.com"}; return nil }); err != nil {
		t.Fatal(err)
	}
	if got := rdb.HGet(ctx, key, "s").Val(); !strings.HasPrefix(got, "3:") || !strings.Contains(got, "kim@example.com") {
		t.Fatalf("subscribers field after the update: %q", got)
	}
	if ok, _, err := s.Subscribed(ctx, r.Tracking.ID, dispatcher.ChannelEmail, "kim@example.com"); !ok || err != nil {
		t.Fatalf("after the update: %v, %v", ok, err)
	}
}

// BenchmarkSubscribed is the tracking half of the send-time gate, run for
// every email and text, on a tracking with a full checkpoint history.
func BenchmarkSubscribed(b *testing.B) {
	ctx := context.Background()
	srv := redistest.Start(b)
	s := tracking.NewStore(srv.Client(), tracking.Options{})
	cps := make([]tracking.Checkpoint, 100)
	for i := range cps {
		cps[i] = tracking.Checkpoint{Time: t0.Add(time.Duration(i) * time.Hour), Status: tracking.InTransit,
			Message: "Arrived at the sort facility", Location: "Leipzig, DE", City: "Leipzig", CountryISO3: "DEU"}
	}
	tr, err := s.Create(ctx, tracking.Tracking{Slug: "dhl", TrackingNumber: "BENCH1", Emails: []string{"kim@example.com"},
		SMSes: []string{"+4915112345678"}, Checkpoints: cps})
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		if ok, _, err := s.Subscribed(ctx, tr.ID, dispatcher.ChannelEmail, "kim@example.com"); !ok || err != nil {
			b.Fatal(ok, err)
		}
	}
}
