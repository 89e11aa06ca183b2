package twiliotest_test

import (
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/trackhook/trackhook/dispatcher/twiliotest"
)

const (
	sid   = "AC00000000000000000000000000000001"
	token = "secret-token"
)

func post(t *testing.T, srv *twiliotest.Server, path, user, pass string, form url.Values) (int, map[string]any) {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, srv.URL()+path, strings.NewReader(form.Encode()))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	if user != "" {
		req.SetBasicAuth(user, pass)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var body map[string]any
	if err := json.NewDecoder(resp.Body).Decode(&body); err != nil {
		t.Fatalf("body is not JSON: %v", err)
	}
	return resp.StatusCode, body
}

func TestServerSpeaksTheMessagesAPI(t *testing.T) {
	messages := "/2010-04-01/Accounts/" + sid + "/Messages.json"
	good := url.Values{"To": {"+4915112345678"}, "From": {"+15005550006"}, "Body": {"Grüße {x}"}}
	for _, tc := range []struct {
		name       string
		path       string
		user, pass string
		form       url.Values
		wantStatus int
		wantCode   float64
	}{
		{"accepted", messages, sid, token, good, 201, 0},
		{"no auth", messages, "", "", good, 401, 20003},
		{"wrong token", messages, sid, "nope", good, 401, 20003},
		{"other account", "/2010-04-01/Accounts/AC9/Messages.json", sid, token, good, 404, 20404},
		{"wrong path", "/2010-04-01/Messages.json", sid, token, good, 404, 20404},
		{"missing To", messages, sid, token, url.Values{"From": good["From"], "Body": good["Body"]}, 400, 21604},
		{"missing Body", messages, sid, token, url.Values{"To": good["To"], "From": good["From"]}, 400, 21602},
		{"missing From", messages, sid, token, url.Values{"To": good["To"], "Body": good["Body"]}, 400, 21603},
	} {
		t.Run(tc.name, func(t *testing.T) {
			srv := twiliotest.NewServer(t, sid, token)
			status, body := post(t, srv, tc.path, tc.user, tc.pass, tc.form)
			if status != tc.wantStatus {
				t.Fatalf("status = %d, want %d (%v)", status, tc.wantStatus, body)
			}
			if tc.wantStatus != 201 {
				if body["code"] != tc.wantCode || body["status"] != float64(tc.wantStatus) || body["message"] == "" {
					t.Errorf("error body = %v, want code %v", body, tc.wantCode)
				}
				if len(srv.Messages()) != 0 {
					t.Error("message recorded although refused")
				}
				return
			}
			got := srv.WaitForMessages(t, 1, time.Second)[0]
			if body["sid"] != got.SID || body["status"] != "queued" || body["to"] != got.To || body["body"] != "Grüße {x}" ||
				body["num_segments"] != "1" || body["account_sid"] != sid {
				t.Errorf("response = %v, recorded %+v", body, got)
			}
			if _, err := time.Parse(time.RFC1123Z, body["date_created"].(string)); err != nil {
				t.Errorf("date_created not RFC 2822: %v", err)
			}
		})
	}
}

func TestSegments(t *testing.T) {
	for _, tc := range []struct {
		body string
		want int
	}{
		{strings.Repeat("a", 160), 1},
		{strings.Repeat("a", 161), 2},
		{strings.Repeat("a", 306), 2},
		{strings.Repeat("a", 307), 3},
		{strings.Repeat("€", 80), 1},  // 160 septets
		{strings.Repeat("€", 81), 2},  // 162 septets
		{strings.Repeat("ä", 160), 1}, // ä is GSM-7
		{strings.Repeat("á", 70), 1},  // á is not: UCS-2
		{strings.Repeat("á", 71), 2},
		{"📦 " + strings.Repeat("a", 67), 1}, // emoji: 2 UTF-16 units + 1 + 67 = 70
		{"📦 " + strings.Repeat("a", 68), 2},
	} {
		if got := twiliotest.Segments(tc.body); got != tc.want {
			t.Errorf("Segments(%.20q… len %d) = %d, want %d", tc.body, len([]rune(tc.body)), got, tc.want)
		}
	}
}

func TestServerFailFor(t *testing.T) {
	messages := "/2010-04-01/Accounts/" + sid + "/Messages.json"
	form := func(to string) url.Values {
		return url.Values{"To": {to}, "From": {"+15005550006"}, "Body": {"hello"}}
	}
	srv := twiliotest.NewServer(t, sid, token)
	srv.RejectNumber("+15005550001", 400, 21211, "The 'To' number is not a valid phone number.")
	srv.FailFor(300*time.Millisecond,
		twiliotest.Failure{Status: 500, Code: 20500},
		twiliotest.Failure{Status: 429, Code: 20429, RetryAfter: "2"})
	for _, want := range []float64{500, 429, 500} {
		if status, body := post(t, srv, messages, sid, token, form("+4915112345678")); float64(status) != want || body["status"] != want {
			t.Errorf("status = %d (%v), want %v", status, body, want)
		}
	}
	if status, body := post(t, srv, messages, sid, token, form("+15005550001")); status != 400 || body["code"] != float64(21211) {
		t.Errorf("rejected number inside the window: %d %v, want 400 21211", status, body)
	}
	time.Sleep(350 * time.Millisecond)
	if status, body := post(t, srv, messages, sid, token, form("+4915112345678")); status != 201 {
		t.Errorf("after the window: %d %v, want 201", status, body)
	}
	if n, r := len(srv.Messages()), srv.RejectedNumber("+15005550001"); n != 1 || r != 1 {
		t.Errorf("Messages %d, RejectedNumber %d; want 1 and 1", n, r)
	}
	if m := srv.Messages()[0]; m.Received.IsZero() {
		t.Error("Received not set")
	}
}
