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

const (
	// findPageSize is the PageSize FindSent asks for (Twilio's default).
	findPageSize = 50
	// findMaxPages bounds how many list pages one FindSent call reads.
	findMaxPages = 5
	// findSkew is how much earlier than since a message may have been
	// created and still count: the provider's clock and ours differ.
	findSkew = time.Minute
	// maxListResponse bounds one list page. maxResponse (64 KiB) is too
	// small here: a message object is about 1 KB of JSON besides its body,
	// and a body may have 1600 characters, so 50 of them can take several
	// hundred KB.
	maxListResponse = 2 << 20
)

// FindSent looks through the Messages list resource (GET
// {base}/2010-04-01/Accounts/{AccountSid}/Messages.json?To=…&From=…&PageSize=50)
// for a message to m.To from the configured sender with exactly m.Body,
// created no earlier than since minus a minute (clock skew), whose status
// is not failed, undelivered or canceled (those never reached the customer,
// so sending again is right). It returns that message's SID.
//
// Twilio lists newest first. FindSent follows next_page_uri (at most 5
// pages) while the page still reaches back into the window; it stops at the
// first page whose oldest entry is older. For that it takes a message's
// date_sent when there is one (Twilio documents the list as sorted by
// DateSent, and a queued message has none yet), else its date_created. When
// the pages run out of the limit first, the answer is "not found": hundreds
// of messages to one customer in the window is a problem of its own.
//
// Errors: 404 (or 405/501) on the first page means the provider cannot list
// messages: the error wraps dispatcher.ErrCannotFind. 429 or 503 with
// Retry-After: *dispatcher.RetryAfterError. Every other failure (another
// status, a network error, a body that is not a message list) is a plain,
// temporary error. None wraps dispatcher.ErrPermanent. The number is masked
// in every error text.
func (t *Twilio) FindSent(ctx context.Context, m dispatcher.SMS, since time.Time) (string, bool, error) {
	if strings.TrimSpace(m.To) == "" {
		// Nothing can have been sent to no number (and an empty To filter
		// would list the whole account); Send refuses it.
		return "", false, nil
	}
	cutoff := since.Add(-findSkew)
	query := url.Values{"To": {m.To}, "From": {t.from}, "PageSize": {strconv.Itoa(t.pageSize)}}
	next := t.endpoint + "?" + query.Encode()
	for page := 0; page < findMaxPages; page++ {
		list, err := t.listPage(ctx, next, m.To, page == 0)
		if err != nil {
			return "", false, findError(m.To, err)
		}
		oldest := time.Time{}
		for i, msg := range list.Messages {
			created, err := parseTwilioTime(msg.DateCreated)
			if err != nil {
				return "", false, findError(m.To, fmt.Errorf("message %d of the list: date_created %q: %w", i, msg.DateCreated, err))
			}
			if msg.To == m.To && msg.Body == m.Body && !created.Before(cutoff) && !neverReached(msg.Status) {
				return msg.SID, true, nil
			}
			at := created
			if msg.DateSent != nil {
				if sent, err := parseTwilioTime(*msg.DateSent); err == nil && sent.After(at) {
					at = sent
				}
			}
			if i == 0 || at.Before(oldest) {
				oldest = at
			}
		}
		if len(list.Messages) == 0 || oldest.Before(cutoff) || list.NextPageURI == nil || *list.NextPageURI == "" {
			return "", false, nil
		}
		if next, err = t.pageURL(*list.NextPageURI); err != nil {
			return "", false, findError(m.To, err)
		}
	}
	return "", false, nil
}

var _ dispatcher.SMSFinder = (*Twilio)(nil)

// neverReached reports the statuses of messages that did not reach the
// customer and never will.
func neverReached(status string) bool {
	switch status {
	case "failed", "undelivered", "canceled":
		return true
	}
	return false
}

// messageList is the part of Twilio's list envelope FindSent reads.
type messageList struct {
	Messages    []listedMessage `json:"messages"`
	NextPageURI *string         `json:"next_page_uri"`
}

type listedMessage struct {
	SID         string  `json:"sid"`
	To          string  `json:"to"`
	Body        string  `json:"body"`
	Status      string  `json:"status"`
	DateCreated string  `json:"date_created"`
	DateSent    *string `json:"date_sent"`
}

// parseTwilioTime reads Twilio's RFC 2822 dates ("Wed, 18 Aug 2010
// 20:01:40 +0000"), and RFC 3339 from a gateway that prefers it.
func parseTwilioTime(s string) (time.Time, error) {
	for _, layout := range []string{time.RFC1123Z, time.RFC1123, time.RFC3339} {
		if t, err := time.Parse(layout, s); err == nil {
			return t, nil
		}
	}
	return time.Time{}, errors.New("not an RFC 2822 date")
}

// listError is a non-2xx answer to a list request, kept apart so findError
// can classify it.
type listError struct {
	api           *APIError
	cannot        bool // the list endpoint does not exist
	hasRetryAfter bool // 429/503 with a Retry-After header
	retryAfter    time.Duration
}

func (e *listError) Error() string { return e.api.Error() }
func (e *listError) Unwrap() error { return e.api }

// maskedError shows err's text with the number masked, for the rare error
// (from net/http, say) that quotes it; errors.Is and As see err.
type maskedError struct {
	err  error
	text string
}

func (e *maskedError) Error() string { return e.text }
func (e *maskedError) Unwrap() error { return e.err }

// findError turns a listPage or paging error into FindSent's error.
func findError(to string, err error) error {
	who := redact.Phone(to)
	var le *listError
	if errors.As(err, &le) && le.cannot {
		err = fmt.Errorf("sms: looking for a message to %s: %w: %w", who, le.api, dispatcher.ErrCannotFind)
	} else {
		err = fmt.Errorf("sms: looking for a message to %s: %w", who, err)
	}
	if text := maskNumber(err.Error(), to); text != err.Error() {
		err = &maskedError{err: err, text: text}
	}
	if le != nil && le.hasRetryAfter {
		return &dispatcher.RetryAfterError{After: le.retryAfter, Err: err}
	}
	return err
}

// listPage GETs one page of the message list.
func (t *Twilio) listPage(ctx context.Context, pageURL, to string, first bool) (*messageList, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, pageURL, nil)
	if err != nil {
		return nil, errors.New("cannot build the list request")
	}
	req.SetBasicAuth(t.sid, t.token)
	req.Header.Set("Accept", "application/json")
	req.Header.Set("User-Agent", t.userAgent)

	resp, err := t.client.Do(req)
	if err != nil {
		// *url.Error names the URL, whose query holds the number: keep the
		// error (context.DeadlineExceeded and the like stay reachable) but
		// not the query.
		var ue *url.Error
		if errors.As(err, &ue) {
			return nil, &url.Error{Op: ue.Op, URL: withoutQuery(ue.URL), Err: ue.Err}
		}
		return nil, err
	}
	defer resp.Body.Close()

	if resp.StatusCode < 200 || resp.StatusCode >= 300 {
		body, _ := io.ReadAll(io.LimitReader(resp.Body, t.maxResponse))
		_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, t.maxResponse)) // let the connection be reused
		le := &listError{api: parseAPIError(resp.StatusCode, body, to)}
		switch status := resp.StatusCode; {
		case first && (status == http.StatusNotFound || status == http.StatusMethodNotAllowed || status == http.StatusNotImplemented):
			// A later page that is gone is not "cannot list": the first
			// page worked.
			le.cannot = true
		case status == http.StatusTooManyRequests || status == http.StatusServiceUnavailable:
			le.retryAfter, le.hasRetryAfter = parseRetryAfter(resp.Header.Get("Retry-After"), t.now())
		}
		return nil, le
	}

	body, err := io.ReadAll(io.LimitReader(resp.Body, t.maxListResponse+1))
	if err != nil {
		return nil, fmt.Errorf("reading the message list: %w", err)
	}
	if int64(len(body)) > t.maxListResponse {
		return nil, fmt.Errorf("the message list page is larger than %d bytes", t.maxListResponse)
	}
	var list struct {
		Messages    *[]listedMessage `json:"messages"`
		NextPageURI *string          `json:"next_page_uri"`
	}
	if err := json.Unmarshal(body, &list); err != nil || list.Messages == nil {
		// A JSON error quotes no content; the body itself is not quoted
		// because it holds numbers.
		why := `no "messages" array`
		if err != nil {
			why = err.Error()
		}
		return nil, fmt.Errorf("HTTP %d: the answer is not a message list (%s)", resp.StatusCode, why)
	}
	return &messageList{Messages: *list.Messages, NextPageURI: list.NextPageURI}, nil
}

// pageURL resolves a next_page_uri against the base URL's scheme and host
// (Twilio's URIs are absolute paths that include any prefix, e.g.
// "/2010-04-01/Accounts/AC…/Messages.json?…&PageToken=PASM…"). A URI that
// names another host is refused: the request carries the credentials.
func (t *Twilio) pageURL(uri string) (string, error) {
	base, err := url.Parse(t.endpoint)
	if err != nil {
		return "", err
	}
	if !strings.HasPrefix(uri, "/") && !strings.Contains(uri, "://") {
		uri = "/" + uri
	}
	ref, err := url.Parse(uri)
	if err != nil {
		return "", errors.New("next_page_uri is not a URI")
	}
	u := base.ResolveReference(ref)
	if u.Scheme != base.Scheme || u.Host != base.Host || u.User != nil {
		return "", fmt.Errorf("next_page_uri points to another server (%s://%s)", u.Scheme, u.Host)
	}
	return u.String(), nil
}

// withoutQuery drops the query (and fragment) of a URL for an error text.
func withoutQuery(s string) string {
	if i := strings.IndexAny(s, "?#"); i >= 0 {
		return s[:i] + "?…"
	}
	return s
}
