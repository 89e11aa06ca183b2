package main

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/trackhook/trackhook/dispatcher"
	"github.com/trackhook/trackhook/receiver/tracking"
)

// deliveries returns the tracking's delivery log from the API, newest first.
func (a *app) deliveries(id string) []map[string]any {
	a.t.Helper()
	code, env := a.api("GET", "/trackings/"+id+"/deliveries", nil)
	if code != http.StatusOK {
		a.t.Fatalf("GET deliveries: %d %v", code, env)
	}
	raw, _ := json.Marshal(env)
	for _, full := range []string{"gone@example.com", kimPhone} {
		if strings.Contains(string(raw), full) {
			a.t.Fatalf("the delivery log shows the full recipient %s: %s", full, raw)
		}
	}
	list := env["data"].(map[string]any)["deliveries"].([]any)
	out := make([]map[string]any, len(list))
	for i, d := range list {
		out[i] = d.(map[string]any)
	}
	return out
}

func (a *app) retryDeliveries(id string) int {
	a.t.Helper()
	code, env := a.api("POST", "/trackings/"+id+"/deliveries/retry", nil)
	if code != http.StatusOK {
		a.t.Fatalf("POST deliveries/retry: %d %v", code, env)
	}
	return int(env["data"].(map[string]any)["retried"].(float64))
}

// TestEndToEndDeadLetterRetriedAfterTheFix: an email rejected with 550 is
// archived and shows in the delivery log as failed_permanent; retried
// through the API before the cause is fixed it fails again; after the
// mailbox exists again a retry delivers it, exactly once.
func TestEndToEndDeadLetterRetriedAfterTheFix(t *testing.T) {
	a := startApp(t)
	const number = "DEADLETTER01"
	id := tracking.ID("dhl-germany", number)
	a.smtp.RejectRecipient("gone@example.com", 550, "5.1.1 mailbox unavailable")
	if code, body := a.postSigned(webhook("evt-dead-1", number, "InTransit", time.Now(), func(m map[string]any) {
		m["emails"] = []string{"gone@example.com"}
	})); code != http.StatusOK {
		t.Fatalf("webhook: %d %s", code, body)
	}
	insp := a.inspector()
	waitFor(t, 15*time.Second, "the rejected email to be archived", func() bool {
		info, err := insp.GetQueueInfo(dispatcher.QueueEmail)
		return err == nil && info.Archived == 1
	})
	a.twilio.WaitForMessages(t, 1, 10*time.Second)
	a.quiet()

	log := a.deliveries(id)
	if len(log) != 2 {
		t.Fatalf("delivery log %v, want the email and the SMS", log)
	}
	byChannel := map[string]map[string]any{}
	for _, d := range log {
		byChannel[d["channel"].(string)] = d
	}
	email, text := byChannel["email"], byChannel["sms"]
	if email["outcome"] != "failed_permanent" || email["recipient"] != "g***@example.com" || email["attempt"] != 1.0 ||
		email["status"] != "InTransit" || email["reason"] != "rejected by the provider" || email["provider_message_id"] != nil ||
		!strings.Contains(email["error"].(string), "550") {
		t.Errorf("email entry %v", email)
	}
	sid := a.twilio.Messages()[0].SID
	if text["outcome"] != "sent" || text["recipient"] != "+49******78" || text["provider_message_id"] != sid ||
		text["error"] != nil || text["reason"] != nil {
		t.Errorf("SMS entry %v, want sent with SID %s", text, sid)
	}
	if at, err := time.Parse(time.RFC3339, email["at"].(string)); err != nil || time.Since(at) > time.Minute {
		t.Errorf("email entry at %v (%v)", email["at"], err)
	}

	// Retried before the cause is fixed: one more rejection, archived again.
	if n := a.retryDeliveries(id); n != 1 {
		t.Fatalf("retried %d, want 1", n)
	}
	waitFor(t, 15*time.Second, "the second attempt to be logged", func() bool { return len(a.deliveries(id)) == 3 })
	a.quiet()
	if got := a.deliveries(id)[0]; got["outcome"] != "failed_permanent" || got["channel"] != "email" {
		t.Fatalf("newest entry after an unfixed retry: %v", got)
	}
	if r := a.smtp.Rejected(); r != 2 {
		t.Fatalf("RCPT TO refused %d times, want 2", r)
	}

	// The mailbox exists again: the retry delivers it, once.
	a.smtp.AcceptRecipient("gone@example.com")
	if n := a.retryDeliveries(id); n != 1 {
		t.Fatalf("retried %d, want 1", n)
	}
	mails := a.smtp.WaitForMessages(t, 1, 10*time.Second)
	a.quiet()
	if len(a.smtp.Messages()) != 1 || len(mails[0].To) != 1 || mails[0].To[0] != "gone@example.com" {
		t.Fatalf("emails %v, want one to gone@example.com", a.smtp.Messages())
	}
	if len(a.twilio.Messages()) != 1 {
		t.Fatalf("%d SMS, want still 1: a retry re-sent a delivered notification", len(a.twilio.Messages()))
	}
	log = a.deliveries(id)
	if len(log) != 4 {
		t.Fatalf("delivery log %v, want 4 entries", log)
	}
	sent := log[0]
	msgID := strings.Trim(mails[0].Header.Get("Message-Id"), "<>")
	if sent["outcome"] != "sent" || sent["channel"] != "email" || sent["recipient"] != "g***@example.com" ||
		sent["provider_message_id"] != msgID || sent["error"] != nil {
		t.Fatalf("newest entry %v, want the email sent with Message-ID %s", sent, msgID)
	}

	// Nothing left to retry.
	if n := a.retryDeliveries(id); n != 0 {
		t.Fatalf("third retry: %d, want 0", n)
	}
	a.quiet()
	if len(a.smtp.Messages()) != 1 {
		t.Fatalf("%d emails after a retry with nothing to retry", len(a.smtp.Messages()))
	}
	if info, err := insp.GetQueueInfo(dispatcher.QueueEmail); err != nil || info.Archived != 0 {
		t.Fatalf("email queue %+v, %v; want no archived task", info, err)
	}

	// Unknown tracking: 4004 on both.
	other := tracking.ID("dhl-germany", "NOSUCHPARCEL")
	for _, c := range [][2]string{{"GET", "/trackings/" + other + "/deliveries"}, {"POST", "/trackings/" + other + "/deliveries/retry"}} {
		code, env := a.api(c[0], c[1], nil)
		if meta := env["meta"].(map[string]any); code != http.StatusNotFound || meta["code"] != 4004.0 {
			t.Errorf("%s %s: %d %v, want 404 and 4004", c[0], c[1], code, env)
		}
	}
	if strings.Contains(a.logs.String(), "gone@example.com") {
		t.Error("the logs contain the customer's full email address")
	}
}
