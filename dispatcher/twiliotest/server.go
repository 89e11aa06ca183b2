// Package twiliotest runs an HTTP server that speaks the Twilio Messages API
// (POST /2010-04-01/Accounts/{AccountSid}/Messages.json to send, GET on the
// same path to list) for tests: it checks the path, HTTP Basic auth and the
// form fields like Twilio does, records the messages it accepts and answers
// with Twilio-shaped JSON, and can be told to fail the way Twilio does (rate
// limits, invalid numbers, outages).
package twiliotest

import (
	"crypto/rand"
	"crypto/subtle"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
	"unicode/utf16"
)

// Message is one message the server accepted.
type Message struct {
	To, From, Body string
	SID            string    // "SM" + 32 hex digits, as returned to the client
	Received       time.Time // when the server accepted it (before it answered)
}

// Server is a fake Twilio Messages API on httptest. All methods are safe for
// concurrent use.
type Server struct {
	accountSID, authToken string
	ts                    *httptest.Server

	mu           sync.Mutex
	messages     []Message
	status       map[string]statusChange // by SID, set by SetStatus
	requests     int
	listRequests int
	notify       chan struct{}
	failNext     *failure
	reject       map[string]apiError
	rejected     map[string]int // requests refused by RejectNumber, per number
	outage       *outage        // set by Fail, cleared by Recover
	latency      time.Duration
}

// Failure is one programmed error answer: the HTTP status, Twilio's error
// code, and a Retry-After header when RetryAfter is not empty.
type Failure struct {
	Status     int
	Code       int
	RetryAfter string
}

// statusChange is a status SetStatus gave a message.
type statusChange struct {
	status    string
	errorCode int
	at        time.Time
}

// outage is a span, started by Fail and ended by Recover, during which
// every request fails.
type outage struct {
	failures []Failure
	next     int // the failure the next request gets, modulo len(failures)
	refused  int // requests it refused so far
}

type failure struct {
	n          int
	status     int
	code       int
	retryAfter string
}

// apiError is Twilio's error body (twilio-go client/error.go).
type apiError struct {
	Code     int    `json:"code"`
	Message  string `json:"message"`
	MoreInfo string `json:"more_info"`
	Status   int    `json:"status"`
}

// NewServer starts a server for one account; it is closed when the test ends.
func NewServer(tb testing.TB, accountSID, authToken string) *Server {
	tb.Helper()
	s := &Server{
		accountSID: accountSID,
		authToken:  authToken,
		notify:     make(chan struct{}),
		status:     map[string]statusChange{},
		reject:     map[string]apiError{},
		rejected:   map[string]int{},
	}
	s.ts = httptest.NewServer(http.HandlerFunc(s.serveHTTP))
	tb.Cleanup(s.ts.Close)
	return s
}

// URL is the base URL, for TwilioConfig.BaseURL.
func (s *Server) URL() string { return s.ts.URL }

// Close shuts the server down (Cleanup does it too); later requests fail to
// connect, like an outage.
func (s *Server) Close() { s.ts.Close() }

// Requests is the number of requests received, accepted or not. List
// requests count too; ListRequests counts them alone.
func (s *Server) Requests() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.requests
}

// ListRequests is the number of GET requests (message list requests)
// received, answered or not.
func (s *Server) ListRequests() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.listRequests
}

// SetStatus changes the status the list shows for the accepted message with
// the given SID, as Twilio does when a carrier refuses a message later, e.g.
// SetStatus(sid, "undelivered", 30003) or SetStatus(sid, "delivered", 0).
// errorCode 0 lists as null. It returns false when no such message exists.
// The message stays in Messages.
func (s *Server) SetStatus(sid, status string, errorCode int) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, m := range s.messages {
		if m.SID == sid {
			s.status[sid] = statusChange{status: status, errorCode: errorCode, at: time.Now()}
			return true
		}
	}
	return false
}

// Messages returns the accepted messages, oldest first.
func (s *Server) Messages() []Message {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Message(nil), s.messages...)
}

// WaitForMessages waits until at least n messages were accepted and returns
// them; it fails the test after timeout.
func (s *Server) WaitForMessages(tb testing.TB, n int, timeout time.Duration) []Message {
	tb.Helper()
	deadline := time.NewTimer(timeout)
	defer deadline.Stop()
	for {
		s.mu.Lock()
		got, notify := len(s.messages), s.notify
		s.mu.Unlock()
		if got >= n {
			return s.Messages()
		}
		select {
		case <-notify:
		case <-deadline.C:
			tb.Fatalf("twiliotest: got %d messages after %v, want %d", got, timeout, n)
			return nil
		}
	}
}

// FailNext makes the next n well-formed, authenticated requests fail with
// httpStatus and a Twilio error body carrying twilioCode, with a Retry-After
// header when retryAfter is not empty ("7" or an HTTP date). For example
// FailNext(1, 429, 20429, "7") or FailNext(1, 500, 20500, ""). List (GET)
// requests are requests too: a client that lists before it sends uses up
// one of the n with the list.
func (s *Server) FailNext(n, httpStatus, twilioCode int, retryAfter string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.failNext = &failure{n: n, status: httpStatus, code: twilioCode, retryAfter: retryAfter}
}

// RejectNumber makes every message to the number fail, e.g.
// RejectNumber("+15005550001", 400, 21211, "The 'To' number +15005550001 is
// not a valid phone number.").
func (s *Server) RejectNumber(to string, httpStatus, twilioCode int, message string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.reject[to] = apiError{Code: twilioCode, Message: message, Status: httpStatus}
}

// Fail starts an outage, as an API in trouble has: from now until Recover
// every well-formed, authenticated request fails, each with the next of
// failures in turn. Without failures it is 503 with code 20503. For example
//
//	srv.Fail(
//		twiliotest.Failure{Status: 500, Code: 20500},
//		twiliotest.Failure{Status: 429, Code: 20429, RetryAfter: "2"})
//	… // the test's own timeline: requests, recorded state
//	refused := srv.Recover()
//
// The outage has no clock: it lasts until the test calls Recover. List
// (GET) requests fail in it too, and it comes before FailNext, which it
// leaves untouched. RejectNumber answers before it; Fail replaces an outage
// already going on. For a number of failures rather than a span, use
// FailNext.
func (s *Server) Fail(failures ...Failure) {
	if len(failures) == 0 {
		failures = []Failure{{Status: http.StatusServiceUnavailable, Code: 20503}}
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.outage = &outage{failures: append([]Failure(nil), failures...)}
}

// Recover ends the outage Fail started and returns the number of requests
// it refused (0 when there was none). A request answered after Recover
// returns does not fail because of the outage.
func (s *Server) Recover() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	o := s.outage
	s.outage = nil
	if o == nil {
		return 0
	}
	return o.refused
}

// RejectedNumber is the number of requests for to that RejectNumber
// refused: how often a client tried a number it was told is invalid.
func (s *Server) RejectedNumber(to string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.rejected[to]
}

// SetLatency delays every answer by d (for client timeouts), list answers
// too.
func (s *Server) SetLatency(d time.Duration) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.latency = d
}

func (s *Server) serveHTTP(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	s.requests++
	if r.Method == http.MethodGet {
		s.listRequests++
	}
	latency := s.latency
	s.mu.Unlock()

	prefix := "/2010-04-01/Accounts/"
	sid, ok := strings.CutPrefix(r.URL.Path, prefix)
	if !ok || !strings.HasSuffix(sid, "/Messages.json") {
		writeError(w, http.StatusNotFound, 20404, "The requested resource "+r.URL.Path+" was not found")
		return
	}
	sid = strings.TrimSuffix(sid, "/Messages.json")

	user, pass, ok := r.BasicAuth()
	if !ok || subtle.ConstantTimeCompare([]byte(user), []byte(s.accountSID)) != 1 ||
		subtle.ConstantTimeCompare([]byte(pass), []byte(s.authToken)) != 1 {
		w.Header().Set("WWW-Authenticate", `Basic realm="Twilio API"`)
		writeError(w, http.StatusUnauthorized, 20003, "Authenticate")
		return
	}
	if sid != s.accountSID {
		writeError(w, http.StatusNotFound, 20404, "The requested resource "+r.URL.Path+" was not found")
		return
	}
	if r.Method == http.MethodGet {
		s.serveList(w, r, latency)
		return
	}
	if r.Method != http.MethodPost {
		w.Header().Set("Allow", "GET, POST")
		writeError(w, http.StatusMethodNotAllowed, 20004, "Method not allowed")
		return
	}

	r.Body = http.MaxBytesReader(w, r.Body, 64<<10)
	if err := r.ParseForm(); err != nil {
		writeError(w, http.StatusBadRequest, 20001, "Could not parse the request body")
		return
	}
	// After the body is read, so net/http notices a client that gives up
	// and cancels r.Context.
	if !wait(r, latency) {
		return
	}
	to, from, body := r.PostForm.Get("To"), r.PostForm.Get("From"), r.PostForm.Get("Body")
	switch {
	case to == "":
		writeError(w, http.StatusBadRequest, 21604, "A 'To' phone number is required.")
		return
	case from == "" && r.PostForm.Get("MessagingServiceSid") == "":
		writeError(w, http.StatusBadRequest, 21603, "A 'From' phone number is required.")
		return
	case body == "" && r.PostForm.Get("MediaUrl") == "" && r.PostForm.Get("ContentSid") == "":
		writeError(w, http.StatusBadRequest, 21602, "Message body is required.")
		return
	case len([]rune(body)) > 1600:
		writeError(w, http.StatusBadRequest, 21617, "The concatenated message body exceeds the 1600 character limit.")
		return
	}

	s.mu.Lock()
	if rej, ok := s.reject[to]; ok {
		s.rejected[to]++
		s.mu.Unlock()
		writeError(w, rej.Status, rej.Code, rej.Message)
		return
	}
	if f, ok := s.programmedFailureLocked(); ok {
		s.mu.Unlock()
		f.write(w)
		return
	}
	m := Message{To: to, From: from, Body: body, SID: newSID(), Received: time.Now()}
	s.messages = append(s.messages, m)
	close(s.notify)
	s.notify = make(chan struct{})
	s.mu.Unlock()

	writeJSON(w, http.StatusCreated, s.messageJSON(m, "queued", 0, time.Time{}, m.Received))
}

// programmedFailureLocked takes the failure an outage (Fail) or FailNext
// has for the current request, if any. s.mu is held.
func (s *Server) programmedFailureLocked() (Failure, bool) {
	if o := s.outage; o != nil {
		f := o.failures[o.next%len(o.failures)]
		o.next++
		o.refused++
		return f, true
	}
	if f := s.failNext; f != nil && f.n > 0 {
		f.n--
		if f.n == 0 {
			s.failNext = nil
		}
		return Failure{Status: f.status, Code: f.code, RetryAfter: f.retryAfter}, true
	}
	return Failure{}, false
}

func (f Failure) write(w http.ResponseWriter) {
	if f.RetryAfter != "" {
		w.Header().Set("Retry-After", f.RetryAfter)
	}
	writeError(w, f.Status, f.Code, http.StatusText(f.Status))
}

// messagesPath is the list resource's path, without a query.
func (s *Server) messagesPath() string {
	return "/2010-04-01/Accounts/" + s.accountSID + "/Messages.json"
}

// twilioTime formats t as Twilio does: RFC 2822, "Thu, 21 Nov 2024 05:00:00
// +0000".
func twilioTime(t time.Time) string { return t.UTC().Format(time.RFC1123Z) }

// messageJSON is a Message resource as Twilio shows it. A zero sent lists
// date_sent as null.
func (s *Server) messageJSON(m Message, status string, errorCode int, sent, updated time.Time) map[string]any {
	uri := "/2010-04-01/Accounts/" + s.accountSID + "/Messages/" + m.SID
	var code, dateSent any
	if errorCode != 0 {
		code = errorCode
	}
	if !sent.IsZero() {
		dateSent = twilioTime(sent)
	}
	return map[string]any{
		"sid":                   m.SID,
		"account_sid":           s.accountSID,
		"messaging_service_sid": nil,
		"to":                    m.To,
		"from":                  m.From,
		"body":                  m.Body,
		"status":                status,
		"direction":             "outbound-api",
		"num_segments":          strconv.Itoa(Segments(m.Body)),
		"num_media":             "0",
		"error_code":            code,
		"error_message":         nil,
		"price":                 nil,
		"price_unit":            "USD",
		"api_version":           "2010-04-01",
		"date_created":          twilioTime(m.Received),
		"date_updated":          twilioTime(updated),
		"date_sent":             dateSent,
		"uri":                   uri + ".json",
		"subresource_uris":      map[string]string{"media": uri + "/Media.json"},
	}
}

// sentAfter is how long an accepted message lists as "queued" (date_sent
// null) before it lists as "sent".
const sentAfter = time.Second

// listedJSON is m as the list shows it now.
func (s *Server) listedJSON(m Message, change statusChange, changed bool, now time.Time) map[string]any {
	if changed {
		sent := time.Time{}
		switch change.status {
		case "queued", "accepted", "scheduled", "sending", "failed", "canceled":
		default: // sent, delivered, undelivered, read…
			sent = m.Received.Add(sentAfter)
		}
		return s.messageJSON(m, change.status, change.errorCode, sent, change.at)
	}
	if now.Sub(m.Received) < sentAfter {
		return s.messageJSON(m, "queued", 0, time.Time{}, m.Received)
	}
	sent := m.Received.Add(sentAfter)
	return s.messageJSON(m, "sent", 0, sent, sent)
}

// serveList answers GET .../Messages.json like Twilio's Read multiple
// Message resources: filters To and From, PageSize (default 50, at most
// 1000), newest first, with Page and PageToken paging ("PA"+SID: the page
// after that message; "PB"+SID: the page before it).
func (s *Server) serveList(w http.ResponseWriter, r *http.Request, latency time.Duration) {
	q := r.URL.Query()
	size := 50
	if v := q.Get("PageSize"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 {
			writeError(w, http.StatusBadRequest, 20001, "Invalid PageSize")
			return
		}
		size = min(n, 1000)
	}
	page := 0
	if v := q.Get("Page"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 0 {
			writeError(w, http.StatusBadRequest, 20001, "Invalid Page")
			return
		}
		page = n
	}
	token := q.Get("PageToken")
	if token != "" && !strings.HasPrefix(token, "PA") && !strings.HasPrefix(token, "PB") {
		writeError(w, http.StatusBadRequest, 20001, "Invalid PageToken")
		return
	}
	if !wait(r, latency) {
		return
	}
	to, from := q.Get("To"), q.Get("From")

	s.mu.Lock()
	if f, ok := s.programmedFailureLocked(); ok {
		s.mu.Unlock()
		f.write(w)
		return
	}
	now := time.Now()
	var list []map[string]any
	var sids []string
	for i := len(s.messages) - 1; i >= 0; i-- { // newest first
		m := s.messages[i]
		if (to != "" && m.To != to) || (from != "" && m.From != from) {
			continue
		}
		change, changed := s.status[m.SID]
		list = append(list, s.listedJSON(m, change, changed, now))
		sids = append(sids, m.SID)
	}
	s.mu.Unlock()

	start := len(sids) // a Page past the end (checked first: page*size may overflow)
	if page <= len(sids)/size {
		start = page * size
	}
	end := -1
	if token != "" {
		at := -1
		for i, sid := range sids {
			if sid == token[2:] {
				at = i
				break
			}
		}
		if at < 0 {
			writeError(w, http.StatusBadRequest, 20001, "Invalid PageToken")
			return
		}
		if token[:2] == "PA" {
			start = at + 1
		} else {
			start, end = max(at-size, 0), at
		}
	}
	start = min(start, len(sids))
	if end < 0 {
		end = min(start+size, len(sids))
	}
	items := list[start:end]
	if items == nil {
		items = []map[string]any{}
	}

	pageURI := func(page int, token string) string {
		v := url.Values{"PageSize": {strconv.Itoa(size)}, "Page": {strconv.Itoa(page)}}
		if to != "" {
			v.Set("To", to)
		}
		if from != "" {
			v.Set("From", from)
		}
		if token != "" {
			v.Set("PageToken", token)
		}
		return s.messagesPath() + "?" + v.Encode()
	}
	var next, prev any
	if end < len(sids) && end > 0 {
		next = pageURI(page+1, "PA"+sids[end-1])
	}
	if start > 0 && start < len(sids) {
		prev = pageURI(max(page-1, 0), "PB"+sids[start])
	}
	writeJSON(w, http.StatusOK, map[string]any{
		"messages":          items,
		"page":              page,
		"page_size":         size,
		"start":             start,
		"end":               start + max(len(items)-1, 0),
		"uri":               r.URL.RequestURI(),
		"first_page_uri":    pageURI(0, ""),
		"next_page_uri":     next,
		"previous_page_uri": prev,
	})
}

func writeError(w http.ResponseWriter, status, code int, message string) {
	writeJSON(w, status, apiError{
		Code:     code,
		Message:  message,
		MoreInfo: fmt.Sprintf("https://www.twilio.com/docs/errors/%d", code),
		Status:   status,
	})
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

func newSID() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	return "SM" + hex.EncodeToString(b[:])
}

// gsm7 is the GSM 03.38 basic character set; gsm7ext characters take two
// septets (an escape first).
const (
	gsm7    = "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà"
	gsm7ext = "^{}\\[~]|€\f"
)

// Segments is how many SMS segments body needs, as Twilio bills them: GSM-7
// fits 160 septets in one segment and 153 per part when split; one character
// outside GSM-7 makes the whole message UCS-2, 70 UTF-16 units in one
// segment and 67 per part.
func Segments(body string) int {
	septets, isGSM := 0, true
	for _, r := range body {
		switch {
		case strings.ContainsRune(gsm7, r):
			septets++
		case strings.ContainsRune(gsm7ext, r):
			septets += 2
		default:
			isGSM = false
		}
	}
	if isGSM {
		return parts(septets, 160, 153)
	}
	return parts(len(utf16.Encode([]rune(body))), 70, 67)
}

func parts(n, single, multi int) int {
	if n <= single {
		return 1
	}
	return (n + multi - 1) / multi
}

// wait sleeps d (the configured latency) unless the client gives up first;
// it reports whether to answer.
func wait(r *http.Request, d time.Duration) bool {
	if d <= 0 {
		return true
	}
	select {
	case <-time.After(d):
		return true
	case <-r.Context().Done():
		return false
	}
}
