package dispatcher_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/trackhook/trackhook/dispatcher"
	"github.com/trackhook/trackhook/templates"
)

// countingObserver records what the handler reports.
type countingObserver struct {
	mu       sync.Mutex
	counts   map[string]int // "channel outcome"
	retries  int
	sends    int
	segments []int // of the texts the provider accepted
}

func (o *countingObserver) SMSSegments(n int, _ bool) {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.segments = append(o.segments, n)
}

func (o *countingObserver) Notification(c dispatcher.Channel, outcome dispatcher.Outcome) {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.counts[string(c)+" "+outcome.String()]++
}

func (o *countingObserver) Retry(dispatcher.Channel) {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.retries++
}

func (o *countingObserver) Suppressed(c dispatcher.Channel, reason string) {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.counts[string(c)+" suppressed:"+reason]++
}

func (o *countingObserver) Sent(dispatcher.Channel, time.Duration) {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.sends++
}

type emailFunc func(context.Context, dispatcher.Email) error

func (f emailFunc) Send(ctx context.Context, e dispatcher.Email) error { return f(ctx, e) }

// memGate is a Ledger and a Gate in memory; recipients starting with
// "blocked" are not allowed.
type memGate struct {
	mu   sync.Mutex
	sent map[string]bool
}

func (g *memGate) Delivered(_ context.Context, id, key string) (bool, error) {
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.sent[id+"/"+key], nil
}

func (g *memGate) MarkDelivered(_ context.Context, id, key string) error {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.sent[id+"/"+key] = true
	return nil
}

func (g *memGate) BeginSend(context.Context, string, string) (bool, error) { return false, nil }

func (g *memGate) Allowed(_ context.Context, _ string, _ dispatcher.Channel, recipient string) (bool, string, error) {
	return !strings.HasPrefix(recipient, "blocked"), "removed", nil
}

type nopLog struct{}

func (nopLog) Record(context.Context, string, dispatcher.Delivery) error { return nil }

func TestObserverSeesEveryOutcome(t *testing.T) {
	tmpl, err := templates.New(templates.Options{})
	if err != nil {
		t.Fatal(err)
	}
	obs := &countingObserver{counts: map[string]int{}}
	var emailErr error
	h, err := dispatcher.NewHandler(dispatcher.Config{
		Templates: tmpl, Ledger: &memGate{sent: map[string]bool{}}, Gate: &memGate{sent: map[string]bool{}},
		From: "Shop <noreply@shop.example>", UnsubscribeURL: func(context.Context, string, dispatcher.Channel, string) (string, error) {
			return "https://shop.example/u", nil
		},
		Email: emailFunc(func(context.Context, dispatcher.Email) error { return emailErr }),
		SMS: smsFunc(func(_ context.Context, m dispatcher.SMS) (string, error) {
			return "", fmt.Errorf("invalid number: %w", dispatcher.ErrPermanent)
		}),
		DeliveryLog: nopLog{},
		Observer:    obs,
	})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	email := func(recipient string) error {
		return h.ProcessEmail(ctx, task(t, notification(dispatcher.ChannelEmail, recipient, "en")))
	}

	if err := email("kim@example.com"); err != nil { // sent
		t.Fatal(err)
	}
	if err := email("kim@example.com"); err != nil { // delivered before: skipped
		t.Fatal(err)
	}
	if err := email("blocked@example.com"); err != nil { // gate says no: skipped
		t.Fatal(err)
	}
	emailErr = errors.New("connection reset")
	if err := email("ana@example.com"); err == nil { // temporary
		t.Fatal("a temporary failure returned nil")
	}
	if err := h.ProcessSMS(ctx, task(t, notification(dispatcher.ChannelSMS, "+4915112345678", "en"))); err == nil { // permanent
		t.Fatal("a permanent failure returned nil")
	}
	if err := h.ProcessEmail(ctx, task(t, notification(dispatcher.ChannelSMS, "+4915112345678", "en"))); err == nil { // wrong type: permanent
		t.Fatal("an SMS notification in an email task was accepted")
	}

	want := map[string]int{
		"email sent": 1, "email skipped": 2, "email failed_temporary": 1, "email failed_permanent": 1,
		"sms failed_permanent": 1,
	}
	obs.mu.Lock()
	defer obs.mu.Unlock()
	if fmt.Sprint(obs.counts) != fmt.Sprint(want) {
		t.Errorf("counts %v, want %v", obs.counts, want)
	}
	if len(obs.segments) != 0 {
		t.Errorf("segments observed for %v, want none (the only text was refused)", obs.segments)
	}
	if obs.sends != 3 { // kim, ana, the SMS: each reached a provider
		t.Errorf("%d send durations observed, want 3", obs.sends)
	}
	if obs.retries != 0 {
		t.Errorf("%d retries counted outside asynq", obs.retries)
	}
}

func TestRedactedPayloadHidesTheCustomer(t *testing.T) {
	n := notification(dispatcher.ChannelEmail, "kim@example.com", "de")
	n.Shipment.CustomerName = "Kim Lehmann"
	got := dispatcher.RedactedPayload(dispatcher.TypeEmail, task(t, n).Payload())
	for _, leak := range []string{"kim@example.com", "Lehmann"} {
		if strings.Contains(got, leak) {
			t.Errorf("payload shows %q:\n%s", leak, got)
		}
	}
	for _, keep := range []string{"k***@example.com", `"InTransit|email|k***@example.com"`, "00340434161094042557"} {
		if !strings.Contains(got, keep) {
			t.Errorf("payload lacks %q:\n%s", keep, got)
		}
	}
	if got := dispatcher.RedactedPayload("other:task", []byte(`{"secret":1}`)); strings.Contains(got, "secret") {
		t.Errorf("foreign payload shown: %s", got)
	}
}
