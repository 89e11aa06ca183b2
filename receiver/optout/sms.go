package optout

import (
	"context"
	"encoding/xml"
	"errors"
	"io"
	"net/http"
	"net/url"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/trackhook/trackhook/dispatcher"
	"github.com/trackhook/trackhook/dispatcher/redact"
)

// MaxSMSBodyBytes caps an inbound-message webhook body. Twilio's are a few
// hundred bytes; an MMS with many media URLs stays far below this.
const MaxSMSBodyBytes = 64 << 10

// maxFromLen bounds the From parameter; E.164 is at most 16 characters.
const maxFromLen = 64

// smsAction is what a keyword does.
type smsAction uint8

const (
	smsOptOut smsAction = iota + 1 // suppress the sender for every shipment
	smsOptIn                       // lift the sender's suppression
	smsHelp                        // answer with the help text
)

// smsKeywords is the one list of keywords (notifications.md, SMS): the whole
// message, trimmed, in any case. "stop please" is not a keyword.
var smsKeywords = map[string]smsAction{
	"STOP":        smsOptOut,
	"STOPALL":     smsOptOut,
	"UNSUBSCRIBE": smsOptOut,
	"CANCEL":      smsOptOut,
	"END":         smsOptOut,
	"QUIT":        smsOptOut,
	"START":       smsOptIn,
	"UNSTOP":      smsOptIn,
	"YES":         smsOptIn,
	"HELP":        smsHelp,
}

// keyword returns the message as an upper-case keyword candidate: trimmed,
// ASCII letters upper-cased (only ASCII, so no Unicode folding turns
// another word into a keyword).
func keyword(body string) string {
	b := []byte(strings.TrimSpace(body))
	for i, c := range b {
		if 'a' <= c && c <= 'z' {
			b[i] = c - ('a' - 'A')
		}
	}
	return string(b)
}

// twilioInbound is POST /webhooks/twilio, the "A message comes in" webhook of
// a Twilio number or Messaging Service. It answers TwiML: an empty
// <Response/> except for HELP, because for the standard opt-out keywords on
// long codes Twilio itself sends the STOP and START confirmations.
func (h *Handler) twilioInbound(w http.ResponseWriter, r *http.Request) {
	if h.twilio == nil {
		http.Error(w, "twilio inbound messages are not configured", http.StatusNotFound)
		return
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, MaxSMSBodyBytes))
	if err != nil {
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			http.Error(w, "body too large", http.StatusRequestEntityTooLarge)
			return
		}
		http.Error(w, "could not read body", http.StatusBadRequest)
		return
	}
	ctx, cancel := context.WithTimeout(r.Context(), storeTimeout)
	defer cancel()
	// The URL Twilio signed is the one configured in its console; behind a
	// proxy only PublicURL knows it.
	signedURL := h.base + r.URL.EscapedPath()
	if r.URL.RawQuery != "" {
		signedURL += "?" + r.URL.RawQuery
	}
	if err := h.twilio.Verify(signedURL, body, r.Header); err != nil {
		h.log.WarnContext(ctx, "twilio inbound: signature refused", "url", signedURL, "error", err)
		http.Error(w, "forbidden", http.StatusForbidden)
		return
	}
	params, err := url.ParseQuery(string(body))
	if err != nil {
		http.Error(w, "body is not a form", http.StatusBadRequest)
		return
	}
	// Twilio sends From in E.164 already; it is used as given.
	from := strings.TrimSpace(params.Get("From"))
	if from == "" || len(from) > maxFromLen {
		http.Error(w, "From is missing or too long", http.StatusBadRequest)
		return
	}
	if !utf8.ValidString(from) || strings.ContainsFunc(from, unicode.IsControl) {
		// Not what Twilio sends; it would be stored as a suppression that
		// matches no recipient, and would reach the logs as it is.
		http.Error(w, "From contains control characters or invalid UTF-8", http.StatusBadRequest)
		return
	}
	sid := params.Get("MessageSid")
	kw := keyword(params.Get("Body"))
	action := smsKeywords[kw]
	switch action {
	case smsOptOut:
		err = h.suppressions.Suppress(ctx, dispatcher.ChannelSMS, from, "sms "+kw)
	case smsOptIn:
		_, err = h.suppressions.Unsuppress(ctx, dispatcher.ChannelSMS, from)
	case smsHelp:
	default:
		// Not a keyword ("Thanks", "stop please"): nothing changes, nothing
		// is logged about what the customer wrote.
		writeTwiML(w, "")
		return
	}
	if err != nil {
		h.log.ErrorContext(ctx, "twilio inbound: store failed; Twilio will retry", "keyword", kw,
			"from", redact.Phone(from), "message_sid", sid, "error", err)
		http.Error(w, "store unavailable", http.StatusServiceUnavailable)
		return
	}
	h.log.InfoContext(ctx, "twilio inbound: keyword", "keyword", kw, "from", redact.Phone(from), "message_sid", sid)
	if action == smsHelp {
		writeTwiML(w, h.help)
		return
	}
	writeTwiML(w, "")
}

// writeTwiML answers with an empty Response, or one that replies message.
func writeTwiML(w http.ResponseWriter, message string) {
	var b strings.Builder
	b.WriteString(xml.Header[:len(xml.Header)-1]) // without its newline
	if message == "" {
		b.WriteString("<Response/>")
	} else {
		b.WriteString("<Response><Message>")
		_ = xml.EscapeText(&b, []byte(message))
		b.WriteString("</Message></Response>")
	}
	w.Header().Set("Content-Type", "text/xml")
	w.WriteHeader(http.StatusOK)
	_, _ = io.WriteString(w, b.String())
}
