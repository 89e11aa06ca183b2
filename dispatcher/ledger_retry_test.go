package dispatcher_test

import (
	"context"
	"errors"
	"testing"
	"time"

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

// sentRecorder is a Ledger that is its own DeliveryLog and records a send in
// both at once (as the state store does); markErr and recordErr make that
// step fail in part.
type sentRecorder struct {
	memLedger
	log                  memLog
	markErr, recordErr   error
	both, marks, records int
	at                   []time.Time // each entry's time, as handed over
}

func (l *sentRecorder) MarkDeliveredAndRecord(ctx context.Context, id, key string, d dispatcher.Delivery) (error, error) {
	l.both++
	l.at = append(l.at, d.At)
	if l.markErr == nil {
		_ = l.memLedger.MarkDelivered(ctx, id, key)
	}
	if l.recordErr == nil {
		_ = l.log.Record(ctx, id, d)
	}
	return l.markErr, l.recordErr
}

func (l *sentRecorder) MarkDelivered(ctx context.Context, id, key string) error {
	l.marks++
	return l.memLedger.MarkDelivered(ctx, id, key)
}

func (l *sentRecorder) Record(ctx context.Context, id string, d dispatcher.Delivery) error {
	l.records++
	l.at = append(l.at, d.At)
	return l.log.Record(ctx, id, d)
}

// A sent notification's ledger entry and delivery-log entry are one step
// when the ledger can take both; a part that failed is handled as before:
// the ledger's entry is tried again, the log's is not.
func TestSentNotificationIsRecordedInOneStep(t *testing.T) {
	tmpl, err := templates.New(templates.Options{})
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name                            string
		markErr, recordErr              error
		wantBoth, wantMarks, wantRecord int
		wantLogged                      int
	}{
		{"both written", nil, nil, 1, 0, 0, 1},
		{"the log failed: not tried again", nil, errors.New("record delivery: timeout"), 1, 0, 0, 0},
		{"the ledger failed: tried again", errors.New("connection refused"), nil, 1, 1, 0, 1},
		// Both failed (a timeout: the step may still have run): the log's
		// entry is written again, with the same time, so the same entry.
		{"both failed: the same entry again", errors.New("i/o timeout"), errors.New("i/o timeout"), 1, 1, 1, 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			l := &sentRecorder{markErr: tc.markErr, recordErr: tc.recordErr}
			h, err := dispatcher.NewHandler(dispatcher.Config{
				Templates: tmpl, Email: noEmail{}, Ledger: l, Gate: l, DeliveryLog: l,
				From: "Shop <noreply@shop.example>", UnsubscribeURL: func(context.Context, string, dispatcher.Channel, string) (string, error) {
					return "https://shop.example/u", nil
				},
				SMS: smsFunc(func(context.Context, dispatcher.SMS) (string, error) { return "SM1", nil }),
			})
			if err != nil {
				t.Fatal(err)
			}
			n := notification(dispatcher.ChannelSMS, "+4915112345678", "de")
			if err := h.ProcessSMS(context.Background(), task(t, n)); err != nil {
				t.Fatal(err)
			}
			if l.both != tc.wantBoth || l.marks != tc.wantMarks || l.records != tc.wantRecord {
				t.Errorf("MarkDeliveredAndRecord %d, MarkDelivered %d, Record %d times; want %d, %d, %d",
					l.both, l.marks, l.records, tc.wantBoth, tc.wantMarks, tc.wantRecord)
			}
			if ok, _ := l.Delivered(context.Background(), n.TrackingID, n.Key); !ok {
				t.Error("the send is not in the ledger")
			}
			if len(l.log.entries) != tc.wantLogged {
				t.Errorf("delivery log has %d entries, want %d", len(l.log.entries), tc.wantLogged)
			}
			for _, at := range l.at {
				if at.IsZero() || !at.Equal(l.at[0]) {
					t.Errorf("entries handed over with times %v, want one time, set", l.at)
					break
				}
			}
		})
	}
}
