// Package sms delivers dispatcher.SMS values: through the Twilio Messages API
// or a compatible gateway (Twilio), or as text files in a folder (Dir), the
// embedded default when no provider is configured.
//
// Errors are control flow for the worker: an error wrapping
// dispatcher.ErrPermanent means the provider refused this message (an
// invalid or unsubscribed number, say) and retrying cannot help; a
// *dispatcher.RetryAfterError says when to try again; every other error is
// temporary. Numbers in error texts are masked with dispatcher/redact.
package sms

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/trackhook/trackhook/dispatcher"
	"github.com/trackhook/trackhook/dispatcher/redact"
)

// DefaultBaseURL is Twilio's API.
const DefaultBaseURL = "https://api.twilio.com"

// maxResponse bounds how much of a response body is read.
const maxResponse = 64 << 10

// maxRetryAfter caps a provider's Retry-After, so a broken header cannot park
// a task for years.
const maxRetryAfter = 24 * time.Hour

// TwilioConfig configures a Twilio sender.
type TwilioConfig struct {
	AccountSID string // "AC…", also the Basic auth user (or an API key SID "SK…" with its secret)
	AuthToken  string
	From       string // sender number (E.164) or alphanumeric sender ID
	BaseURL    string // default DefaultBaseURL; a compatible gateway's URL
	HTTPClient *http.Client
	// Now is the clock against which a Retry-After HTTP date becomes a
	// delay; nil is time.Now.
	Now func() time.Time
}

// String describes the configuration without the token.
func (c TwilioConfig) String() string {
	base := c.BaseURL
	if base == "" {
		base = DefaultBaseURL
	}
	return fmt.Sprintf("twilio %s account=%s from=%s token=%s", base, c.AccountSID, c.From, map[bool]string{true: "(set)", false: "(empty)"}[c.AuthToken != ""])
}

// GoString is String, so %#v does not print the token either.
func (c TwilioConfig) GoString() string { return c.String() }

// Twilio sends SMS through the Twilio Messages API. It implements
// dispatcher.SMSSender and dispatcher.SMSFinder (FindSent, in find.go) and is
// safe for concurrent use.
type Twilio struct {
	endpoint    string
	sid, token  string
	from        string
	client      *http.Client
	userAgent   string
	maxResponse int64
	now         func() time.Time

	// FindSent's list requests: PageSize, and the bound on one page's body
	// (tests lower both).
	pageSize        int
	maxListResponse int64
}

// maxIdleConns is how many idle connections to the API the default client
// keeps: more than a worker's concurrent sends.
const maxIdleConns = 256

// NewTwilio checks cfg and returns a sender. Without an HTTPClient it uses
// one with a 10 s timeout.
func NewTwilio(cfg TwilioConfig) (*Twilio, error) {
	switch {
	case strings.TrimSpace(cfg.AccountSID) == "":
		return nil, errors.New("twilio config: account SID is empty")
	case cfg.AuthToken == "":
		return nil, errors.New("twilio config: auth token is empty")
	case strings.TrimSpace(cfg.From) == "":
		return nil, errors.New("twilio config: sender (From) is empty")
	}
	base := cfg.BaseURL
	if base == "" {
		base = DefaultBaseURL
	}
	u, err := url.Parse(base)
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" || u.User != nil || u.RawQuery != "" {
		return nil, fmt.Errorf("twilio config: base URL %q: want http(s)://host[/path] without credentials or query", redactURL(base))
	}
	client := cfg.HTTPClient
	if client == nil {
		// Keep as many connections to the API as sends run at once: with
		// http.DefaultTransport's two idle connections per host, every
		// further concurrent send would open (and TLS-handshake) a new one.
		t := http.DefaultTransport.(*http.Transport).Clone()
		t.MaxIdleConnsPerHost = maxIdleConns
		client = &http.Client{Timeout: 10 * time.Second, Transport: t}
	}
	now := cfg.Now
	if now == nil {
		now = time.Now
	}
	return &Twilio{
		now:         now,
		endpoint:    strings.TrimRight(u.String(), "/") + "/2010-04-01/Accounts/" + url.PathEscape(cfg.AccountSID) + "/Messages.json",
		sid:         cfg.AccountSID,
		token:       cfg.AuthToken,
		from:        cfg.From,
		client:      client,
		userAgent:   "trackhook",
		maxResponse: maxResponse,

		pageSize:        findPageSize,
		maxListResponse: maxListResponse,
	}, nil
}

// redactURL drops user info from a URL that may carry it.
func redactURL(s string) string {
	if u, err := url.Parse(s); err == nil && u.User != nil {
		u.User = url.User("***")
		return u.String()
	}
	if strings.Contains(s, "@") {
		return "(hidden)"
	}
	return s
}

// APIError is the error Twilio answered with (its JSON error body, with the
// recipient's number masked in Message). Reach it with errors.As.
type APIError struct {
	HTTPStatus int
	Code       int    // Twilio error code, e.g. 21211; 0 when the body was not Twilio's JSON
	Message    string // masked
	MoreInfo   string
}

func (e *APIError) Error() string {
	if e.Code == 0 {
		return fmt.Sprintf("HTTP %d: %s", e.HTTPStatus, e.Message)
	}
	return fmt.Sprintf("twilio error %d: %s (HTTP %d)", e.Code, e.Message, e.HTTPStatus)
}

// Send posts m to the Messages API and returns the message SID.
//
// 2xx: accepted. 429 or 503 with Retry-After: *dispatcher.RetryAfterError.
// Other 5xx, network errors and timeouts: temporary. 401, 403, 404, 408 and
// 429 without Retry-After: temporary too, because they mean wrong
// credentials, account or URL, or overload; an operator's fix makes the
// retries work, while archiving would drop every message. Other 4xx (an
// invalid or opted-out number, a body too long): permanent.
func (t *Twilio) Send(ctx context.Context, m dispatcher.SMS) (string, error) {
	who := redact.Phone(m.To)
	if strings.TrimSpace(m.To) == "" {
		return "", fmt.Errorf("sms: empty recipient number: %w", dispatcher.ErrPermanent)
	}
	form := url.Values{"To": {m.To}, "From": {t.from}, "Body": {m.Body}}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, t.endpoint, strings.NewReader(form.Encode()))
	if err != nil {
		return "", fmt.Errorf("sms: sending to %s: %w", who, err)
	}
	req.SetBasicAuth(t.sid, t.token)
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Accept", "application/json")
	req.Header.Set("User-Agent", t.userAgent)

	resp, err := t.client.Do(req)
	if err != nil {
		// *url.Error names the endpoint (account SID, never the token).
		return "", fmt.Errorf("sms: sending to %s: %w", who, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, t.maxResponse))
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, t.maxResponse)) // let the connection be reused

	if resp.StatusCode >= 200 && resp.StatusCode < 300 {
		// Accepted. A body we cannot read must not turn into a retry (a
		// duplicate SMS); the id is then unknown.
		var ok struct {
			SID string `json:"sid"`
		}
		if err == nil {
			_ = json.Unmarshal(body, &ok)
		}
		return ok.SID, nil
	}

	apiErr := parseAPIError(resp.StatusCode, body, m.To)
	wrapped := fmt.Errorf("sms: sending to %s: %w", who, apiErr)
	switch status := resp.StatusCode; {
	case status == http.StatusTooManyRequests || status == http.StatusServiceUnavailable:
		if after, ok := parseRetryAfter(resp.Header.Get("Retry-After"), t.now()); ok {
			return "", &dispatcher.RetryAfterError{After: after, Err: wrapped}
		}
		return "", wrapped
	case status >= 500, status == http.StatusUnauthorized, status == http.StatusForbidden,
		status == http.StatusNotFound, status == http.StatusRequestTimeout:
		return "", wrapped
	case status >= 400:
		return "", fmt.Errorf("sms: %s rejected: %w: %w", who, apiErr, dispatcher.ErrPermanent)
	}
	// 1xx/3xx should not reach here (the client follows redirects).
	return "", wrapped
}

var _ dispatcher.SMSSender = (*Twilio)(nil)

// parseAPIError reads Twilio's error JSON, masking the number wherever the
// message repeats it ("The 'To' number +15005550001 is not a valid phone
// number.").
func parseAPIError(status int, body []byte, to string) *APIError {
	var j struct {
		Code     int    `json:"code"`
		Message  string `json:"message"`
		MoreInfo string `json:"more_info"`
	}
	e := &APIError{HTTPStatus: status}
	if json.Unmarshal(body, &j) == nil && (j.Code != 0 || j.Message != "") {
		e.Code, e.Message, e.MoreInfo = j.Code, j.Message, j.MoreInfo
	} else {
		e.Message = http.StatusText(status)
		if e.Message == "" {
			e.Message = "unexpected answer"
		}
	}
	e.Message = maskNumber(truncate(e.Message, 300), to)
	return e
}

// maskNumber masks the number in s, with or without its leading '+'.
func maskNumber(s, num string) string {
	num = strings.TrimSpace(num)
	if num == "" {
		return s
	}
	masked := redact.Phone(num)
	s = strings.ReplaceAll(s, num, masked)
	if bare := strings.TrimPrefix(num, "+"); len(bare) >= 4 && bare != num {
		s = strings.ReplaceAll(s, bare, strings.TrimPrefix(masked, "+"))
	}
	return s
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	r := []rune(s[:n])
	return string(r[:len(r)-1]) + "…"
}

// parseRetryAfter reads Retry-After as seconds or an HTTP date (RFC 9110
// 10.2.3). A date in the past means "now".
func parseRetryAfter(v string, now time.Time) (time.Duration, bool) {
	v = strings.TrimSpace(v)
	if v == "" {
		return 0, false
	}
	if secs, err := strconv.ParseInt(v, 10, 64); err == nil {
		if secs < 0 {
			return 0, false
		}
		if secs > int64(maxRetryAfter/time.Second) {
			return maxRetryAfter, true
		}
		return time.Duration(secs) * time.Second, true
	}
	when, err := http.ParseTime(v)
	if err != nil {
		return 0, false
	}
	return min(max(when.Sub(now), 0), maxRetryAfter), true
}
