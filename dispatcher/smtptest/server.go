// Package smtptest runs a real SMTP server in-process for tests: it speaks
// SMTP through github.com/emersion/go-smtp on 127.0.0.1:0, optionally with
// STARTTLS or implicit TLS (a self-signed certificate made at start) and
// AUTH PLAIN, records every message it accepts, and can be told to reject
// messages the way real providers do.
//
//	srv := smtptest.NewServer(t, smtptest.WithSTARTTLS(), smtptest.WithAuth("user", "secret"))
//	cfg, _ := mailer.ParseSMTPURL(srv.URL())
//	cfg.TLSConfig = srv.ClientTLSConfig()
//	...
//	got := srv.WaitForMessages(t, 1, 5*time.Second)
package smtptest

import (
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"log"
	"net"
	"net/mail"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/emersion/go-sasl"
	"github.com/emersion/go-smtp"
)

// Stage is the SMTP command at which a programmed failure is answered.
type Stage int

const (
	// StageData answers the failure after the message body was received
	// (the reply to the final "."), where content filters and quota checks
	// answer.
	StageData Stage = iota
	// StageRcpt answers the failure to RCPT TO, where unknown mailboxes and
	// greylisting answer.
	StageRcpt
	// StageMail answers the failure to MAIL FROM, where sender policy and
	// "421 too many messages" answer.
	StageMail
)

func (s Stage) String() string {
	switch s {
	case StageData:
		return "DATA"
	case StageRcpt:
		return "RCPT"
	case StageMail:
		return "MAIL"
	}
	return "Stage(" + strconv.Itoa(int(s)) + ")"
}

// Option configures a Server.
type Option func(*options)

type options struct {
	startTLS    bool
	implicitTLS bool
	user, pass  string
	auth        bool
	latency     time.Duration
}

// WithSTARTTLS offers STARTTLS with a self-signed certificate; use
// ClientTLSConfig to trust it.
func WithSTARTTLS() Option { return func(o *options) { o.startTLS = true } }

// WithImplicitTLS makes the listener speak TLS from the first byte (SMTPS,
// port 465 style); use ClientTLSConfig to trust it.
func WithImplicitTLS() Option { return func(o *options) { o.implicitTLS = true } }

// WithAuth offers AUTH PLAIN and accepts only this user and password. MAIL
// FROM without a successful AUTH is answered "530 5.7.0 Authentication
// required", as real submission servers do. Without TLS the server still
// advertises AUTH (so tests can check that the client refuses to send a
// password in the clear).
func WithAuth(user, password string) Option {
	return func(o *options) { o.auth, o.user, o.pass = true, user, password }
}

// WithLatency makes the server wait d before answering the end of DATA, so
// tests can hold connections busy (pool limits, context deadlines).
func WithLatency(d time.Duration) Option { return func(o *options) { o.latency = d } }

// Message is one message the server accepted.
type Message struct {
	From     string    // envelope sender (MAIL FROM)
	To       []string  // envelope recipients (RCPT TO)
	Raw      []byte    // the message as received, CRLF line endings
	Received time.Time // when the server accepted it (before it answered 250)

	// Parsed from Raw (best effort; Header is nil if Raw is not a message).
	Header  mail.Header
	Subject string // RFC 2047 decoded
	Text    string // decoded text/plain part
	HTML    string // decoded text/html part
}

// Server is an in-process SMTP server. All methods are safe for concurrent
// use.
type Server struct {
	opts    options
	srv     *smtp.Server
	ln      *trackingListener
	addr    *net.TCPAddr
	certPEM []byte
	cert    *tls.Certificate
	served  chan struct{}

	mu       sync.Mutex
	messages []Message
	rejected int
	notify   chan struct{} // closed and replaced whenever messages or rejected change
	failNext *failure
	rejectTo map[string]*smtp.SMTPError
	// rejectedTo counts the RCPT TO refusals per address (RejectRecipient).
	rejectedTo map[string]int
	outage     *outage // set by Fail, cleared by Recover
}

// Reply is one programmed SMTP answer: the reply code, an optional enhanced
// status code ("4.7.1") and the text, given at a stage of the transaction.
type Reply struct {
	Stage    Stage
	Code     int
	Enhanced string
	Message  string
}

// outage is a span, started by Fail and ended by Recover, during which
// every transaction fails.
type outage struct {
	replies []*failure // stage and reply; n is not used
	next    int        // the reply the next transaction gets, modulo len(replies)
	refused int        // transactions it refused so far
}

type failure struct {
	stage Stage
	n     int
	err   *smtp.SMTPError
}

// NewServer starts a server on 127.0.0.1:0 and stops it when the test ends.
func NewServer(tb testing.TB, opts ...Option) *Server {
	tb.Helper()
	s := &Server{
		notify:     make(chan struct{}),
		rejectTo:   map[string]*smtp.SMTPError{},
		rejectedTo: map[string]int{},
		served:     make(chan struct{}),
	}
	for _, o := range opts {
		o(&s.opts)
	}
	if s.opts.startTLS && s.opts.implicitTLS {
		tb.Fatal("smtptest: WithSTARTTLS and WithImplicitTLS exclude each other")
	}

	var tlsConfig *tls.Config
	if s.opts.startTLS || s.opts.implicitTLS {
		cert, certPEM, err := selfSigned()
		if err != nil {
			tb.Fatalf("smtptest: generating certificate: %v", err)
		}
		s.cert, s.certPEM = cert, certPEM
		tlsConfig = &tls.Config{Certificates: []tls.Certificate{*cert}, MinVersion: tls.VersionTLS12}
	}

	raw, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		tb.Fatalf("smtptest: listen: %v", err)
	}
	s.addr = raw.Addr().(*net.TCPAddr)
	s.ln = &trackingListener{Listener: raw, open: map[net.Conn]struct{}{}}
	var ln net.Listener = s.ln
	if s.opts.implicitTLS {
		ln = tls.NewListener(s.ln, tlsConfig)
	}

	s.srv = smtp.NewServer(&backend{s: s})
	s.srv.Domain = "smtptest.local"
	s.srv.MaxMessageBytes = 10 << 20
	s.srv.MaxRecipients = 50
	s.srv.ReadTimeout = 30 * time.Second
	s.srv.WriteTimeout = 30 * time.Second
	s.srv.ErrorLog = log.New(io.Discard, "", 0)
	if s.opts.startTLS {
		s.srv.TLSConfig = tlsConfig
	}
	if s.opts.auth && !s.opts.startTLS && !s.opts.implicitTLS {
		s.srv.AllowInsecureAuth = true
	}

	go func() {
		defer close(s.served)
		_ = s.srv.Serve(ln)
	}()
	tb.Cleanup(s.Close)
	return s
}

// Close stops the server and drops every connection. It is called by
// tb.Cleanup; calling it earlier simulates a server that went away.
func (s *Server) Close() {
	_ = s.srv.Close() // ErrServerClosed on a second call
	// go-smtp closes only listeners Serve has registered; right after start
	// Serve may not have run yet, so close ours too.
	_ = s.ln.Close()
	<-s.served
	s.ln.closeAll()
}

// Addr is "127.0.0.1:port".
func (s *Server) Addr() string { return s.addr.String() }

// Host is "127.0.0.1"; the certificate is valid for it and for "localhost".
func (s *Server) Host() string { return s.addr.IP.String() }

// Port is the TCP port the server listens on.
func (s *Server) Port() int { return s.addr.Port }

// URL is an smtp:// URL for mailer.ParseSMTPURL that matches the server's
// TLS mode and credentials. TLS still needs ClientTLSConfig for the
// self-signed certificate.
func (s *Server) URL() string {
	u := url.URL{Scheme: "smtp", Host: s.Addr()}
	if s.opts.auth {
		u.User = url.UserPassword(s.opts.user, s.opts.pass)
	}
	switch {
	case s.opts.implicitTLS:
		u.RawQuery = "tls=tls"
	case s.opts.startTLS:
		u.RawQuery = "tls=starttls"
	default:
		u.RawQuery = "tls=none"
	}
	return u.String()
}

// ClientTLSConfig trusts the server's self-signed certificate (nil when the
// server runs without TLS).
func (s *Server) ClientTLSConfig() *tls.Config {
	if s.cert == nil {
		return nil
	}
	return clientTLSConfig(s.cert, s.Host())
}

// Connections is the number of TCP connections accepted so far, to prove that
// a client reuses connections.
func (s *Server) Connections() int { return s.ln.accepted() }

// OpenConnections is the number of client connections open right now.
func (s *Server) OpenConnections() int { return s.ln.openCount() }

// DropConnections closes every open client connection from the server side,
// without a reply, as a crashed or restarted server would; the listener keeps
// accepting new connections.
func (s *Server) DropConnections() { s.ln.closeAll() }

// Messages returns the messages accepted so far, oldest first.
func (s *Server) Messages() []Message {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Message(nil), s.messages...)
}

// Rejected is the number of message attempts the server refused (programmed
// failures and rejected recipients), which are not in Messages.
func (s *Server) Rejected() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.rejected
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
			tb.Fatalf("smtptest: got %d messages after %v, want %d (rejected %d)", got, timeout, n, s.Rejected())
			return nil
		}
	}
}

// FailNext makes the next n messages fail with the given reply at the end of
// DATA (after the body was sent), e.g. FailNext(1, 451, "4.7.1", "try again
// later") or FailNext(1, 554, "5.7.1", "message refused"). enhanced may be
// empty. Use FailNextAt to fail at RCPT TO or MAIL FROM instead.
func (s *Server) FailNext(n int, code int, enhanced string, msg string) {
	s.FailNextAt(StageData, n, code, enhanced, msg)
}

// FailNextAt makes the next n messages fail with the given reply at stage.
// A later call replaces an earlier one that has not run out.
func (s *Server) FailNextAt(stage Stage, n int, code int, enhanced string, msg string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.failNext = &failure{stage: stage, n: n, err: smtpError(code, enhanced, msg)}
}

// defaultOutage is what Fail without replies answers: a server that is
// going away.
var defaultOutage = Reply{Stage: StageMail, Code: 421, Enhanced: "4.3.2", Message: "Service not available, closing transmission channel"}

// Fail starts an outage, as a provider in trouble has (421 "service not
// available, closing channel", 451 "local error, try again later"): from now
// until Recover every transaction fails, each with the next of replies in
// turn, at that reply's stage. Without replies it is 421 4.3.2 at MAIL FROM.
// For example
//
//	srv.Fail(
//		smtptest.Reply{Stage: smtptest.StageMail, Code: 421, Enhanced: "4.3.2", Message: "service not available"},
//		smtptest.Reply{Stage: smtptest.StageData, Code: 451, Enhanced: "4.3.0", Message: "try again later"})
//	… // the test's own timeline: requests, recorded state
//	refused := srv.Recover()
//
// The outage has no clock: it lasts until the test calls Recover. The
// failures count as Rejected. Fail replaces an outage already going on;
// RejectRecipient answers before it. For a number of failures rather than a
// span, use FailNext.
func (s *Server) Fail(replies ...Reply) {
	if len(replies) == 0 {
		replies = []Reply{defaultOutage}
	}
	o := &outage{}
	for _, r := range replies {
		o.replies = append(o.replies, &failure{stage: r.Stage, err: smtpError(r.Code, r.Enhanced, r.Message)})
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.outage = o
}

// Recover ends the outage Fail started and returns the number of
// transactions it refused (0 when there was none). Once Recover returns,
// nothing fails because of the outage, also in a transaction that began
// during it and had not yet reached its reply's stage.
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

// RejectedRecipient is the number of times RCPT TO for addr was refused by
// RejectRecipient: how often a client tried a recipient it was told is
// permanently unavailable.
func (s *Server) RejectedRecipient(addr string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.rejectedTo[strings.ToLower(addr)]
}

// RejectRecipient makes RCPT TO for addr (case-insensitive) always fail with
// code and msg, e.g. RejectRecipient("kim@example.com", 550, "5.1.1 user
// unknown"); a leading enhanced status code in msg is sent as such.
func (s *Server) RejectRecipient(addr string, code int, msg string) {
	enhanced := ""
	if first, rest, ok := strings.Cut(msg, " "); ok && parseEnhanced(first) != smtp.EnhancedCodeNotSet {
		enhanced, msg = first, rest
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.rejectTo[strings.ToLower(addr)] = smtpError(code, enhanced, msg)
}

func smtpError(code int, enhanced, msg string) *smtp.SMTPError {
	return &smtp.SMTPError{Code: code, EnhancedCode: parseEnhanced(enhanced), Message: msg}
}

func parseEnhanced(s string) smtp.EnhancedCode {
	parts := strings.Split(s, ".")
	if len(parts) != 3 {
		return smtp.EnhancedCodeNotSet
	}
	var ec smtp.EnhancedCode
	for i, p := range parts {
		n, err := strconv.Atoi(p)
		if err != nil || n < 0 || n > 999 {
			return smtp.EnhancedCodeNotSet
		}
		ec[i] = n
	}
	if ec[0] != 2 && ec[0] != 4 && ec[0] != 5 {
		return smtp.EnhancedCodeNotSet
	}
	return ec
}

// takeFailure returns the programmed failure for stage, if one is due, and
// counts it as a rejected attempt.
func (s *Server) takeFailure(stage Stage) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	f := s.failNext
	if f == nil || f.stage != stage || f.n <= 0 {
		return nil
	}
	f.n--
	if f.n == 0 {
		s.failNext = nil
	}
	s.rejectedLocked()
	return f.err
}

func (s *Server) rejectRecipient(addr string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	err, ok := s.rejectTo[strings.ToLower(addr)]
	if !ok {
		return nil
	}
	s.rejectedTo[strings.ToLower(addr)]++
	s.rejectedLocked()
	return err
}

// outageFailure picks the failure for a transaction starting now (at MAIL
// FROM), if an outage is going on: the outage's next reply, and the outage,
// for outageRefuse at that reply's stage.
func (s *Server) outageFailure() (*failure, *outage) {
	s.mu.Lock()
	defer s.mu.Unlock()
	o := s.outage
	if o == nil {
		return nil, nil
	}
	f := o.replies[o.next%len(o.replies)]
	o.next++
	return f, o
}

// outageRefuse answers f, picked from o, unless o has ended since (Recover,
// or Fail started another): then the transaction goes on. A refusal counts
// as rejected and towards o.refused.
func (s *Server) outageRefuse(o *outage, f *failure) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.outage != o {
		return nil
	}
	o.refused++
	s.rejectedLocked()
	return f.err
}

func (s *Server) rejectedLocked() {
	s.rejected++
	close(s.notify)
	s.notify = make(chan struct{})
}

func (s *Server) record(m Message) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.messages = append(s.messages, m)
	close(s.notify)
	s.notify = make(chan struct{})
}

// backend and session implement go-smtp's server side.

type backend struct{ s *Server }

func (b *backend) NewSession(*smtp.Conn) (smtp.Session, error) { return &session{s: b.s}, nil }

type session struct {
	s        *Server
	authed   bool
	from     string
	to       []string
	rejected bool     // this transaction was already refused at RCPT
	pending  *failure // the outage's failure for this transaction, due at its stage
	outage   *outage  // the outage pending came from
}

var errAuthRequired = &smtp.SMTPError{Code: 530, EnhancedCode: smtp.EnhancedCode{5, 7, 0}, Message: "Authentication required"}

func (ss *session) AuthMechanisms() []string {
	if !ss.s.opts.auth {
		return nil
	}
	return []string{sasl.Plain}
}

func (ss *session) Auth(mech string) (sasl.Server, error) {
	if !ss.s.opts.auth || mech != sasl.Plain {
		return nil, smtp.ErrAuthUnknownMechanism
	}
	return sasl.NewPlainServer(func(identity, user, pass string) error {
		if identity != "" && identity != user {
			return errors.New("identity not supported")
		}
		if user != ss.s.opts.user || pass != ss.s.opts.pass {
			return smtp.ErrAuthFailed
		}
		ss.authed = true
		return nil
	}), nil
}

func (ss *session) Mail(from string, _ *smtp.MailOptions) error {
	if ss.s.opts.auth && !ss.authed {
		return errAuthRequired
	}
	ss.pending, ss.outage = nil, nil
	if f, o := ss.s.outageFailure(); f != nil {
		if f.stage == StageMail {
			if err := ss.s.outageRefuse(o, f); err != nil {
				return err
			}
		} else {
			ss.pending, ss.outage = f, o
		}
	}
	if err := ss.s.takeFailure(StageMail); err != nil {
		return err
	}
	ss.from = from
	return nil
}

func (ss *session) Rcpt(to string, _ *smtp.RcptOptions) error {
	if err := ss.s.rejectRecipient(to); err != nil {
		return err
	}
	if ss.pending != nil && ss.pending.stage == StageRcpt && !ss.rejected {
		if err := ss.s.outageRefuse(ss.outage, ss.pending); err != nil {
			ss.rejected = true
			return err
		}
		ss.pending = nil
	}
	if !ss.rejected {
		if err := ss.s.takeFailure(StageRcpt); err != nil {
			ss.rejected = true
			return err
		}
	}
	ss.to = append(ss.to, to)
	return nil
}

func (ss *session) Data(r io.Reader) error {
	raw, err := io.ReadAll(r)
	if err != nil {
		return err
	}
	if ss.s.opts.latency > 0 {
		time.Sleep(ss.s.opts.latency)
	}
	if ss.pending != nil && ss.pending.stage == StageData {
		if err := ss.s.outageRefuse(ss.outage, ss.pending); err != nil {
			return err
		}
	}
	if err := ss.s.takeFailure(StageData); err != nil {
		return err
	}
	m := parseMessage(raw)
	m.From, m.To = ss.from, append([]string(nil), ss.to...)
	m.Received = time.Now()
	ss.s.record(m)
	return nil
}

func (ss *session) Reset() {
	ss.from, ss.to, ss.rejected, ss.pending, ss.outage = "", nil, false, nil, nil
}

func (ss *session) Logout() error { return nil }

// trackingListener counts accepted connections and remembers the open ones so
// the test can drop them.
type trackingListener struct {
	net.Listener
	mu    sync.Mutex
	total int
	open  map[net.Conn]struct{}
}

func (l *trackingListener) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if err != nil {
		return nil, err
	}
	tc := &trackedConn{Conn: c, l: l}
	l.mu.Lock()
	l.total++
	l.open[tc] = struct{}{}
	l.mu.Unlock()
	return tc, nil
}

func (l *trackingListener) accepted() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.total
}

func (l *trackingListener) openCount() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return len(l.open)
}

func (l *trackingListener) closeAll() {
	l.mu.Lock()
	conns := make([]net.Conn, 0, len(l.open))
	for c := range l.open {
		conns = append(conns, c)
	}
	l.mu.Unlock()
	for _, c := range conns {
		_ = c.Close()
	}
}

type trackedConn struct {
	net.Conn
	l    *trackingListener
	once sync.Once
}

func (c *trackedConn) Close() error {
	c.once.Do(func() {
		c.l.mu.Lock()
		delete(c.l.open, c)
		c.l.mu.Unlock()
	})
	return c.Conn.Close()
}

func (s *Server) String() string { return fmt.Sprintf("smtptest.Server(%s)", s.Addr()) }
