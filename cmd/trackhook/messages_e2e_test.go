package main

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/trackhook/trackhook/receiver/tracking"
)

// An admin previews any message and sends a test of it to themselves; the
// test arrives marked as one and shows in the delivery log as a test.
func TestEndToEndPreviewAndTestMessages(t *testing.T) {
	a := startApp(t, func(env map[string]string) { env["TRACKHOOK_SHOP_NAME"] = "Nordlicht" })

	// Sample data, both channels.
	code, env := a.api("POST", "/messages/preview", map[string]any{"message": map[string]any{"status": "Delivered", "language": "de-AT"}})
	if code != http.StatusOK {
		t.Fatalf("preview: %d %v", code, env)
	}
	msgs := env["data"].(map[string]any)["messages"].([]any)
	if len(msgs) != 2 {
		t.Fatalf("preview without a channel: %d messages, want email and sms", len(msgs))
	}
	email, sms := msgs[0].(map[string]any), msgs[1].(map[string]any)
	if email["language"] != "de" || !strings.Contains(email["subject"].(string), "wurde zugestellt") ||
		!strings.HasPrefix(email["html"].(string), "<!DOCTYPE html>") || !strings.Contains(email["text"].(string), "Nordlicht") {
		t.Errorf("email preview: %v", email)
	}
	if sms["sms_encoding"] != "gsm7" || sms["sms_segments"].(float64) != 1 || !strings.HasPrefix(sms["sms"].(string), "Nordlicht: ") {
		t.Errorf("sms preview: %v", sms)
	}

	// A real tracking's data, greeting the recipient it names.
	body := webhook("evt-preview", "PREVIEW00001", "InTransit", time.Now().Add(-time.Minute), func(m map[string]any) {
		m["customer_name"] = "Kim Schmidt"
	})
	if code, resp := a.postSigned(body); code != http.StatusOK {
		t.Fatalf("%d %s", code, resp)
	}
	a.smtp.WaitForMessages(t, 1, 10*time.Second)
	a.quiet()
	id := tracking.ID("dhl-germany", "PREVIEW00001")
	code, env = a.api("POST", "/messages/preview", map[string]any{"message": map[string]any{
		"channel": "email", "status": "OutForDelivery", "tracking_id": id, "to": kimEmail}})
	if code != http.StatusOK {
		t.Fatalf("preview with a tracking: %d %v", code, env)
	}
	p := env["data"].(map[string]any)["messages"].([]any)[0].(map[string]any)
	if !strings.Contains(p["subject"].(string), "PREVIEW00001") || !strings.Contains(p["text"].(string), "Kim Schmidt") {
		t.Errorf("preview with the tracking's data: %v", p["text"])
	}

	// Test messages: sample data to the admin, a tracking's data by SMS.
	code, env = a.api("POST", "/messages/test", map[string]any{"message": map[string]any{
		"channel": "email", "status": "Delivered", "language": "fr", "to": "admin@shop.example"}})
	if code != http.StatusAccepted || env["data"].(map[string]any)["message"].(map[string]any)["to"] != "a***@shop.example" {
		t.Fatalf("test email: %d %v", code, env)
	}
	m := a.smtp.WaitForMessages(t, 2, 10*time.Second)[1]
	if m.To[0] != "admin@shop.example" || !strings.HasPrefix(m.Subject, "[TEST] Votre colis 1Z999AA10123456784") {
		t.Errorf("test email to %v: %q", m.To, m.Subject)
	}
	code, env = a.api("POST", "/messages/test", map[string]any{"message": map[string]any{
		"channel": "sms", "status": "AvailableForPickup", "tracking_id": id, "to": "+4915112345699"}})
	if code != http.StatusAccepted {
		t.Fatalf("test sms: %d %v", code, env)
	}
	texts := a.twilio.WaitForMessages(t, 2, 10*time.Second)
	last := texts[len(texts)-1]
	if last.To != "+4915112345699" || !strings.HasPrefix(last.Body, "[TEST] Nordlicht: ") || !strings.Contains(last.Body, "PREVIEW00001") {
		t.Errorf("test sms to %s: %q", last.To, last.Body)
	}
	// An Arabic test text keeps its right-to-left mark in front.
	if code, env := a.api("POST", "/messages/test", map[string]any{"message": map[string]any{
		"channel": "sms", "status": "Delivered", "language": "ar", "to": "+4915112345699"}}); code != http.StatusAccepted {
		t.Fatalf("arabic test sms: %d %v", code, env)
	}
	texts = a.twilio.WaitForMessages(t, 3, 10*time.Second)
	if body := texts[len(texts)-1].Body; !strings.HasPrefix(body, "\u200f[TEST] Nordlicht: ") {
		t.Errorf("arabic test sms: %q", body)
	}
	a.quiet()

	// The delivery logs: the sample test in its own log, the other in the
	// tracking's, both marked.
	code, env = a.api("GET", "/messages/test/deliveries", nil)
	log := env["data"].(map[string]any)["deliveries"].([]any)
	if code != 200 || len(log) != 2 || log[0].(map[string]any)["test"] != true || log[0].(map[string]any)["outcome"] != "sent" {
		t.Errorf("test log: %d %v", code, log)
	}
	found := false
	for _, e := range a.deliveries(id) {
		if e["test"] == true {
			found = e["channel"] == "sms" && e["status"] == "AvailableForPickup" && e["recipient"] == "+49******99"
		}
	}
	if !found {
		t.Errorf("the tracking's log has no test entry: %v", a.deliveries(id))
	}

	// The order's message with sample data counts its parcels.
	code, env = a.api("POST", "/messages/preview", map[string]any{"message": map[string]any{"channel": "sms", "status": "OrderDelivered", "language": "en"}})
	if p := env["data"].(map[string]any)["messages"].([]any)[0].(map[string]any); code != 200 || !strings.Contains(p["sms"].(string), "All 3 parcels") {
		t.Errorf("OrderDelivered preview: %d %v", code, p)
	}
	// Someone who opted out gets no test either.
	if code, env := a.api("POST", "/suppressions/add", map[string]any{"suppression": map[string]any{"emails": []string{"gone@example.com"}}}); code != 200 {
		t.Fatalf("suppress: %d %v", code, env)
	}
	code, env = a.api("POST", "/messages/test", map[string]any{"message": map[string]any{"channel": "email", "status": "Delivered", "to": "gone@example.com"}})
	if code != http.StatusBadRequest || !strings.Contains(env["meta"].(map[string]any)["message"].(string), "opted out") {
		t.Errorf("test to a suppressed address: %d %v", code, env["meta"])
	}

	// Bad input: clear errors, nothing queued.
	for _, tc := range []struct {
		path string
		msg  map[string]any
		want string
	}{
		{"/messages/preview", map[string]any{"status": "Deliverd"}, "message.status"},
		{"/messages/preview", map[string]any{"status": "Delivered", "channel": "fax"}, "message.channel"},
		{"/messages/test", map[string]any{"status": "Delivered", "channel": "email"}, "message.to"},
		{"/messages/test", map[string]any{"status": "Delivered", "channel": "email", "to": "not-an-address"}, "message.to"},
		{"/messages/test", map[string]any{"status": "Delivered", "channel": "sms", "to": "12"}, "message.to"},
		{"/messages/preview", map[string]any{"status": "Delivered", "language": "not a language!"}, "message.language"},
		{"/messages/preview", map[string]any{"status": 5}, "`status`"},
	} {
		code, env := a.api("POST", tc.path, map[string]any{"message": tc.msg})
		if code != http.StatusBadRequest || !strings.Contains(env["meta"].(map[string]any)["message"].(string), tc.want) {
			t.Errorf("%s %v: %d %v, want 400 naming %s", tc.path, tc.msg, code, env["meta"], tc.want)
		}
	}
	if code, _ := a.api("POST", "/messages/preview", map[string]any{"message": map[string]any{"status": "Delivered", "tracking_id": "nope"}}); code != http.StatusNotFound {
		t.Errorf("unknown tracking: %d", code)
	}
	if n := len(a.smtp.Messages()); n != 2 {
		t.Errorf("%d emails, want 2", n)
	}
}
