package sms_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/trackhook/trackhook/dispatcher"
	"github.com/trackhook/trackhook/dispatcher/sms"
)

// FuzzFindSentList feeds FindSent arbitrary list pages: it must not panic,
// must not print the number in full, and may only report a SID that the
// page holds.
func FuzzFindSentList(f *testing.F) {
	const to = "+4915112345678"
	f.Add(200, `{"messages":[{"sid":"SM1","to":"+4915112345678","body":"hi","status":"sent","date_created":"Sat, 21 Nov 2026 10:00:00 +0000"}],"next_page_uri":null}`)
	f.Add(200, `{"messages":[],"next_page_uri":"/2010-04-01/Accounts/AC1/Messages.json?Page=1"}`)
	f.Add(200, `{"messages":[{"sid":"SM2","to":"+4915112345678","body":"hi","status":"queued","date_created":"garbage","date_sent":null}]}`)
	f.Add(404, `{"code":20404,"message":"The requested resource was not found","status":404}`)
	f.Add(429, `{"code":20429,"message":"Too Many Requests +4915112345678","status":429}`)
	f.Add(200, `not json`)
	f.Fuzz(func(t *testing.T, status int, page string) {
		if status < 100 || status > 599 {
			return
		}
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(status)
			_, _ = w.Write([]byte(page))
		}))
		defer srv.Close()
		tw, err := sms.NewTwilio(sms.TwilioConfig{AccountSID: "AC1", AuthToken: "token", From: "+15005550006", BaseURL: srv.URL})
		if err != nil {
			t.Fatal(err)
		}
		since := time.Date(2026, 11, 21, 9, 0, 0, 0, time.UTC)
		sid, found, err := tw.FindSent(context.Background(), dispatcher.SMS{To: to, Body: "hi"}, since)
		switch {
		case err != nil:
			if strings.Contains(err.Error(), to) {
				t.Fatalf("error shows the number: %v", err)
			}
		case found && (sid == "" || !strings.Contains(page, sid) && !strings.Contains(page, `\`)): // a JSON escape hides it
			t.Fatalf("found SID %q that the page does not hold", sid)
		}
	})
}
