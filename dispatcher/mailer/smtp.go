package mailer

import (
	"bufio"
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net"
	"net/textproto"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	gomail "github.com/wneessen/go-mail"
	"github.com/wneessen/go-mail/smtp"

	"github.com/trackhook/trackhook/dispatcher"
	"github.com/trackhook/trackhook/dispatcher/redact"
)

// SMTP sends email through a pool of persistent SMTP connections shared by
// concurrent callers. It implements dispatcher.EmailSender.
//
// Send checks out an idle connection, or dials one while fewer than PoolSize
// are open, or waits (honouring ctx) for one to come back. A connection is
// recycled after MaxMessagesPerConn messages and closed after IdleTimeout
// without use. To a server that offers PIPELINING, MAIL FROM, RCPT TO and
// DATA go out in one write (RFC 2920). After the server refuses a message (a reply to MAIL FROM,
// RCPT TO or DATA) the session is reset with RSET and the connection kept;
// after anything else (421, EOF, broken pipe, timeout) it is closed. A
// message whose MAIL FROM fails on a reused connection that turns out to be
// dead (the server dropped it while idle) is retried once on a fresh
// connection: nothing was sent, so this cannot duplicate it.
type SMTP struct {
	cfg  SMTPConfig
	addr string
	opts []gomail.Option // shared by every connection's go-mail Client
	tls  *tls.Config     // nil for TLSNone

	sem         chan struct{} // one token per connection in use
	done        chan struct{} // closed by Close
	janitorDone chan struct{}
	closeOnce   sync.Once
	bg          sync.WaitGroup // background QUITs

	mu   sync.Mutex
	idle []*conn // most recently used last
}

// NewSMTP validates cfg and returns a sender; it does not connect until the
// first Send. Call Close when done.
func NewSMTP(cfg SMTPConfig) (*SMTP, error) {
	cfg, err := cfg.withDefaults()
	if err != nil {
		return nil, err
	}
	s := &SMTP{
		cfg:         cfg,
		addr:        net.JoinHostPort(cfg.Host, strconv.Itoa(cfg.Port)),
		sem:         make(chan struct{}, cfg.PoolSize),
		done:        make(chan struct{}),
		janitorDone: make(chan struct{}),
	}
	s.opts = []gomail.Option{
		gomail.WithPort(cfg.Port),
		gomail.WithTimeout(cfg.Timeout),
		// No NOOP before and no RSET after every message: two round trips
		// per message that a pool does not need. A dead connection shows at
		// MAIL FROM, before anything is sent, and Send retries it once.
		gomail.WithoutNoop(),
		gomail.WithoutRset(),
	}
	if cfg.LocalName != "" {
		s.opts = append(s.opts, gomail.WithHELO(cfg.LocalName))
	}
	if cfg.TLS != TLSNone {
		t := &tls.Config{}
		if cfg.TLSConfig != nil {
			t = cfg.TLSConfig.Clone()
		}
		if t.ServerName == "" {
			t.ServerName = cfg.Host
		}
		if t.MinVersion == 0 {
			t.MinVersion = tls.VersionTLS12
		}
		s.tls = t
		s.opts = append(s.opts, gomail.WithTLSConfig(t))
	}
	switch cfg.TLS {
	case TLSStartTLS:
		s.opts = append(s.opts, gomail.WithTLSPolicy(gomail.TLSMandatory))
	case TLSImplicit:
		// The TLS handshake happens in dial; WithSSL tells go-mail not to
		// attempt STARTTLS on top.
		s.opts = append(s.opts, gomail.WithSSL(), gomail.WithTLSPolicy(gomail.TLSMandatory))
	case TLSNone:
		s.opts = append(s.opts, gomail.WithTLSPolicy(gomail.NoTLS))
	}
	if _, err := gomail.NewClient(cfg.Host, s.opts...); err != nil {
		return nil, fmt.Errorf("smtp config: %w", err)
	}
	go s.janitor()
	return s, nil
}

// conn is one pooled SMTP session. It has its own go-mail Client because the
// dialer and the AUTH state are per connection.
type conn struct {
	client   *gomail.Client
	sc       *smtp.Client
	sent     int // transactions started on this connection
	lastUsed time.Time
	// pipeline is set when the server offers PIPELINING (RFC 2920): MAIL
	// FROM, RCPT TO and DATA then go out together. mailParams is what
	// go-mail would add to MAIL FROM on this connection.
	pipeline   bool
	mailParams string

	mu      sync.Mutex
	raw     net.Conn // the TCP connection under TLS and SMTP
	aborted bool
}

// abort closes the TCP connection at once, from any goroutine: it is how a
// cancelled ctx interrupts go-mail, which takes no context once dialled.
func (c *conn) abort() {
	c.mu.Lock()
	raw := c.raw
	c.aborted = true
	c.mu.Unlock()
	if raw != nil {
		_ = raw.Close()
	}
}

// dialer returns the DialContextFunc for one connection. Owning the dial
// lets the pool close the socket when ctx is cancelled during EHLO, STARTTLS
// or AUTH, and when go-mail's DialToSMTPClientWithContext fails after
// connecting (it returns the error without closing the socket).
func (s *SMTP) dialer(c *conn) gomail.DialContextFunc {
	return func(ctx context.Context, network, addr string) (net.Conn, error) {
		var d net.Dialer
		raw, err := d.DialContext(ctx, network, addr)
		if err != nil {
			return nil, err
		}
		if dialed != nil {
			raw = dialed(raw)
		}
		c.mu.Lock()
		if c.aborted {
			c.mu.Unlock()
			_ = raw.Close()
			return nil, context.Cause(ctx)
		}
		c.raw = raw
		c.mu.Unlock()
		if s.cfg.TLS != TLSImplicit {
			return raw, nil
		}
		tc := tls.Client(raw, s.tls)
		if err := tc.HandshakeContext(ctx); err != nil {
			_ = raw.Close()
			return nil, err
		}
		return tc, nil
	}
}

// dial opens, secures and authenticates a new connection.
func (s *SMTP) dial(ctx context.Context) (*conn, error) {
	c := &conn{}
	opts := append(slices.Clip(s.opts), gomail.WithDialContextFunc(s.dialer(c)))
	if s.cfg.Username != "" {
		opts = append(opts, gomail.WithSMTPAuthCustom(&autoAuth{user: s.cfg.Username, pass: s.cfg.Password, host: s.cfg.Host}))
	}
	client, err := gomail.NewClient(s.cfg.Host, opts...)
	if err != nil {
		return nil, err
	}
	stop := context.AfterFunc(ctx, c.abort)
	sc, err := client.DialToSMTPClientWithContext(ctx)
	interrupted := !stop()
	if err != nil || interrupted {
		c.abort()
		if ctx.Err() != nil {
			if err == nil {
				return nil, ctx.Err()
			}
			return nil, fmt.Errorf("%w: %w", ctx.Err(), err)
		}
		return nil, err
	}
	// go-mail writes through textproto's 4 KB buffer, so a 30 KB email
	// went out in eight writes, each a TLS record and a system call, and
	// the server read it in as many pieces. With a buffer the size of a
	// typical message, each command and the whole message with its final
	// dot are one write (TLS cuts that into records of 16 KB). Set after
	// STARTTLS, which gives the client a new writer.
	sc.Text.Writer.W = bufio.NewWriterSize(flushThrough{sc.Text.Writer.W}, sendBuffer)
	c.client, c.sc = client, sc
	c.pipeline, _ = sc.Extension("PIPELINING")
	// The parameters go-mail's Mail adds, for the options s.opts sets (no
	// DSN, SMTPUTF8 not skipped): an option added there that changes
	// MAIL FROM must be reflected here.
	if ok, _ := sc.Extension("8BITMIME"); ok {
		c.mailParams += " BODY=8BITMIME"
	}
	if ok, _ := sc.Extension("SMTPUTF8"); ok {
		c.mailParams += " SMTPUTF8"
	}
	return c, nil
}

// sendBuffer is the write buffer of one pooled connection.
const sendBuffer = 64 << 10

// flushThrough hands what the large buffer flushes to the connection's own
// writer and flushes that at once, so a flush of the large buffer (after
// each command, and at the end of DATA) reaches the server.
type flushThrough struct{ w *bufio.Writer }

func (f flushThrough) Write(p []byte) (int, error) {
	n, err := f.w.Write(p)
	if err == nil {
		err = f.w.Flush()
	}
	return n, err
}

// dialed, when set by a test, wraps each TCP connection the pool opens.
var dialed func(net.Conn) net.Conn

// Send delivers e. See the package documentation for what its errors mean.
func (s *SMTP) Send(ctx context.Context, e dispatcher.Email) error {
	msg, err := buildMessage(e, time.Now())
	if err != nil {
		return err
	}
	who := redact.Email(e.To)

	select {
	case s.sem <- struct{}{}:
	case <-ctx.Done():
		return fmt.Errorf("smtp: sending to %s: waiting for a connection: %w", who, ctx.Err())
	case <-s.done:
		return ErrClosed
	}
	defer func() { <-s.sem }()
	if s.isClosed() {
		return ErrClosed
	}
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("smtp: sending to %s: %w", who, err)
	}

	for attempt := 0; ; attempt++ {
		var c *conn
		var reused bool
		if attempt == 0 {
			c, reused, err = s.checkout(ctx)
		} else {
			// The idle connection was dead; the others idle as long may be
			// too (a server restart), so do not try another one.
			c, err = s.dial(ctx)
		}
		if err != nil {
			return fmt.Errorf("smtp: sending to %s: connecting to %s: %w", who, s.addr, err)
		}
		c.sent++
		stop := context.AfterFunc(ctx, c.abort)
		delivered, st, sendErr := s.transact(ctx, c, msg)
		interrupted := !stop()

		if delivered {
			// The server accepted it. Whatever failed afterwards must not
			// make the worker send it again.
			if interrupted {
				c.abort()
			} else {
				s.checkin(c)
			}
			return nil
		}
		v := judge(st, sendErr, e.To)
		if interrupted {
			c.abort()
			return fmt.Errorf("smtp: sending to %s: %w: %w", who, ctx.Err(), v.err)
		}
		switch {
		case v.stale && reused && attempt == 0:
			c.abort()
			continue
		case v.keep && c.sc.Reset() == nil:
			s.checkin(c)
		default:
			c.abort()
		}
		if v.permanent {
			return fmt.Errorf("smtp: %s rejected: %w", who, v.err)
		}
		return fmt.Errorf("smtp: sending to %s: %w", who, v.err)
	}
}

// transact runs one mail transaction on c: MAIL FROM, RCPT TO, DATA, the
// message, and the end of DATA. Just before the end of DATA, the one step
// after which the server may have the message, it takes an in-doubt slot
// with dispatcher.Commit. On failure it says which stage failed.
func (s *SMTP) transact(ctx context.Context, c *conn, msg *gomail.Msg) (delivered bool, failed stage, err error) {
	from, err := msg.GetSender(false)
	if err != nil {
		return false, stageMail, err
	}
	rcpts, err := msg.GetRecipients()
	if err != nil {
		return false, stageRcpt, err
	}
	if err := c.sc.UpdateDeadline(s.cfg.Timeout); err != nil {
		return false, stageMail, err
	}
	var w io.WriteCloser
	if c.pipeline {
		w, failed, err = c.open(from, rcpts)
	} else {
		w, failed, err = c.openInTurn(from, rcpts)
	}
	if err != nil {
		return false, failed, err
	}
	if _, err := msg.WriteTo(w); err != nil {
		return false, stageWrite, err
	}
	if err := dispatcher.Commit(ctx); err != nil {
		// Nothing is handed over until the final dot; the caller closes
		// the connection, and the server drops the half-sent message.
		return false, stageCommit, err
	}
	// RFC 5321 4.5.3.2.6: wait up to 10 minutes for the reply to the end of
	// DATA. Giving up earlier turns a slow server into a duplicate.
	if err := c.sc.UpdateDeadline(s.cfg.DataTimeout); err != nil {
		return false, stageDataClose, err
	}
	if err := w.Close(); err != nil {
		return false, stageDataClose, err
	}
	return true, 0, nil
}

// openInTurn starts a transaction one command at a time, each waiting for
// its reply, and returns the writer for the message.
func (c *conn) openInTurn(from string, rcpts []string) (io.WriteCloser, stage, error) {
	if err := c.sc.Mail(from); err != nil {
		return nil, stageMail, err
	}
	for _, r := range rcpts {
		if err := c.sc.Rcpt(r); err != nil {
			return nil, stageRcpt, err
		}
	}
	w, err := c.sc.Data()
	if err != nil {
		return nil, stageData, err
	}
	return w, 0, nil
}

// open starts a transaction the way RFC 2920 allows when the server offers
// PIPELINING: MAIL FROM, every RCPT TO and DATA in one write, then their
// replies in order: one round trip instead of three. The first refusal is
// what failed; every reply is still read, so that the session stays in step
// for RSET. A server that answers DATA with 354 although it refused the
// sender or every recipient (RFC 2920 says it must not) now waits for a
// message: the connection is closed, so nothing can be delivered, and the
// caller's RSET fails and drops it.
func (c *conn) open(from string, rcpts []string) (io.WriteCloser, stage, error) {
	for _, addr := range append([]string{from}, rcpts...) {
		if strings.ContainsAny(addr, "\r\n") {
			return nil, stageMail, errors.New("smtp: an address must not contain CR or LF")
		}
	}
	bw := c.sc.Text.Writer.W
	_, _ = bw.WriteString("MAIL FROM:" + from + c.mailParams + "\r\n")
	for _, r := range rcpts {
		_, _ = bw.WriteString("RCPT TO:" + r + "\r\n")
	}
	_, _ = bw.WriteString("DATA\r\n")
	if err := bw.Flush(); err != nil {
		return nil, stageMail, err
	}

	var failed stage
	var refused error // the first refusal
	// reply reads the next reply; ok is false for a refusal, err is set
	// when the connection failed (then nothing more can be read).
	reply := func(st stage, expect int) (ok bool, err error) {
		_, _, err = c.sc.Text.ReadResponse(expect)
		var te *textproto.Error
		switch {
		case err == nil:
			return true, nil
		case !errors.As(err, &te):
			return false, err
		case refused == nil:
			failed, refused = st, err
		}
		return false, nil
	}
	// broken is a connection that failed while reading the replies: the
	// first refusal, when there was one, says more (421 at MAIL FROM is
	// how a server closes an idle session, and marks it stale).
	broken := func(st stage, err error) (io.WriteCloser, stage, error) {
		if refused != nil {
			c.abort()
			return nil, failed, refused
		}
		return nil, st, err
	}
	if _, err := reply(stageMail, 250); err != nil {
		return broken(stageMail, err)
	}
	for range rcpts {
		if _, err := reply(stageRcpt, 25); err != nil {
			return broken(stageRcpt, err)
		}
	}
	dataOK, err := reply(stageData, 354)
	if err != nil {
		return broken(stageData, err)
	}
	if refused != nil {
		if dataOK {
			c.abort() // DATA accepted after a refusal: see above
		}
		return nil, failed, refused
	}
	return &dataWriter{c: c, WriteCloser: c.sc.Text.DotWriter()}, 0, nil
}

// dataWriter is the message's writer after a pipelined DATA; Close ends DATA
// with the final dot and reads the server's reply.
type dataWriter struct {
	c *conn
	io.WriteCloser
}

func (d *dataWriter) Close() error {
	if err := d.WriteCloser.Close(); err != nil {
		return err
	}
	_, _, err := d.c.sc.Text.ReadResponse(250)
	return err
}

// checkout returns an idle connection (reused=true) or dials a new one. The
// caller holds a pool token, so a new dial never exceeds PoolSize: it only
// happens when no connection is idle.
func (s *SMTP) checkout(ctx context.Context) (c *conn, reused bool, err error) {
	now := time.Now()
	s.mu.Lock()
	for len(s.idle) > 0 {
		last := s.idle[len(s.idle)-1]
		s.idle = s.idle[:len(s.idle)-1]
		if now.Sub(last.lastUsed) > s.cfg.IdleTimeout {
			s.quitLater(last)
			continue
		}
		c = last
		break
	}
	s.mu.Unlock()
	if c != nil {
		return c, true, nil
	}
	c, err = s.dial(ctx)
	return c, false, err
}

// checkin returns c to the pool, or retires it after MaxMessagesPerConn.
func (s *SMTP) checkin(c *conn) {
	c.lastUsed = time.Now()
	s.mu.Lock()
	defer s.mu.Unlock()
	if c.sent >= s.cfg.MaxMessagesPerConn || s.isClosed() {
		s.quitLater(c)
		return
	}
	s.idle = append(s.idle, c)
}

func (s *SMTP) isClosed() bool {
	select {
	case <-s.done:
		return true
	default:
		return false
	}
}

// quitLater says QUIT on c in the background. Callers hold a pool token or
// are the janitor, so Close (which waits for both) never races the Add.
func (s *SMTP) quitLater(c *conn) {
	s.bg.Add(1)
	go func() {
		defer s.bg.Done()
		s.quit(c)
	}()
}

func (s *SMTP) quit(c *conn) {
	if err := c.sc.UpdateDeadline(s.cfg.Timeout); err == nil {
		_ = c.client.CloseWithSMTPClient(c.sc)
	}
	c.abort()
}

// janitor closes connections idle for longer than IdleTimeout.
func (s *SMTP) janitor() {
	defer close(s.janitorDone)
	every := min(max(s.cfg.IdleTimeout/2, 10*time.Millisecond), time.Minute)
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-s.done:
			return
		case now := <-t.C:
			s.mu.Lock()
			kept := s.idle[:0]
			for _, c := range s.idle {
				if now.Sub(c.lastUsed) > s.cfg.IdleTimeout {
					s.quitLater(c)
				} else {
					kept = append(kept, c)
				}
			}
			clear(s.idle[len(kept):])
			s.idle = kept
			s.mu.Unlock()
		}
	}
}

// Close stops new sends, waits for the ones in flight, says QUIT on every
// connection and stops the janitor. It is safe to call more than once.
func (s *SMTP) Close() error {
	s.closeOnce.Do(func() {
		close(s.done)
		<-s.janitorDone
		for range cap(s.sem) { // wait for every in-flight Send
			s.sem <- struct{}{}
		}
		s.mu.Lock()
		idle := s.idle
		s.idle = nil
		s.mu.Unlock()
		for _, c := range idle {
			s.quitLater(c)
		}
		s.bg.Wait()
	})
	return nil
}

var _ dispatcher.EmailSender = (*SMTP)(nil)
