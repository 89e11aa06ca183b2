package optout_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/base64"
	"io"
	"log/slog"
	"mime/multipart"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gorilla/mux"

	"github.com/trackhook/trackhook/dispatcher"
	"github.com/trackhook/trackhook/dispatcher/state"
	"github.com/trackhook/trackhook/receiver/optout"
	"github.com/trackhook/trackhook/receiver/redistest"
	"github.com/trackhook/trackhook/receiver/tracking"
	"github.com/trackhook/trackhook/signature"
)

const (
	email      = "kim@example.com"
	phone      = "+4915112345678"
	otherEmail = "sam@example.com"
	authToken  = "twilio-test-auth-token"
	publicURL  = "https://notify.example.com"
)

var tokenKey = []byte("0123456789abcdef0123456789abcdef")

// syncBuffer collects log output from concurrent handlers.
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

type env struct {
	redis   *redistest.Server
	store   *tracking.Store
	notify  *state.Store
	handler *optout.Handler
	http    *httptest.Server
	twilio  *signature.Twilio
	public  string
	logs    *syncBuffer
}

type option func(*optout.Config)

func withoutTwilio() option { return func(c *optout.Config) { c.Twilio = nil } }

func withPublicURL(s string) option {
	return func(c *optout.Config) {
		u, err := url.Parse(s)
		if err != nil {
			panic(err)
		}
		c.PublicURL = u
	}
}

func withHelp(s string) option { return func(c *optout.Config) { c.HelpText = s } }

// newEnv starts redis-server, a real tracking store and the opt-out routes
// on a mux router, the way the receiver mounts them. The public URL is not
// the test server's: as behind a proxy, Twilio signs the public one.
func newEnv(t *testing.T, opts ...option) *env {
	t.Helper()
	rs := redistest.Start(t)
	e := &env{redis: rs, store: tracking.NewStore(rs.Client(), tracking.Options{}), logs: &syncBuffer{},
		notify: state.New(rs.Client(), state.Options{TrackingKey: tracking.StateKey})}
	var err error
	e.twilio, err = signature.NewTwilio([]string{authToken})
	if err != nil {
		t.Fatal(err)
	}
	tokens, err := optout.NewTokens(tokenKey)
	if err != nil {
		t.Fatal(err)
	}
	cfg := optout.Config{Trackings: e.store, Suppressions: e.notify, Tokens: tokens, Twilio: e.twilio,
		Logger: slog.New(slog.NewTextHandler(e.logs, &slog.HandlerOptions{Level: slog.LevelDebug}))}
	withPublicURL(publicURL)(&cfg)
	for _, o := range opts {
		o(&cfg)
	}
	e.public = strings.TrimSuffix(cfg.PublicURL.String(), "/")
	if e.handler, err = optout.New(cfg); err != nil {
		t.Fatal(err)
	}
	r := mux.NewRouter()
	e.handler.Register(r)
	e.http = httptest.NewServer(r)
	t.Cleanup(e.http.Close)
	t.Cleanup(func() {
		// Recipients reach the logs masked only.
		if logs := e.logs.String(); strings.Contains(logs, email) || strings.Contains(logs, phone) || strings.Contains(logs, otherEmail) {
			t.Errorf("a log line names a recipient in full:\n%s", logs)
		}
	})
	return e
}

// createTracking makes a tracking with two emails and one number.
func (e *env) createTracking(t *testing.T, number string) tracking.Tracking {
	t.Helper()
	tr, err := e.store.Create(context.Background(), tracking.Tracking{Slug: "usps", TrackingNumber: number,
		Emails: []string{email, otherEmail}, SMSes: []string{phone}})
	if err != nil {
		t.Fatal(err)
	}
	return tr
}

func (e *env) tracking(t *testing.T, id string) tracking.Tracking {
	t.Helper()
	got, err := e.store.Get(context.Background(), id)
	if err != nil {
		t.Fatal(err)
	}
	return got
}

func (e *env) suppressions(t *testing.T) []state.Suppression {
	t.Helper()
	s, err := e.notify.Suppressions(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// link returns the test server's URL for an unsubscribe link, checking that
// the link itself is on the public URL.
func (e *env) link(t *testing.T, trackingID string, c dispatcher.Channel, recipient string) string {
	t.Helper()
	u, err := e.handler.UnsubscribeURL(t.Context(), trackingID, c, recipient)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(u, e.public+"/unsubscribe/") {
		t.Fatalf("UnsubscribeURL = %q, want it under %s/unsubscribe/", u, e.public)
	}
	return e.http.URL + strings.TrimPrefix(u, e.public)
}

type response struct {
	code   int
	header http.Header
	body   string
}

func do(t *testing.T, req *http.Request) response {
	t.Helper()
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return response{code: resp.StatusCode, header: resp.Header, body: string(b)}
}

func get(t *testing.T, u, acceptLanguage string) response {
	t.Helper()
	req, _ := http.NewRequest(http.MethodGet, u, nil)
	if acceptLanguage != "" {
		req.Header.Set("Accept-Language", acceptLanguage)
	}
	return do(t, req)
}

func postForm(t *testing.T, u string, form url.Values) response {
	t.Helper()
	req, _ := http.NewRequest(http.MethodPost, u, strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	return do(t, req)
}

func TestConfirmPageIsGermanAndChangesNothing(t *testing.T) {
	e := newEnv(t)
	tr := e.createTracking(t, "9400100000000000000001")
	r := get(t, e.link(t, tr.ID, dispatcher.ChannelEmail, email), "de-DE,de;q=0.9")
	if r.code != http.StatusOK {
		t.Fatalf("GET = %d %s", r.code, r.body)
	}
	for _, want := range []string{`<html lang="de">`, "Versandbenachrichtigungen abbestellen",
		"<strong>k***@example.com</strong>", "Nur diese Sendung", "Alle Sendungen",
		`name="scope" value="tracking"`, `name="scope" value="all"`, `method="post"`} {
		if !strings.Contains(r.body, want) {
			t.Errorf("page lacks %q:\n%s", want, r.body)
		}
	}
	for _, unwanted := range []string{email, "<script", "http://", "https://", "Unsubscribe"} {
		if strings.Contains(r.body, unwanted) {
			t.Errorf("page contains %q:\n%s", unwanted, r.body)
		}
	}
	if ct := r.header.Get("Content-Type"); ct != "text/html; charset=utf-8" {
		t.Errorf("Content-Type = %q", ct)
	}
	for k, want := range map[string]string{"Cache-Control": "no-store", "Referrer-Policy": "no-referrer", "Vary": "Accept-Language"} {
		if got := r.header.Get(k); got != want {
			t.Errorf("%s = %q, want %q", k, got, want)
		}
	}
	// The forms post back to the same URL: their action is the token itself.
	token := tr.ID
	if m := regexp.MustCompile(`action="([^"]+)"`).FindAllStringSubmatch(r.body, -1); len(m) != 2 {
		t.Errorf("want two forms, got actions %q", m)
	} else {
		token = m[0][1]
		if m[1][1] != token || !strings.HasSuffix(e.link(t, tr.ID, dispatcher.ChannelEmail, email), "/unsubscribe/"+token) {
			t.Errorf("form actions %q, %q do not name the page's token", m[0][1], m[1][1])
		}
	}
	// The inline style is allowed by its hash and nothing else is.
	style := regexp.MustCompile(`(?s)<style>(.*)</style>`).FindStringSubmatch(r.body)
	if style == nil {
		t.Fatal("no inline style")
	}
	sum := sha256.Sum256([]byte(style[1]))
	if csp := r.header.Get("Content-Security-Policy"); !strings.Contains(csp, "style-src 'sha256-"+base64.StdEncoding.EncodeToString(sum[:])+"'") ||
		!strings.Contains(csp, "default-src 'none'") {
		t.Errorf("CSP %q does not allow exactly the inline style", csp)
	}

	// GET (and HEAD, as link checkers do) unsubscribes nobody.
	req, _ := http.NewRequest(http.MethodHead, e.link(t, tr.ID, dispatcher.ChannelEmail, email), nil)
	if r := do(t, req); r.code != http.StatusOK {
		t.Errorf("HEAD = %d", r.code)
	}
	if s := e.suppressions(t); len(s) != 0 {
		t.Fatalf("GET suppressed %+v", s)
	}
	got := e.tracking(t, tr.ID)
	if !slices.Equal(got.Emails, []string{email, otherEmail}) || len(got.OptedOut) != 0 {
		t.Fatalf("GET changed the tracking: emails %v, opted out %v", got.Emails, got.OptedOut)
	}
}

func TestConfirmPageLanguage(t *testing.T) {
	e := newEnv(t)
	u := e.link(t, "", dispatcher.ChannelEmail, email)
	for _, tc := range []struct{ acceptLanguage, lang, title string }{
		{"", "en", "Unsubscribe from shipment notifications"},
		{"de-DE,de;q=0.9", "de", "Versandbenachrichtigungen abbestellen"},
		{"de-CH", "de", "Versandbenachrichtigungen abbestellen"},
		{"fr-CA,fr;q=0.8,en;q=0.5", "fr", "Se désabonner des notifications de livraison"},
		{"es-419", "es", "Darse de baja de las notificaciones de envío"},
		{"it-IT,es;q=0.7", "es", "Darse de baja de las notificaciones de envío"},
		{"pt-BR", "en", "Unsubscribe from shipment notifications"},
		{"en-GB,de;q=0.1", "en", "Unsubscribe from shipment notifications"},
		{"*", "en", "Unsubscribe from shipment notifications"},
		{"garbage;;;q=x", "en", "Unsubscribe from shipment notifications"},
		{strings.Repeat("de,", 1000), "en", "Unsubscribe from shipment notifications"},
	} {
		r := get(t, u, tc.acceptLanguage)
		if r.code != http.StatusOK || !strings.Contains(r.body, `<html lang="`+tc.lang+`">`) || !strings.Contains(r.body, "<h1>"+tc.title+"</h1>") {
			t.Errorf("Accept-Language %.20q: %d, want %s page:\n%s", tc.acceptLanguage, r.code, tc.lang, r.body)
		}
	}
	// A link without a tracking offers only "all shipments".
	if r := get(t, u, ""); strings.Contains(r.body, `value="tracking"`) || !strings.Contains(r.body, `value="all"`) {
		t.Errorf("link without tracking:\n%s", r.body)
	}
}

func TestUnsubscribeAll(t *testing.T) {
	e := newEnv(t)
	tr := e.createTracking(t, "9400100000000000000002")
	r := postForm(t, e.link(t, tr.ID, dispatcher.ChannelEmail, email), url.Values{"scope": {"all"}})
	if r.code != http.StatusOK || !strings.Contains(r.body, "You are unsubscribed") ||
		!strings.Contains(r.body, "We will no longer send shipment notifications to <strong>k***@example.com</strong>.") {
		t.Fatalf("POST scope=all = %d:\n%s", r.code, r.body)
	}
	s := e.suppressions(t)
	if len(s) != 1 || s[0].Channel != dispatcher.ChannelEmail || s[0].Recipient != email || s[0].Reason != "unsubscribe link" {
		t.Fatalf("suppressions %+v, want %s by the unsubscribe link", s, email)
	}
	allowed, _, err := e.notify.Gate(e.store).Allowed(context.Background(), tr.ID, dispatcher.ChannelEmail, email)
	if err != nil || allowed {
		t.Fatalf("Allowed after unsubscribe = %v, %v", allowed, err)
	}
}

func TestUnsubscribeTrackingOnly(t *testing.T) {
	e := newEnv(t)
	tr := e.createTracking(t, "9400100000000000000003")
	other := e.createTracking(t, "9400100000000000000004")
	r := postForm(t, e.link(t, tr.ID, dispatcher.ChannelEmail, email), url.Values{"scope": {"tracking"}})
	if r.code != http.StatusOK || !strings.Contains(r.body, "We will no longer send notifications about this shipment to <strong>k***@example.com</strong>.") ||
		!strings.Contains(r.body, `value="all"`) {
		t.Fatalf("POST scope=tracking = %d:\n%s", r.code, r.body)
	}
	got := e.tracking(t, tr.ID)
	if !slices.Equal(got.Emails, []string{otherEmail}) || !slices.Equal(got.SMSes, []string{phone}) {
		t.Fatalf("after opt-out emails %v smses %v, want only %s removed", got.Emails, got.SMSes, email)
	}
	if !slices.Equal(got.OptedOut, []string{dispatcher.RecipientKey(dispatcher.ChannelEmail, email)}) {
		t.Fatalf("OptedOut = %v", got.OptedOut)
	}
	if s := e.suppressions(t); len(s) != 0 {
		t.Fatalf("scope=tracking suppressed globally: %+v", s)
	}
	if o := e.tracking(t, other.ID); !slices.Contains(o.Emails, email) {
		t.Fatalf("the other tracking lost the recipient: %v", o.Emails)
	}

	// The SMS link of the same tracking takes the number off its SMS list.
	r = postForm(t, e.link(t, tr.ID, dispatcher.ChannelSMS, phone), url.Values{"scope": {"tracking"}})
	if r.code != http.StatusOK {
		t.Fatalf("SMS scope=tracking = %d", r.code)
	}
	if got := e.tracking(t, tr.ID); len(got.SMSes) != 0 || !slices.Contains(got.OptedOut, dispatcher.RecipientKey(dispatcher.ChannelSMS, phone)) {
		t.Fatalf("after SMS opt-out smses %v opted out %v", got.SMSes, got.OptedOut)
	}

	// A shipment that is gone: nothing more will be sent about it; 200.
	r = postForm(t, e.link(t, tracking.ID("usps", "never-created"), dispatcher.ChannelEmail, email), url.Values{"scope": {"tracking"}})
	if r.code != http.StatusOK {
		t.Fatalf("scope=tracking for a missing tracking = %d", r.code)
	}
}

func TestUnsubscribeOneClick(t *testing.T) {
	e := newEnv(t)
	tr := e.createTracking(t, "9400100000000000000005")
	u := e.link(t, tr.ID, dispatcher.ChannelEmail, email)

	// RFC 8058: exactly what a mail client sends, no cookie, no scope.
	req, _ := http.NewRequest(http.MethodPost, u, strings.NewReader("List-Unsubscribe=One-Click"))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	if r := do(t, req); r.code != http.StatusOK {
		t.Fatalf("one-click POST = %d %s", r.code, r.body)
	}
	if s := e.suppressions(t); len(s) != 1 || s[0].Recipient != email {
		t.Fatalf("suppressions %+v", s)
	}

	// RFC 8058 allows multipart/form-data too.
	var b bytes.Buffer
	mw := multipart.NewWriter(&b)
	_ = mw.WriteField("List-Unsubscribe", "One-Click")
	_ = mw.Close()
	req, _ = http.NewRequest(http.MethodPost, e.link(t, tr.ID, dispatcher.ChannelEmail, otherEmail), &b)
	req.Header.Set("Content-Type", mw.FormDataContentType())
	if r := do(t, req); r.code != http.StatusOK {
		t.Fatalf("multipart one-click POST = %d %s", r.code, r.body)
	}
	if s := e.suppressions(t); len(s) != 2 {
		t.Fatalf("suppressions %+v, want both addresses", s)
	}
}

func TestUnsubscribeIsIdempotent(t *testing.T) {
	e := newEnv(t)
	tr := e.createTracking(t, "9400100000000000000006")
	for _, scope := range []string{"tracking", "tracking", "all", "all", ""} {
		form := url.Values{}
		if scope != "" {
			form.Set("scope", scope)
		}
		if r := postForm(t, e.link(t, tr.ID, dispatcher.ChannelEmail, email), form); r.code != http.StatusOK {
			t.Fatalf("POST scope=%q = %d %s", scope, r.code, r.body)
		}
	}
	if s := e.suppressions(t); len(s) != 1 {
		t.Fatalf("suppressions %+v, want one", s)
	}
	if got := e.tracking(t, tr.ID); len(got.OptedOut) != 1 {
		t.Fatalf("OptedOut %v, want one entry", got.OptedOut)
	}
	// The scope may come in the query string too.
	if r := postForm(t, e.link(t, tr.ID, dispatcher.ChannelEmail, otherEmail)+"?scope=tracking", nil); r.code != http.StatusOK {
		t.Fatalf("scope in query = %d", r.code)
	}
	if got := e.tracking(t, tr.ID); slices.Contains(got.Emails, otherEmail) {
		t.Fatalf("scope=tracking in the query did not opt out: %v", got.Emails)
	}
}

func TestUnsubscribeBadToken(t *testing.T) {
	e := newEnv(t)
	tr := e.createTracking(t, "9400100000000000000007")
	good := e.link(t, tr.ID, dispatcher.ChannelEmail, email)
	otherTokens, _ := optout.NewTokens([]byte("another-key-another-key-another-key"))
	for name, u := range map[string]string{
		"garbage":   e.http.URL + "/unsubscribe/not-a-token",
		"truncated": good[:len(good)-3],
		"tampered":  good[:len(good)-5] + flip(good[len(good)-5]) + good[len(good)-4:],
		"other key": e.http.URL + "/unsubscribe/" + otherTokens.Make(tr.ID, dispatcher.ChannelEmail, email),
		"very long": e.http.URL + "/unsubscribe/" + strings.Repeat("A", 4000),
		"padded":    good + "=",
	} {
		for _, method := range []string{http.MethodGet, http.MethodPost} {
			req, _ := http.NewRequest(method, u, strings.NewReader("scope=all"))
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			req.Header.Set("Accept-Language", "fr")
			r := do(t, req)
			if r.code != http.StatusNotFound || !strings.Contains(r.body, "Ce lien ne fonctionne pas") ||
				r.header.Get("Content-Type") != "text/html; charset=utf-8" {
				t.Errorf("%s %s = %d %s, want the French 404 page", method, name, r.code, r.body)
			}
		}
	}
	if s := e.suppressions(t); len(s) != 0 {
		t.Fatalf("a bad token suppressed %+v", s)
	}
}

func flip(c byte) string {
	if c == 'A' {
		return "B"
	}
	return "A"
}

func TestUnsubscribeBadRequests(t *testing.T) {
	e := newEnv(t)
	tr := e.createTracking(t, "9400100000000000000008")
	u := e.link(t, tr.ID, dispatcher.ChannelEmail, email)
	if r := postForm(t, u, url.Values{"scope": {"everything"}}); r.code != http.StatusBadRequest {
		t.Errorf("unknown scope = %d", r.code)
	}
	if r := postForm(t, e.link(t, "", dispatcher.ChannelEmail, email), url.Values{"scope": {"tracking"}}); r.code != http.StatusBadRequest {
		t.Errorf("scope=tracking on a link without tracking = %d", r.code)
	}
	req, _ := http.NewRequest(http.MethodPost, u, strings.NewReader("scope=all&x="+strings.Repeat("a", 20<<10)))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	if r := do(t, req); r.code != http.StatusRequestEntityTooLarge {
		t.Errorf("20 KiB form = %d, want 413", r.code)
	}
	if s := e.suppressions(t); len(s) != 0 {
		t.Fatalf("a bad request suppressed %+v", s)
	}
}

func TestUnsubscribeRedisDown(t *testing.T) {
	e := newEnv(t)
	tr := e.createTracking(t, "9400100000000000000009")
	e.redis.Stop()
	for _, scope := range []string{"all", "tracking", ""} {
		r := postForm(t, e.link(t, tr.ID, dispatcher.ChannelEmail, email), url.Values{"scope": {scope}})
		if r.code != http.StatusServiceUnavailable || !strings.Contains(r.body, "Please try again") {
			t.Fatalf("POST scope=%q with Redis down = %d %s", scope, r.code, r.body)
		}
	}
	// The confirmation page needs no Redis.
	if r := get(t, e.link(t, tr.ID, dispatcher.ChannelEmail, email), ""); r.code != http.StatusOK {
		t.Fatalf("GET with Redis down = %d", r.code)
	}
	// Once Redis is back, the same link works.
	e.redis.Restart()
	if r := postForm(t, e.link(t, tr.ID, dispatcher.ChannelEmail, email), nil); r.code != http.StatusOK {
		t.Fatalf("POST after restart = %d", r.code)
	}
	if s := e.suppressions(t); len(s) != 1 {
		t.Fatalf("suppressions %+v", s)
	}
}

func TestNewValidatesConfig(t *testing.T) {
	tokens, _ := optout.NewTokens(tokenKey)
	store := tracking.NewStore(nil, tracking.Options{})
	notify := state.New(nil, state.Options{})
	for _, raw := range []string{"", "notify.example.com", "ftp://notify.example.com", "https://notify.example.com/?x=1",
		"https://user:pw@notify.example.com", "https:opaque"} {
		u, _ := url.Parse(raw)
		if _, err := optout.New(optout.Config{Trackings: store, Suppressions: notify, Tokens: tokens, PublicURL: u}); err == nil {
			t.Errorf("New accepted public URL %q", raw)
		}
	}
	u, _ := url.Parse(publicURL)
	if _, err := optout.New(optout.Config{Trackings: store, Suppressions: notify, PublicURL: u}); err == nil {
		t.Error("New accepted no tokens")
	}
	if _, err := optout.New(optout.Config{Suppressions: notify, Tokens: tokens, PublicURL: u}); err == nil {
		t.Error("New accepted no tracking store")
	}
	if _, err := optout.New(optout.Config{Trackings: store, Tokens: tokens, PublicURL: u}); err == nil {
		t.Error("New accepted no suppression list")
	}
	// A trailing slash does not double.
	u, _ = url.Parse("https://notify.example.com/th/")
	h, err := optout.New(optout.Config{Trackings: store, Suppressions: notify, Tokens: tokens, PublicURL: u})
	if err != nil {
		t.Fatal(err)
	}
	if got, err := h.UnsubscribeURL(t.Context(), "id", "email", email); err != nil || !strings.HasPrefix(got, "https://notify.example.com/th/unsubscribe/") {
		t.Errorf("UnsubscribeURL = %q, %v", got, err)
	}
	// Tokens and a key loader are one too many.
	if _, err := optout.New(optout.Config{Trackings: store, Suppressions: notify, Tokens: tokens, PublicURL: u,
		LoadKey: func(context.Context) ([]byte, error) { return tokenKey, nil }}); err == nil {
		t.Error("New accepted both Tokens and LoadKey")
	}
}

func TestLocalesAreComplete(t *testing.T) {
	// Through the pages: every language's every page has no blank and no
	// unfilled %s. (The texts struct makes a missing field a compile error;
	// this catches empty strings and broken format verbs.)
	e := newEnv(t)
	tr := e.createTracking(t, "9400100000000000000010")
	for _, lang := range []string{"en", "de", "fr", "es"} {
		pages := []response{
			get(t, e.link(t, tr.ID, dispatcher.ChannelEmail, email), lang),
			get(t, e.http.URL+"/unsubscribe/x", lang),
		}
		for _, scope := range []string{"tracking", "all"} {
			req, _ := http.NewRequest(http.MethodPost, e.link(t, tr.ID, dispatcher.ChannelEmail, email), strings.NewReader("scope="+scope))
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			req.Header.Set("Accept-Language", lang)
			pages = append(pages, do(t, req))
		}
		for i, p := range pages {
			if !strings.Contains(p.body, `<html lang="`+lang+`">`) || strings.Contains(p.body, "%!") ||
				strings.Contains(p.body, "<p></p>") || strings.Contains(p.body, "<h1></h1>") || strings.Contains(p.body, "></button>") {
				t.Errorf("%s page %d:\n%s", lang, i, p.body)
			}
		}
	}
}

// With the key kept in Redis, a process can start while Redis is down: the
// links cannot be made and the pages answer 503 (try again, not "broken
// link"); once Redis is back the key loads and everything works, with the
// same key in every process.
func TestKeyLoadedOnceRedisIsBack(t *testing.T) {
	rs := redistest.Start(t)
	store := tracking.NewStore(rs.Client(), tracking.Options{})
	u, _ := url.Parse(publicURL)
	h, err := optout.New(optout.Config{Trackings: store, Suppressions: state.New(rs.Client(), state.Options{}), PublicURL: u,
		LoadKey: func(ctx context.Context) ([]byte, error) { return store.Secret(ctx, "unsubscribe") },
		Logger:  slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		t.Fatal(err)
	}
	r := mux.NewRouter()
	h.Register(r)
	srv := httptest.NewServer(r)
	t.Cleanup(srv.Close)

	rs.Stop()
	ctx, cancel := context.WithTimeout(t.Context(), 5*time.Second)
	defer cancel()
	if link, err := h.UnsubscribeURL(ctx, "trk", "email", "kim@example.com"); err == nil {
		t.Fatalf("a link without the key: %q", link)
	}
	resp, err := http.Get(srv.URL + "/unsubscribe/AQVlbWFpbAN0cmtraW0")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusServiceUnavailable || resp.Header.Get("Retry-After") == "" {
		t.Fatalf("page while the key cannot be loaded: %d (Retry-After %q), want 503 with Retry-After", resp.StatusCode, resp.Header.Get("Retry-After"))
	}

	rs.Restart()
	link, err := h.UnsubscribeURL(t.Context(), "trk", "email", "kim@example.com")
	if err != nil {
		t.Fatal(err)
	}
	resp, err = http.Get(srv.URL + strings.TrimPrefix(link, publicURL))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("the page once Redis is back: %d", resp.StatusCode)
	}
	// Another process loads the same key: its links are accepted here.
	key, err := store.Secret(t.Context(), "unsubscribe")
	if err != nil {
		t.Fatal(err)
	}
	other, _ := optout.NewTokens(key)
	if _, err := other.Parse(strings.TrimPrefix(link, publicURL+"/unsubscribe/")); err != nil {
		t.Fatalf("the loaded key is not the one in Redis: %v", err)
	}
}
