package sms_test

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/trackhook/trackhook/dispatcher"
	"github.com/trackhook/trackhook/dispatcher/sms"
	"github.com/trackhook/trackhook/dispatcher/twiliotest"
)

const (
	accountSID = "AC0123456789abcdef0123456789abcdef"
	authToken  = "tok-9f8e7d6c5b4a"
	sender     = "+15005550006"
	customer   = "+4915112345678"
	masked     = "+49******78"
	waitFor    = 5 * time.Second
)

func newTwilio(tb testing.TB, srv *twiliotest.Server, mutate ...func(*sms.TwilioConfig)) *sms.Twilio {
	tb.Helper()
	cfg := sms.TwilioConfig{AccountSID: accountSID, AuthToken: authToken, From: sender, BaseURL: srv.URL()}
	for _, m := range mutate {
		m(&cfg)
	}
	t, err := sms.NewTwilio(cfg)
	if err != nil {
		tb.Fatalf("NewTwilio: %v", err)
	}
	return t
}

func TestTwilioSendDelivers(t *testing.T) {
	srv := twiliotest.NewServer(t, accountSID, authToken)
	tw := newTwilio(t, srv)
	body := "Ihre Sendung 1Z999 ist unterwegs. Abmelden: STOP"

	id, err := tw.Send(context.Background(), dispatcher.SMS{To: customer, Body: body})
	if err != nil {
		t.Fatalf("Send: %v", err)
	}
	got := srv.WaitForMessages(t, 1, waitFor)
	want := twiliotest.Message{To: customer, From: sender, Body: body, SID: id, Received: got[0].Received}
	if got[0] != want {
		t.Errorf("server got %+v, want %+v", got[0], want)
	}
	if !strings.HasPrefix(id, "SM") || len(id) != 34 {
		t.Errorf("provider id = %q, want SM + 32 hex digits", id)
	}
}

func TestTwilioBaseURLWithPathAndTrailingSlash(t *testing.T) {
	srv := twiliotest.NewServer(t, accountSID, authToken)
	// A gateway mounted under a path would use BaseURL "https://gw/twilio";
	// here a trailing slash must not produce "//2010-04-01".
	tw := newTwilio(t, srv, func(c *sms.TwilioConfig) { c.BaseURL = srv.URL() + "/" })
	if _, err := tw.Send(context.Background(), dispatcher.SMS{To: customer, Body: "x"}); err != nil {
		t.Fatal(err)
	}
}

func TestTwilioErrorClassification(t *testing.T) {
	for _, tc := range []struct {
		name       string
		setup      func(*twiliotest.Server)
		mutate     func(*sms.TwilioConfig)
		permanent  bool
		retryAfter time.Duration // > 0: want a RetryAfterError
		wantCode   int
		wantText   string
	}{
		{name: "invalid number 21211 is permanent",
			setup: func(s *twiliotest.Server) {
				s.RejectNumber(customer, 400, 21211, "The 'To' number "+customer+" is not a valid phone number.")
			},
			permanent: true, wantCode: 21211, wantText: "The 'To' number " + masked + " is not a valid phone number."},
		{name: "unsubscribed recipient 21610 is permanent",
			setup: func(s *twiliotest.Server) {
				s.RejectNumber(customer, 400, 21610, "Attempt to send to unsubscribed recipient")
			},
			permanent: true, wantCode: 21610},
		{name: "500 is temporary",
			setup:    func(s *twiliotest.Server) { s.FailNext(1, 500, 20500, "") },
			wantCode: 20500},
		{name: "503 without Retry-After is temporary",
			setup:    func(s *twiliotest.Server) { s.FailNext(1, 503, 20503, "") },
			wantCode: 20503},
		{name: "429 with Retry-After seconds",
			setup:      func(s *twiliotest.Server) { s.FailNext(1, 429, 20429, "7") },
			retryAfter: 7 * time.Second, wantCode: 20429},
		{name: "503 with Retry-After date",
			setup: func(s *twiliotest.Server) {
				s.FailNext(1, 503, 20503, time.Now().Add(90*time.Second).UTC().Format(http.TimeFormat))
			},
			retryAfter: 90 * time.Second, wantCode: 20503},
		{name: "wrong token is temporary (operator fixes config)",
			mutate:   func(c *sms.TwilioConfig) { c.AuthToken = "wrong-token-123" },
			wantCode: 20003},
		{name: "wrong account is temporary",
			mutate:   func(c *sms.TwilioConfig) { c.AccountSID = "ACffffffffffffffffffffffffffffffff" },
			wantCode: 20003},
	} {
		t.Run(tc.name, func(t *testing.T) {
			srv := twiliotest.NewServer(t, accountSID, authToken)
			if tc.setup != nil {
				tc.setup(srv)
			}
			mutate := func(*sms.TwilioConfig) {}
			if tc.mutate != nil {
				mutate = tc.mutate
			}
			tw := newTwilio(t, srv, mutate)

			id, err := tw.Send(context.Background(), dispatcher.SMS{To: customer, Body: "Ihre Sendung ist da."})
			if err == nil {
				t.Fatalf("Send succeeded with id %q, want an error", id)
			}
			if got := errors.Is(err, dispatcher.ErrPermanent); got != tc.permanent {
				t.Errorf("errors.Is(err, ErrPermanent) = %v, want %v; err: %v", got, tc.permanent, err)
			}
			checkRetryAfter(t, err, tc.retryAfter)
			var apiErr *sms.APIError
			if !errors.As(err, &apiErr) || apiErr.Code != tc.wantCode {
				t.Errorf("APIError = %+v, want code %d", apiErr, tc.wantCode)
			}
			if tc.wantText != "" && (apiErr == nil || apiErr.Message != tc.wantText) {
				t.Errorf("APIError.Message = %q, want %q", apiErr.Message, tc.wantText)
			}
			msg := err.Error()
			if strings.Contains(msg, customer) || strings.Contains(msg, strings.TrimPrefix(customer, "+")) {
				t.Errorf("err %q contains the full number", msg)
			}
			if !strings.Contains(msg, masked) {
				t.Errorf("err %q does not name the masked number %s", msg, masked)
			}
			if strings.Contains(msg, authToken) || strings.Contains(msg, "wrong-token-123") {
				t.Errorf("err %q contains the token", msg)
			}
			if n := len(srv.Messages()); n != 0 {
				t.Errorf("server accepted %d messages", n)
			}
		})
	}
}

func TestTwilioRecoversAfterTemporaryFailure(t *testing.T) {
	srv := twiliotest.NewServer(t, accountSID, authToken)
	tw := newTwilio(t, srv)
	srv.FailNext(1, 500, 20500, "")
	if _, err := tw.Send(context.Background(), dispatcher.SMS{To: customer, Body: "a"}); err == nil {
		t.Fatal("first Send succeeded")
	}
	if _, err := tw.Send(context.Background(), dispatcher.SMS{To: customer, Body: "a"}); err != nil {
		t.Fatalf("retry: %v", err)
	}
	if got := srv.Requests(); got != 2 {
		t.Errorf("requests = %d, want 2", got)
	}
}

func TestTwilioTimeoutsAreTemporary(t *testing.T) {
	for _, tc := range []struct {
		name   string
		ctx    func() (context.Context, context.CancelFunc)
		mutate func(*sms.TwilioConfig)
	}{
		{"context deadline", func() (context.Context, context.CancelFunc) {
			return context.WithTimeout(context.Background(), 100*time.Millisecond)
		}, nil},
		{"client timeout", func() (context.Context, context.CancelFunc) { return context.Background(), func() {} },
			func(c *sms.TwilioConfig) { c.HTTPClient = &http.Client{Timeout: 100 * time.Millisecond} }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			srv := twiliotest.NewServer(t, accountSID, authToken)
			srv.SetLatency(2 * time.Second)
			mutate := func(*sms.TwilioConfig) {}
			if tc.mutate != nil {
				mutate = tc.mutate
			}
			tw := newTwilio(t, srv, mutate)
			ctx, cancel := tc.ctx()
			defer cancel()
			start := time.Now()
			_, err := tw.Send(ctx, dispatcher.SMS{To: customer, Body: "a"})
			if err == nil || errors.Is(err, dispatcher.ErrPermanent) {
				t.Fatalf("err = %v, want a temporary error", err)
			}
			if d := time.Since(start); d > time.Second {
				t.Errorf("Send took %v, want it cut at 100ms", d)
			}
			if strings.Contains(err.Error(), customer) {
				t.Errorf("err %q contains the number", err)
			}
		})
	}
}

func TestTwilioServerDownIsTemporary(t *testing.T) {
	srv := twiliotest.NewServer(t, accountSID, authToken)
	tw := newTwilio(t, srv)
	srv.Close()
	_, err := tw.Send(context.Background(), dispatcher.SMS{To: customer, Body: "a"})
	if err == nil || errors.Is(err, dispatcher.ErrPermanent) {
		t.Fatalf("err = %v, want temporary", err)
	}
}

func TestTwilioBoundsTheResponseBody(t *testing.T) {
	huge := strings.Repeat("x", 10<<20)
	ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusBadRequest)
		_, _ = w.Write([]byte(huge))
	}))
	defer ts.Close()
	tw, err := sms.NewTwilio(sms.TwilioConfig{AccountSID: accountSID, AuthToken: authToken, From: sender, BaseURL: ts.URL})
	if err != nil {
		t.Fatal(err)
	}
	_, err = tw.Send(context.Background(), dispatcher.SMS{To: customer, Body: "a"})
	var apiErr *sms.APIError
	if !errors.As(err, &apiErr) || apiErr.HTTPStatus != 400 || apiErr.Code != 0 || apiErr.Message != "Bad Request" {
		t.Errorf("err = %v (%+v), want HTTP 400 Bad Request", err, apiErr)
	}
	if !errors.Is(err, dispatcher.ErrPermanent) || len(err.Error()) > 500 {
		t.Errorf("err = %.200q…, want a short permanent error", err)
	}
}

func TestTwilioAcceptedWithoutSIDIsNotAnError(t *testing.T) {
	// A "compatible" gateway that answers 200 with another body: the message
	// was accepted, so Send must not fail (a retry would send it twice).
	ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = w.Write([]byte("OK"))
	}))
	defer ts.Close()
	tw, err := sms.NewTwilio(sms.TwilioConfig{AccountSID: accountSID, AuthToken: authToken, From: sender, BaseURL: ts.URL})
	if err != nil {
		t.Fatal(err)
	}
	id, err := tw.Send(context.Background(), dispatcher.SMS{To: customer, Body: "a"})
	if err != nil || id != "" {
		t.Errorf("Send = %q, %v; want \"\", nil", id, err)
	}
}

func TestNewTwilioRefusesIncompleteConfig(t *testing.T) {
	good := sms.TwilioConfig{AccountSID: accountSID, AuthToken: authToken, From: sender}
	for _, tc := range []struct {
		name    string
		mutate  func(*sms.TwilioConfig)
		wantErr string
	}{
		{"no SID", func(c *sms.TwilioConfig) { c.AccountSID = "" }, "twilio config: account SID is empty"},
		{"no token", func(c *sms.TwilioConfig) { c.AuthToken = "" }, "twilio config: auth token is empty"},
		{"no sender", func(c *sms.TwilioConfig) { c.From = " " }, "twilio config: sender (From) is empty"},
		{"bad base URL", func(c *sms.TwilioConfig) { c.BaseURL = "ftp://gw.example" }, `twilio config: base URL "ftp://gw.example"`},
		{"credentials in base URL", func(c *sms.TwilioConfig) { c.BaseURL = "https://user:" + authToken + "@gw.example" }, "twilio config: base URL"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cfg := good
			tc.mutate(&cfg)
			_, err := sms.NewTwilio(cfg)
			if err == nil || !strings.HasPrefix(err.Error(), tc.wantErr) {
				t.Fatalf("err = %v, want %q", err, tc.wantErr)
			}
			if strings.Contains(err.Error(), authToken) {
				t.Errorf("err %q contains the token", err)
			}
		})
	}
	if _, err := sms.NewTwilio(good); err != nil {
		t.Errorf("good config: %v", err)
	}
	if s := good.String() + " " + good.GoString(); strings.Contains(s, authToken) {
		t.Errorf("config string %q contains the token", s)
	}
}

// checkRetryAfter checks that err is a *dispatcher.RetryAfterError of about
// want (a header in seconds loses up to 2 s to rounding), or none when want
// is 0.
func checkRetryAfter(t *testing.T, err error, want time.Duration) {
	t.Helper()
	var ra *dispatcher.RetryAfterError
	switch {
	case want > 0 && !errors.As(err, &ra):
		t.Errorf("err = %v, want a RetryAfterError", err)
	case want > 0 && (ra.After > want || ra.After < want-2*time.Second):
		t.Errorf("RetryAfterError.After = %v, want %v", ra.After, want)
	case want == 0 && errors.As(err, &ra):
		t.Errorf("err = %v is a RetryAfterError, want a plain error", err)
	}
}
