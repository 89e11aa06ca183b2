package dispatcher_test

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/trackhook/trackhook/dispatcher"
	"github.com/trackhook/trackhook/dispatcher/state"
	"github.com/trackhook/trackhook/receiver/redistest"
	"github.com/trackhook/trackhook/receiver/tracking"
)

// rulesEnv is a handler on the real send-time state: the tracking store
// and the dispatcher's ledger, gate and delivery log on a real Redis, a
// real SMTP server, and a clock the test moves.
type rulesEnv struct {
	f     *fixture
	h     *dispatcher.Handler
	store *tracking.Store
	notes *state.Store
	obs   *countingObserver

	mu  sync.Mutex
	now time.Time
}

func newRulesEnv(t *testing.T, p tracking.Policy) *rulesEnv {
	t.Helper()
	e := &rulesEnv{f: newFixture(t), now: time.Date(2027, 5, 12, 10, 0, 0, 0, time.UTC), obs: &countingObserver{counts: map[string]int{}}}
	rdb := redistest.Start(t).Client()
	e.store = tracking.NewStore(rdb, tracking.Options{Policy: p, Now: e.clock})
	e.notes = state.New(rdb, state.Options{TrackingKey: tracking.StateKey, Now: e.clock})
	e.h = e.f.handler(t, func(c *dispatcher.Config) {
		c.Ledger, c.Gate, c.DeliveryLog, c.Now, c.Observer = e.notes, e.notes.Gate(e.store), e.notes, e.clock, e.obs
	})
	return e
}

func (e *rulesEnv) clock() time.Time {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.now
}

func (e *rulesEnv) jump(d time.Duration) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.now = e.now.Add(d)
}

// apply stores a status for number and returns its email notification as
// the receiver's planner would queue it.
func (e *rulesEnv) apply(t *testing.T, number string, s tracking.Status) dispatcher.Notification {
	t.Helper()
	var out []dispatcher.Notification
	_, err := e.store.Apply(context.Background(), tracking.Event{Source: "test", Slug: "dhl-germany", TrackingNumber: number,
		Status: s, OccurredAt: e.clock(), Emails: []string{"kim@example.com"}, Language: "de"},
		func(tr *tracking.Tracking, due []tracking.Due) ([]tracking.Job, error) {
			for _, d := range due {
				n := dispatcher.Notification{TrackingID: tr.ID, Key: d.Key(), Status: d.Status.String(), Channel: d.Channel,
					Recipient: d.Recipient, Language: "de", QueuedAt: e.clock(), Seq: d.Seq, After: d.After,
					Shipment: dispatcher.Shipment{TrackingNumber: number}}
				if d.Delay > 0 {
					n.Collapse, n.NotBefore = true, e.clock().Add(d.Delay)
				}
				out = append(out, n)
			}
			return nil, nil
		})
	if err != nil || len(out) != 1 {
		t.Fatalf("apply %s: %d notifications, %v", s, len(out), err)
	}
	return out[0]
}

func (e *rulesEnv) deliveries(t *testing.T, id string) []dispatcher.Delivery {
	t.Helper()
	ds, err := e.notes.Deliveries(context.Background(), id)
	if err != nil {
		t.Fatal(err)
	}
	return ds
}

// A Delivered email that runs before the OutForDelivery one queued ahead
// of it for the same recipient waits for it, without an attempt in the
// delivery log; the customer reads them in the order of the statuses.
func TestNotificationsToOneRecipientGoOutInOrder(t *testing.T) {
	e := newRulesEnv(t, tracking.DefaultPolicy)
	ctx := context.Background()
	ofd := e.apply(t, "ORDER1", tracking.OutForDelivery)
	e.jump(26 * time.Millisecond)
	dlv := e.apply(t, "ORDER1", tracking.Delivered)
	if dlv.After != ofd.Key {
		t.Fatalf("Delivered follows %q, want %q", dlv.After, ofd.Key)
	}

	err := e.h.ProcessEmail(ctx, task(t, dlv))
	var de *dispatcher.DeferredError
	if !errors.As(err, &de) || de.Reason != dispatcher.ReasonWaiting || de.After > 5*time.Second {
		t.Fatalf("Delivered before OutForDelivery: %v, want a short wait", err)
	}
	if n := len(e.f.smtp.Messages()); n != 0 {
		t.Fatalf("%d emails sent out of order", n)
	}
	if ds := e.deliveries(t, dlv.TrackingID); len(ds) != 0 {
		t.Fatalf("the wait is logged as an attempt: %+v", ds)
	}
	if dispatcher.IsFailure(err) {
		t.Fatal("the wait counts as a failure (uses up retries)")
	}

	for _, n := range []dispatcher.Notification{ofd, dlv} {
		if err := e.h.ProcessEmail(ctx, task(t, n)); err != nil {
			t.Fatal(err)
		}
	}
	msgs := e.f.smtp.Messages()
	if len(msgs) != 2 || !strings.Contains(msgs[0].Subject, "heute zugestellt") || !strings.Contains(msgs[1].Subject, "wurde zugestellt") {
		t.Fatalf("emails: %d, subjects %q, %q", len(msgs), msgs[0].Subject, msgs[len(msgs)-1].Subject)
	}
}

// The earlier notification failed for good: the later one does not wait
// for it. And one that never goes out holds the next up only for
// OrderWait.
func TestOrderWaitIsBounded(t *testing.T) {
	e := newRulesEnv(t, tracking.DefaultPolicy)
	ctx := context.Background()

	ofd := e.apply(t, "ORDER2", tracking.OutForDelivery)
	dlv := e.apply(t, "ORDER2", tracking.Delivered)
	e.f.smtp.FailNext(1, 550, "5.1.1", "mailbox unavailable")
	if err := e.h.ProcessEmail(ctx, task(t, ofd)); err == nil {
		t.Fatal("a 550 was no failure")
	}
	if err := e.h.ProcessEmail(ctx, task(t, dlv)); err != nil {
		t.Fatalf("after a permanent failure of the earlier email: %v", err)
	}
	if n := len(e.f.smtp.Messages()); n != 1 {
		t.Fatalf("%d emails, want the Delivered one", n)
	}

	ofd = e.apply(t, "ORDER3", tracking.OutForDelivery)
	dlv = e.apply(t, "ORDER3", tracking.Delivered)
	e.jump(dispatcher.DefaultOrderWait - time.Second)
	if err := e.h.ProcessEmail(ctx, task(t, dlv)); err == nil {
		t.Fatal("sent before OrderWait was over")
	}
	e.jump(time.Second)
	if err := e.h.ProcessEmail(ctx, task(t, dlv)); err != nil {
		t.Fatalf("after OrderWait: %v", err)
	}
	if n := len(e.f.smtp.Messages()); n != 2 {
		t.Fatalf("%d emails, want 2", n)
	}
	_ = ofd
}

// With a delay on InTransit, an OutForDelivery that comes within it is sent
// and the InTransit is superseded: suppressed in the delivery log and the
// metrics, never sent. Without a later status it goes out when its time
// comes.
func TestDelayedNotificationIsSupersededByALaterStatus(t *testing.T) {
	p := tracking.DefaultPolicy
	p.Delays = map[tracking.Status]time.Duration{tracking.InTransit: 10 * time.Minute}
	e := newRulesEnv(t, p)
	ctx := context.Background()

	transit := e.apply(t, "DELAY1", tracking.InTransit)
	if !transit.Collapse || !transit.NotBefore.Equal(e.clock().Add(10*time.Minute)) {
		t.Fatalf("InTransit is not delayed: %+v", transit)
	}
	e.jump(5 * time.Minute)
	ofd := e.apply(t, "DELAY1", tracking.OutForDelivery)
	if ofd.After != "" {
		t.Fatalf("OutForDelivery waits for the delayed InTransit (%q)", ofd.After)
	}
	if err := e.h.ProcessEmail(ctx, task(t, ofd)); err != nil {
		t.Fatal(err)
	}
	e.jump(5 * time.Minute) // the delay is over: asynq runs the task
	if err := e.h.ProcessEmail(ctx, task(t, transit)); err != nil {
		t.Fatal(err)
	}
	msgs := e.f.smtp.Messages()
	if len(msgs) != 1 || !strings.Contains(msgs[0].Subject, "heute zugestellt") {
		t.Fatalf("%d emails; want only the OutForDelivery one", len(msgs))
	}
	var got *dispatcher.Delivery
	for _, d := range e.deliveries(t, transit.TrackingID) {
		if d.Status == "InTransit" {
			got = &d
		}
	}
	if got == nil || got.Outcome != dispatcher.OutcomeSuppressed || got.Reason != dispatcher.ReasonSuperseded {
		t.Fatalf("InTransit in the delivery log: %+v", got)
	}
	e.obs.mu.Lock()
	counted := e.obs.counts["email suppressed:superseded"]
	e.obs.mu.Unlock()
	if counted != 1 {
		t.Fatalf("superseded counted %d times", counted)
	}

	// No later status: the delayed one is sent.
	alone := e.apply(t, "DELAY2", tracking.InTransit)
	e.jump(10 * time.Minute)
	if err := e.h.ProcessEmail(ctx, task(t, alone)); err != nil {
		t.Fatal(err)
	}
	if msgs := e.f.smtp.Messages(); len(msgs) != 2 || !strings.Contains(msgs[1].Subject, "unterwegs") {
		t.Fatalf("the delayed InTransit alone was not sent: %d emails", len(msgs))
	}
}
