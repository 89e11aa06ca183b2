package optout_test

import (
	"context"
	"encoding/xml"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/trackhook/trackhook/dispatcher"
	"github.com/trackhook/trackhook/signature"
)

const emptyTwiML = `<?xml version="1.0" encoding="UTF-8"?><Response/>`

// inbound is an inbound-message webhook as Twilio sends it.
func inbound(body string) url.Values {
	return url.Values{
		"AccountSid": {"AC00000000000000000000000000000000"},
		"MessageSid": {"SM00000000000000000000000000000000"},
		"SmsSid":     {"SM00000000000000000000000000000000"},
		"From":       {phone},
		"To":         {"+15005550006"},
		"Body":       {body},
		"NumMedia":   {"0"},
		"ApiVersion": {"2010-04-01"},
	}
}

// sms posts params to the test server, signed by tw over the public URL
// Twilio was configured with (the test server sits "behind a proxy").
func (e *env) sms(t *testing.T, tw *signature.Twilio, params url.Values) response {
	t.Helper()
	req, _ := http.NewRequest(http.MethodPost, e.http.URL+"/webhooks/twilio", strings.NewReader(params.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set(signature.HeaderTwilio, tw.Sign(e.public+"/webhooks/twilio", params))
	return do(t, req)
}

func (e *env) suppressedSMS(t *testing.T) map[string]string {
	t.Helper()
	out := map[string]string{}
	for _, s := range e.suppressions(t) {
		if s.Channel == dispatcher.ChannelSMS {
			out[s.Recipient] = s.Reason
		}
	}
	return out
}

func wantTwiML(t *testing.T, r response, want string) {
	t.Helper()
	if r.code != http.StatusOK || r.body != want || r.header.Get("Content-Type") != "text/xml" {
		t.Fatalf("response %d %q (%s), want 200 %q text/xml", r.code, r.body, r.header.Get("Content-Type"), want)
	}
}

func TestSMSStopAndStart(t *testing.T) {
	e := newEnv(t)
	for _, tc := range []struct{ body, reason string }{
		{"STOP", "sms STOP"},
		{"stop", "sms STOP"},
		{" Quit ", "sms QUIT"},
		{"\tUnsubscribe\r\n", "sms UNSUBSCRIBE"},
		{"StopAll", "sms STOPALL"},
		{"cancel", "sms CANCEL"},
		{"END", "sms END"},
	} {
		wantTwiML(t, e.sms(t, e.twilio, inbound(tc.body)), emptyTwiML)
		if got := e.suppressedSMS(t); got[phone] != tc.reason || len(got) != 1 {
			t.Fatalf("after %q suppressions %v, want %s: %q", tc.body, got, phone, tc.reason)
		}
		// START (and its synonyms) lift it again.
		start := []string{"START", "unstop", " Yes"}[len(tc.body)%3]
		wantTwiML(t, e.sms(t, e.twilio, inbound(start)), emptyTwiML)
		if got := e.suppressedSMS(t); len(got) != 0 {
			t.Fatalf("after %q suppressions %v, want none", start, got)
		}
	}
	// START without a suppression is fine too.
	wantTwiML(t, e.sms(t, e.twilio, inbound("START")), emptyTwiML)
}

func TestSMSHelp(t *testing.T) {
	e := newEnv(t)
	r := e.sms(t, e.twilio, inbound("help"))
	if r.code != http.StatusOK || r.header.Get("Content-Type") != "text/xml" {
		t.Fatalf("HELP = %d %s", r.code, r.header.Get("Content-Type"))
	}
	var resp struct {
		XMLName xml.Name `xml:"Response"`
		Message string   `xml:"Message"`
	}
	if err := xml.Unmarshal([]byte(r.body), &resp); err != nil {
		t.Fatalf("HELP reply is not XML: %v\n%s", err, r.body)
	}
	if !strings.HasPrefix(r.body, `<?xml version="1.0" encoding="UTF-8"?><Response><Message>`) ||
		!strings.Contains(resp.Message, "STOP") || !strings.Contains(strings.ToLower(resp.Message), "shipment") {
		t.Fatalf("HELP reply %q", r.body)
	}
	if len(e.suppressions(t)) != 0 {
		t.Fatal("HELP changed the suppression list")
	}

	// A custom text is escaped.
	e = newEnv(t, withHelp(`Parcels & <alerts> from "Shop": reply STOP to end.`))
	wantTwiML(t, e.sms(t, e.twilio, inbound("HELP")),
		`<?xml version="1.0" encoding="UTF-8"?><Response><Message>Parcels &amp; &lt;alerts&gt; from &#34;Shop&#34;: reply STOP to end.</Message></Response>`)
}

func TestSMSOtherMessagesChangeNothing(t *testing.T) {
	e := newEnv(t)
	for _, body := range []string{"stop please", "Thanks", "", "STOP!", "S T O P", "ſtop", "please STOP", "HELP me"} {
		wantTwiML(t, e.sms(t, e.twilio, inbound(body)), emptyTwiML)
	}
	if s := e.suppressions(t); len(s) != 0 {
		t.Fatalf("suppressions %+v", s)
	}
}

func TestSMSRefusesBadSignature(t *testing.T) {
	e := newEnv(t)
	wrong, _ := signature.NewTwilio([]string{"some-other-auth-token"})
	if r := e.sms(t, wrong, inbound("STOP")); r.code != http.StatusForbidden {
		t.Errorf("wrong token = %d", r.code)
	}

	post := func(body, sig string) int {
		req, _ := http.NewRequest(http.MethodPost, e.http.URL+"/webhooks/twilio", strings.NewReader(body))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		if sig != "" {
			req.Header.Set(signature.HeaderTwilio, sig)
		}
		return do(t, req).code
	}
	// Signed "Thanks", delivered "STOP".
	sig := e.twilio.Sign(e.public+"/webhooks/twilio", inbound("Thanks"))
	if code := post(inbound("STOP").Encode(), sig); code != http.StatusForbidden {
		t.Errorf("tampered body = %d", code)
	}
	// A second Body appended to a signed request.
	if code := post(inbound("Thanks").Encode()+"&Body=STOP", sig); code != http.StatusForbidden {
		t.Errorf("appended parameter = %d", code)
	}
	// Signed for the server's own URL instead of the configured public one.
	if code := post(inbound("STOP").Encode(), e.twilio.Sign(e.http.URL+"/webhooks/twilio", inbound("STOP"))); code != http.StatusForbidden {
		t.Errorf("signature over the internal URL = %d", code)
	}
	if code := post(inbound("STOP").Encode(), ""); code != http.StatusForbidden {
		t.Errorf("no signature = %d", code)
	}
	if code := post(inbound("STOP").Encode(), "garbage"); code != http.StatusForbidden {
		t.Errorf("garbage signature = %d", code)
	}
	if s := e.suppressions(t); len(s) != 0 {
		t.Fatalf("a refused request changed the suppression list: %+v", s)
	}
}

func TestSMSNotConfigured(t *testing.T) {
	e := newEnv(t, withoutTwilio())
	if r := e.sms(t, e.twilio, inbound("STOP")); r.code != http.StatusNotFound {
		t.Fatalf("without Twilio = %d, want 404", r.code)
	}
	if s := e.suppressions(t); len(s) != 0 {
		t.Fatalf("suppressions %+v", s)
	}
}

func TestSMSBadRequests(t *testing.T) {
	e := newEnv(t)
	noFrom := inbound("STOP")
	noFrom.Del("From")
	if r := e.sms(t, e.twilio, noFrom); r.code != http.StatusBadRequest {
		t.Errorf("no From = %d", r.code)
	}
	blank := inbound("STOP")
	blank.Set("From", "  ")
	if r := e.sms(t, e.twilio, blank); r.code != http.StatusBadRequest {
		t.Errorf("blank From = %d", r.code)
	}
	big := inbound(strings.Repeat("x", 70<<10))
	if r := e.sms(t, e.twilio, big); r.code != http.StatusRequestEntityTooLarge {
		t.Errorf("70 KiB body = %d, want 413", r.code)
	}
	if s := e.suppressions(t); len(s) != 0 {
		t.Fatalf("suppressions %+v", s)
	}
}

func TestSMSRedisDown(t *testing.T) {
	e := newEnv(t)
	e.redis.Stop()
	for _, body := range []string{"STOP", "START"} {
		if r := e.sms(t, e.twilio, inbound(body)); r.code != http.StatusServiceUnavailable {
			t.Fatalf("%s with Redis down = %d, want 503 so Twilio retries", body, r.code)
		}
	}
	// Messages that change nothing do not need Redis.
	wantTwiML(t, e.sms(t, e.twilio, inbound("Thanks")), emptyTwiML)
	e.redis.Restart()
	wantTwiML(t, e.sms(t, e.twilio, inbound("STOP")), emptyTwiML)
	if got := e.suppressedSMS(t); got[phone] != "sms STOP" {
		t.Fatalf("after restart suppressions %v", got)
	}
}

// TestSMSPublicURLWithPrefix: a proxy maps https://example.com/trackhook/…
// to the service's /…; Twilio signs the public URL, query included.
func TestSMSPublicURLWithPrefix(t *testing.T) {
	e := newEnv(t, withPublicURL("https://example.com/trackhook"))
	params := inbound("STOP")
	req, _ := http.NewRequest(http.MethodPost, e.http.URL+"/webhooks/twilio?tenant=a%20b", strings.NewReader(params.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set(signature.HeaderTwilio, e.twilio.Sign("https://example.com/trackhook/webhooks/twilio?tenant=a%20b", params))
	wantTwiML(t, do(t, req), emptyTwiML)
	// Twilio's inconsistent ":443" is accepted too.
	params = inbound("START")
	req, _ = http.NewRequest(http.MethodPost, e.http.URL+"/webhooks/twilio?tenant=a%20b", strings.NewReader(params.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set(signature.HeaderTwilio, e.twilio.Sign("https://example.com:443/trackhook/webhooks/twilio?tenant=a%20b", params))
	wantTwiML(t, do(t, req), emptyTwiML)
	if s, _ := e.notify.Suppressions(context.Background()); len(s) != 0 {
		t.Fatalf("STOP then START left %+v", s)
	}
}
