// Package twiliotest runs an HTTP server that speaks the Twilio Messages API
// (POST /2010-04-01/Accounts/{AccountSid}/Messages.json) for tests: it checks
// the path, HTTP Basic auth and the form fields like Twilio does, records the
// messages it accepts and answers with Twilio-shaped JSON, and can be told
// to fail the way Twilio does (rate limits, invalid numbers, outages).
package twiliotest

import (
	"crypto/rand"
	"crypto/subtle"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
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

	mu       sync.Mutex
	messages []Message
	requests int
	notify   chan struct{}
	failNext *failure
	reject   map[string]apiError
	rejected map[string]int // requests refused by RejectNumber, per number
	window   *window
	latency  time.Duration
}

// Failure is one programmed error answer: the HTTP status, Twilio's error
// code, and a Retry-After header when RetryAfter is not empty.
type Failure struct {
	Status     int
	Code       int
	RetryAfter string
}

// window is a time span during which every message fails.
type window struct {
	until    time.Time
	failures []Failure
	next     int
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

// Requests is the number of requests received, accepted or not.
func (s *Server) Requests() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.requests
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
// FailNext(1, 429, 20429, "7") or FailNext(1, 500, 20500, "").
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

// FailFor makes every well-formed, authenticated request fail for the next
// d, as an API in trouble does: each request gets the next of failures in
// turn. For example
//
//	srv.FailFor(30*time.Second,
//		twiliotest.Failure{Status: 500, Code: 20500},
//		twiliotest.Failure{Status: 429, Code: 20429, RetryAfter: "2"})
//
// RejectNumber answers before it; FailFor replaces an earlier window.
func (s *Server) FailFor(d time.Duration, failures ...Failure) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(failures) == 0 {
		s.window = nil
		return
	}
	s.window = &window{until: time.Now().Add(d), failures: append([]Failure(nil), failures...)}
}

// RejectedNumber is the number of requests for to that RejectNumber
// refused: how often a client tried a number it was told is invalid.
func (s *Server) RejectedNumber(to string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.rejected[to]
}

// SetLatency delays every answer by d (for client timeouts).
func (s *Server) SetLatency(d time.Duration) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.latency = d
}

func (s *Server) serveHTTP(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	s.requests++
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
	if r.Method != http.MethodPost {
		w.Header().Set("Allow", http.MethodPost)
		writeError(w, http.StatusMethodNotAllowed, 20004, "Method not allowed")
		return
	}

	r.Body = http.MaxBytesReader(w, r.Body, 64<<10)
	if err := r.ParseForm(); err != nil {
		writeError(w, http.StatusBadRequest, 20001, "Could not parse the request body")
		return
	}
	if latency > 0 {
		// After the body is read, so net/http notices a client that gives
		// up and cancels r.Context.
		select {
		case <-time.After(latency):
		case <-r.Context().Done():
			return
		}
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
	if win := s.window; win != nil {
		if time.Now().Before(win.until) {
			f := win.failures[win.next%len(win.failures)]
			win.next++
			s.mu.Unlock()
			if f.RetryAfter != "" {
				w.Header().Set("Retry-After", f.RetryAfter)
			}
			writeError(w, f.Status, f.Code, http.StatusText(f.Status))
			return
		}
		s.window = nil
	}
	if f := s.failNext; f != nil && f.n > 0 {
		f.n--
		if f.n == 0 {
			s.failNext = nil
		}
		s.mu.Unlock()
		if f.retryAfter != "" {
			w.Header().Set("Retry-After", f.retryAfter)
		}
		writeError(w, f.status, f.code, http.StatusText(f.status))
		return
	}
	m := Message{To: to, From: from, Body: body, SID: newSID(), Received: time.Now()}
	s.messages = append(s.messages, m)
	close(s.notify)
	s.notify = make(chan struct{})
	s.mu.Unlock()

	now := time.Now().UTC().Format(time.RFC1123Z) // Twilio: "Thu, 21 Nov 2024 05:00:00 +0000"
	uri := prefix + s.accountSID + "/Messages/" + m.SID
	writeJSON(w, http.StatusCreated, map[string]any{
		"sid":                   m.SID,
		"account_sid":           s.accountSID,
		"messaging_service_sid": nil,
		"to":                    m.To,
		"from":                  m.From,
		"body":                  m.Body,
		"status":                "queued",
		"direction":             "outbound-api",
		"num_segments":          strconv.Itoa(Segments(m.Body)),
		"num_media":             "0",
		"error_code":            nil,
		"error_message":         nil,
		"price":                 nil,
		"price_unit":            "USD",
		"api_version":           "2010-04-01",
		"date_created":          now,
		"date_updated":          now,
		"date_sent":             nil,
		"uri":                   uri + ".json",
		"subresource_uris":      map[string]string{"media": uri + "/Media.json"},
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
