package main

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/trackhook/trackhook/dispatcher"
	"github.com/trackhook/trackhook/receiver/tracking"
)

// At night for the recipient, the SMS waits and the email does not; a
// number in another time zone, where it is day, gets its text at once; the
// deferred text goes out when the quiet hours end, once.
func TestEndToEndSMSQuietHours(t *testing.T) {
	t.Parallel() // it waits for the quiet hours to end, up to a minute and a half
	berlin, err := time.LoadLocation("Europe/Berlin")
	if err != nil {
		t.Fatal(err)
	}
	// Quiet hours that hold now in Berlin (and not in New York, six hours
	// behind) and end at the next full minute at least 20 s away.
	now := time.Now().In(berlin)
	end := now.Truncate(time.Minute).Add(time.Minute)
	if end.Sub(now) < 20*time.Second {
		end = end.Add(time.Minute)
	}
	window := now.Add(-time.Hour).Format("15:04") + "-" + end.Format("15:04")
	a := startApp(t, func(env map[string]string) { env["TRACKHOOK_SMS_QUIET_HOURS"] = window })

	const number, newYork = "QUIETHOURS01", "+12125551234"
	id := tracking.ID("dhl-germany", number)
	if code, body := a.postSigned(webhook("evt-quiet-1", number, "InTransit", time.Now(), func(m map[string]any) {
		m["smses"] = []string{kimPhone, newYork}
	})); code != http.StatusOK {
		t.Fatalf("webhook: %d %s", code, body)
	}
	a.smtp.WaitForMessages(t, 1, 10*time.Second)
	texts := a.twilio.WaitForMessages(t, 1, 10*time.Second)
	if texts[0].To != newYork {
		t.Fatalf("the first text went to %s, want the New York number (daytime there)", texts[0].To)
	}

	// The Berlin text waits in the retry set until the end of the window.
	insp := a.inspector()
	waitFor(t, 10*time.Second, "the Berlin text to be deferred", func() bool {
		tasks, err := insp.ListRetryTasks(dispatcher.QueueSMS)
		return err == nil && len(tasks) == 1
	})
	tasks, _ := insp.ListRetryTasks(dispatcher.QueueSMS)
	// Texts deferred to the same morning go out over its first 20 s in the
	// order their statuses came; this one came last.
	if at := tasks[0].NextProcessAt; at.Before(end.Add(-time.Second)) || at.After(end.Add(22*time.Second)) {
		t.Errorf("the deferred text runs at %v, want within 20 s of the end of the quiet hours, %v", at, end)
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
	if reason, _ := deferred["reason"].(string); !strings.Contains(reason, "Europe/Berlin") || !strings.Contains(reason, end.Format("15:04")) {
		t.Errorf("reason %q does not say the zone and until when", reason)
	}
	if len(a.twilio.Messages()) != 1 {
		t.Fatalf("%d texts during the quiet hours, want only New York's", len(a.twilio.Messages()))
	}

	// When the window ends, the text goes out, once.
	waitFor(t, time.Until(end)+30*time.Second, "the deferred text after the quiet hours", func() bool {
		return len(a.twilio.Messages()) == 2
	})
	a.quiet()
	msgs := a.twilio.Messages()
	if len(msgs) != 2 || msgs[1].To != kimPhone {
		t.Fatalf("texts after the quiet hours: %+v", msgs)
	}
	if at := msgs[1].Received; at.Before(end) {
		t.Errorf("the Berlin text went out at %v, before the quiet hours ended (%v)", at, end)
	}
}
