package mailer

import (
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	netmail "net/mail"
	"net/url"
	"regexp"
	"strings"
	"time"
	"unicode/utf8"

	gomail "github.com/wneessen/go-mail"

	"github.com/trackhook/trackhook/dispatcher"
	"github.com/trackhook/trackhook/dispatcher/redact"
)

// buildMessage turns e into the go-mail message that both SMTP and Dir send:
// From, To, Subject, Date, Message-ID, Content-Language, the RFC 8058
// unsubscribe pair, and a multipart/alternative body with text/plain first
// and text/html second, both quoted-printable UTF-8.
//
// Nothing in e can add a header: addresses are parsed (CR/LF makes them
// invalid), the subject is folded onto one line and RFC 2047-encoded by
// go-mail, and Message-ID, language and URL are checked against their
// grammar. A malformed e is a permanent error: the same payload can never be
// sent.
func buildMessage(e dispatcher.Email, date time.Time) (*gomail.Msg, error) {
	to, err := parseAddress(e.To)
	if err != nil {
		return nil, fmt.Errorf("mail: invalid recipient address %s: %w", redact.Email(e.To), dispatcher.ErrPermanent)
	}
	from, err := parseAddress(e.From)
	if err != nil {
		// The sender is configuration, not customer data; still, do not
		// echo a value that failed to parse.
		return nil, fmt.Errorf("mail: invalid sender address: %w", dispatcher.ErrPermanent)
	}

	m := gomail.NewMsg(gomail.WithNoDefaultUserAgent())
	m.FromMailAddress(from)
	m.ToMailAddress(to)
	m.Subject(subjectHeader(e.Subject))
	m.SetDateWithValue(date)

	id := e.MessageID
	if id == "" {
		id = newMessageID(from.Address)
	}
	if !validMessageID(id) {
		return nil, fmt.Errorf("mail: invalid Message-ID %q (want id-left@id-right, printable ASCII, no angle brackets): %w", id, dispatcher.ErrPermanent)
	}
	m.SetMessageIDWithValue(id)

	if e.Language != "" {
		if !languageTag.MatchString(e.Language) {
			return nil, fmt.Errorf("mail: invalid Content-Language %q: %w", e.Language, dispatcher.ErrPermanent)
		}
		m.SetGenHeader(gomail.HeaderContentLang, e.Language)
	}

	if e.ListUnsubscribe != "" {
		if err := setUnsubscribe(m, e.ListUnsubscribe); err != nil {
			return nil, err
		}
	}

	m.SetBodyString(gomail.TypeTextPlain, e.Text)
	m.AddAlternativeString(gomail.TypeTextHTML, e.HTML)
	return m, nil
}

// parseAddress accepts one RFC 5322 address ("kim@example.com" or
// "Shop <noreply@shop.example>"). net/mail rejects CR and LF.
func parseAddress(s string) (*netmail.Address, error) {
	if strings.ContainsAny(s, "\r\n") {
		return nil, fmt.Errorf("line break in address")
	}
	return netmail.ParseAddress(s)
}

// oneLine folds line breaks into spaces: a subject is one header line.
func oneLine(s string) string {
	if !strings.ContainsAny(s, "\r\n") {
		return s
	}
	s = strings.ReplaceAll(s, "\r\n", " ")
	return strings.NewReplacer("\r", " ", "\n", " ").Replace(s)
}

// subjectHeader returns the subject for its header: on one line, and
// encoded whole when it holds what a reader would take for an RFC 2047
// encoded-word. go-mail encodes only subjects with non-ASCII characters, so
// an ASCII subject carrying "=?UTF-8?Q?=0D=0ABcc:…?=" (from a tracking
// number, say) would be decoded by the reader into line breaks, bidi
// overrides or anything else the sender of the value chose. Encoded, it
// reads back as the text it is.
func subjectHeader(s string) string {
	s = oneLine(s)
	if !strings.Contains(s, "=?") {
		return s
	}
	// Words of at most 45 bytes (60 in base64), so each encoded-word stays
	// within RFC 2047's 75 characters; cut on rune boundaries.
	var b strings.Builder
	for s != "" {
		n := min(len(s), 45)
		for n < len(s) && !utf8.RuneStart(s[n]) {
			n--
		}
		if b.Len() > 0 {
			b.WriteByte(' ')
		}
		b.WriteString("=?UTF-8?B?" + base64.StdEncoding.EncodeToString([]byte(s[:n])) + "?=")
		s = s[n:]
	}
	return b.String()
}

// languageTag is the BCP 47 shape (not the registry): "de", "pt-BR",
// "zh-Hant-TW".
var languageTag = regexp.MustCompile(`^[A-Za-z]{1,8}(-[A-Za-z0-9]{1,8})*$`)

// validMessageID checks the RFC 5322 msg-id without its angle brackets,
// loosely: printable ASCII, no specials that would end the header or the id,
// exactly one '@' with text on both sides.
func validMessageID(id string) bool {
	if len(id) > 250 {
		return false
	}
	for i := 0; i < len(id); i++ {
		c := id[i]
		if c <= ' ' || c >= 0x7f || c == '<' || c == '>' || c == '"' || c == '\\' || c == ',' || c == ';' {
			return false
		}
	}
	left, right, ok := strings.Cut(id, "@")
	return ok && left != "" && right != "" && !strings.Contains(right, "@")
}

// newMessageID makes an id in the sender's domain, as mailbox providers
// expect; go-mail would use the machine's host name.
func newMessageID(fromAddr string) string {
	domain := "trackhook.invalid"
	if at := strings.LastIndexByte(fromAddr, '@'); at >= 0 && validMessageID("x@"+fromAddr[at+1:]) {
		domain = fromAddr[at+1:]
	}
	var b [16]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:]) + "@" + domain
}

// setUnsubscribe adds List-Unsubscribe. For an https URL it adds the RFC 8058
// one-click pair (List-Unsubscribe-Post: List-Unsubscribe=One-Click). RFC
// 8058 requires HTTPS, so a plain http URL (a local `make run` setup) gets
// the RFC 2369 header alone.
func setUnsubscribe(m *gomail.Msg, raw string) error {
	bad := func(why string) error {
		return fmt.Errorf("mail: invalid List-Unsubscribe URL (%s): %w", why, dispatcher.ErrPermanent)
	}
	if strings.ContainsAny(raw, "<>\"\\ \t\r\n") {
		return bad("contains spaces, quotes or angle brackets")
	}
	u, err := url.Parse(raw)
	if err != nil {
		return bad("unparseable")
	}
	if u.Host == "" {
		return bad("missing host")
	}
	switch u.Scheme {
	case "https":
		if err := m.SetListUnsubscribeOneClick(u.String()); err != nil {
			return bad("rejected by go-mail")
		}
	case "http":
		m.SetListUnsubscribe(u.String())
	default:
		return bad("want an https URL")
	}
	return nil
}
