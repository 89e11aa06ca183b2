package main

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/trackhook/trackhook/dispatcher"
	"github.com/trackhook/trackhook/receiver/tracking"
)

// The notification rules with the service's defaults (stale events and a
// first status of Delivered notify nobody) and a delay on InTransit, on an
// injected clock, through the real Redis and the real queue: the state is
// updated, nothing is sent for what the rules hold back, the delivery log
// and /metrics say why, and the delayed InTransit is superseded by the
// OutForDelivery that came within its delay.
func TestEndToEndNotificationRules(t *testing.T) {
	clock := clockAt(time.Date(2027, 5, 12, 10, 0, 0, 0, time.UTC))
	a := startAppAt(t, clock.Now, func(env map[string]string) {
		delete(env, "TRACKHOOK_STALE_AFTER")
		delete(env, "TRACKHOOK_NOTIFY_FIRST_DELIVERED")
		env["TRACKHOOK_NOTIFY_DELAYS"] = "InTransit=10m"
	})
	post := func(evt, number, tag string, at time.Time) {
		t.Helper()
		if code, body := a.postSigned(webhook(evt, number, tag, at)); code != http.StatusOK {
			t.Fatalf("%s %s: %d %s", number, tag, code, body)
		}
	}
	const stale, first, delayed = "RULESSTALE01", "RULESFIRST01", "RULESDELAY01"

	// An import of an eight-day-old scan, and a parcel first heard of as
	// delivered.
	post("evt-stale", stale, "InTransit", clock.Now().Add(-8*24*time.Hour))
	post("evt-first", first, "Delivered", clock.Now().Add(-time.Hour))

	// InTransit is held back for ten minutes; five minutes later the
	// parcel is out for delivery.
	post("evt-transit", delayed, "InTransit", clock.Now().Add(-time.Minute))
	insp := a.inspector()
	scheduled, err := insp.ListScheduledTasks(dispatcher.QueueEmail)
	if err != nil || len(scheduled) != 1 {
		t.Fatalf("scheduled emails: %d, %v", len(scheduled), err)
	}
	if at := scheduled[0].NextProcessAt; at.Sub(clock.Now()) < 9*time.Minute || at.Sub(clock.Now()) > 10*time.Minute {
		t.Fatalf("the InTransit email runs at %v, want ten minutes after %v", at, clock.Now())
	}
	clock.Jump(5 * time.Minute)
	post("evt-ofd", delayed, "OutForDelivery", clock.Now().Add(-time.Minute))
	a.smtp.WaitForMessages(t, 1, 10*time.Second)
	a.twilio.WaitForMessages(t, 1, 10*time.Second)

	// The delay ends on the program's clock; asynq's schedule is the real
	// one, so the test runs the tasks now, as the scheduler would.
	clock.Jump(5 * time.Minute)
	for _, q := range []string{dispatcher.QueueEmail, dispatcher.QueueSMS} {
		tasks, err := insp.ListScheduledTasks(q)
		if err != nil || len(tasks) != 1 {
			t.Fatalf("scheduled %s: %d, %v", q, len(tasks), err)
		}
		if err := insp.RunTask(q, tasks[0].ID); err != nil {
			t.Fatal(err)
		}
	}
	a.quiet()

	if msgs := a.smtp.Messages(); len(msgs) != 1 || !strings.Contains(msgs[0].Subject, "heute zugestellt") {
		t.Fatalf("emails: %d (want only the OutForDelivery one)", len(msgs))
	}
	if texts := a.twilio.Messages(); len(texts) != 1 {
		t.Fatalf("texts: %d (want only the OutForDelivery one)", len(texts))
	}

	// The state moved on all the same.
	if st := a.state(tracking.ID("dhl-germany", stale)); st.Status != tracking.InTransit {
		t.Fatalf("the stale event did not update the state: %v", st.Status)
	}
	if st := a.state(tracking.ID("dhl-germany", first)); st.Status != tracking.Delivered {
		t.Fatalf("the first Delivered did not update the state: %v", st.Status)
	}

	// The delivery log says what the rules decided.
	for _, c := range []struct{ number, status, reason string }{
		{stale, "InTransit", "stale"}, {first, "Delivered", "first_delivered"}, {delayed, "InTransit", "superseded"},
	} {
		seen, deferred := map[string]bool{}, map[string]bool{}
		for _, d := range a.deliveries(tracking.ID("dhl-germany", c.number)) {
			if d["status"] != c.status {
				continue
			}
			// The delayed one is logged as deferred when it is planned.
			if d["outcome"] == "deferred" && c.reason == "superseded" && strings.Contains(d["reason"].(string), "InTransit delay (10m0s)") {
				deferred[d["channel"].(string)] = true
				continue
			}
			if d["outcome"] != "suppressed" || d["reason"] != c.reason {
				t.Errorf("%s %s: %v", c.number, c.status, d)
			}
			seen[d["channel"].(string)] = true
		}
		if !seen["email"] || !seen["sms"] {
			t.Errorf("%s: the delivery log lacks the suppressed %s (%v)", c.number, c.status, seen)
		}
		if c.reason == "superseded" && (!deferred["email"] || !deferred["sms"]) {
			t.Errorf("%s: the delivery log lacks the deferred %s (%v)", c.number, c.status, deferred)
		}
	}

	_, text := a.get("/metrics", false)
	for _, l := range []string{
		`trackhook_notifications_suppressed_total{channel="email",reason="stale"} 1`,
		`trackhook_notifications_suppressed_total{channel="sms",reason="first_delivered"} 1`,
		`trackhook_notifications_suppressed_total{channel="email",reason="superseded"} 1`,
		`trackhook_notifications_suppressed_total{channel="sms",reason="superseded"} 1`,
		`trackhook_notifications_total{channel="email",outcome="suppressed"} 1`,
		`trackhook_notifications_total{channel="email",outcome="sent"} 1`,
		`trackhook_notifications_delayed_total{channel="sms"} 1`,
	} {
		if !strings.Contains(text, "\n"+l+"\n") {
			t.Errorf("no %s in:\n%s", l, grepLines(text, "trackhook_notifications"))
		}
	}
}
