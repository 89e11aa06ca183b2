package main

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/hibiken/asynq"

	"github.com/trackhook/trackhook/receiver"
	"github.com/trackhook/trackhook/receiver/tracking"
)

// tick runs the time-driven rules now, as asynq's scheduler does every 30
// seconds, and waits until it and the messages it queued are done.
func (a *app) tick() {
	a.t.Helper()
	c := asynq.NewClientFromRedisClient(a.redis.Client())
	if _, err := c.Enqueue(asynq.NewTask(receiver.TypeRulesTick, nil), asynq.Queue(receiver.QueueRules)); err != nil {
		a.t.Fatal(err)
	}
	insp := a.inspector()
	waitFor(a.t, 15*time.Second, "the rules to run", func() bool {
		info, err := insp.GetQueueInfo(receiver.QueueRules)
		return err == nil && info.Pending+info.Active == 0
	})
	a.quiet()
}

// A parcel in transit with no news for five business days (counted in
// Berlin, with Whit Monday a holiday there) gets one "taking longer than
// expected" email and text; none again until a new update has also gone
// five business days without news; none once delivered. On an injected
// clock, through the real queue and its scheduled rules task.
func TestEndToEndStuckParcel(t *testing.T) {
	berlin, err := time.LoadLocation("Europe/Berlin")
	if err != nil {
		t.Fatal(err)
	}
	// Wednesday 12 May 2027, 10:00 in Berlin.
	clock := clockAt(time.Date(2027, 5, 12, 10, 0, 0, 0, berlin))
	a := startAppAt(t, clock.Now, func(env map[string]string) { env["TRACKHOOK_HOLIDAYS"] = "DE:2027-05-17" })
	const number = "STUCKPARCEL01"
	id := tracking.ID("dhl-germany", number)
	post := func(evt, tag string) {
		t.Helper()
		if code, body := a.postSigned(webhook(evt, number, tag, clock.Now().Add(-time.Minute))); code != http.StatusOK {
			t.Fatalf("%s: %d %s", tag, code, body)
		}
	}
	count := func(wantEmails, wantTexts int, when string) {
		t.Helper()
		if n, m := len(a.smtp.Messages()), len(a.twilio.Messages()); n != wantEmails || m != wantTexts {
			t.Fatalf("%s: %d emails and %d texts, want %d and %d", when, n, m, wantEmails, wantTexts)
		}
	}

	post("evt-1", "InTransit")
	a.smtp.WaitForMessages(t, 1, 10*time.Second)
	a.twilio.WaitForMessages(t, 1, 10*time.Second)

	// Wednesday 19 May: five business days without the holiday, four with it.
	clock.Jump(7*24*time.Hour + 2*time.Hour)
	a.tick()
	count(1, 1, "four business days on (Whit Monday off)")

	// Thursday 20 May, just past 09:59: five business days.
	clock.Jump(22 * time.Hour)
	a.tick()
	count(2, 2, "five business days on")
	if m := a.smtp.Messages()[1]; !strings.Contains(m.Subject, "braucht länger als erwartet") {
		t.Fatalf("the notice's subject: %q", m.Subject)
	}
	if m := a.twilio.Messages()[1]; !strings.Contains(m.Body, "braucht länger als erwartet") {
		t.Fatalf("the notice's text: %q", m.Body)
	}
	var logged bool
	for _, d := range a.deliveries(id) {
		if d["status"] == "Stuck" && d["outcome"] == "sent" && d["channel"] == "email" {
			logged = true
		}
	}
	if !logged {
		t.Fatalf("no Stuck email in the delivery log: %v", a.deliveries(id))
	}

	// Once per update: more ticks send nothing.
	clock.Jump(3 * 24 * time.Hour)
	a.tick()
	a.tick()
	count(2, 2, "ticks after the notice")

	// A new scan (still in transit) starts the clock again.
	post("evt-2", "InTransit")
	clock.Jump(8 * 24 * time.Hour)
	a.tick()
	count(3, 3, "five business days after the new scan")

	// Delivered: nothing more is owed, however long it stays quiet.
	post("evt-3", "Delivered")
	a.smtp.WaitForMessages(t, 4, 10*time.Second)
	clock.Jump(30 * 24 * time.Hour)
	a.tick()
	a.quiet()
	count(4, 4, "after delivery")
}
