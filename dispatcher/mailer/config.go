// Package mailer delivers dispatcher.Email values: over SMTP through a pool of
// persistent go-mail connections (SMTP), or as .eml files in a folder (Dir),
// the embedded default when no SMTP server is configured.
//
// Errors are control flow for the worker: an error wrapping
// dispatcher.ErrPermanent means the server refused this message (a 5xx reply
// to MAIL FROM, RCPT TO or DATA) or the message itself is malformed, and
// retrying cannot help. Every other error (4xx replies, 421, network and TLS
// failures, timeouts, AUTH failures) is temporary. Addresses in error texts
// are masked with dispatcher/redact.
package mailer

import (
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// TLSMode says how the SMTP connection is protected.
type TLSMode string

const (
	// TLSStartTLS connects in the clear and upgrades with STARTTLS, which the
	// server must offer (submission, port 587). This is the default.
	TLSStartTLS TLSMode = "starttls"
	// TLSImplicit speaks TLS from the first byte (SMTPS, port 465).
	TLSImplicit TLSMode = "tls"
	// TLSNone never encrypts (a local relay or a test server, port 25). AUTH
	// PLAIN/LOGIN are then refused except to localhost.
	TLSNone TLSMode = "none"
)

// Defaults applied by NewSMTP to zero fields of SMTPConfig.
const (
	DefaultPoolSize           = 4
	DefaultMaxMessagesPerConn = 100
	DefaultIdleTimeout        = 30 * time.Second
	DefaultTimeout            = 15 * time.Second
	// DefaultDataTimeout is RFC 5321's timeout for the reply to the end of
	// DATA (section 4.5.3.2.6).
	DefaultDataTimeout = 10 * time.Minute
)

// SMTPConfig configures an SMTP sender. Zero values get the defaults above.
type SMTPConfig struct {
	Host     string
	Port     int // 0: 587 for starttls, 465 for tls, 25 for none
	Username string
	Password string
	TLS      TLSMode // "" means TLSStartTLS
	// TLSConfig is optional (RootCAs for tests or a private CA). It is
	// cloned; ServerName defaults to Host. Certificates are always verified
	// unless the caller sets InsecureSkipVerify here.
	TLSConfig *tls.Config
	// PoolSize is the most connections open at once (default 4); more
	// concurrent senders wait for a free connection.
	PoolSize int
	// MaxMessagesPerConn recycles a connection after this many messages
	// (default 100): providers answer "421 too many messages" otherwise.
	MaxMessagesPerConn int
	// IdleTimeout closes connections idle for longer (default 30s), before
	// the server drops them.
	IdleTimeout time.Duration
	// Timeout bounds each dial and each message transaction up to the end
	// of DATA (default 15s).
	Timeout time.Duration
	// DataTimeout bounds the wait for the server's reply to the end of DATA
	// (default 10 minutes, as RFC 5321 asks). A client that stops waiting
	// earlier cannot tell whether the server took the message, and sending
	// it again may deliver it twice.
	DataTimeout time.Duration
	// LocalName is the name sent in EHLO (default: the machine's host name).
	LocalName string
}

// String describes the configuration without the password, so logging a
// config never leaks it.
func (c SMTPConfig) String() string {
	mode := c.TLS
	if mode == "" {
		mode = TLSStartTLS
	}
	user := ""
	if c.Username != "" {
		user = " user=" + strconv.Quote(c.Username) + " password=" + maskedPassword(c.Password)
	}
	return fmt.Sprintf("smtp %s:%d tls=%s%s pool=%d max_per_conn=%d", c.Host, c.Port, mode, user, c.PoolSize, c.MaxMessagesPerConn)
}

// GoString is String, so %#v does not print the password either.
func (c SMTPConfig) GoString() string { return c.String() }

func maskedPassword(p string) string {
	if p == "" {
		return "(empty)"
	}
	return "(set)"
}

// withDefaults validates c and fills in defaults.
func (c SMTPConfig) withDefaults() (SMTPConfig, error) {
	if c.Host == "" {
		return c, errors.New("smtp config: missing host")
	}
	switch c.TLS {
	case "":
		c.TLS = TLSStartTLS
	case TLSStartTLS, TLSImplicit, TLSNone:
	default:
		return c, fmt.Errorf("smtp config: unknown tls mode %q: want starttls, tls or none", string(c.TLS))
	}
	if c.Port == 0 {
		c.Port = defaultPort(c.TLS)
	}
	if c.Port < 1 || c.Port > 65535 {
		return c, fmt.Errorf("smtp config: port %d out of range 1-65535", c.Port)
	}
	if c.Password != "" && c.Username == "" {
		return c, errors.New("smtp config: password set without a user name")
	}
	for _, f := range []struct {
		name string
		v    *int
		def  int
	}{
		{"pool size", &c.PoolSize, DefaultPoolSize},
		{"max messages per connection", &c.MaxMessagesPerConn, DefaultMaxMessagesPerConn},
	} {
		if *f.v < 0 {
			return c, fmt.Errorf("smtp config: negative %s %d", f.name, *f.v)
		}
		if *f.v == 0 {
			*f.v = f.def
		}
	}
	for _, f := range []struct {
		name string
		v    *time.Duration
		def  time.Duration
	}{
		{"idle timeout", &c.IdleTimeout, DefaultIdleTimeout},
		{"timeout", &c.Timeout, DefaultTimeout},
		{"data timeout", &c.DataTimeout, DefaultDataTimeout},
	} {
		if *f.v < 0 {
			return c, fmt.Errorf("smtp config: negative %s %v", f.name, *f.v)
		}
		if *f.v == 0 {
			*f.v = f.def
		}
	}
	if strings.ContainsAny(c.LocalName, "\r\n ") {
		return c, errors.New("smtp config: local name must be a single word")
	}
	return c, nil
}

func defaultPort(m TLSMode) int {
	switch m {
	case TLSImplicit:
		return 465
	case TLSNone:
		return 25
	}
	return 587
}

// ParseSMTPURL parses TRACKHOOK_SMTP_URL:
//
//	smtp://user:pass@host:port?tls=starttls|tls|none&pool=N&max_per_conn=N
//	smtps://user:pass@host:port   (implicit TLS)
//
// User and password are URL-decoded (percent-encode '@', ':', '/', '?', '#'
// and '%' in them). tls defaults to starttls with a verified certificate
// (tls for smtps://), except on a loopback host, where it defaults to none;
// the port
// defaults to 587, 465 or 25 to match. Unknown query parameters are an
// error. Errors say what is wrong and never contain the password; since a
// malformed URL cannot be split reliably, they echo nothing from the part
// before the host.
func ParseSMTPURL(raw string) (SMTPConfig, error) {
	var cfg SMTPConfig
	fail := func(format string, args ...any) (SMTPConfig, error) {
		return SMTPConfig{}, fmt.Errorf("smtp url: "+format, args...)
	}
	if strings.TrimSpace(raw) == "" {
		return fail("empty")
	}
	u, err := url.Parse(raw)
	if err != nil {
		return fail("%s", describeURLError(err))
	}
	if !strings.Contains(raw, "://") && u.Scheme != "smtp" && u.Scheme != "smtps" {
		// "host:587" or "user:pass@host": what parsed as a scheme is not one.
		return fail("missing scheme: want smtp://host:port or smtps://host:port")
	}
	switch u.Scheme {
	case "smtp":
		cfg.TLS = TLSStartTLS
	case "smtps":
		cfg.TLS = TLSImplicit
	case "":
		return fail("missing scheme: want smtp://host:port or smtps://host:port")
	default:
		// The scheme ends at the first ':' so it cannot hold the password.
		return fail("unsupported scheme %q: want smtp or smtps", u.Scheme)
	}
	if u.Opaque != "" {
		return fail("missing // after %s: (want %s://host:port)", u.Scheme, u.Scheme)
	}
	// An unescaped '/', '?' or '#' in the password ends the host part early
	// and pushes the rest of the user info into path, query or fragment,
	// which the '@' that followed it gives away. Echo none of it.
	if strings.Contains(u.Path, "@") || strings.Contains(u.RawQuery, "@") || strings.Contains(u.Fragment, "@") {
		return fail("malformed user info: percent-encode '/', '?', '#' and '@' in user name and password")
	}
	if u.Fragment != "" || strings.Contains(raw, "#") {
		return fail("unexpected #fragment")
	}
	if u.Path != "" && u.Path != "/" {
		return fail("unexpected path: want smtp://host:port")
	}
	cfg.Host = u.Hostname()
	if cfg.Host == "" {
		return fail("missing host")
	}
	if u.User != nil {
		cfg.Username = u.User.Username()
		cfg.Password, _ = u.User.Password()
		if cfg.Username == "" && cfg.Password != "" {
			return fail("password without user name")
		}
	}

	q, err := url.ParseQuery(u.RawQuery)
	if err != nil {
		return fail("malformed query: percent-encode special characters")
	}
	for key, vals := range q {
		if len(vals) != 1 {
			return fail("query parameter %q given %d times", key, len(vals))
		}
		val := vals[0]
		switch key {
		case "tls":
			mode := TLSMode(val)
			switch mode {
			case TLSStartTLS, TLSImplicit, TLSNone:
			default:
				return fail("unknown tls mode %q: want starttls, tls or none", val)
			}
			if u.Scheme == "smtps" && mode != TLSImplicit {
				return fail("smtps:// means implicit TLS, but tls=%s", val)
			}
			cfg.TLS = mode
		case "pool":
			n, err := strconv.Atoi(val)
			if err != nil || n < 1 || n > 1000 {
				return fail("invalid pool %q: want a whole number from 1 to 1000", val)
			}
			cfg.PoolSize = n
		case "max_per_conn":
			n, err := strconv.Atoi(val)
			if err != nil || n < 1 {
				return fail("invalid max_per_conn %q: want a whole number of at least 1", val)
			}
			cfg.MaxMessagesPerConn = n
		default:
			return fail("unknown query parameter %q: want tls, pool or max_per_conn", key)
		}
	}

	if _, explicit := q["tls"]; !explicit && u.Scheme == "smtp" && isLoopback(cfg.Host) {
		// A relay on this machine (a local MTA, MailHog) rarely has a
		// certificate; nothing leaves the host, so plain is the default
		// there. Everywhere else the default is verified STARTTLS.
		cfg.TLS = TLSNone
	}
	cfg.Port = defaultPort(cfg.TLS)
	if p := u.Port(); p != "" {
		n, err := strconv.Atoi(p)
		if err != nil || n < 1 || n > 65535 {
			// Not echoed: without an '@' a mistyped password can land here.
			return fail("port out of range 1-65535")
		}
		cfg.Port = n
	}
	return cfg, nil
}

func isLoopback(host string) bool {
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(strings.Trim(host, "[]"))
	return ip != nil && ip.IsLoopback()
}

// describeURLError turns a net/url error into words that contain nothing from
// the input: its own texts quote pieces of the URL, which may be the password
// (`invalid URL escape "%zz"`, `invalid port ":secret" after host`).
func describeURLError(err error) string {
	var ue *url.Error
	if errors.As(err, &ue) {
		err = ue.Err
	}
	var esc url.EscapeError
	var host url.InvalidHostError
	msg := err.Error()
	switch {
	case errors.As(err, &esc):
		return "invalid %-escape: percent-encode '%' and special characters in user name and password"
	case errors.As(err, &host):
		return "invalid character in host"
	case strings.Contains(msg, "invalid userinfo"):
		return "invalid character in user name or password: percent-encode it"
	case strings.Contains(msg, "invalid port"):
		return "invalid port (or an unescaped '/', '?' or '#' in the password)"
	case strings.Contains(msg, "control character"):
		return "contains a control character"
	case strings.Contains(msg, "missing ']'"):
		return "invalid IPv6 host: missing ']'"
	case strings.Contains(msg, "missing protocol scheme"), strings.Contains(msg, "first path segment"):
		return "missing scheme: want smtp://host:port"
	}
	return "malformed URL"
}
