package main

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/trackhook/trackhook/receiver/tracking"
)

// The carrier's expected delivery day, from AfterShip's expected_delivery:
// shown in the email, a move sends one "new delivery date" message, and
// the day passing without delivery one "running late" message. On an
// injected clock, through the real queue and the rules task.
func TestEndToEndDeliveryDates(t *testing.T) {
	berlin, err := time.LoadLocation("Europe/Berlin")
	if err != nil {
		t.Fatal(err)
	}
	clock := clockAt(time.Date(2027, 5, 12, 10, 0, 0, 0, berlin)) // a Wednesday
	a := startAppAt(t, clock.Now)
	const number = "DATES0000001"
	id := tracking.ID("dhl-germany", number)
	n := 0
	post := func(tag, day string) {
		t.Helper()
		n++
		body := webhook("evt-"+strings.Repeat("d", n), number, tag, clock.Now().Add(-time.Minute), func(m map[string]any) { m["expected_delivery"] = day })
		if code, resp := a.postSigned(body); code != http.StatusOK {
			t.Fatalf("%s %s: %d %s", tag, day, code, resp)
		}
	}
	count := func(want int, when string) {
		t.Helper()
		a.quiet()
		if e, s := len(a.smtp.Messages()), len(a.twilio.Messages()); e != want || s != want {
			t.Fatalf("%s: %d emails and %d texts, want %d of each", when, e, s, want)
		}
	}

	post("InTransit", "2027-05-14")
	m := a.smtp.WaitForMessages(t, 1, 10*time.Second)[0]
	if !strings.Contains(m.Text, "Voraussichtliche Zustellung: 14. Mai 2027") {
		t.Fatalf("the InTransit email does not show the day:\n%s", m.Text)
	}
	count(1, "after InTransit")

	// The carrier moves the day: one message about it, once.
	clock.Jump(time.Hour)
	post("InTransit", "2027-05-17")
	msgs := a.smtp.WaitForMessages(t, 2, 10*time.Second)
	if msgs[1].Subject != "Neuer Zustelltermin für Ihre Sendung "+number+": 17. Mai 2027" {
		t.Fatalf("new day: %q", msgs[1].Subject)
	}
	count(2, "after the day moved")
	clock.Jump(time.Hour)
	post("InTransit", "2027-05-17")
	count(2, "the same day again")
	if st := a.state(id); st.ExpectedDelivery != "2027-05-17" {
		t.Fatalf("stored day %q", st.ExpectedDelivery)
	}

	// Monday 17 May is over in Berlin and the parcel is not delivered.
	clock.Jump(time.Date(2027, 5, 18, 0, 30, 0, 0, berlin).Sub(clock.Now()))
	a.tick()
	msgs = a.smtp.WaitForMessages(t, 3, 10*time.Second)
	if !strings.Contains(msgs[2].Subject, "verspätet sich") || !strings.Contains(msgs[2].Text, "17. Mai 2027") {
		t.Fatalf("running late: %q\n%s", msgs[2].Subject, msgs[2].Text)
	}
	count(3, "after the day passed")
	a.tick()
	count(3, "a second tick")

	// The API shows the day.
	code, env := a.api("GET", "/trackings/"+id, nil)
	raw, _ := json.Marshal(env)
	if code != 200 || !strings.Contains(string(raw), `"expected_delivery":"2027-05-17"`) {
		t.Fatalf("API: %d %v", code, env)
	}
}
