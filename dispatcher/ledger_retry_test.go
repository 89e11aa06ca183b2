package dispatcher_test

import (
	"context"
	"errors"
	"testing"

	"github.com/trackhook/trackhook/dispatcher"
	"github.com/trackhook/trackhook/templates"
)

// flakyLedger fails MarkDelivered a number of times first, as Redis does
// while it restarts.
type flakyLedger struct {
	memLedger
	failures int
	tries    int
}

func (l *flakyLedger) MarkDelivered(ctx context.Context, id, key string) error {
	l.mu.Lock()
	l.tries++
	fail := l.failures > 0
	if fail {
		l.failures--
	}
	l.mu.Unlock()
	if fail {
		return errors.New("dial tcp 127.0.0.1:6379: connect: connection refused")
	}
	return l.memLedger.MarkDelivered(ctx, id, key)
}

type noEmail struct{}

func (noEmail) Send(context.Context, dispatcher.Email) error { return errors.New("no email here") }

// A message the provider accepted is recorded in the ledger even if Redis is
// briefly unreachable and the task's context ends meanwhile: a later run of
// the task (asynq runs a task again when it could not record its completion)
// must find it and not send it a second time.
func TestSentNotificationIsRecordedThroughARedisOutage(t *testing.T) {
	ledger := &flakyLedger{failures: 3}
	tmpl, err := templates.New(templates.Options{})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	sent := 0
	h, err := dispatcher.NewHandler(dispatcher.Config{
		Templates: tmpl, Email: noEmail{}, Ledger: ledger, Gate: ledger, DeliveryLog: &memLog{},
		From: "Shop <noreply@shop.example>", UnsubscribeURL: func(context.Context, string, dispatcher.Channel, string) (string, error) {
			return "https://shop.example/u", nil
		},
		SMS: smsFunc(func(context.Context, dispatcher.SMS) (string, error) {
			sent++
			cancel() // the task's context ends right after the provider took the message
			return "SM1", nil
		}),
	})
	if err != nil {
		t.Fatal(err)
	}
	tk := task(t, notification(dispatcher.ChannelSMS, "+4915112345678", "de"))
	if err := h.ProcessSMS(ctx, tk); err != nil {
		t.Fatalf("first run: %v", err)
	}
	if ledger.tries != 4 {
		t.Errorf("MarkDelivered tried %d times, want 4 (3 failures, then the record)", ledger.tries)
	}
	if err := h.ProcessSMS(context.Background(), tk); err != nil {
		t.Fatalf("second run: %v", err)
	}
	if sent != 1 {
		t.Fatalf("sent %d times, want once", sent)
	}
}
