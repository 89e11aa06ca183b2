package mailer

import (
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/wneessen/go-mail/smtp"
)

// autoAuth picks the SASL mechanism from what the server offers, like
// go-mail's SMTPAuthAutoDiscover, and then hands the conversation to
// go-mail's own implementation of that mechanism.
//
// go-mail's auto-discovery decides "is this connection encrypted?" from its
// own dialer; with a custom dialer (which the pool needs, see dial) it
// believes an implicit-TLS connection is plain and refuses PLAIN and LOGIN.
// ServerInfo.TLS, which smtp.Client sets from the real connection, is the
// reliable signal, and it is what this uses. PLAIN and LOGIN are only chosen
// over TLS or to localhost (go-mail's PlainAuth and LoginAuth check that
// again). One autoAuth serves one connection.
type autoAuth struct {
	user, pass, host string
	inner            smtp.Auth
}

var errNoAuthMech = errors.New("no usable AUTH mechanism")

func (a *autoAuth) Start(si *smtp.ServerInfo) (string, []byte, error) {
	offered := func(m string) bool {
		return slices.ContainsFunc(si.Auth, func(s string) bool { return strings.EqualFold(s, m) })
	}
	secure := si.TLS || si.Name == "localhost" || si.Name == "127.0.0.1" || si.Name == "::1"
	switch {
	case offered("SCRAM-SHA-256"):
		a.inner = smtp.ScramSHA256Auth(a.user, a.pass)
	case offered("SCRAM-SHA-1"):
		a.inner = smtp.ScramSHA1Auth(a.user, a.pass)
	case offered("CRAM-MD5"):
		a.inner = smtp.CRAMMD5Auth(a.user, a.pass)
	case secure && offered("PLAIN"):
		a.inner = smtp.PlainAuth("", a.user, a.pass, a.host, false)
	case secure && offered("LOGIN"):
		a.inner = smtp.LoginAuth(a.user, a.pass, a.host, false)
	case len(si.Auth) == 0:
		return "", nil, fmt.Errorf("%w: a user name is configured but the server does not offer AUTH", errNoAuthMech)
	case offered("PLAIN") || offered("LOGIN"):
		return "", nil, fmt.Errorf("%w: the server offers only %s, which would send the password in the clear; use tls=starttls or tls=tls",
			errNoAuthMech, strings.Join(si.Auth, " "))
	default:
		return "", nil, fmt.Errorf("%w: the server offers %s", errNoAuthMech, strings.Join(si.Auth, " "))
	}
	return a.inner.Start(si)
}

func (a *autoAuth) Next(fromServer []byte, more bool) ([]byte, error) {
	if a.inner == nil {
		return nil, errNoAuthMech
	}
	return a.inner.Next(fromServer, more)
}
