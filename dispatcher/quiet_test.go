package dispatcher_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/trackhook/trackhook/dispatcher"
	"github.com/trackhook/trackhook/dispatcher/quiet"
)

// At 23:00 in Berlin a German number's SMS is deferred to 08:00: nothing is
// sent, the attempt is logged as deferred with the zone and the time, and
// the retry delay is the whole night (not capped like a backoff). The email
// for the same status goes out.
func TestSMSDeferredInQuietHours(t *testing.T) {
	f := newFixture(t)
	berlin, _ := time.LoadLocation("Europe/Berlin")
	night := time.Date(2026, 11, 21, 23, 0, 0, 0, berlin)
	f.h = f.handler(t, func(c *dispatcher.Config) {
		c.QuietHours = quiet.New(quiet.Default, time.UTC)
		c.Now = func() time.Time { return night }
	})
	n := notification(dispatcher.ChannelSMS, "+4915112345678", "de")
	n.QueuedAt = time.Date(2026, 11, 21, 22, 0, 0, 0, berlin)
	err := f.h.ProcessSMS(context.Background(), task(t, n))
	var de *dispatcher.DeferredError
	if !errors.As(err, &de) {
		t.Fatalf("err = %v, want a DeferredError", err)
	}
	// 22:00 is 14/24 of the day before 08:00: 14/24 of the 20 s spread.
	if want := time.Date(2026, 11, 22, 8, 0, 0, 0, berlin).Add(14 * 20 * time.Second / 24); !de.Until.Equal(want) {
		t.Errorf("deferred until %v, want %v", de.Until, want)
	}
	// A status entered later in the night goes out later in the morning.
	later := notification(dispatcher.ChannelSMS, "+4915112345678", "de")
	later.Status, later.Key, later.QueuedAt = "Delivered", "Delivered|sms|+4915112345678", time.Date(2026, 11, 22, 7, 50, 0, 0, berlin)
	var de2 *dispatcher.DeferredError
	if err := f.h.ProcessSMS(context.Background(), task(t, later)); !errors.As(err, &de2) || !de2.Until.After(de.Until) {
		t.Errorf("the 07:50 status is deferred until %v, want after the 22:00 one's %v (err %v)", de2, de.Until, err)
	}
	if len(f.sms) != 0 {
		t.Fatalf("%d SMS sent at 23:00", len(f.sms))
	}
	entries := f.log.all()
	if last := entries[len(entries)-1]; last.Outcome != dispatcher.OutcomeDeferred || last.Reason != "quiet hours in Europe/Berlin until 08:00" {
		t.Errorf("delivery log entry %+v", last)
	}
	// The delay is measured on the handler's clock, whatever today's date:
	// 23:00 to 08:00 (and the morning spread) is nine hours.
	if d, want := dispatcher.RetryDelay(time.Second, time.Hour)(0, err, nil), de.Until.Sub(night); d != want || d < 9*time.Hour {
		t.Errorf("retry delay %v, want %v: until the morning on the handler's clock (capped backoff would say ≤ 1h)", d, want)
	}

	if err := f.h.ProcessEmail(context.Background(), task(t, notification(dispatcher.ChannelEmail, "kim@example.com", "de"))); err != nil {
		t.Fatalf("email at night: %v", err)
	}

	// In the morning it goes out.
	night = time.Date(2026, 11, 22, 8, 0, 0, 0, berlin)
	if err := f.h.ProcessSMS(context.Background(), task(t, n)); err != nil {
		t.Fatal(err)
	}
	if len(f.sms) != 1 {
		t.Fatalf("%d SMS at 08:00, want 1", len(f.sms))
	}
}

// The deferral and its delay depend only on the injected clock: the same
// handler decides the same at a year ahead, at 03:00 and 15:00 local, and on
// the nights the clocks change (Berlin: 28 March 2027 02:00 → 03:00, 31
// October 2027 03:00 → 02:00), whatever the real date and hour.
func TestSMSQuietHoursAtSeveralInstants(t *testing.T) {
	berlin, _ := time.LoadLocation("Europe/Berlin")
	for _, tc := range []struct {
		name  string
		now   time.Time
		delay time.Duration // 0: sent at once
	}{
		{"a year ahead, 23:00", time.Date(2027, 12, 4, 23, 0, 0, 0, berlin), 9 * time.Hour},
		{"03:00", time.Date(2027, 12, 5, 3, 0, 0, 0, berlin), 5 * time.Hour},
		{"15:00", time.Date(2027, 12, 5, 15, 0, 0, 0, berlin), 0},
		{"07:59:59", time.Date(2027, 12, 5, 7, 59, 59, 0, berlin), time.Second},
		{"spring forward night", time.Date(2027, 3, 27, 23, 0, 0, 0, berlin), 8 * time.Hour},
		{"fall back night", time.Date(2027, 10, 30, 23, 0, 0, 0, berlin), 10 * time.Hour},
		// The mornings after: the window is wall-clock time. (The old code
		// looped for ever at 08:30 after the clocks went forward, and texted
		// at 07:30 after they went back.)
		{"08:30 after the clocks went forward", time.Date(2027, 3, 28, 8, 30, 0, 0, berlin), 0},
		{"07:30 after the clocks went back", time.Date(2027, 10, 31, 7, 30, 0, 0, berlin), 30 * time.Minute},
		{"ten years ahead, 21:00", time.Date(2036, 7, 1, 21, 0, 0, 0, berlin), 11 * time.Hour},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := newFixture(t)
			f.h = f.handler(t, func(c *dispatcher.Config) {
				c.QuietHours = quiet.New(quiet.Default, time.UTC)
				c.Now = func() time.Time { return tc.now }
			})
			n := notification(dispatcher.ChannelSMS, "+4915112345678", "de")
			n.QueuedAt = tc.now
			err := f.h.ProcessSMS(context.Background(), task(t, n))
			if tc.delay == 0 {
				if err != nil || len(f.sms) != 1 {
					t.Fatalf("err %v, %d SMS: want it sent at once", err, len(f.sms))
				}
				return
			}
			var de *dispatcher.DeferredError
			if !errors.As(err, &de) {
				t.Fatalf("err = %v, want a DeferredError", err)
			}
			if de.After != de.Until.Sub(tc.now) {
				t.Errorf("After %v, want Until − now = %v", de.After, de.Until.Sub(tc.now))
			}
			// The morning spread adds at most 20 s.
			got := dispatcher.RetryDelay(30*time.Second, time.Hour)(3, err, nil)
			if got != de.After || got < tc.delay || got > tc.delay+20*time.Second {
				t.Errorf("retry delay %v, want %v plus at most the 20 s spread", got, tc.delay)
			}
			if len(f.sms) != 0 {
				t.Errorf("%d SMS sent during the quiet hours", len(f.sms))
			}
		})
	}
}
