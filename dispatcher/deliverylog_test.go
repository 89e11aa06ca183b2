package dispatcher_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/hibiken/asynq"

	"github.com/trackhook/trackhook/dispatcher"
	"github.com/trackhook/trackhook/dispatcher/mailer"
	"github.com/trackhook/trackhook/dispatcher/smtptest"
	"github.com/trackhook/trackhook/receiver/redistest"
	"github.com/trackhook/trackhook/templates"
)

func TestDeliveryLogRecordsEveryAttempt(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	email := func(rcpt string) error {
		return f.h.ProcessEmail(ctx, task(t, notification(dispatcher.ChannelEmail, rcpt, "de")))
	}
	sms := func(rcpt string) error {
		return f.h.ProcessSMS(ctx, task(t, notification(dispatcher.ChannelSMS, rcpt, "de")))
	}

	kim := notification(dispatcher.ChannelEmail, "kim@example.com", "de")
	if err := email("kim@example.com"); err != nil { // sent
		t.Fatal(err)
	}
	if err := email("kim@example.com"); err != nil { // the same again: already delivered
		t.Fatal(err)
	}
	if err := email("blocked@example.com"); err != nil { // removed from the tracking
		t.Fatal(err)
	}
	f.smtp.FailNext(1, 451, "4.3.0", "try again later")
	if err := email("ana@example.com"); err == nil || errors.Is(err, asynq.SkipRetry) {
		t.Fatalf("451: %v, want a retryable error", err)
	}
	f.smtp.RejectRecipient("gone@example.com", 550, "5.1.1 no such user")
	if err := email("gone@example.com"); !errors.Is(err, asynq.SkipRetry) {
		t.Fatalf("550: %v, want SkipRetry", err)
	}
	if err := sms("+4915112345678"); err != nil { // sent
		t.Fatal(err)
	}
	f.smsErr = fmt.Errorf("twilio 21610: unsubscribed recipient +49******78: %w", dispatcher.ErrPermanent)
	if err := sms("+4915199999999"); !errors.Is(err, asynq.SkipRetry) {
		t.Fatalf("permanent SMS: %v", err)
	}

	type want struct {
		channel                    dispatcher.Channel
		recipient                  string
		outcome                    dispatcher.Outcome
		reason, providerID, errHas string
	}
	wants := []want{
		{"email", "k***@example.com", dispatcher.OutcomeSent, "", kim.ID() + "@shop.example", ""},
		{"email", "k***@example.com", dispatcher.OutcomeSkipped, "already delivered", "", ""},
		{"email", "b***@example.com", dispatcher.OutcomeSkipped, "recipient was removed from the tracking", "", ""},
		{"email", "a***@example.com", dispatcher.OutcomeFailedTemporary, "", "", "451"},
		{"email", "g***@example.com", dispatcher.OutcomeFailedPermanent, "rejected by the provider", "", "550"},
		{"sms", "+49******78", dispatcher.OutcomeSent, "", "SM1", ""},
		{"sms", "+49******99", dispatcher.OutcomeFailedPermanent, "rejected by the provider", "", "21610"},
	}
	got := f.log.all()
	if len(got) != len(wants) {
		t.Fatalf("%d entries, want %d: %+v", len(got), len(wants), got)
	}
	for i, w := range wants {
		e := got[i]
		if e.Status != "InTransit" || e.Channel != w.channel || e.Recipient != w.recipient || e.Attempt != 1 ||
			e.Outcome != w.outcome || e.Reason != w.reason || e.ProviderMessageID != w.providerID {
			t.Errorf("entry %d: %+v, want %+v with attempt 1", i, e, w)
		}
		if (w.errHas == "") != (e.Error == "") || !strings.Contains(e.Error, w.errHas) {
			t.Errorf("entry %d: error %q, want one containing %q", i, e.Error, w.errHas)
		}
		for _, full := range []string{"kim@", "ana@", "gone@", "blocked@", "15112345678", "15199999999"} {
			if strings.Contains(fmt.Sprintf("%+v", e), full) {
				t.Errorf("entry %d holds a full address (%s): %+v", i, full, e)
			}
		}
	}

	// The log failing does not fail the notification, nor send it twice.
	f.log.err = errors.New("redis: connection refused")
	if err := email("lee@example.com"); err != nil {
		t.Fatalf("a delivery-log failure failed the task: %v", err)
	}
	if n := len(f.smtp.Messages()); n != 2 {
		t.Fatalf("%d emails, want 2 (kim, lee)", n)
	}
}

// TestDeliveryLogCountsAttemptsUnderAsynq runs the handler in a real asynq
// server: attempts are numbered from asynq's retry count, and a temporary
// failure on the last allowed attempt is logged as permanent, since asynq
// archives the task.
func TestDeliveryLogCountsAttemptsUnderAsynq(t *testing.T) {
	rs := redistest.Start(t)
	rdb := rs.Client()
	smtpSrv := smtptest.NewServer(t)
	cfg, err := mailer.ParseSMTPURL(smtpSrv.URL())
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
	log := &memLog{}
	h, err := dispatcher.NewHandler(dispatcher.Config{
		Templates: tmpl, Email: sender, Ledger: &memLedger{}, Gate: &memLedger{}, DeliveryLog: log,
		From: "Shop <noreply@shop.example>", MessageIDDomain: "shop.example",
		UnsubscribeURL: func(context.Context, string, dispatcher.Channel, string) (string, error) {
			return "https://shop.example/u", nil
		},
		SMS:    smsFunc(func(context.Context, dispatcher.SMS) (string, error) { return "SM1", nil }),
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil)),
	})
	if err != nil {
		t.Fatal(err)
	}
	srv := asynq.NewServerFromRedisClient(rdb, asynq.Config{
		Concurrency: 1, Queues: map[string]int{dispatcher.QueueEmail: 1, dispatcher.QueueSMS: 1},
		RetryDelayFunc:           func(int, error, *asynq.Task) time.Duration { return 10 * time.Millisecond },
		TaskCheckInterval:        20 * time.Millisecond,
		DelayedTaskCheckInterval: 50 * time.Millisecond,
		LogLevel:                 asynq.FatalLevel,
	})
	mux := asynq.NewServeMux()
	dispatcher.Register(mux, h)
	if err := srv.Start(mux); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(srv.Shutdown)
	client := asynq.NewClientFromRedisClient(rdb)
	insp := asynq.NewInspectorFromRedisClient(rdb)

	waitEntries := func(n int) []dispatcher.Delivery {
		t.Helper()
		deadline := time.Now().Add(15 * time.Second)
		for {
			got := log.all()
			if len(got) >= n {
				return got
			}
			if time.Now().After(deadline) {
				t.Fatalf("%d delivery-log entries after 15s, want %d: %+v", len(got), n, got)
			}
			time.Sleep(20 * time.Millisecond)
		}
	}
	outcomes := func(es []dispatcher.Delivery) string {
		var b strings.Builder
		for _, e := range es {
			fmt.Fprintf(&b, "%d:%s(%s) ", e.Attempt, e.Outcome, e.Reason)
		}
		return strings.TrimSpace(b.String())
	}

	// 451 once: attempt 1 fails temporarily, attempt 2 is sent.
	smtpSrv.FailNext(1, 451, "4.3.0", "try again later")
	if _, err := client.Enqueue(task(t, notification(dispatcher.ChannelEmail, "kim@example.com", "de"))); err != nil {
		t.Fatal(err)
	}
	got := waitEntries(2)
	if s := outcomes(got); s != "1:failed_temporary() 2:sent()" {
		t.Fatalf("451 then OK: %s", s)
	}

	// 451 on both of two allowed attempts: the second is final.
	smtpSrv.FailNext(2, 451, "4.3.0", "try again later")
	n := notification(dispatcher.ChannelEmail, "ana@example.com", "de")
	if _, err := client.Enqueue(task(t, n), asynq.MaxRetry(1)); err != nil {
		t.Fatal(err)
	}
	got = waitEntries(4)[2:]
	if s := outcomes(got); s != "1:failed_temporary() 2:failed_permanent(gave up after 2 attempts)" {
		t.Fatalf("451 twice with one retry: %s", s)
	}
	if !strings.Contains(got[1].Error, "451") {
		t.Errorf("the final entry's error is %q, want the 451", got[1].Error)
	}
	info, err := insp.GetTaskInfo(dispatcher.QueueEmail, n.ID())
	if err != nil || info.State != asynq.TaskStateArchived {
		t.Fatalf("task after the last attempt: %+v, %v; want archived", info, err)
	}
}
