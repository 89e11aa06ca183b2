package mail

import (
	"errors"
	"regexp"
	"strings"

	gomail "github.com/wneessen/go-mail"

	"github.com/trackhook/trackhook/dispatcher"
	"github.com/trackhook/trackhook/dispatcher/redact"
)

// ErrClosed is returned by Send after Close. It is temporary: the task is
// retried by a worker that is still running.
var ErrClosed = errors.New("smtp: sender closed")

// sendError is what Send returns inside its "smtp: …" prefix: a text with
// the recipient masked, and the go-mail error underneath for errors.As
// (*gomail.SendError gives ErrorCode, EnhancedStatusCode, IsTemp). go-mail's
// own Error() text lists the affected recipient in full, so it is never
// printed.
type sendError struct {
	text      string
	permanent bool
	err       error
}

func (e *sendError) Error() string { return e.text }

func (e *sendError) Unwrap() []error {
	if e.permanent {
		return []error{dispatcher.ErrPermanent, e.err}
	}
	return []error{e.err}
}

// verdict is what one failed attempt means for the message and for the
// connection it used.
type verdict struct {
	err       *sendError
	permanent bool // the server refused this message: do not retry
	keep      bool // the server answered and the session is usable after RSET
	stale     bool // failed before anything was sent, on what looks like a dead connection
}

// judge classifies a go-mail send error.
//
//   - A 4xx or 5xx reply to MAIL FROM, RCPT TO, DATA or the end of DATA is an
//     answer about this message; the connection stays usable after RSET. 5xx
//     is permanent, except 530 ("authentication required"), which is a
//     configuration problem and must not archive every message.
//   - 421 means the server is closing the connection: temporary, and the
//     connection is dropped.
//   - Anything else (EOF, broken pipe, timeouts, TLS errors) is a
//     connection failure: temporary, connection dropped.
//
// go-mail's SendError.IsTemp only says "the reply started with 4", so a
// network error has IsTemp() == false and cannot be taken as permanent;
// ErrorCode is 0 for errors that are not server replies.
func judge(err error, to string) verdict {
	var se *gomail.SendError
	if !errors.As(err, &se) {
		return verdict{err: &sendError{text: maskAddr(err.Error(), to), err: err}}
	}
	code := se.ErrorCode()
	replied := code >= 400 && code < 600
	var v verdict
	switch se.Reason {
	case gomail.ErrSMTPMailFrom, gomail.ErrSMTPRcptTo, gomail.ErrSMTPData, gomail.ErrSMTPDataClose:
		if replied && code != 421 {
			v.keep = true
			// A 5xx at MAIL FROM is about our sender (a From the
			// provider does not allow, 530 auth required): an operator
			// fixes it, and the retries then deliver. Only rejections of
			// this recipient or this message are permanent.
			v.permanent = code >= 500 && se.Reason != gomail.ErrSMTPMailFrom
		}
		if se.Reason == gomail.ErrSMTPMailFrom && (!replied || code == 421) {
			v.stale = true
		}
	case gomail.ErrConnCheck:
		v.stale = true
	}
	text := stageName(se.Reason) + ": " + maskAddr(replyText(se), to)
	if !replied {
		text += " (connection failed)"
	}
	v.err = &sendError{text: text, permanent: v.permanent, err: err}
	return v
}

func stageName(r gomail.SendErrReason) string {
	switch r {
	case gomail.ErrSMTPMailFrom:
		return "MAIL FROM"
	case gomail.ErrSMTPRcptTo:
		return "RCPT TO"
	case gomail.ErrSMTPData:
		return "DATA"
	case gomail.ErrSMTPDataClose:
		return "end of DATA"
	case gomail.ErrWriteContent:
		return "writing message"
	case gomail.ErrConnCheck:
		return "connection check"
	case gomail.ErrSMTPReset:
		return "RSET"
	}
	return r.String()
}

// replyText recovers the server's reply ("550 5.1.1 user unknown") from a
// SendError. SendError has no Unwrap and keeps its error list private; its
// Error() is "<reason>: <err>[, <err>…][, affected recipient(s): …][,
// affected message ID: …]".
func replyText(se *gomail.SendError) string {
	s := se.Error()
	s = strings.TrimPrefix(s, se.Reason.String())
	s = strings.TrimPrefix(s, ":")
	for _, marker := range []string{", affected recipient(s): ", ", affected message ID: "} {
		if i := strings.Index(s, marker); i >= 0 {
			s = s[:i]
		}
	}
	return strings.TrimSpace(s)
}

// maskAddr replaces every occurrence of addr in s (servers echo it, in any
// case) with its masked form.
func maskAddr(s, addr string) string {
	if addr == "" {
		return s
	}
	re := regexp.MustCompile(`(?i)` + regexp.QuoteMeta(addr))
	return re.ReplaceAllLiteralString(s, redact.Email(addr))
}
