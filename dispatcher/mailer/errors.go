package mailer

import (
	"errors"
	"fmt"
	"net/textproto"
	"regexp"

	"github.com/trackhook/trackhook/dispatcher"
	"github.com/trackhook/trackhook/dispatcher/redact"
)

// ErrClosed is returned by Send after Close. It is temporary: the task is
// retried by a worker that is still running.
var ErrClosed = errors.New("smtp: sender closed")

// stage is the step of an SMTP transaction that failed.
type stage int

const (
	stageMail      stage = iota + 1 // MAIL FROM
	stageRcpt                       // RCPT TO
	stageData                       // DATA
	stageWrite                      // writing the message after 354
	stageCommit                     // waiting for an in-doubt slot (dispatcher.Commit)
	stageDataClose                  // the end of DATA and its reply
)

func (s stage) String() string {
	switch s {
	case stageMail:
		return "MAIL FROM"
	case stageRcpt:
		return "RCPT TO"
	case stageData:
		return "DATA"
	case stageWrite:
		return "writing message"
	case stageCommit:
		return "waiting to end DATA"
	case stageDataClose:
		return "end of DATA"
	}
	return "smtp"
}

// ReplyError is a server's refusal of a message: its reply to MAIL FROM,
// RCPT TO, DATA or the end of DATA. Reach it with errors.As. Text is the
// reply with the recipient's address masked.
type ReplyError struct {
	Stage    string // "MAIL FROM", "RCPT TO", "DATA", "end of DATA"
	Code     int    // 421, 451, 550 …
	Enhanced string // RFC 3463 code ("5.1.1") when the server sent one
	Text     string
}

func (e *ReplyError) Error() string { return fmt.Sprintf("%s: %d %s", e.Stage, e.Code, e.Text) }

// sendError is what Send returns inside its "smtp: …" prefix: a text with
// the recipient masked, and underneath a *ReplyError (for server replies) or
// the network error. The smtp package's errors carry the recipient in full,
// so they are never printed.
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

var enhancedCode = regexp.MustCompile(`^([245]\.\d{1,3}\.\d{1,3})\b`)

// judge classifies the failure of one stage of a transaction.
//
//   - A 4xx or 5xx reply to MAIL FROM, RCPT TO, DATA or the end of DATA is an
//     answer about this message; the connection stays usable after RSET. 5xx
//     is permanent, except at MAIL FROM, where it is about our sender (a From
//     the provider does not allow, 530 "authentication required"): an
//     operator fixes that and the retries then deliver, while archiving would
//     drop every message.
//   - 421 means the server is closing the connection: temporary, and the
//     connection is dropped.
//   - Anything else (EOF, broken pipe, timeouts, TLS errors) is a
//     connection failure: temporary, connection dropped. At MAIL FROM, the
//     first command on a reused connection, it is the sign of a connection
//     the server closed while idle (stale): nothing was sent.
func judge(st stage, err error, to string) verdict {
	var v verdict
	var te *textproto.Error
	if errors.As(err, &te) && te.Code >= 400 && te.Code < 600 {
		msg := maskAddr(te.Msg, to)
		re := &ReplyError{Stage: st.String(), Code: te.Code, Text: msg}
		if m := enhancedCode.FindStringSubmatch(msg); m != nil {
			re.Enhanced = m[1]
		}
		switch st {
		case stageMail, stageRcpt, stageData, stageDataClose:
			if te.Code != 421 {
				v.keep = true
				v.permanent = te.Code >= 500 && st != stageMail
			}
		}
		v.stale = st == stageMail && te.Code == 421
		v.err = &sendError{text: re.Error(), permanent: v.permanent, err: re}
		return v
	}
	v.stale = st == stageMail
	v.err = &sendError{text: st.String() + ": " + maskAddr(err.Error(), to) + " (connection failed)", err: err}
	return v
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
