package dispatcher_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/hibiken/asynq"

	"github.com/trackhook/trackhook/dispatcher"
	"github.com/trackhook/trackhook/dispatcher/mailer"
	"github.com/trackhook/trackhook/dispatcher/smtptest"
	"github.com/trackhook/trackhook/templates"
)

// memLedger is an in-memory Ledger (the Redis one is tested in receiver/tracking).
type memLedger struct {
	mu    sync.Mutex
	sent  map[string]bool
	begun map[string]bool
}

func (l *memLedger) BeginSend(_ context.Context, id, key string) (bool, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.begun == nil {
		l.begun = map[string]bool{}
	}
	again := l.begun[id+"/"+key]
	l.begun[id+"/"+key] = true
	return again, nil
}

func (l *memLedger) Delivered(_ context.Context, id, key string) (bool, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.sent[id+"/"+key], nil
}

func (l *memLedger) MarkDelivered(_ context.Context, id, key string) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.sent == nil {
		l.sent = map[string]bool{}
	}
	l.sent[id+"/"+key] = true
	return nil
}

// Allowed lets everyone but the "blocked" recipients through.
func (l *memLedger) Allowed(_ context.Context, _ string, _ dispatcher.Channel, recipient string) (bool, string, error) {
	if strings.HasPrefix(recipient, "blocked") {
		return false, "recipient was removed from the tracking", nil
	}
	return true, "", nil
}

// memLog is an in-memory DeliveryLog (the Redis one is tested in
// receiver/tracking). err, when set, makes Record fail.
type memLog struct {
	mu      sync.Mutex
	entries []dispatcher.Delivery // oldest first
	err     error
}

func (l *memLog) Record(_ context.Context, trackingID string, e dispatcher.Delivery) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.err != nil {
		return l.err
	}
	if trackingID != "trk1" {
		return fmt.Errorf("entry for tracking %q", trackingID)
	}
	l.entries = append(l.entries, e)
	return nil
}

func (l *memLog) all() []dispatcher.Delivery {
	l.mu.Lock()
	defer l.mu.Unlock()
	return append([]dispatcher.Delivery(nil), l.entries...)
}

// smsFunc adapts a function to SMSSender.
type smsFunc func(context.Context, dispatcher.SMS) (string, error)

func (f smsFunc) Send(ctx context.Context, m dispatcher.SMS) (string, error) { return f(ctx, m) }

func notification(channel dispatcher.Channel, recipient, lang string) dispatcher.Notification {
	return dispatcher.Notification{
		TrackingID: "trk1", Key: dispatcher.NotificationKey("InTransit", channel, recipient), Status: "InTransit", Channel: channel,
		Recipient: recipient, Language: lang, Country: "DEU",
		Shipment: dispatcher.Shipment{TrackingNumber: "00340434161094042557", CarrierSlug: "dhl-germany", CarrierName: "DHL Paket",
			TrackingURL: "https://www.dhl.de/track?idc=00340434161094042557", OrderNumber: "1001",
			CheckpointMessage: "Arrived", CheckpointTime: time.Date(2026, 11, 20, 8, 15, 0, 0, time.UTC)},
	}
}

func task(t *testing.T, n dispatcher.Notification) *asynq.Task {
	t.Helper()
	tk, err := dispatcher.NewTask(n)
	if err != nil {
		t.Fatal(err)
	}
	return tk
}

type fixture struct {
	h      *dispatcher.Handler
	cfg    dispatcher.Config // what h was built from
	smtp   *smtptest.Server
	ledger *memLedger
	log    *memLog
	sms    []dispatcher.SMS
	smsErr error
}

// newFixture builds a handler that sends email through a real SMTP server
// (started with opts) and a pool of mail.DefaultPoolSize connections.
func newFixture(t *testing.T, opts ...smtptest.Option) *fixture {
	t.Helper()
	f := &fixture{smtp: smtptest.NewServer(t, opts...), ledger: &memLedger{}, log: &memLog{}}
	cfg, err := mailer.ParseSMTPURL(f.smtp.URL())
	if err != nil {
		t.Fatal(err)
	}
	sender, err := mailer.NewSMTP(cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { sender.Close() })
	tmpl, err := templates.New(templates.Options{})
	if err != nil {
		t.Fatal(err)
	}
	f.cfg = dispatcher.Config{
		Templates: tmpl, Email: sender, Ledger: f.ledger, Gate: f.ledger, DeliveryLog: f.log, From: "Nordlicht Shop <noreply@shop.example>",
		MessageIDDomain: "shop.example", ShopName: "Nordlicht Shop",
		UnsubscribeURL: func(_ context.Context, id string, ch dispatcher.Channel, r string) (string, error) {
			return "https://shop.example/unsubscribe/" + id + "-" + string(ch), nil
		},
		SMS: smsFunc(func(_ context.Context, m dispatcher.SMS) (string, error) {
			if f.smsErr != nil {
				return "", f.smsErr
			}
			f.sms = append(f.sms, m)
			return "SM1", nil
		}),
	}
	f.h = f.handler(t)
	return f
}

// handler builds a handler from f's config changed by mods.
func (f *fixture) handler(t *testing.T, mods ...func(*dispatcher.Config)) *dispatcher.Handler {
	t.Helper()
	cfg := f.cfg
	for _, m := range mods {
		m(&cfg)
	}
	h, err := dispatcher.NewHandler(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return h
}

func TestEmailInRecipientLanguageOnce(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	n := notification(dispatcher.ChannelEmail, "kim@example.com", "de-AT")
	if err := f.h.ProcessEmail(ctx, task(t, n)); err != nil {
		t.Fatal(err)
	}
	// The same task again (a crash before asynq recorded success): nothing new.
	if err := f.h.ProcessEmail(ctx, task(t, n)); err != nil {
		t.Fatal(err)
	}
	msgs := f.smtp.Messages()
	if len(msgs) != 1 {
		t.Fatalf("%d emails, want 1", len(msgs))
	}
	m := msgs[0]
	if m.Header.Get("Content-Language") != "de" || !strings.Contains(m.Subject, "Sendung") {
		t.Fatalf("not German: %q / %q", m.Header.Get("Content-Language"), m.Subject)
	}
	if want := "<" + n.ID() + "@shop.example>"; m.Header.Get("Message-Id") != want {
		t.Fatalf("Message-ID %q, want %q", m.Header.Get("Message-Id"), want)
	}
	if !strings.Contains(m.Text, "https://www.dhl.de/track?idc=00340434161094042557") || !strings.Contains(m.HTML, "Nordlicht Shop") {
		t.Fatalf("text part:\n%s", m.Text)
	}
	unsub := "https://shop.example/unsubscribe/trk1-email"
	if m.Header.Get("List-Unsubscribe") != "<"+unsub+">" || m.Header.Get("List-Unsubscribe-Post") != "List-Unsubscribe=One-Click" {
		t.Fatalf("one-click headers: %q / %q", m.Header.Get("List-Unsubscribe"), m.Header.Get("List-Unsubscribe-Post"))
	}
	if !strings.Contains(m.Text, unsub) || !strings.Contains(m.HTML, `href="`+unsub+`"`) {
		t.Fatalf("no unsubscribe link in the body:\n%s", m.Text)
	}
}

func TestRemovedRecipientIsNotSent(t *testing.T) {
	f := newFixture(t)
	n := notification(dispatcher.ChannelEmail, "blocked@example.com", "de")
	if err := f.h.ProcessEmail(context.Background(), task(t, n)); err != nil {
		t.Fatal(err)
	}
	s := notification(dispatcher.ChannelSMS, "blocked-+4915112345678", "de")
	if err := f.h.ProcessSMS(context.Background(), task(t, s)); err != nil {
		t.Fatal(err)
	}
	if len(f.smtp.Messages()) != 0 || len(f.sms) != 0 {
		t.Fatalf("sent to a removed recipient: %d emails, %d SMS", len(f.smtp.Messages()), len(f.sms))
	}
}

func TestSMSInEnglishByDefault(t *testing.T) {
	f := newFixture(t)
	n := notification(dispatcher.ChannelSMS, "+4915112345678", "")
	n.Country = "" // no language, no country: the default, English
	if err := f.h.ProcessSMS(context.Background(), task(t, n)); err != nil {
		t.Fatal(err)
	}
	if len(f.sms) != 1 || f.sms[0].To != "+4915112345678" || !strings.Contains(f.sms[0].Body, "00340434161094042557") {
		t.Fatalf("sms %+v", f.sms)
	}
	if !strings.Contains(strings.ToLower(f.sms[0].Body), "on its way") && !strings.Contains(strings.ToLower(f.sms[0].Body), "in transit") {
		t.Fatalf("not English: %q", f.sms[0].Body)
	}
}

func TestFailureClassification(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()

	f.smtp.FailNext(1, 451, "4.3.0", "try later")
	err := f.h.ProcessEmail(ctx, task(t, notification(dispatcher.ChannelEmail, "kim@example.com", "de")))
	if err == nil || errors.Is(err, asynq.SkipRetry) {
		t.Fatalf("451: err = %v, want a retryable error", err)
	}

	f.smtp.RejectRecipient("gone@example.com", 550, "no such user")
	err = f.h.ProcessEmail(ctx, task(t, notification(dispatcher.ChannelEmail, "gone@example.com", "de")))
	if !errors.Is(err, asynq.SkipRetry) {
		t.Fatalf("550: err = %v, want SkipRetry", err)
	}
	if strings.Contains(err.Error(), "gone@example.com") {
		t.Fatalf("error (stored by asynq, shown in the dashboard) has the full address: %v", err)
	}

	f.smsErr = fmt.Errorf("twilio 21211: %w", dispatcher.ErrPermanent)
	if err := f.h.ProcessSMS(ctx, task(t, notification(dispatcher.ChannelSMS, "+4915112345678", "de"))); !errors.Is(err, asynq.SkipRetry) {
		t.Fatalf("permanent SMS: %v", err)
	}
	f.smsErr = errors.New("connection reset")
	if err := f.h.ProcessSMS(ctx, task(t, notification(dispatcher.ChannelSMS, "+4915112345678", "de"))); err == nil || errors.Is(err, asynq.SkipRetry) {
		t.Fatalf("temporary SMS: %v", err)
	}

	bad := asynq.NewTask(dispatcher.TypeEmail, []byte(`{"tracking_id":`))
	if err := f.h.ProcessEmail(ctx, bad); !errors.Is(err, asynq.SkipRetry) {
		t.Fatalf("malformed payload: %v", err)
	}
	wrong := task(t, notification(dispatcher.ChannelSMS, "+4915112345678", "de"))
	if err := f.h.ProcessEmail(ctx, wrong); !errors.Is(err, asynq.SkipRetry) {
		t.Fatalf("SMS payload on the email handler: %v", err)
	}
}

func TestTaskIDs(t *testing.T) {
	a := notification(dispatcher.ChannelEmail, "kim@example.com", "de")
	b := a
	b.Shipment.CheckpointMessage = "something else"
	if a.ID() != b.ID() {
		t.Fatal("task id depends on the shipment snapshot")
	}
	c := a
	c.Status = "Delivered"
	if a.ID() == c.ID() {
		t.Fatal("different statuses share a task id")
	}
	if strings.Contains(a.ID(), "kim") {
		t.Fatal("task id shows the recipient")
	}
	if _, err := dispatcher.NewTask(dispatcher.Notification{Channel: "fax"}); err == nil {
		t.Fatal("invalid notification accepted")
	}
	tk := task(t, a)
	if _, err := dispatcher.RebuildTask("notify:fax", a.ID(), tk.Payload()); err == nil {
		t.Fatal("rebuild with an unknown type accepted")
	}
	if _, err := dispatcher.RebuildTask(dispatcher.TypeEmail, "", tk.Payload()); err == nil {
		t.Fatal("rebuild without a task id accepted")
	}
	if r, err := dispatcher.RebuildTask(dispatcher.TypeEmail, a.ID(), tk.Payload()); err != nil || r.Type() != dispatcher.TypeEmail {
		t.Fatalf("rebuild: %v", err)
	}
	// A payload stored under the wrong type reaches the handler, which
	// archives it without sending.
	wrong, err := dispatcher.RebuildTask(dispatcher.TypeSMS, a.ID(), tk.Payload())
	if err != nil {
		t.Fatal(err)
	}
	f := newFixture(t)
	if err := f.h.ProcessSMS(context.Background(), wrong); !errors.Is(err, asynq.SkipRetry) {
		t.Fatalf("SMS task with an email payload: err = %v, want SkipRetry", err)
	}
	if len(f.sms) != 0 || len(f.smtp.Messages()) != 0 {
		t.Fatal("a task with the wrong payload sent something")
	}
}

func TestRetryDelay(t *testing.T) {
	f := dispatcher.RetryDelay(time.Second, time.Minute)
	if d := f(0, &dispatcher.RetryAfterError{After: 7 * time.Second, Err: errors.New("429")}, nil); d != 7*time.Second {
		t.Fatalf("Retry-After 7s gave %v", d)
	}
	prev := time.Duration(0)
	for n := 0; n < 5; n++ {
		d := f(n, errors.New("x"), nil)
		lo := time.Second << n * 9 / 10
		if d < lo || d > time.Minute*11/10 {
			t.Fatalf("retry %d: %v outside [%v, ~%v]", n, d, lo, time.Second<<n*11/10)
		}
		if d < prev*3/2 {
			t.Fatalf("retry %d: %v does not grow from %v", n, d, prev)
		}
		prev = d
	}
	if d := f(30, errors.New("x"), nil); d > time.Minute*11/10 {
		t.Fatalf("cap exceeded: %v", d)
	}
}

// forgetfulLedger is a ledger whose writes are lost: the worker died between
// the provider's acceptance and the ledger write, every time.
type forgetfulLedger struct{ memLedger }

func (*forgetfulLedger) MarkDelivered(context.Context, string, string) error { return nil }

// At-least-once: a crash after the server accepted an email and before the
// ledger had it sends the email again on the next run. The copy is
// recognisable: every attempt of one (tracking, status, recipient) carries
// the same Message-ID, so mailbox providers that collapse identical
// Message-IDs show it once.
func TestACopyAfterACrashHasTheSameMessageID(t *testing.T) {
	f := newFixture(t)
	h := f.handler(t, func(c *dispatcher.Config) { c.Ledger = &forgetfulLedger{} })
	ctx := context.Background()
	n := notification(dispatcher.ChannelEmail, "kim@example.com", "de")
	for range 2 {
		if err := h.ProcessEmail(ctx, task(t, n)); err != nil {
			t.Fatal(err)
		}
	}
	msgs := f.smtp.Messages()
	if len(msgs) != 2 {
		t.Fatalf("%d emails, want the original and the copy", len(msgs))
	}
	want := "<" + n.ID() + "@shop.example>"
	for i, m := range msgs {
		if got := m.Header.Get("Message-Id"); got != want {
			t.Errorf("attempt %d: Message-ID %q, want %q on every attempt", i+1, got, want)
		}
	}
}
