package main

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"io"
	"log"
	"math/big"
	"net"
	"net/url"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/emersion/go-sasl"
	"github.com/emersion/go-smtp"
)

// smtpSink is a lean SMTP server (emersion/go-smtp) on 127.0.0.1: STARTTLS
// with a self-signed certificate, AUTH PLAIN required before MAIL FROM. It
// keeps no messages, only counts them and, while watching, the time each
// Message-ID was accepted: dispatcher/smtptest parses and keeps every
// message, which a test wants and a benchmark cannot afford.
type smtpSink struct {
	latency atomic.Int64 // ns before the answer to the end of DATA
	srv     *smtp.Server
	ln      *countingListener
	addr    *net.TCPAddr
	caPEM   []byte
	client  *tls.Config // trusts the certificate
	served  chan struct{}

	accepted   atomic.Int64
	lastAccept atomic.Int64 // unix ns

	mu       sync.Mutex
	watching map[string]time.Time // Message-ID left part → acceptance; nil when not watching
}

const (
	sinkUser = "bench"
	sinkPass = "bench-pass"
)

func startSMTPSink() (*smtpSink, error) {
	cert, caPEM, err := selfSigned()
	if err != nil {
		return nil, err
	}
	raw, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	pool := x509.NewCertPool()
	pool.AddCert(cert.Leaf)
	s := &smtpSink{
		ln:     &countingListener{Listener: raw},
		addr:   raw.Addr().(*net.TCPAddr),
		caPEM:  caPEM,
		client: &tls.Config{RootCAs: pool, ServerName: "127.0.0.1", MinVersion: tls.VersionTLS12},
		served: make(chan struct{}),
	}
	s.srv = smtp.NewServer(s)
	s.srv.Domain = "sink.bench"
	s.srv.TLSConfig = &tls.Config{Certificates: []tls.Certificate{*cert}, MinVersion: tls.VersionTLS12}
	s.srv.MaxMessageBytes = 10 << 20
	s.srv.MaxRecipients = 50
	s.srv.ReadTimeout = 60 * time.Second
	s.srv.WriteTimeout = 60 * time.Second
	s.srv.ErrorLog = log.New(io.Discard, "", 0)
	go func() {
		defer close(s.served)
		_ = s.srv.Serve(s.ln)
	}()
	return s, nil
}

func (s *smtpSink) close() {
	_ = s.srv.Close()
	<-s.served
}

// url is TRACKHOOK_SMTP_URL for this sink (the certificate must be trusted
// separately, e.g. with SSL_CERT_FILE).
func (s *smtpSink) url(query url.Values) string {
	u := url.URL{Scheme: "smtp", Host: s.addr.String(), User: url.UserPassword(sinkUser, sinkPass)}
	if query == nil {
		query = url.Values{}
	}
	query.Set("tls", "starttls")
	u.RawQuery = query.Encode()
	return u.String()
}

func (s *smtpSink) host() string { return s.addr.IP.String() }
func (s *smtpSink) port() int    { return s.addr.Port }

// connections is the number of connections accepted so far.
func (s *smtpSink) connections() int64 { return s.ln.n.Load() }

// watch starts recording the acceptance time of every message by Message-ID.
func (s *smtpSink) watch() {
	s.mu.Lock()
	s.watching = map[string]time.Time{}
	s.mu.Unlock()
}

// snapshot returns a copy of what watch has recorded so far.
func (s *smtpSink) snapshot() map[string]time.Time {
	s.mu.Lock()
	defer s.mu.Unlock()
	m := make(map[string]time.Time, len(s.watching))
	for k, v := range s.watching {
		m[k] = v
	}
	return m
}

// unwatch stops recording and returns what was recorded.
func (s *smtpSink) unwatch() map[string]time.Time {
	s.mu.Lock()
	defer s.mu.Unlock()
	m := s.watching
	s.watching = nil
	return m
}

func (s *smtpSink) accept(raw []byte) {
	now := time.Now()
	s.accepted.Add(1)
	s.lastAccept.Store(now.UnixNano())
	s.mu.Lock()
	if s.watching != nil {
		if id := messageID(raw); id != "" {
			s.watching[id] = now
		}
	}
	s.mu.Unlock()
}

// messageID returns the left part of the Message-ID header ("n-3f2a…" of
// "<n-3f2a…@shop.example>"), or "".
func messageID(raw []byte) string {
	for len(raw) > 0 {
		line := raw
		i := bytes.IndexByte(raw, '\n')
		if i >= 0 {
			line, raw = raw[:i], raw[i+1:]
		} else {
			raw = nil
		}
		line = bytes.TrimRight(line, "\r")
		if len(line) == 0 {
			return "" // end of the header
		}
		const name = "message-id:"
		if len(line) > len(name) && bytes.EqualFold(line[:len(name)], []byte(name)) {
			v := bytes.TrimSpace(line[len(name):])
			v = bytes.TrimPrefix(v, []byte("<"))
			if at := bytes.IndexByte(v, '@'); at >= 0 {
				v = v[:at]
			}
			return string(v)
		}
	}
	return ""
}

// NewSession implements smtp.Backend.
func (s *smtpSink) NewSession(*smtp.Conn) (smtp.Session, error) { return &sinkSession{s: s}, nil }

type sinkSession struct {
	s      *smtpSink
	authed bool
	buf    bytes.Buffer
}

var errAuthRequired = &smtp.SMTPError{Code: 530, EnhancedCode: smtp.EnhancedCode{5, 7, 0}, Message: "Authentication required"}

func (ss *sinkSession) AuthMechanisms() []string { return []string{sasl.Plain} }

func (ss *sinkSession) Auth(mech string) (sasl.Server, error) {
	if mech != sasl.Plain {
		return nil, smtp.ErrAuthUnknownMechanism
	}
	return sasl.NewPlainServer(func(identity, user, pass string) error {
		if (identity != "" && identity != user) || user != sinkUser || pass != sinkPass {
			return smtp.ErrAuthFailed
		}
		ss.authed = true
		return nil
	}), nil
}

func (ss *sinkSession) Mail(string, *smtp.MailOptions) error {
	if !ss.authed {
		return errAuthRequired
	}
	return nil
}

func (ss *sinkSession) Rcpt(string, *smtp.RcptOptions) error { return nil }

func (ss *sinkSession) Data(r io.Reader) error {
	ss.buf.Reset()
	if _, err := ss.buf.ReadFrom(r); err != nil {
		return err
	}
	// A relay far away (an ESP's SMTP endpoint) answers the end of DATA
	// only after a while.
	if d := time.Duration(ss.s.latency.Load()); d > 0 {
		time.Sleep(d)
	}
	ss.s.accept(ss.buf.Bytes())
	return nil
}

func (ss *sinkSession) Reset()        {}
func (ss *sinkSession) Logout() error { return nil }

type countingListener struct {
	net.Listener
	n atomic.Int64
}

func (l *countingListener) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if err == nil {
		l.n.Add(1)
	}
	return c, err
}

// selfSigned makes a throw-away ECDSA certificate for 127.0.0.1 that is its
// own CA, and its PEM for SSL_CERT_FILE.
func selfSigned() (*tls.Certificate, []byte, error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, nil, err
	}
	now := time.Now()
	tmpl := &x509.Certificate{
		SerialNumber:          big.NewInt(now.UnixNano()),
		Subject:               pkix.Name{CommonName: "trackhook-bench smtp sink"},
		NotBefore:             now.Add(-time.Hour),
		NotAfter:              now.Add(24 * time.Hour),
		KeyUsage:              x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign,
		ExtKeyUsage:           []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		BasicConstraintsValid: true,
		IsCA:                  true,
		DNSNames:              []string{"localhost"},
		IPAddresses:           []net.IP{net.IPv4(127, 0, 0, 1)},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		return nil, nil, err
	}
	leaf, err := x509.ParseCertificate(der)
	if err != nil {
		return nil, nil, err
	}
	return &tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key, Leaf: leaf},
		pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), nil
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }
