package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/hibiken/asynq"

	"github.com/trackhook/trackhook/dispatcher"
	"github.com/trackhook/trackhook/dispatcher/smtptest"
	"github.com/trackhook/trackhook/dispatcher/twiliotest"
	"github.com/trackhook/trackhook/receiver/redistest"
	"github.com/trackhook/trackhook/receiver/tracking"
	"github.com/trackhook/trackhook/signature"
)

const (
	testSecret  = "trackhook-test-secret" // testdata/aftership/secret.txt
	twilioSID   = "AC00000000000000000000000000000001"
	twilioToken = "twilio-test-token"
	kimEmail    = "kim@example.com"
	kimPhone    = "+4915112345678"
	dhlNumber   = "00340434161094042557"
	testAPIKey  = "e2e-api-key"
)

// app is the whole trackhook program, started in-process by run() against a
// real redis-server, a real SMTP server and a Twilio-speaking HTTP server.
type app struct {
	t      *testing.T
	base   string
	redis  *redistest.Server
	smtp   *smtptest.Server
	twilio *twiliotest.Server
	logs   *syncBuffer
}

func startApp(t *testing.T, opts ...func(env map[string]string)) *app {
	t.Helper()
	return startAppAt(t, time.Now, opts...)
}

// startAppAt starts the program on the clock now (runAt).
func startAppAt(t *testing.T, now func() time.Time, opts ...func(env map[string]string)) *app {
	t.Helper()
	a := &app{t: t, redis: redistest.Start(t), smtp: smtptest.NewServer(t, smtptest.WithAuth("mailer", "mail-pass")),
		twilio: twiliotest.NewServer(t, twilioSID, twilioToken), logs: &syncBuffer{}}
	addr := freeAddr(t)
	a.base = "http://" + addr
	env := map[string]string{
		"TRACKHOOK_ADDR":               addr,
		"TRACKHOOK_PUBLIC_URL":         a.base,
		"TRACKHOOK_REDIS_URL":          a.redis.URL(),
		"TRACKHOOK_SMTP_URL":           a.smtp.URL(),
		"TRACKHOOK_MAIL_FROM":          "Shop <noreply@shop.example>",
		"TRACKHOOK_TWILIO_ACCOUNT_SID": twilioSID,
		"TRACKHOOK_TWILIO_AUTH_TOKEN":  twilioToken,
		"TRACKHOOK_TWILIO_FROM":        "+15005550006",
		"TRACKHOOK_TWILIO_BASE_URL":    a.twilio.URL(),
		"TRACKHOOK_OUTBOX_DIR":         t.TempDir(),
		"TRACKHOOK_AFTERSHIP_SECRET":   "rotated-new-secret," + testSecret,
		"TRACKHOOK_RETRY_BASE_DELAY":   "200ms",
		"TRACKHOOK_API_KEYS":           testAPIKey,
		// The tests expect texts at any hour; TestSMSQuietHours sets a
		// window.
		"TRACKHOOK_SMS_QUIET_HOURS": "off",
		// The payloads are samples with fixed dates, months old on the day
		// the tests run, and some first report Delivered: the stale and
		// first-delivered rules would hold their messages back.
		// TestEndToEndNotificationRules runs with the defaults.
		"TRACKHOOK_STALE_AFTER":            "off",
		"TRACKHOOK_NOTIFY_FIRST_DELIVERED": "true",
	}
	for _, o := range opts {
		o(env)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		done <- runAt(ctx, now, []string{"serve"}, func(k string) string { return env[k] }, nil, io.Discard, a.logs)
	}()
	t.Cleanup(func() {
		cancel()
		select {
		case err := <-done:
			if err != nil {
				t.Errorf("run returned %v", err)
			}
		case <-time.After(20 * time.Second):
			t.Error("trackhook did not shut down within 20s")
		}
		if t.Failed() {
			t.Logf("trackhook logs:\n%s", a.logs.String())
		}
	})
	waitFor(t, 10*time.Second, "trackhook to answer /readyz", func() bool {
		select {
		case err := <-done:
			t.Fatalf("run exited early: %v\n%s", err, a.logs.String())
		default:
		}
		resp, err := http.Get(a.base + "/readyz")
		if err != nil {
			return false
		}
		resp.Body.Close()
		return resp.StatusCode == http.StatusOK
	})
	return a
}

// post sends body with the given headers to /webhooks/aftership.
func (a *app) post(body []byte, h http.Header) (int, string) {
	a.t.Helper()
	req, err := http.NewRequest(http.MethodPost, a.base+"/webhooks/aftership", bytes.NewReader(body))
	if err != nil {
		a.t.Fatal(err)
	}
	for k, v := range h {
		req.Header[k] = v
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		a.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

// postSigned signs body with the test secret and posts it.
func (a *app) postSigned(body []byte) (int, string) {
	a.t.Helper()
	v, err := signature.NewAfterShip([]string{testSecret})
	if err != nil {
		a.t.Fatal(err)
	}
	h, _ := v.Sign(body, time.Now())
	h.Set("Content-Type", "application/json")
	return a.post(body, h)
}

// postFixture posts testdata/aftership/<name>.json with its recorded headers.
func (a *app) postFixture(name string) (int, string) {
	a.t.Helper()
	body, h := fixture(a.t, name)
	return a.post(body, h)
}

func fixture(t testing.TB, name string) ([]byte, http.Header) {
	t.Helper()
	dir := filepath.Join("..", "..", "testdata", "aftership")
	body, err := os.ReadFile(filepath.Join(dir, name+".json"))
	if err != nil {
		t.Fatal(err)
	}
	raw, err := os.ReadFile(filepath.Join(dir, name+".headers"))
	if err != nil {
		t.Fatal(err)
	}
	h := http.Header{}
	sc := bufio.NewScanner(bytes.NewReader(raw))
	for sc.Scan() {
		if k, v, ok := strings.Cut(sc.Text(), ":"); ok {
			h.Add(strings.TrimSpace(k), strings.TrimSpace(v))
		}
	}
	return body, h
}

// webhook builds an AfterShip tracking_update.
func webhook(eventID, number, tag string, at time.Time, mut ...func(msg map[string]any)) []byte {
	msg := map[string]any{
		"id": "as-" + number, "tracking_number": number, "slug": "dhl-germany", "tag": tag, "subtag": tag + "_001",
		"order_number": "1001", "language": "de", "destination_country_iso3": "DEU",
		"emails": []string{kimEmail}, "smses": []string{kimPhone},
		"checkpoints": []map[string]any{{"checkpoint_time": at.Format(time.RFC3339), "message": "Scan " + tag, "city": "Leipzig", "tag": tag}},
	}
	for _, m := range mut {
		m(msg)
	}
	b, _ := json.Marshal(map[string]any{"event": "tracking_update", "event_id": eventID, "msg": msg, "ts": at.Unix() + 60})
	return b
}

func (a *app) inspector() *asynq.Inspector {
	i := asynq.NewInspectorFromRedisClient(a.redis.Client())
	return i
}

// quiet waits until no notify task is pending, active, scheduled or
// retrying, so "nothing more arrives" can be asserted without guessing.
func (a *app) quiet() {
	a.t.Helper()
	insp := a.inspector()
	waitFor(a.t, 15*time.Second, "the queues to drain", func() bool {
		for _, q := range []string{dispatcher.QueueEmail, dispatcher.QueueSMS} {
			info, err := insp.GetQueueInfo(q)
			if err != nil {
				continue // a queue that never had a task does not exist
			}
			if info.Pending+info.Active+info.Scheduled+info.Retry > 0 {
				return false
			}
		}
		return true
	})
}

func TestEndToEndGermanCustomerGetsOneMessagePerStatus(t *testing.T) {
	a := startApp(t)

	code, body := a.postFixture("in_transit")
	if code != http.StatusOK {
		t.Fatalf("in_transit: %d %s", code, body)
	}
	mails := a.smtp.WaitForMessages(t, 1, 10*time.Second)
	texts := a.twilio.WaitForMessages(t, 1, 10*time.Second)
	m := mails[0]
	if got := m.Header.Get("Content-Language"); got != "de" {
		t.Errorf("Content-Language = %q, want de", got)
	}
	if len(m.To) != 1 || m.To[0] != kimEmail {
		t.Errorf("envelope recipients %v", m.To)
	}
	for _, part := range []struct{ name, s string }{{"subject", m.Subject}, {"text", m.Text}, {"html", m.HTML}} {
		if part.name != "subject" && !strings.Contains(part.s, dhlNumber) {
			t.Errorf("email %s does not name the tracking number:\n%s", part.name, part.s)
		}
	}
	// The DHL Paket tracking page from the carrier catalogue.
	trackURL := "https://www.dhl.de/de/privatkunden/pakete-empfangen/verfolgen.html?lang=de&idc=" + dhlNumber
	if !strings.Contains(m.Text, trackURL) {
		t.Errorf("email text has no tracking link %s:\n%s", trackURL, m.Text)
	}
	if !strings.Contains(m.HTML, `href="`+strings.ReplaceAll(trackURL, "&", "&amp;")+`"`) {
		t.Errorf("email HTML has no link to %s:\n%s", trackURL, m.HTML)
	}
	// The scan at 09:15+01:00 is shown at 09:15, Leipzig's time, not as
	// 08:15 UTC.
	if !strings.Contains(m.Text, "20.11.2026, 09:15 Uhr") || strings.Contains(m.Text, "(UTC)") {
		t.Errorf("the checkpoint's time is not Leipzig's 09:15:\n%s", m.Text)
	}
	// The country by its German name, not "DEU".
	if !strings.Contains(m.Text, "Leipzig, Deutschland") || strings.Contains(m.Text, "DEU") {
		t.Errorf("the checkpoint's place is not \"Leipzig, Deutschland\":\n%s", m.Text)
	}
	assertGerman(t, "email subject", m.Subject)
	assertGerman(t, "SMS", texts[0].Body)
	if texts[0].To != kimPhone || !strings.Contains(texts[0].Body, dhlNumber) || !strings.Contains(texts[0].Body, trackURL) {
		t.Errorf("SMS to %s: %q", texts[0].To, texts[0].Body)
	}

	for i, name := range []string{"out_for_delivery", "delivered"} {
		if code, body := a.postFixture(name); code != http.StatusOK {
			t.Fatalf("%s: %d %s", name, code, body)
		}
		a.smtp.WaitForMessages(t, 2+i, 10*time.Second)
		a.twilio.WaitForMessages(t, 2+i, 10*time.Second)
	}
	a.quiet()
	mails, texts = a.smtp.Messages(), a.twilio.Messages()
	if len(mails) != 3 || len(texts) != 3 {
		t.Fatalf("got %d emails and %d SMS, want 3 and 3", len(mails), len(texts))
	}
	// In order, one per status: the subjects differ.
	if mails[0].Subject == mails[1].Subject || mails[1].Subject == mails[2].Subject {
		t.Errorf("subjects do not change with the status: %q", []string{mails[0].Subject, mails[1].Subject, mails[2].Subject})
	}
	for i, m := range mails {
		if m.Header.Get("Message-Id") == "" {
			t.Errorf("email %d has no Message-ID", i)
		}
	}

	// Replays: the same deliveries again, and an older event under a new id.
	for _, name := range []string{"delivered", "in_transit"} {
		code, body := a.postFixture(name)
		if code != http.StatusOK || !strings.Contains(body, "duplicate") {
			t.Fatalf("replayed %s: %d %s, want 200 duplicate", name, code, body)
		}
	}
	older := webhook("new-id-for-an-old-event", dhlNumber, "InTransit", time.Date(2026, 11, 20, 8, 0, 0, 0, time.UTC))
	if code, body := a.postSigned(older); code != http.StatusOK || !strings.Contains(body, "stale") {
		t.Fatalf("older event: %d %s, want 200 stale", code, body)
	}
	a.quiet()
	if n, s := len(a.smtp.Messages()), len(a.twilio.Messages()); n != 3 || s != 3 {
		t.Fatalf("after replays: %d emails and %d SMS, want still 3 and 3", n, s)
	}
	st := a.state(tracking.ID("dhl-germany", dhlNumber))
	if st.Status != tracking.Delivered {
		t.Fatalf("stored status %v, want Delivered", st.Status)
	}
}

func assertGerman(t *testing.T, what, s string) {
	t.Helper()
	for _, w := range []string{"Sendung", "Paket", "Ihre", "Ihr"} {
		if strings.Contains(s, w) {
			return
		}
	}
	t.Errorf("%s does not read as German: %q", what, s)
}

func (a *app) state(id string) tracking.Tracking {
	a.t.Helper()
	st, err := tracking.NewStore(a.redis.Client(), tracking.Options{}).Get(context.Background(), id)
	if err != nil {
		a.t.Fatalf("tracking %s: %v", id, err)
	}
	return st
}

func TestEndToEndBadInput(t *testing.T) {
	a := startApp(t)
	number := "BADINPUT0001"
	good := webhook("evt-bad-1", number, "InTransit", time.Now())

	// Wrong signature: 401, nothing stored, nothing sent.
	forged := http.Header{}
	forged.Set(signature.HeaderAfterShip, "+3xeJt0zkkmj1zCFoTBMOc+abMKgZ44GOkZu9DdDHGM=")
	if code, body := a.post(good, forged); code != http.StatusUnauthorized {
		t.Fatalf("forged: %d %s, want 401", code, body)
	}
	if code, _ := a.post(good, http.Header{}); code != http.StatusUnauthorized {
		t.Fatalf("unsigned: %d, want 401", code)
	}
	if _, err := tracking.NewStore(a.redis.Client(), tracking.Options{}).Get(context.Background(), tracking.ID("dhl-germany", number)); !errors.Is(err, tracking.ErrNotFound) {
		t.Fatalf("a rejected webhook was stored: %v", err)
	}

	// Malformed JSON, correctly signed: 400.
	if code, body := a.postSigned([]byte(`{"event":"tracking_update","msg":{`)); code != http.StatusBadRequest {
		t.Fatalf("malformed: %d %s, want 400", code, body)
	}
	if code, body := a.postSigned([]byte(`{"event":"tracking_update","msg":{"slug":"dhl"}}`)); code != http.StatusBadRequest || !strings.Contains(body, "tracking_number") {
		t.Fatalf("no tracking number: %d %s, want 400 naming the field", code, body)
	}
	// 2 MiB: 413.
	huge := append([]byte(`{"pad":"`), bytes.Repeat([]byte("x"), 2<<20)...)
	if code, body := a.postSigned(huge); code != http.StatusRequestEntityTooLarge {
		t.Fatalf("2 MiB body: %d %s, want 413", code, body)
	}
	// Unknown and unconfigured sources: 404.
	req, _ := http.NewRequest(http.MethodPost, a.base+"/webhooks/trackingmore", strings.NewReader("{}"))
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusNotFound {
		t.Fatalf("unconfigured source: %d, want 404", resp.StatusCode)
	}
	a.quiet()
	if n := len(a.smtp.Messages()) + len(a.twilio.Messages()); n != 0 {
		t.Fatalf("bad input sent %d messages", n)
	}
	// And the good one still works, signed with the older of two rotated secrets.
	if code, body := a.postSigned(good); code != http.StatusOK {
		t.Fatalf("good: %d %s", code, body)
	}
	a.smtp.WaitForMessages(t, 1, 10*time.Second)
}

func TestEndToEndRedisDownAnswers503(t *testing.T) {
	a := startApp(t)
	a.redis.Stop()
	code, body := a.postSigned(webhook("evt-down-1", "REDISDOWN01", "InTransit", time.Now()))
	if code != http.StatusServiceUnavailable {
		t.Fatalf("Redis down: %d %s, want 503", code, body)
	}
	resp, err := http.Get(a.base + "/readyz")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusServiceUnavailable {
		t.Fatalf("/readyz with Redis down: %d, want 503", resp.StatusCode)
	}
	a.redis.Restart()
	waitFor(t, 10*time.Second, "a webhook to be accepted after Redis returns", func() bool {
		code, _ := a.postSigned(webhook("evt-down-1", "REDISDOWN01", "InTransit", time.Now()))
		return code == http.StatusOK
	})
	a.smtp.WaitForMessages(t, 1, 15*time.Second)
	a.twilio.WaitForMessages(t, 1, 15*time.Second)
}

func TestEndToEndSMTPTemporaryAndPermanentFailures(t *testing.T) {
	a := startApp(t)

	// 451 once: retried, arrives exactly once.
	a.smtp.FailNext(1, 451, "4.3.0", "try again later")
	if code, body := a.postSigned(webhook("evt-451", "SMTP451", "InTransit", time.Now(), func(m map[string]any) { m["smses"] = nil })); code != http.StatusOK {
		t.Fatalf("%d %s", code, body)
	}
	a.smtp.WaitForMessages(t, 1, 15*time.Second)
	a.quiet()
	if n, r := len(a.smtp.Messages()), a.smtp.Rejected(); n != 1 || r != 1 {
		t.Fatalf("451 once: %d delivered, %d rejected; want 1 and 1", n, r)
	}

	// 550 for one address: tried once, archived, never retried.
	a.smtp.RejectRecipient("gone@example.com", 550, "mailbox unavailable")
	if code, body := a.postSigned(webhook("evt-550", "SMTP550", "InTransit", time.Now(), func(m map[string]any) {
		m["emails"] = []string{"gone@example.com"}
		m["smses"] = nil
	})); code != http.StatusOK {
		t.Fatalf("%d %s", code, body)
	}
	insp := a.inspector()
	waitFor(t, 15*time.Second, "the rejected email to be archived", func() bool {
		info, err := insp.GetQueueInfo(dispatcher.QueueEmail)
		return err == nil && info.Archived == 1
	})
	// Archived is final: asynq runs an archived task only when asked. That
	// it was archived on its first run (retried 0) is what says "never
	// retried", not a wait for a retry that does not come.
	archived, err := insp.ListArchivedTasks(dispatcher.QueueEmail)
	if err != nil || len(archived) != 1 || archived[0].Retried != 0 {
		t.Fatalf("archived tasks %+v (%v): want one, archived on its first run", archived, err)
	}
	if r := a.smtp.Rejected(); r != 2 {
		t.Fatalf("550: %d rejected attempts in all, want 2 (the 451 and one 550)", r)
	}
	if n := len(a.smtp.Messages()); n != 1 {
		t.Fatalf("%d delivered, want 1", n)
	}
	if strings.Contains(a.logs.String(), "gone@example.com") {
		t.Fatal("the logs contain the customer's full email address")
	}
	if !strings.Contains(a.logs.String(), "g***@example.com") {
		t.Fatal("the permanent failure is not logged with the masked recipient")
	}
}

func waitFor(t testing.TB, timeout time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %v waiting for %s", timeout, what)
		}
		time.Sleep(25 * time.Millisecond)
	}
}

func freeAddr(t testing.TB) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return "127.0.0.1:" + strconv.Itoa(l.Addr().(*net.TCPAddr).Port)
}

type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// api calls the admin API the way AfterShip's SDK does and returns the
// HTTP status and the decoded envelope.
func (a *app) api(method, path string, body any) (int, map[string]any) {
	a.t.Helper()
	var rd io.Reader
	if body != nil {
		b, _ := json.Marshal(body)
		rd = bytes.NewReader(b)
	}
	req, _ := http.NewRequest(method, a.base+"/tracking/2024-04"+path+"?", rd)
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("as-api-key", testAPIKey)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		a.t.Fatal(err)
	}
	defer resp.Body.Close()
	var env map[string]any
	if err := json.NewDecoder(resp.Body).Decode(&env); err != nil {
		a.t.Fatalf("%s %s: %v", method, path, err)
	}
	return resp.StatusCode, env
}

// sms posts an inbound SMS as Twilio would, signed with the auth token.
func (a *app) sms(from, body string) (int, string) {
	a.t.Helper()
	form := url.Values{"From": {from}, "To": {"+15005550006"}, "Body": {body}, "MessageSid": {"SM" + strings.Repeat("0", 32)}, "AccountSid": {twilioSID}}
	v, err := signature.NewTwilio([]string{twilioToken})
	if err != nil {
		a.t.Fatal(err)
	}
	req, _ := http.NewRequest(http.MethodPost, a.base+"/webhooks/twilio", strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("X-Twilio-Signature", v.Sign(a.base+"/webhooks/twilio", form))
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		a.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

func TestEndToEndAPISubscribersAndOptOut(t *testing.T) {
	a := startApp(t)
	const number = "1Z999AA10123456784"
	code, env := a.api("POST", "/trackings", map[string]any{"tracking": map[string]any{
		"tracking_number": number, "slug": "ups", "language": "fr", "destination_country_iso3": "FRA",
		"emails": []string{"ana@example.com", "bob@example.com"}, "smses": []string{"06 12 34 56 78"},
	}})
	if code != 201 {
		t.Fatalf("create: %d %v", code, env)
	}
	id := env["data"].(map[string]any)["tracking"].(map[string]any)["id"].(string)
	if code, env := a.api("POST", "/notifications/"+id+"/remove", map[string]any{"notification": map[string]any{"emails": []string{"bob@example.com"}}}); code != 200 {
		t.Fatalf("remove: %d %v", code, env)
	}

	at := time.Date(2026, 11, 20, 9, 0, 0, 0, time.UTC)
	noSubscribers := func(m map[string]any) { delete(m, "emails"); delete(m, "smses"); m["slug"] = "ups"; m["language"] = "" }
	if code, body := a.postSigned(webhook("api-1", number, "InTransit", at, noSubscribers)); code != 200 {
		t.Fatalf("webhook: %d %s", code, body)
	}
	mails := a.smtp.WaitForMessages(t, 1, 10*time.Second)
	texts := a.twilio.WaitForMessages(t, 1, 10*time.Second)
	a.quiet()
	if n := len(a.smtp.Messages()); n != 1 || mails[0].To[0] != "ana@example.com" {
		t.Fatalf("%d emails (to %v); want one, to ana only", n, mails[0].To)
	}
	if texts[0].To != "+33612345678" || len(a.twilio.Messages()) != 1 {
		t.Fatalf("SMS to %s (%d)", texts[0].To, len(a.twilio.Messages()))
	}
	if got := mails[0].Header.Get("Content-Language"); got != "fr" {
		t.Errorf("Content-Language %q, want fr", got)
	}

	// One-click unsubscribe from the header of the email she received.
	lu := mails[0].Header.Get("List-Unsubscribe")
	if !strings.HasPrefix(lu, "<"+a.base+"/unsubscribe/") || !strings.HasSuffix(lu, ">") {
		t.Fatalf("List-Unsubscribe %q", lu)
	}
	if !strings.Contains(mails[0].Text, strings.Trim(lu, "<>")) {
		t.Errorf("the unsubscribe link is not in the body:\n%s", mails[0].Text)
	}
	resp, err := http.Post(strings.Trim(lu, "<>"), "application/x-www-form-urlencoded", strings.NewReader("List-Unsubscribe=One-Click"))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Fatalf("one-click unsubscribe: %d", resp.StatusCode)
	}
	// And STOP from the phone.
	if code, body := a.sms("+33612345678", "Stop"); code != 200 {
		t.Fatalf("STOP: %d %s", code, body)
	}
	// The API shows both suppressions.
	_, env = a.api("GET", "/suppressions", nil)
	if sup := env["data"].(map[string]any)["suppressions"].([]any); len(sup) != 2 {
		t.Fatalf("suppressions: %v", sup)
	}

	if code, body := a.postSigned(webhook("api-2", number, "OutForDelivery", at.Add(time.Hour), noSubscribers)); code != 200 {
		t.Fatalf("webhook: %d %s", code, body)
	}
	a.quiet()
	if n, s := len(a.smtp.Messages()), len(a.twilio.Messages()); n != 1 || s != 1 {
		t.Fatalf("after opting out: %d emails, %d SMS; want still 1 and 1", n, s)
	}

	// An admin lifts the email suppression: the next status reaches her again.
	if code, env := a.api("POST", "/suppressions/remove", map[string]any{"suppression": map[string]any{"emails": []string{"ana@example.com"}}}); code != 200 {
		t.Fatalf("lift: %d %v", code, env)
	}
	if code, body := a.postSigned(webhook("api-3", number, "Delivered", at.Add(2*time.Hour), noSubscribers)); code != 200 {
		t.Fatalf("webhook: %d %s", code, body)
	}
	a.smtp.WaitForMessages(t, 2, 10*time.Second)
	a.quiet()
	if s := len(a.twilio.Messages()); s != 1 {
		t.Fatalf("SMS after STOP: %d", s)
	}
}

// Email and SMS have worker pools of their own: a text provider that does
// not answer holds up texts, not emails, even with one worker per pool.
func TestEndToEndStuckSMSProviderDoesNotHoldUpEmail(t *testing.T) {
	got := make(chan struct{}, 1)
	release := make(chan struct{})
	stuck := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case got <- struct{}{}:
		default:
		}
		select { // no answer until the test ends (the client gives up after 10s)
		case <-release:
		case <-r.Context().Done():
		}
		http.Error(w, "unavailable", http.StatusServiceUnavailable)
	}))
	t.Cleanup(stuck.Close)
	a := startApp(t, func(env map[string]string) {
		env["TRACKHOOK_WORKER_CONCURRENCY"] = "1"
		env["TRACKHOOK_TWILIO_BASE_URL"] = stuck.URL
	})
	t.Cleanup(func() { close(release) }) // before the app shuts down (cleanups run last first)

	if code, body := a.postSigned(webhook("evt-stuck-sms", "STUCKSMS1", "InTransit", time.Now(), func(m map[string]any) { m["emails"] = nil })); code != http.StatusOK {
		t.Fatalf("%d %s", code, body)
	}
	select {
	case <-got:
	case <-time.After(15 * time.Second):
		t.Fatal("the text never reached the SMS provider")
	}
	if code, body := a.postSigned(webhook("evt-email-meanwhile", "EMAIL1", "InTransit", time.Now(), func(m map[string]any) { m["smses"] = nil })); code != http.StatusOK {
		t.Fatalf("%d %s", code, body)
	}
	// Well within the 10s the SMS client waits for its answer: with one
	// pool for both, the only worker would still be waiting for it.
	a.smtp.WaitForMessages(t, 1, 5*time.Second)
}

// The email pool is served by several asynq servers that share
// TRACKHOOK_WORKER_CONCURRENCY: each finds its tasks one Lua call at a
// time, so one alone caps a process at about a thousand emails a second
// under load whatever the concurrency. The queue dashboard lists each.
func TestEndToEndEmailPoolIsSharedByFetchers(t *testing.T) {
	a := startApp(t, func(env map[string]string) { env["TRACKHOOK_WORKER_CONCURRENCY"] = "6" })
	insp := asynq.NewInspectorFromRedisClient(a.redis.Client())
	var email, other []int
	waitFor(t, 10*time.Second, "the worker's servers registered", func() bool {
		servers, err := insp.Servers()
		if err != nil {
			return false
		}
		email, other = nil, nil
		for _, s := range servers {
			if len(s.Queues) == 1 && s.Queues[dispatcher.QueueEmail] > 0 {
				email = append(email, s.Concurrency)
			} else {
				other = append(other, s.Concurrency)
			}
		}
		return len(email)+len(other) >= 5
	})
	slices.Sort(email)
	if !slices.Equal(email, []int{1, 1, 2, 2}) {
		t.Errorf("email servers' concurrency = %v, want [1 1 2 2] (6 shared by 4)", email)
	}
	if !slices.Equal(other, []int{6}) {
		t.Errorf("SMS and rules servers' concurrency = %v, want [6]", other)
	}
	// They all deliver.
	if code, body := a.postSigned(webhook("evt-fetchers", "FETCH1", "InTransit", time.Now(), func(m map[string]any) { m["smses"] = nil })); code != http.StatusOK {
		t.Fatalf("%d %s", code, body)
	}
	a.smtp.WaitForMessages(t, 1, 10*time.Second)
}

func TestSplitPool(t *testing.T) {
	for _, tc := range []struct {
		size, n int
		want    []int
	}{
		{20, 4, []int{5, 5, 5, 5}},
		{22, 4, []int{6, 6, 5, 5}},
		{3, 4, []int{1, 1, 1}},
		{1, 4, []int{1}},
		{20, 10, []int{2, 2, 2, 2, 2, 2, 2, 2, 2, 2}},
		{64, 10, []int{7, 7, 7, 7, 6, 6, 6, 6, 6, 6}},
	} {
		if got := splitPool(tc.size, tc.n); !slices.Equal(got, tc.want) {
			t.Errorf("splitPool(%d, %d) = %v, want %v", tc.size, tc.n, got, tc.want)
		}
	}
}
