package main

import (
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/trackhook/trackhook/dispatcher"
	"github.com/trackhook/trackhook/receiver/tracking"
)

// offsetClock is the wall clock moved to another instant: it ticks like the
// real one (the sweeper's grace and asynq's leases still pass), and a test
// can jump it forward.
type offsetClock struct {
	mu     sync.Mutex
	offset time.Duration
}

// clockAt returns a clock that reads at now and ticks from there.
func clockAt(at time.Time) *offsetClock { return &offsetClock{offset: time.Until(at)} }

func (c *offsetClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return time.Now().Add(c.offset)
}

func (c *offsetClock) Jump(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.offset += d
}

// At night for the recipient, the SMS waits and the email does not; a
// number in another time zone, where it is day, gets its text at once; the
// deferred text goes out when the quiet hours end, once. The program runs
// on an injected clock at several instants, so the test means the same on
// any date and at any hour, and waits for nothing but the work itself.
func TestEndToEndSMSQuietHours(t *testing.T) {
	berlin, err := time.LoadLocation("Europe/Berlin")
	if err != nil {
		t.Fatal(err)
	}
	const newYork, losAngeles = "+12125551234", "+12135551234"
	for _, tc := range []struct {
		name  string
		at    time.Time
		night time.Duration // how long Berlin's quiet hours still last; 0: day
		day   string        // a number where it is day then
	}{
		{"a year ahead at 23:00", time.Date(2027, 12, 4, 23, 0, 0, 0, berlin), 9 * time.Hour, newYork},
		// 28 March 2027, after the clocks went from 02:00 to 03:00: 03:30
		// on the wall, four and a half hours to 08:00.
		{"03:30 after the clocks went forward", time.Date(2027, 3, 28, 3, 30, 0, 0, berlin), 4*time.Hour + 30*time.Minute, losAngeles},
		{"15:00", time.Date(2027, 12, 5, 15, 0, 0, 0, berlin), 0, newYork},
	} {
		t.Run(tc.name, func(t *testing.T) {
			clock := clockAt(tc.at)
			a := startAppAt(t, clock.Now, func(env map[string]string) { env["TRACKHOOK_SMS_QUIET_HOURS"] = "21:00-08:00" })

			number := "QUIETHOURS" + tc.at.Format("0102150405")
			id := tracking.ID("dhl-germany", number)
			if code, body := a.postSigned(webhook("evt-"+number, number, "InTransit", clock.Now(), func(m map[string]any) {
				m["smses"] = []string{kimPhone, tc.day}
			})); code != http.StatusOK {
				t.Fatalf("webhook: %d %s", code, body)
			}
			a.smtp.WaitForMessages(t, 1, 10*time.Second)
			if tc.night == 0 {
				a.twilio.WaitForMessages(t, 2, 10*time.Second)
				a.quiet()
				return
			}
			// Where it is day (New York, Los Angeles), texted at once.
			texts := a.twilio.WaitForMessages(t, 1, 10*time.Second)
			if texts[0].To != tc.day {
				t.Fatalf("the first text went to %s, want %s (daytime there)", texts[0].To, tc.day)
			}

			// The Berlin text waits in the retry set until the morning: the
			// delay is the rest of the night on the program's clock.
			insp := a.inspector()
			waitFor(t, 10*time.Second, "the Berlin text to be deferred", func() bool {
				tasks, err := insp.ListRetryTasks(dispatcher.QueueSMS)
				return err == nil && len(tasks) == 1
			})
			tasks, _ := insp.ListRetryTasks(dispatcher.QueueSMS)
			// Texts deferred to the same morning go out over its first 20 s.
			if in := time.Until(tasks[0].NextProcessAt); in < tc.night-time.Minute || in > tc.night+time.Minute {
				t.Errorf("the deferred text runs in %v, want the rest of the night, %v", in, tc.night)
			}
			if tasks[0].Retried != 0 {
				t.Errorf("the deferral counted as a failed attempt (retried %d)", tasks[0].Retried)
			}
			var deferred map[string]any
			for _, d := range a.deliveries(id) {
				if d["channel"] == "sms" && d["outcome"] == "deferred" {
					deferred = d
				}
			}
			if deferred == nil {
				t.Fatalf("no deferred SMS in the delivery log: %v", a.deliveries(id))
			}
			if reason, _ := deferred["reason"].(string); !strings.Contains(reason, "Europe/Berlin") || !strings.Contains(reason, "08:00") {
				t.Errorf("reason %q does not say the zone and until when", reason)
			}
			if len(a.twilio.Messages()) != 1 {
				t.Fatalf("%d texts during the quiet hours, want only New York's", len(a.twilio.Messages()))
			}

			// Morning comes on the program's clock; asynq's own schedule is
			// the real one, so the test runs the task now, as the scheduler
			// would when its time came.
			clock.Jump(tc.night + time.Minute)
			if err := insp.RunTask(dispatcher.QueueSMS, tasks[0].ID); err != nil {
				t.Fatal(err)
			}
			a.quiet()
			msgs := a.twilio.Messages()
			if len(msgs) != 2 || msgs[1].To != kimPhone {
				t.Fatalf("texts after the quiet hours: %+v", msgs)
			}
		})
	}
}
