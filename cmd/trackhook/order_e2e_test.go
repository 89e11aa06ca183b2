package main

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/trackhook/trackhook/dispatcher/smtptest"
)

// An OutForDelivery and a Delivered webhook posted back to back: the
// customer reads them in that order, although the worker runs both at once
// and the relay takes 300 ms to accept each message (before, the Delivered
// email could arrive first).
func TestEndToEndMessagesArriveInTheOrderOfTheStatuses(t *testing.T) {
	slow := smtptest.NewServer(t, smtptest.WithAuth("mailer", "mail-pass"), smtptest.WithLatency(300*time.Millisecond))
	a := startApp(t, func(env map[string]string) { env["TRACKHOOK_SMTP_URL"] = slow.URL() })
	const number = "INORDER0001"
	for i, tag := range []string{"OutForDelivery", "Delivered"} {
		body := webhook("evt-"+tag, number, tag, time.Now().Add(time.Duration(i-2)*time.Minute))
		if code, resp := a.postSigned(body); code != http.StatusOK {
			t.Fatalf("%s: %d %s", tag, code, resp)
		}
	}
	msgs := slow.WaitForMessages(t, 2, 20*time.Second)
	if !strings.Contains(msgs[0].Subject, "heute zugestellt") || !strings.Contains(msgs[1].Subject, "wurde zugestellt") {
		t.Fatalf("emails arrived as %q, then %q", msgs[0].Subject, msgs[1].Subject)
	}
	texts := a.twilio.WaitForMessages(t, 2, 20*time.Second)
	if !strings.Contains(texts[0].Body, "heute") || !strings.Contains(texts[1].Body, "wurde zugestellt") {
		t.Fatalf("texts arrived as %q, then %q", texts[0].Body, texts[1].Body)
	}
}
