package twiliotest_test

import (
	"encoding/json"
	"net/http"
	"net/url"
	"strconv"
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

func TestServerOutage(t *testing.T) {
	messages := "/2010-04-01/Accounts/" + sid + "/Messages.json"
	form := func(to string) url.Values {
		return url.Values{"To": {to}, "From": {"+15005550006"}, "Body": {"hello"}}
	}
	srv := twiliotest.NewServer(t, sid, token)
	srv.RejectNumber("+15005550001", 400, 21211, "The 'To' number is not a valid phone number.")
	srv.FailNext(1, 400, 20001, "") // an outage comes first and leaves this for later
	srv.Fail(
		twiliotest.Failure{Status: 500, Code: 20500},
		twiliotest.Failure{Status: 429, Code: 20429, RetryAfter: "2"})
	for _, want := range []float64{500, 429, 500} {
		if status, body := post(t, srv, messages, sid, token, form("+4915112345678")); float64(status) != want || body["status"] != want {
			t.Errorf("status = %d (%v), want %v", status, body, want)
		}
	}
	if status, body := post(t, srv, messages, sid, token, form("+15005550001")); status != 400 || body["code"] != float64(21211) {
		t.Errorf("rejected number during the outage: %d %v, want 400 21211", status, body)
	}
	if got := srv.Recover(); got != 3 {
		t.Errorf("Recover = %d refused, want 3", got)
	}
	if status, body := post(t, srv, messages, sid, token, form("+4915112345678")); status != 400 || body["code"] != float64(20001) {
		t.Errorf("first request after Recover: %d %v, want FailNext's 400 20001", status, body)
	}
	if status, body := post(t, srv, messages, sid, token, form("+4915112345678")); status != 201 {
		t.Errorf("after the outage: %d %v, want 201", status, body)
	}
	if got := srv.Recover(); got != 0 {
		t.Errorf("Recover without an outage = %d, want 0", got)
	}
	if n, r := len(srv.Messages()), srv.RejectedNumber("+15005550001"); n != 1 || r != 1 {
		t.Errorf("Messages %d, RejectedNumber %d; want 1 and 1", n, r)
	}
	if m := srv.Messages()[0]; m.Received.IsZero() {
		t.Error("Received not set")
	}
}

func get(t *testing.T, srv *twiliotest.Server, uri, user, pass string) (int, map[string]any) {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, srv.URL()+uri, nil)
	if err != nil {
		t.Fatal(err)
	}
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

// listed is the "messages" array of a list answer.
func listed(t *testing.T, body map[string]any) []map[string]any {
	t.Helper()
	raw, ok := body["messages"].([]any)
	if !ok {
		t.Fatalf("no messages array in %v", body)
	}
	out := make([]map[string]any, len(raw))
	for i, m := range raw {
		out[i] = m.(map[string]any)
	}
	return out
}

func send(t *testing.T, srv *twiliotest.Server, to, from, body string) string {
	t.Helper()
	status, answer := post(t, srv, "/2010-04-01/Accounts/"+sid+"/Messages.json", sid, token,
		url.Values{"To": {to}, "From": {from}, "Body": {body}})
	if status != 201 {
		t.Fatalf("send: %d %v", status, answer)
	}
	return answer["sid"].(string)
}

func TestServerListsMessages(t *testing.T) {
	messages := "/2010-04-01/Accounts/" + sid + "/Messages.json"
	srv := twiliotest.NewServer(t, sid, token)
	srv.RejectNumber("+15005550001", 400, 21211, "The 'To' number is not a valid phone number.")
	a1 := send(t, srv, "+4915112345678", "+15005550006", "first")
	b1 := send(t, srv, "+4915187654321", "+15005550006", "other customer")
	a2 := send(t, srv, "+4915112345678", "+15005550007", "second, other sender")
	a3 := send(t, srv, "+4915112345678", "+15005550006", "third")
	if status, _ := post(t, srv, messages, sid, token, url.Values{"To": {"+15005550001"}, "From": {"+15005550006"}, "Body": {"x"}}); status != 400 {
		t.Fatalf("rejected number: %d", status)
	}
	postsBefore := srv.Requests()

	for _, tc := range []struct {
		name       string
		uri        string
		user, pass string
		wantStatus int
		wantCode   float64
		wantSIDs   []string
	}{
		{"all, newest first", messages, sid, token, 200, 0, []string{a3, a2, b1, a1}},
		{"To", messages + "?To=%2B4915112345678", sid, token, 200, 0, []string{a3, a2, a1}},
		{"To and From", messages + "?To=%2B4915112345678&From=%2B15005550006", sid, token, 200, 0, []string{a3, a1}},
		{"From", messages + "?From=%2B15005550007", sid, token, 200, 0, []string{a2}},
		{"refused number is not listed", messages + "?To=%2B15005550001", sid, token, 200, 0, []string{}},
		{"no auth", messages, "", "", 401, 20003, nil},
		{"wrong token", messages, sid, "nope", 401, 20003, nil},
		{"other account", "/2010-04-01/Accounts/AC9/Messages.json", sid, token, 404, 20404, nil},
		{"bad PageSize", messages + "?PageSize=0", sid, token, 400, 20001, nil},
		{"bad PageToken", messages + "?PageToken=XX1", sid, token, 400, 20001, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			status, body := get(t, srv, tc.uri, tc.user, tc.pass)
			if status != tc.wantStatus {
				t.Fatalf("status = %d, want %d (%v)", status, tc.wantStatus, body)
			}
			if tc.wantStatus != 200 {
				if body["code"] != tc.wantCode || body["status"] != float64(tc.wantStatus) {
					t.Errorf("error body = %v, want code %v", body, tc.wantCode)
				}
				return
			}
			got := []string{}
			for _, m := range listed(t, body) {
				got = append(got, m["sid"].(string))
			}
			if strings.Join(got, ",") != strings.Join(tc.wantSIDs, ",") {
				t.Errorf("sids = %v, want %v", got, tc.wantSIDs)
			}
			if body["page"] != float64(0) || body["page_size"] != float64(50) || body["next_page_uri"] != nil ||
				body["previous_page_uri"] != nil || body["uri"] != tc.uri || !strings.HasPrefix(body["first_page_uri"].(string), messages+"?") {
				t.Errorf("envelope = %v", body)
			}
		})
	}

	_, body := get(t, srv, messages+"?To=%2B4915112345678&From=%2B15005550006", sid, token)
	m := listed(t, body)[1]
	if m["to"] != "+4915112345678" || m["from"] != "+15005550006" || m["body"] != "first" || m["account_sid"] != sid ||
		m["direction"] != "outbound-api" || m["error_code"] != nil {
		t.Errorf("listed message = %v", m)
	}
	created, err := time.Parse(time.RFC1123Z, m["date_created"].(string))
	if err != nil {
		t.Fatalf("date_created not RFC 2822: %v", err)
	}
	if received := srv.Messages()[0].Received; !created.Equal(received.Truncate(time.Second)) {
		t.Errorf("date_created = %v, want %v", created, received)
	}
	switch m["status"] {
	case "queued":
		if m["date_sent"] != nil {
			t.Errorf("queued message with date_sent %v", m["date_sent"])
		}
	case "sent":
		if _, err := time.Parse(time.RFC1123Z, m["date_sent"].(string)); err != nil {
			t.Errorf("date_sent: %v", err)
		}
	default:
		t.Errorf("status = %v, want queued or sent", m["status"])
	}

	if got, want := srv.ListRequests(), 11; got != want {
		t.Errorf("ListRequests = %d, want %d", got, want)
	}
	if got, want := srv.Requests(), postsBefore+11; got != want {
		t.Errorf("Requests = %d, want %d (list requests count too)", got, want)
	}
	if n := len(srv.Messages()); n != 4 {
		t.Errorf("Messages = %d, want 4: listing must not record anything", n)
	}
}

func TestServerListStatus(t *testing.T) {
	messages := "/2010-04-01/Accounts/" + sid + "/Messages.json"
	srv := twiliotest.NewServer(t, sid, token)
	id := send(t, srv, "+4915112345678", "+15005550006", "hello")
	if srv.SetStatus("SM00000000000000000000000000000000", "failed", 30008) {
		t.Error("SetStatus of an unknown SID returned true")
	}
	if !srv.SetStatus(id, "undelivered", 30003) {
		t.Fatal("SetStatus returned false")
	}
	_, body := get(t, srv, messages, sid, token)
	m := listed(t, body)[0]
	if m["status"] != "undelivered" || m["error_code"] != float64(30003) || m["date_sent"] == nil {
		t.Errorf("listed %v, want undelivered with error 30003", m)
	}
	srv.SetStatus(id, "failed", 30008)
	_, body = get(t, srv, messages, sid, token)
	if m := listed(t, body)[0]; m["status"] != "failed" || m["date_sent"] != nil {
		t.Errorf("listed %v, want failed without date_sent", m)
	}
	if len(srv.Messages()) != 1 {
		t.Error("SetStatus removed the message from Messages")
	}
}

func TestServerListPages(t *testing.T) {
	messages := "/2010-04-01/Accounts/" + sid + "/Messages.json"
	srv := twiliotest.NewServer(t, sid, token)
	var sent []string
	for i := range 7 {
		sent = append(sent, send(t, srv, "+4915112345678", "+15005550006", "message "+strconv.Itoa(i)))
	}
	send(t, srv, "+4915187654321", "+15005550006", "other customer")

	// Follow next_page_uri; a message that arrives meanwhile must not
	// shift the pages (PageToken, not an offset).
	var got []string
	var pages []int
	uri := messages + "?To=%2B4915112345678&PageSize=3"
	for uri != "" {
		status, body := get(t, srv, uri, sid, token)
		if status != 200 {
			t.Fatalf("%s: %d %v", uri, status, body)
		}
		page := listed(t, body)
		pages = append(pages, len(page))
		for _, m := range page {
			got = append(got, m["sid"].(string))
		}
		if body["page_size"] != float64(3) || body["page"] != float64(len(pages)-1) {
			t.Errorf("page %d: envelope %v", len(pages)-1, body)
		}
		if len(pages) == 1 {
			if body["previous_page_uri"] != nil {
				t.Errorf("first page has previous_page_uri %v", body["previous_page_uri"])
			}
			send(t, srv, "+4915112345678", "+15005550006", "newer")
		}
		if len(pages) == 2 {
			// previous_page_uri leads back to the first page.
			_, prev := get(t, srv, body["previous_page_uri"].(string), sid, token)
			if p := listed(t, prev); len(p) != 3 || p[0]["sid"] != sent[6] {
				t.Errorf("previous page = %v", p)
			}
		}
		next, _ := body["next_page_uri"].(string)
		if next != "" && (!strings.HasPrefix(next, messages+"?") || !strings.Contains(next, "PageToken=PA")) {
			t.Errorf("next_page_uri = %q", next)
		}
		uri = next
		if len(pages) > 5 {
			t.Fatal("paging does not end")
		}
	}
	want := []string{sent[6], sent[5], sent[4], sent[3], sent[2], sent[1], sent[0]}
	if strings.Join(got, ",") != strings.Join(want, ",") || len(pages) != 3 || pages[2] != 1 {
		t.Errorf("pages %v: got %v, want %v", pages, got, want)
	}

	// Page without a token is an offset; PageSize defaults to 50 and is
	// capped at 1000.
	if _, body := get(t, srv, messages+"?To=%2B4915112345678&PageSize=3&Page=2", sid, token); len(listed(t, body)) != 2 {
		t.Errorf("Page=2 of 8 by 3: %v", body)
	}
	if _, body := get(t, srv, messages+"?PageSize=5000", sid, token); body["page_size"] != float64(1000) || len(listed(t, body)) != 9 {
		t.Errorf("PageSize=5000: %v", body)
	}
	if _, body := get(t, srv, messages+"?Page=99999999999999", sid, token); len(listed(t, body)) != 0 || body["next_page_uri"] != nil {
		t.Errorf("Page past the end: %v", body)
	}
}

func TestServerFailuresApplyToList(t *testing.T) {
	messages := "/2010-04-01/Accounts/" + sid + "/Messages.json"
	srv := twiliotest.NewServer(t, sid, token)
	srv.FailNext(1, 429, 20429, "3")
	req, _ := http.NewRequest(http.MethodGet, srv.URL()+messages, nil)
	req.SetBasicAuth(sid, token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 429 || resp.Header.Get("Retry-After") != "3" {
		t.Errorf("FailNext: list answered %d Retry-After %q, want 429 and 3", resp.StatusCode, resp.Header.Get("Retry-After"))
	}
	if status, _ := get(t, srv, messages, sid, token); status != 200 {
		t.Errorf("after FailNext: %d, want 200", status)
	}

	srv.Fail() // 503 20503 by default
	if status, body := get(t, srv, messages, sid, token); status != 503 || body["code"] != float64(20503) {
		t.Errorf("during the outage: %d %v, want 503 20503", status, body)
	}
	if got := srv.Recover(); got != 1 {
		t.Errorf("Recover = %d refused, want 1", got)
	}
	if status, _ := get(t, srv, messages, sid, token); status != 200 {
		t.Errorf("after Recover: %d, want 200", status)
	}

	srv.SetLatency(time.Second)
	client := &http.Client{Timeout: 100 * time.Millisecond}
	req, _ = http.NewRequest(http.MethodGet, srv.URL()+messages, nil)
	req.SetBasicAuth(sid, token)
	if resp, err := client.Do(req); err == nil {
		resp.Body.Close()
		t.Error("SetLatency does not delay the list")
	}
}
