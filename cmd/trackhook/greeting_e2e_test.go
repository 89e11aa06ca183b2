package main

import (
	"net/http"
	"strings"
	"testing"
	"time"
)

// A tracking for Kim Schmidt that Lee also follows: Kim's email greets Kim,
// Lee's greets nobody by name (before, Lee read "Guten Tag Kim Schmidt").
func TestEndToEndEachRecipientIsGreetedByTheirOwnName(t *testing.T) {
	a := startApp(t)
	body := webhook("evt-greet", "GREETING0001", "InTransit", time.Now().Add(-time.Minute), func(m map[string]any) {
		m["customer_name"] = "Kim Schmidt"
		m["emails"] = []string{kimEmail, "lee@example.com"}
	})
	if code, resp := a.postSigned(body); code != http.StatusOK {
		t.Fatalf("%d %s", code, resp)
	}
	msgs := a.smtp.WaitForMessages(t, 2, 10*time.Second)
	for _, m := range msgs {
		switch m.To[0] {
		case kimEmail:
			if !strings.Contains(m.Text, "Guten Tag Kim Schmidt,") {
				t.Errorf("Kim's email:\n%s", m.Text)
			}
		case "lee@example.com":
			if strings.Contains(m.Text, "Kim") || !strings.Contains(m.Text, "Guten Tag,") {
				t.Errorf("Lee's email:\n%s", m.Text)
			}
		default:
			t.Errorf("email to %v", m.To)
		}
	}
}
