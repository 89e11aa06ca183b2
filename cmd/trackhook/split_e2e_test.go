package main

import (
	"net/http"
	"strings"
	"testing"
	"time"
)

// Three parcels of one order (one order number): each Delivered email says
// how many of the order's parcels have arrived, and the last one is a
// single "all parcels delivered" email and text instead.
func TestEndToEndSplitShipment(t *testing.T) {
	a := startApp(t)
	numbers := []string{"SPLITPARCEL01", "SPLITPARCEL02", "SPLITPARCEL03"}
	post := func(evt, number, tag string) {
		t.Helper()
		body := webhook(evt, number, tag, time.Now().Add(-time.Minute), func(m map[string]any) { m["order_number"] = "SPLIT-7" })
		if code, resp := a.postSigned(body); code != http.StatusOK {
			t.Fatalf("%s %s: %d %s", number, tag, code, resp)
		}
	}
	for i, n := range numbers {
		post("evt-t-"+n, n, "InTransit")
		a.smtp.WaitForMessages(t, i+1, 10*time.Second)
	}
	a.quiet()
	for i, n := range numbers {
		post("evt-d-"+n, n, "Delivered")
		msgs := a.smtp.WaitForMessages(t, len(numbers)+i+1, 10*time.Second)
		a.quiet()
		m := msgs[len(msgs)-1]
		switch i {
		case 0, 1:
			want := []string{"1 von 3 Paketen", "2 von 3 Paketen"}[i]
			if !strings.Contains(m.Subject, n) || !strings.Contains(m.Text, want) {
				t.Fatalf("parcel %d delivered: %q\n%s", i+1, m.Subject, m.Text)
			}
		case 2:
			if m.Subject != "Alle Pakete Ihrer Bestellung SPLIT-7 wurden zugestellt" || strings.Contains(m.Text, "von 3 Paketen") {
				t.Fatalf("last parcel: %q\n%s", m.Subject, m.Text)
			}
			texts := a.twilio.Messages()
			if last := texts[len(texts)-1].Body; !strings.Contains(last, "Alle 3 Pakete") {
				t.Fatalf("last text: %q", last)
			}
		}
	}
	if n, m := len(a.smtp.Messages()), len(a.twilio.Messages()); n != 6 || m != 6 {
		t.Fatalf("%d emails and %d texts, want 6 and 6 (one per status and parcel)", n, m)
	}
}
