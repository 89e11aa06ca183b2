package sms_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/trackhook/trackhook/dispatcher"
	"github.com/trackhook/trackhook/dispatcher/sms"
	"github.com/trackhook/trackhook/dispatcher/twiliotest"
)

func TestDirIsNoSMSFinder(t *testing.T) {
	var s dispatcher.SMSSender = &sms.Dir{}
	if _, ok := s.(dispatcher.SMSFinder); ok {
		t.Error("sms.Dir implements SMSFinder; the outbox folder cannot say what was sent")
	}
}

func mustSend(t *testing.T, tw *sms.Twilio, to, body string) string {
	t.Helper()
	id, err := tw.Send(context.Background(), dispatcher.SMS{To: to, Body: body})
	if err != nil || id == "" {
		t.Fatalf("Send(%s) = %q, %v", body, id, err)
	}
	return id
}

func TestTwilioFindSent(t *testing.T) {
	const body = "Ihre Sendung 1Z999 ist unterwegs. Abmelden: STOP"
	other := "+4915187654321"
	for _, tc := range []struct {
		name string
		// setup sends through tw and returns the SID FindSent must find
		// ("" for none).
		setup func(t *testing.T, srv *twiliotest.Server, tw *sms.Twilio) string
		find  dispatcher.SMS
		since time.Duration // since = now + since
	}{
		{"the sent message", func(t *testing.T, srv *twiliotest.Server, tw *sms.Twilio) string {
			return mustSend(t, tw, customer, body)
		}, dispatcher.SMS{To: customer, Body: body}, -time.Minute},
		{"since just after it (clock skew)", func(t *testing.T, srv *twiliotest.Server, tw *sms.Twilio) string {
			return mustSend(t, tw, customer, body)
		}, dispatcher.SMS{To: customer, Body: body}, 30 * time.Second},
		{"among others, newest first", func(t *testing.T, srv *twiliotest.Server, tw *sms.Twilio) string {
			mustSend(t, tw, customer, "something else")
			id := mustSend(t, tw, customer, body)
			mustSend(t, tw, other, body)
			mustSend(t, tw, customer, body+" ")
			return id
		}, dispatcher.SMS{To: customer, Body: body}, -time.Minute},
		{"another body", func(t *testing.T, srv *twiliotest.Server, tw *sms.Twilio) string {
			mustSend(t, tw, customer, body+".")
			mustSend(t, tw, customer, strings.ToUpper(body))
			return ""
		}, dispatcher.SMS{To: customer, Body: body}, -time.Minute},
		{"another number", func(t *testing.T, srv *twiliotest.Server, tw *sms.Twilio) string {
			mustSend(t, tw, other, body)
			return ""
		}, dispatcher.SMS{To: customer, Body: body}, -time.Minute},
		{"older than since minus a minute", func(t *testing.T, srv *twiliotest.Server, tw *sms.Twilio) string {
			mustSend(t, tw, customer, body)
			return ""
		}, dispatcher.SMS{To: customer, Body: body}, 2 * time.Minute},
		{"rejected by the API", func(t *testing.T, srv *twiliotest.Server, tw *sms.Twilio) string {
			srv.RejectNumber(customer, 400, 21211, "invalid")
			if _, err := tw.Send(context.Background(), dispatcher.SMS{To: customer, Body: body}); err == nil {
				t.Fatal("Send succeeded")
			}
			return ""
		}, dispatcher.SMS{To: customer, Body: body}, -time.Minute},
		{"failed", func(t *testing.T, srv *twiliotest.Server, tw *sms.Twilio) string {
			srv.SetStatus(mustSend(t, tw, customer, body), "failed", 30008)
			return ""
		}, dispatcher.SMS{To: customer, Body: body}, -time.Minute},
		{"undelivered", func(t *testing.T, srv *twiliotest.Server, tw *sms.Twilio) string {
			srv.SetStatus(mustSend(t, tw, customer, body), "undelivered", 30003)
			return ""
		}, dispatcher.SMS{To: customer, Body: body}, -time.Minute},
		{"canceled", func(t *testing.T, srv *twiliotest.Server, tw *sms.Twilio) string {
			srv.SetStatus(mustSend(t, tw, customer, body), "canceled", 0)
			return ""
		}, dispatcher.SMS{To: customer, Body: body}, -time.Minute},
		{"delivered", func(t *testing.T, srv *twiliotest.Server, tw *sms.Twilio) string {
			id := mustSend(t, tw, customer, body)
			srv.SetStatus(id, "delivered", 0)
			return id
		}, dispatcher.SMS{To: customer, Body: body}, -time.Minute},
		{"an earlier accepted one behind a failed retry", func(t *testing.T, srv *twiliotest.Server, tw *sms.Twilio) string {
			id := mustSend(t, tw, customer, body)
			srv.SetStatus(mustSend(t, tw, customer, body), "failed", 30008)
			return id
		}, dispatcher.SMS{To: customer, Body: body}, -time.Minute},
		{"empty number", func(t *testing.T, srv *twiliotest.Server, tw *sms.Twilio) string {
			mustSend(t, tw, customer, body)
			return ""
		}, dispatcher.SMS{To: "", Body: body}, -time.Minute},
	} {
		t.Run(tc.name, func(t *testing.T) {
			srv := twiliotest.NewServer(t, accountSID, authToken)
			tw := newTwilio(t, srv)
			want := tc.setup(t, srv, tw)
			id, found, err := tw.FindSent(context.Background(), tc.find, time.Now().Add(tc.since))
			if err != nil {
				t.Fatalf("FindSent: %v", err)
			}
			if found != (want != "") || id != want {
				t.Errorf("FindSent = %q, %v; want %q, %v", id, found, want, want != "")
			}
		})
	}
}

func TestTwilioFindSentSendsTheListRequest(t *testing.T) {
	var got *http.Request
	ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		got = r.Clone(context.Background())
		_, _ = w.Write([]byte(`{"messages": [], "page": 0, "page_size": 50, "next_page_uri": null}`))
	}))
	defer ts.Close()
	tw, err := sms.NewTwilio(sms.TwilioConfig{AccountSID: accountSID, AuthToken: authToken, From: sender, BaseURL: ts.URL + "/gw/"})
	if err != nil {
		t.Fatal(err)
	}
	if _, found, err := tw.FindSent(context.Background(), dispatcher.SMS{To: customer, Body: "a"}, time.Now()); found || err != nil {
		t.Fatalf("FindSent = %v, %v", found, err)
	}
	user, pass, _ := got.BasicAuth()
	q := got.URL.Query()
	if got.Method != http.MethodGet || got.URL.Path != "/gw/2010-04-01/Accounts/"+accountSID+"/Messages.json" ||
		q.Get("To") != customer || q.Get("From") != sender || q.Get("PageSize") != "50" || q.Has("DateSent") ||
		user != accountSID || pass != authToken || got.Header.Get("User-Agent") != "trackhook" {
		t.Errorf("request %s %s, auth %q, User-Agent %q", got.Method, got.URL, user, got.Header.Get("User-Agent"))
	}
}

func TestTwilioFindSentPages(t *testing.T) {
	for _, tc := range []struct {
		name      string
		newer     int           // messages to the customer sent after the one looked for
		since     time.Duration // since = now + since
		wantFound bool
		wantLists int
	}{
		{"on the fourth page", 10, -time.Minute, true, 4},
		{"on the fifth page", 12, -time.Minute, true, 5},
		{"beyond five pages", 15, -time.Minute, false, 5},
		{"first page already older than the window", 10, 2 * time.Minute, false, 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			srv := twiliotest.NewServer(t, accountSID, authToken)
			tw := newTwilio(t, srv)
			sms.SetFindPageSize(tw, 3)
			id := mustSend(t, tw, customer, "the one")
			for i := range tc.newer {
				mustSend(t, tw, customer, fmt.Sprintf("newer %d", i))
				mustSend(t, tw, "+4915187654321", "the one") // filtered out by To
			}
			got, found, err := tw.FindSent(context.Background(), dispatcher.SMS{To: customer, Body: "the one"}, time.Now().Add(tc.since))
			if err != nil {
				t.Fatalf("FindSent: %v", err)
			}
			if found != tc.wantFound || (found && got != id) {
				t.Errorf("FindSent = %q, %v; want %q, %v", got, found, id, tc.wantFound)
			}
			if n := srv.ListRequests(); n != tc.wantLists {
				t.Errorf("%d list requests, want %d", n, tc.wantLists)
			}
		})
	}
}

// checkMasked fails when err's text shows the customer's number.
func checkMasked(t *testing.T, err error) {
	t.Helper()
	msg := err.Error()
	if strings.Contains(msg, customer) || strings.Contains(msg, strings.TrimPrefix(customer, "+")) {
		t.Errorf("err %q contains the full number", msg)
	}
	if !strings.Contains(msg, masked) {
		t.Errorf("err %q does not name the masked number %s", msg, masked)
	}
	if strings.Contains(msg, authToken) {
		t.Errorf("err %q contains the token", msg)
	}
}

func TestTwilioFindSentErrors(t *testing.T) {
	for _, tc := range []struct {
		name       string
		setup      func(*twiliotest.Server)
		mutate     func(*sms.TwilioConfig)
		cannot     bool          // want ErrCannotFind
		retryAfter time.Duration // > 0: want a RetryAfterError
		wantCode   int           // > 0: want an APIError with this code
		wantText   string
	}{
		{name: "404: no list endpoint",
			setup:  func(s *twiliotest.Server) { s.FailNext(1, 404, 20404, "") },
			cannot: true, wantCode: 20404},
		{name: "405: no list endpoint",
			setup:  func(s *twiliotest.Server) { s.FailNext(1, 405, 20004, "") },
			cannot: true, wantCode: 20004},
		{name: "429 with Retry-After",
			setup:      func(s *twiliotest.Server) { s.FailNext(1, 429, 20429, "7") },
			retryAfter: 7 * time.Second, wantCode: 20429},
		{name: "503 with Retry-After date",
			setup: func(s *twiliotest.Server) {
				s.FailNext(1, 503, 20503, time.Now().Add(90*time.Second).UTC().Format(http.TimeFormat))
			},
			retryAfter: 90 * time.Second, wantCode: 20503},
		{name: "429 without Retry-After",
			setup:    func(s *twiliotest.Server) { s.FailNext(1, 429, 20429, "") },
			wantCode: 20429},
		{name: "500",
			setup:    func(s *twiliotest.Server) { s.FailNext(1, 500, 20500, "") },
			wantCode: 20500},
		{name: "400 is temporary too",
			setup:    func(s *twiliotest.Server) { s.FailNext(1, 400, 20001, "") },
			wantCode: 20001},
		{name: "wrong token",
			mutate:   func(c *sms.TwilioConfig) { c.AuthToken = "wrong-token-123" },
			wantCode: 20003},
		{name: "timeout",
			setup:  func(s *twiliotest.Server) { s.SetLatency(2 * time.Second) },
			mutate: func(c *sms.TwilioConfig) { c.HTTPClient = &http.Client{Timeout: 100 * time.Millisecond} }},
		{name: "server down",
			setup: func(s *twiliotest.Server) { s.Close() }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			srv := twiliotest.NewServer(t, accountSID, authToken)
			mutate := func(*sms.TwilioConfig) {}
			if tc.mutate != nil {
				mutate = tc.mutate
			}
			tw := newTwilio(t, srv, mutate)
			mustSend(t, newTwilio(t, srv), customer, "a")
			if tc.setup != nil {
				tc.setup(srv)
			}

			id, found, err := tw.FindSent(context.Background(), dispatcher.SMS{To: customer, Body: "a"}, time.Now().Add(-time.Minute))
			if err == nil {
				t.Fatalf("FindSent = %q, %v, nil; want an error", id, found)
			}
			if found || id != "" {
				t.Errorf("FindSent found %q along with error %v", id, err)
			}
			if errors.Is(err, dispatcher.ErrPermanent) {
				t.Errorf("err %v wraps ErrPermanent; a failed look-up is never permanent", err)
			}
			if got := errors.Is(err, dispatcher.ErrCannotFind); got != tc.cannot {
				t.Errorf("errors.Is(err, ErrCannotFind) = %v, want %v; err: %v", got, tc.cannot, err)
			}
			checkRetryAfter(t, err, tc.retryAfter)
			var apiErr *sms.APIError
			if tc.wantCode > 0 && (!errors.As(err, &apiErr) || apiErr.Code != tc.wantCode) {
				t.Errorf("APIError = %+v, want code %d", apiErr, tc.wantCode)
			}
			checkMasked(t, err)
			if strings.Contains(err.Error(), "wrong-token-123") {
				t.Errorf("err %q contains the token", err)
			}
		})
	}
}

func TestTwilioFindSentMasksNumberInAPIMessage(t *testing.T) {
	// A gateway whose error message echoes the number and the query.
	gw := gateway(t, func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusBadGateway)
		fmt.Fprintf(w, `{"code": 20502, "message": "upstream refused %s (query %s)", "status": 502}`, r.URL.Query().Get("To"), r.URL.RawQuery)
	})
	_, _, err := gw.FindSent(context.Background(), dispatcher.SMS{To: customer, Body: "a"}, time.Now())
	if err == nil || errors.Is(err, dispatcher.ErrCannotFind) {
		t.Fatalf("err = %v, want a temporary error", err)
	}
	checkMasked(t, err)
}

// gateway serves canned list pages: a Twilio-compatible API with quirks.
func gateway(t *testing.T, page func(w http.ResponseWriter, r *http.Request)) *sms.Twilio {
	t.Helper()
	ts := httptest.NewServer(http.HandlerFunc(page))
	t.Cleanup(ts.Close)
	tw, err := sms.NewTwilio(sms.TwilioConfig{AccountSID: accountSID, AuthToken: authToken, From: sender, BaseURL: ts.URL})
	if err != nil {
		t.Fatal(err)
	}
	return tw
}

func listEntry(sid, body string, created time.Time) string {
	return fmt.Sprintf(`{"sid": %q, "to": %q, "from": %q, "body": %q, "status": "sent", "date_created": %q, "date_sent": null, "error_code": null}`,
		sid, customer, sender, body, created.UTC().Format(time.RFC1123Z))
}

func TestTwilioFindSentOddAnswers(t *testing.T) {
	now := time.Now()
	for _, tc := range []struct {
		name   string
		answer func(w http.ResponseWriter, r *http.Request)
		tweak  func(*sms.Twilio)
	}{
		{"200 that is not JSON", func(w http.ResponseWriter, r *http.Request) {
			_, _ = w.Write([]byte("OK"))
		}, nil},
		{"JSON without messages", func(w http.ResponseWriter, r *http.Request) {
			_, _ = w.Write([]byte(`{"sid": "SM1"}`))
		}, nil},
		{"bad date_created", func(w http.ResponseWriter, r *http.Request) {
			_, _ = w.Write([]byte(`{"messages": [{"sid": "SM1", "to": "` + customer + `", "body": "a", "status": "sent", "date_created": "yesterday"}]}`))
		}, nil},
		{"page larger than the bound", func(w http.ResponseWriter, r *http.Request) {
			_, _ = w.Write([]byte(`{"messages": [` + listEntry("SM1", strings.Repeat("x", 2000), now) + `]}`))
		}, func(tw *sms.Twilio) { sms.SetMaxListResponse(tw, 1000) }},
		{"404 on a later page is not 'cannot find'", func(w http.ResponseWriter, r *http.Request) {
			if r.URL.Query().Get("PageToken") != "" {
				http.NotFound(w, r)
				return
			}
			_, _ = w.Write([]byte(`{"messages": [` + listEntry("SM1", "b", now) + `], "next_page_uri": "/2010-04-01/Accounts/` + accountSID + `/Messages.json?PageToken=PASM1"}`))
		}, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tw := gateway(t, tc.answer)
			if tc.tweak != nil {
				tc.tweak(tw)
			}
			_, found, err := tw.FindSent(context.Background(), dispatcher.SMS{To: customer, Body: "a"}, now)
			if err == nil || found {
				t.Fatalf("FindSent = %v, %v; want a temporary error", found, err)
			}
			if errors.Is(err, dispatcher.ErrCannotFind) || errors.Is(err, dispatcher.ErrPermanent) {
				t.Errorf("err = %v, want a plain temporary error", err)
			}
			checkMasked(t, err)
		})
	}
}

func TestTwilioFindSentFollowsPagesOnItsOwnHostOnly(t *testing.T) {
	var elsewhere atomic.Int32
	other := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		elsewhere.Add(1)
		_, _ = w.Write([]byte(`{"messages": []}`))
	}))
	defer other.Close()
	now := time.Now()
	tw := gateway(t, func(w http.ResponseWriter, r *http.Request) {
		_, _ = w.Write([]byte(`{"messages": [` + listEntry("SM1", "b", now) + `], "next_page_uri": "` + other.URL + `/2010-04-01/Accounts/x/Messages.json?Page=1"}`))
	})
	_, found, err := tw.FindSent(context.Background(), dispatcher.SMS{To: customer, Body: "a"}, now)
	if err == nil || found {
		t.Errorf("FindSent = %v, %v; want an error", found, err)
	}
	if n := elsewhere.Load(); n != 0 {
		t.Errorf("the other host got %d requests (with the credentials)", n)
	}
}
