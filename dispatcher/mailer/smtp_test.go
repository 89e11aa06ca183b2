package mailer_test

import (
	"context"
	"errors"
	"fmt"
	netmail "net/mail"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/trackhook/trackhook/dispatcher"
	"github.com/trackhook/trackhook/dispatcher/mailer"
	"github.com/trackhook/trackhook/dispatcher/smtptest"
)

const waitFor = 5 * time.Second

// newSender connects an SMTP sender to srv the way the binary does: from the
// server's smtp:// URL, trusting its self-signed certificate.
func newSender(tb testing.TB, srv *smtptest.Server, mutate ...func(*mailer.SMTPConfig)) *mailer.SMTP {
	tb.Helper()
	cfg, err := mailer.ParseSMTPURL(srv.URL())
	if err != nil {
		tb.Fatalf("ParseSMTPURL(%q): %v", srv.URL(), err)
	}
	cfg.TLSConfig = srv.ClientTLSConfig()
	cfg.LocalName = "worker.trackhook.test"
	for _, m := range mutate {
		m(&cfg)
	}
	s, err := mailer.NewSMTP(cfg)
	if err != nil {
		tb.Fatalf("NewSMTP: %v", err)
	}
	tb.Cleanup(func() { _ = s.Close() })
	return s
}

// secureServer is the production shape: submission with STARTTLS and AUTH.
func secureServer(tb testing.TB, opts ...smtptest.Option) *smtptest.Server {
	tb.Helper()
	return smtptest.NewServer(tb, append([]smtptest.Option{smtptest.WithSTARTTLS(), smtptest.WithAuth("shop", "s3cret-pässword")}, opts...)...)
}

func email(to string, mutate ...func(*dispatcher.Email)) dispatcher.Email {
	e := dispatcher.Email{
		From:            "Beispiel Shop <noreply@shop.example>",
		To:              to,
		Subject:         "Your parcel is on its way",
		Text:            "Your parcel 1Z999 is in transit.\nTrack it: https://shop.example/t/1Z999\n",
		HTML:            "<p>Your parcel <b>1Z999</b> is in transit.</p>",
		Language:        "en",
		MessageID:       "notif-1Z999-intransit@shop.example",
		ListUnsubscribe: "https://shop.example/unsubscribe?r=abc123&l=shipping",
	}
	for _, m := range mutate {
		m(&e)
	}
	return e
}

func TestSMTPDeliversWhatTheCustomerSees(t *testing.T) {
	for _, tc := range []struct {
		name   string
		mutate func(*dispatcher.Email)
	}{
		{"english", func(*dispatcher.Email) {}},
		{"german umlauts", func(e *dispatcher.Email) {
			e.Subject = "Ihre Sendung ist unterwegs – Größe: Übergröße, Straße"
			e.Text = "Grüße aus Köln! Ihre Sendung kommt morgen.\n"
			e.HTML = "<p>Grüße aus Köln! Ihre Sendung kommt <em>morgen</em>.</p>"
			e.Language = "de-DE"
			e.From = "Müller & Söhne <versand@shop.example>"
		}},
		{"japanese, long subject", func(e *dispatcher.Email) {
			e.Subject = "お荷物は配達中です。" + strings.Repeat("追跡番号 1Z999 ", 8)
			e.Text = "お荷物は本日配達予定です。\n"
			e.HTML = "<p>お荷物は本日配達予定です。</p>"
			e.Language = "ja"
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			srv := secureServer(t)
			s := newSender(t, srv)
			want := email("kim@example.com", tc.mutate)
			if err := s.Send(context.Background(), want); err != nil {
				t.Fatalf("Send: %v", err)
			}
			got := srv.WaitForMessages(t, 1, waitFor)[0]

			wantFrom, err := netmail.ParseAddress(want.From)
			if err != nil {
				t.Fatal(err)
			}
			if got.From != wantFrom.Address {
				t.Errorf("envelope from = %q, want %q", got.From, wantFrom.Address)
			}
			if len(got.To) != 1 || got.To[0] != "kim@example.com" {
				t.Errorf("envelope to = %q, want [kim@example.com]", got.To)
			}
			if got.Subject != want.Subject {
				t.Errorf("Subject = %q, want %q", got.Subject, want.Subject)
			}
			if got.Text != strings.ReplaceAll(want.Text, "\n", "\r\n") {
				t.Errorf("text part = %q, want %q", got.Text, want.Text)
			}
			if got.HTML != want.HTML {
				t.Errorf("html part = %q, want %q", got.HTML, want.HTML)
			}
			for header, wantValue := range map[string]string{
				"Message-Id":            "<" + want.MessageID + ">",
				"Content-Language":      want.Language,
				"List-Unsubscribe":      "<" + want.ListUnsubscribe + ">",
				"List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
				"To":                    "<kim@example.com>",
				"Mime-Version":          "1.0",
			} {
				if v := got.Header.Get(header); v != wantValue {
					t.Errorf("%s = %q, want %q", header, v, wantValue)
				}
			}
			if from, err := got.Header.AddressList("From"); err != nil || len(from) != 1 || *from[0] != *wantFrom {
				t.Errorf("From = %v (%v), want %q", from, err, want.From)
			}
			if d, err := got.Header.Date(); err != nil || time.Since(d) > time.Minute {
				t.Errorf("Date = %v (%v), want about now", d, err)
			}
			if ct := got.Header.Get("Content-Type"); !strings.HasPrefix(ct, "multipart/alternative;") {
				t.Errorf("Content-Type = %q, want multipart/alternative", ct)
			}
			raw := string(got.Raw)
			if p, h := strings.Index(raw, "Content-Type: text/plain"), strings.Index(raw, "Content-Type: text/html"); p < 0 || h < 0 || p > h {
				t.Errorf("want text/plain before text/html, got positions %d and %d", p, h)
			}
		})
	}
}

func TestSMTPReusesOneConnectionForSequentialSends(t *testing.T) {
	srv := secureServer(t)
	s := newSender(t, srv)
	for i := range 20 {
		if err := s.Send(context.Background(), email(fmt.Sprintf("c%d@example.com", i))); err != nil {
			t.Fatalf("Send %d: %v", i, err)
		}
	}
	srv.WaitForMessages(t, 20, waitFor)
	if n := srv.Connections(); n != 1 {
		t.Errorf("connections = %d, want 1 for 20 sequential sends", n)
	}
}

func TestSMTPConcurrentSendsUseAtMostPoolSize(t *testing.T) {
	const poolSize, sends = 3, 24
	srv := secureServer(t, smtptest.WithLatency(20*time.Millisecond))
	s := newSender(t, srv, func(c *mailer.SMTPConfig) { c.PoolSize = poolSize })

	var wg sync.WaitGroup
	errs := make(chan error, sends)
	for i := range sends {
		wg.Go(func() {
			errs <- s.Send(context.Background(), email(fmt.Sprintf("c%d@example.com", i)))
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Errorf("Send: %v", err)
		}
	}
	if got := len(srv.WaitForMessages(t, sends, waitFor)); got != sends {
		t.Errorf("delivered %d, want %d", got, sends)
	}
	// With the server slowed down every slot fills, and none more.
	if n := srv.Connections(); n != poolSize {
		t.Errorf("connections = %d, want exactly PoolSize %d", n, poolSize)
	}
}

func TestSMTPRecyclesConnectionAfterMaxMessages(t *testing.T) {
	srv := secureServer(t)
	s := newSender(t, srv, func(c *mailer.SMTPConfig) { c.MaxMessagesPerConn = 5 })
	for i := range 12 {
		if err := s.Send(context.Background(), email(fmt.Sprintf("c%d@example.com", i))); err != nil {
			t.Fatalf("Send %d: %v", i, err)
		}
	}
	srv.WaitForMessages(t, 12, waitFor)
	if n := srv.Connections(); n != 3 {
		t.Errorf("connections = %d, want 3 (5+5+2)", n)
	}
	// Retired connections are closed with QUIT, not left open.
	waitUntil(t, func() bool { return srv.OpenConnections() == 1 }, "one open connection left")
}

// TestSMTPFailureClassification drives one programmed failure per case, then
// checks what the worker sees and that the next message still goes out.
func TestSMTPFailureClassification(t *testing.T) {
	for _, tc := range []struct {
		name          string
		stage         smtptest.Stage
		code          int
		enhanced, msg string
		permanent     bool
		wantConns     int // after the failed and one good send
	}{
		{"451 at end of DATA: greylisting, retry", smtptest.StageData, 451, "4.7.1", "try again later", false, 1},
		{"452 at RCPT: mailbox full, retry", smtptest.StageRcpt, 452, "4.2.2", "mailbox full", false, 1},
		{"450 at MAIL: retry", smtptest.StageMail, 450, "4.7.0", "rate limited", false, 1},
		{"421 at end of DATA: server closing, reconnect", smtptest.StageData, 421, "4.7.0", "too many messages", false, 2},
		{"554 at end of DATA: content refused", smtptest.StageData, 554, "5.7.1", "message refused as spam", true, 1},
		{"550 at RCPT: no such user", smtptest.StageRcpt, 550, "5.1.1", "user unknown", true, 1},
		{"553 at MAIL: sender refused is configuration, retry", smtptest.StageMail, 553, "5.7.1", "sender not allowed", false, 1},
		{"530 at MAIL: auth required is configuration, retry", smtptest.StageMail, 530, "5.7.0", "Authentication required", false, 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			srv := secureServer(t)
			s := newSender(t, srv)
			srv.FailNextAt(tc.stage, 1, tc.code, tc.enhanced, tc.msg)

			err := s.Send(context.Background(), email("kim@example.com"))
			if err == nil {
				t.Fatal("Send succeeded, want an error")
			}
			if got := errors.Is(err, dispatcher.ErrPermanent); got != tc.permanent {
				t.Errorf("errors.Is(err, ErrPermanent) = %v, want %v; err: %v", got, tc.permanent, err)
			}
			var re *mailer.ReplyError
			if !errors.As(err, &re) {
				t.Fatalf("ReplyError not reachable with errors.As: %v", err)
			}
			if re.Code != tc.code || re.Enhanced != tc.enhanced {
				t.Errorf("ReplyError = %d %s, want %d %s", re.Code, re.Enhanced, tc.code, tc.enhanced)
			}
			for _, want := range []string{fmt.Sprint(tc.code), tc.enhanced, tc.msg, "k***@example.com"} {
				if !strings.Contains(err.Error(), want) {
					t.Errorf("error %q does not mention %q", err, want)
				}
			}
			if strings.Contains(err.Error(), "kim@example.com") {
				t.Errorf("error %q contains the full address", err)
			}

			if err := s.Send(context.Background(), email("lou@example.com")); err != nil {
				t.Fatalf("next Send: %v", err)
			}
			got := srv.WaitForMessages(t, 1, waitFor)
			if len(got) != 1 || got[0].To[0] != "lou@example.com" {
				t.Errorf("delivered %d messages (%v), want only lou's", len(got), got)
			}
			if n := srv.Connections(); n != tc.wantConns {
				t.Errorf("connections = %d, want %d", n, tc.wantConns)
			}
			if n := srv.Rejected(); n != 1 {
				t.Errorf("server counted %d rejected attempts, want 1", n)
			}
		})
	}
}

func TestSMTPRejectedRecipientIsPermanentMaskedAndKeepsTheConnection(t *testing.T) {
	srv := secureServer(t)
	s := newSender(t, srv)
	// Servers echo the address; the error must still not contain it.
	srv.RejectRecipient("kim@example.com", 550, "5.1.1 <KIM@example.com>: Recipient address rejected: User unknown")

	err := s.Send(context.Background(), email("kim@example.com"))
	if !errors.Is(err, dispatcher.ErrPermanent) {
		t.Fatalf("err = %v, want ErrPermanent", err)
	}
	const want = `smtp: k***@example.com rejected: RCPT TO: 550 5.1.1 <k***@example.com>: Recipient address rejected: User unknown`
	if err.Error() != want {
		t.Errorf("err =\n  %q\nwant\n  %q", err, want)
	}
	for i := range 3 {
		if err := s.Send(context.Background(), email(fmt.Sprintf("c%d@example.com", i))); err != nil {
			t.Fatalf("Send after rejection: %v", err)
		}
	}
	srv.WaitForMessages(t, 3, waitFor)
	if n := srv.Connections(); n != 1 {
		t.Errorf("connections = %d, want 1: a per-recipient rejection must not cost the connection", n)
	}
}

func TestSMTPRedialsWhenServerDropsConnections(t *testing.T) {
	const poolSize = 3
	srv := secureServer(t, smtptest.WithLatency(30*time.Millisecond))
	s := newSender(t, srv, func(c *mailer.SMTPConfig) { c.PoolSize = poolSize })
	var wg sync.WaitGroup
	for i := range poolSize { // fill the pool: three idle connections
		wg.Go(func() {
			if err := s.Send(context.Background(), email(fmt.Sprintf("a%d@example.com", i))); err != nil {
				t.Error(err)
			}
		})
	}
	wg.Wait()
	if n := srv.Connections(); n != poolSize {
		t.Fatalf("connections = %d, want %d", n, poolSize)
	}

	srv.DropConnections() // a restart: every pooled connection is dead
	waitUntil(t, func() bool { return srv.OpenConnections() == 0 }, "server side closed")

	for i := range 5 {
		if err := s.Send(context.Background(), email(fmt.Sprintf("b%d@example.com", i))); err != nil {
			t.Fatalf("Send %d after the server dropped the connections: %v", i, err)
		}
	}
	srv.WaitForMessages(t, poolSize+5, waitFor)
	if n := srv.Connections(); n != poolSize+1 {
		t.Errorf("connections = %d, want %d (one redial, then reuse)", n, poolSize+1)
	}
}

func TestSMTPServerDownIsTemporary(t *testing.T) {
	srv := secureServer(t)
	s := newSender(t, srv, func(c *mailer.SMTPConfig) { c.Timeout = 2 * time.Second })
	srv.Close()

	err := s.Send(context.Background(), email("kim@example.com"))
	if err == nil || errors.Is(err, dispatcher.ErrPermanent) {
		t.Fatalf("err = %v, want a temporary error", err)
	}
	if !strings.Contains(err.Error(), "connecting to "+srv.Addr()) || strings.Contains(err.Error(), "kim@example.com") {
		t.Errorf("err = %q, want it to name the server and mask the recipient", err)
	}
}

func TestSMTPClosesIdleConnections(t *testing.T) {
	srv := secureServer(t)
	s := newSender(t, srv, func(c *mailer.SMTPConfig) { c.IdleTimeout = 100 * time.Millisecond })
	if err := s.Send(context.Background(), email("a@example.com")); err != nil {
		t.Fatal(err)
	}
	if n := srv.OpenConnections(); n != 1 {
		t.Fatalf("open connections after a send = %d, want 1", n)
	}
	waitUntil(t, func() bool { return srv.OpenConnections() == 0 }, "idle connection closed")

	if err := s.Send(context.Background(), email("b@example.com")); err != nil {
		t.Fatal(err)
	}
	if n := srv.Connections(); n != 2 {
		t.Errorf("connections = %d, want 2", n)
	}
}

func TestSMTPWaitingForAConnectionHonoursContext(t *testing.T) {
	srv := secureServer(t, smtptest.WithLatency(500*time.Millisecond))
	s := newSender(t, srv, func(c *mailer.SMTPConfig) { c.PoolSize = 1 })

	busy := make(chan error, 1)
	go func() { busy <- s.Send(context.Background(), email("a@example.com")) }()
	waitUntil(t, func() bool { return srv.OpenConnections() == 1 }, "first send connected")

	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	start := time.Now()
	err := s.Send(ctx, email("b@example.com"))
	if !errors.Is(err, context.DeadlineExceeded) || errors.Is(err, dispatcher.ErrPermanent) {
		t.Errorf("err = %v, want a temporary context.DeadlineExceeded", err)
	}
	if d := time.Since(start); d > 400*time.Millisecond {
		t.Errorf("Send returned after %v, want about the 50ms deadline", d)
	}
	if err := <-busy; err != nil {
		t.Errorf("first Send: %v", err)
	}
}

func TestSMTPContextDeadlineInterruptsASlowServer(t *testing.T) {
	srv := secureServer(t, smtptest.WithLatency(2*time.Second))
	s := newSender(t, srv)
	ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel()
	start := time.Now()
	err := s.Send(ctx, email("kim@example.com"))
	if !errors.Is(err, context.DeadlineExceeded) || errors.Is(err, dispatcher.ErrPermanent) {
		t.Errorf("err = %v, want a temporary context.DeadlineExceeded", err)
	}
	if d := time.Since(start); d > time.Second {
		t.Errorf("Send took %v, want it cut at the 200ms deadline", d)
	}
	if strings.Contains(err.Error(), "kim@example.com") {
		t.Errorf("err %q contains the full address", err)
	}
}

func TestSMTPTLSAndAuthModes(t *testing.T) {
	for _, tc := range []struct {
		name    string
		opts    []smtptest.Option
		mutate  func(*mailer.SMTPConfig)
		wantErr string // "" means delivered
	}{
		{"implicit TLS with AUTH", []smtptest.Option{smtptest.WithImplicitTLS(), smtptest.WithAuth("u", "p")}, nil, ""},
		{"plain server, tls=none", nil, nil, ""},
		{"starttls required but not offered", nil,
			func(c *mailer.SMTPConfig) { c.TLS = mailer.TLSStartTLS }, "does not support STARTTLS"},
		{"implicit TLS against a plain server", nil,
			func(c *mailer.SMTPConfig) { c.TLS = mailer.TLSImplicit; c.Timeout = 2 * time.Second }, "tls"},
		{"certificate not trusted", []smtptest.Option{smtptest.WithSTARTTLS()},
			func(c *mailer.SMTPConfig) { c.TLSConfig = nil }, "certificate"},
		{"certificate for another name", []smtptest.Option{smtptest.WithSTARTTLS()},
			func(c *mailer.SMTPConfig) { c.TLSConfig.ServerName = "mail.other.example" }, "certificate"},
		{"wrong password is temporary", []smtptest.Option{smtptest.WithSTARTTLS(), smtptest.WithAuth("u", "right-password")},
			func(c *mailer.SMTPConfig) { c.Password = "wrong-password" }, "535"},
		{"no AUTH configured but required", []smtptest.Option{smtptest.WithSTARTTLS(), smtptest.WithAuth("u", "p")},
			func(c *mailer.SMTPConfig) { c.Username, c.Password = "", "" }, "530"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			srv := smtptest.NewServer(t, tc.opts...)
			mutate := func(c *mailer.SMTPConfig) {
				if tc.mutate != nil {
					tc.mutate(c)
				}
			}
			s := newSender(t, srv, mutate)
			err := s.Send(context.Background(), email("kim@example.com"))
			if tc.wantErr == "" {
				if err != nil {
					t.Fatalf("Send: %v", err)
				}
				srv.WaitForMessages(t, 1, waitFor)
				return
			}
			if err == nil {
				t.Fatalf("Send succeeded, want an error mentioning %q", tc.wantErr)
			}
			if errors.Is(err, dispatcher.ErrPermanent) {
				t.Errorf("err = %v: connection, TLS and AUTH problems must be temporary", err)
			}
			if !strings.Contains(strings.ToLower(err.Error()), strings.ToLower(tc.wantErr)) {
				t.Errorf("err = %q, want it to mention %q", err, tc.wantErr)
			}
			for _, secret := range []string{"wrong-password", "right-password", "kim@example.com"} {
				if strings.Contains(err.Error(), secret) {
					t.Errorf("err %q contains %q", err, secret)
				}
			}
			if got := len(srv.Messages()); got != 0 {
				t.Errorf("server accepted %d messages", got)
			}
		})
	}
}

func TestSMTPHeaderInjectionIsImpossible(t *testing.T) {
	srv := secureServer(t)
	s := newSender(t, srv)
	for _, tc := range []struct {
		name      string
		mutate    func(*dispatcher.Email)
		permanent bool
	}{
		{"CRLF in subject", func(e *dispatcher.Email) { e.Subject = "Hello\r\nBcc: evil@attacker.example\r\nX-Evil: 1" }, false},
		{"LF in subject", func(e *dispatcher.Email) { e.Subject = "Hello\nBcc: evil@attacker.example" }, false},
		{"CRLF in recipient", func(e *dispatcher.Email) { e.To = "kim@example.com\r\nBcc: evil@attacker.example" }, true},
		{"CRLF in sender", func(e *dispatcher.Email) { e.From = "Shop <noreply@shop.example>\r\nBcc: evil@attacker.example" }, true},
		{"CRLF in Message-ID", func(e *dispatcher.Email) { e.MessageID = "x@shop.example>\r\nBcc: <evil@attacker.example" }, true},
		{"CRLF in language", func(e *dispatcher.Email) { e.Language = "en\r\nBcc: evil@attacker.example" }, true},
		{"CRLF in unsubscribe URL", func(e *dispatcher.Email) {
			e.ListUnsubscribe = "https://shop.example/u\r\nBcc: evil@attacker.example"
		}, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			before := len(srv.Messages())
			err := s.Send(context.Background(), email("kim@example.com", tc.mutate))
			if tc.permanent {
				if !errors.Is(err, dispatcher.ErrPermanent) {
					t.Fatalf("err = %v, want a permanent error", err)
				}
				if strings.Contains(err.Error(), "kim@example.com") {
					t.Errorf("err %q contains the full address", err)
				}
				if len(srv.Messages()) != before {
					t.Error("a message was sent anyway")
				}
				return
			}
			if err != nil {
				t.Fatalf("Send: %v", err)
			}
			got := srv.WaitForMessages(t, before+1, waitFor)[before]
			if len(got.To) != 1 || got.To[0] != "kim@example.com" {
				t.Errorf("envelope recipients = %q, want only kim", got.To)
			}
			if v := got.Header.Get("Bcc"); v != "" {
				t.Errorf("Bcc header injected: %q", v)
			}
			if v := got.Header.Get("X-Evil"); v != "" {
				t.Errorf("X-Evil header injected: %q", v)
			}
			if strings.ContainsAny(got.Subject, "\r\n") || !strings.HasPrefix(got.Subject, "Hello Bcc: evil@attacker.example") {
				t.Errorf("Subject = %q, want the line breaks folded into spaces", got.Subject)
			}
		})
	}
}

// An ASCII subject holding an RFC 2047 encoded-word (say, from a tracking
// number) must not be decoded by the reader into a line break or a Bcc.
func TestSMTPEncodedWordInSubjectReadsAsWritten(t *testing.T) {
	srv := secureServer(t)
	s := newSender(t, srv)
	for i, subject := range []string{
		"Your parcel =?UTF-8?Q?x=0D=0ABcc:_evil@attacker.example?= is on its way",
		"=?utf-8?b?4oCu?= " + strings.Repeat("ä", 80) + " =?", // a bidi override, and a long one cut on runes
	} {
		if err := s.Send(context.Background(), email("kim@example.com", func(e *dispatcher.Email) { e.Subject = subject })); err != nil {
			t.Fatal(err)
		}
		got := srv.WaitForMessages(t, i+1, waitFor)[i]
		if got.Subject != subject {
			t.Errorf("Subject reads %q, want %q", got.Subject, subject)
		}
		if v := got.Header.Get("Bcc"); v != "" {
			t.Errorf("Bcc header: %q", v)
		}
		for _, line := range strings.Split(string(got.Raw), "\r\n") {
			if len(line) > 998 {
				t.Errorf("header line of %d characters", len(line))
			}
		}
	}
}

func TestSMTPUnsubscribeHeaders(t *testing.T) {
	srv := smtptest.NewServer(t)
	s := newSender(t, srv)
	for _, tc := range []struct {
		name, url          string
		wantList, wantPost string
	}{
		{"https gets the one-click pair", "https://shop.example/u/abc", "<https://shop.example/u/abc>", "List-Unsubscribe=One-Click"},
		{"http (local run) gets List-Unsubscribe only", "http://localhost:8080/u/abc", "<http://localhost:8080/u/abc>", ""},
		{"none", "", "", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			before := len(srv.Messages())
			if err := s.Send(context.Background(), email("kim@example.com", func(e *dispatcher.Email) { e.ListUnsubscribe = tc.url })); err != nil {
				t.Fatal(err)
			}
			got := srv.WaitForMessages(t, before+1, waitFor)[before]
			if v := got.Header.Get("List-Unsubscribe"); v != tc.wantList {
				t.Errorf("List-Unsubscribe = %q, want %q", v, tc.wantList)
			}
			if v := got.Header.Get("List-Unsubscribe-Post"); v != tc.wantPost {
				t.Errorf("List-Unsubscribe-Post = %q, want %q", v, tc.wantPost)
			}
		})
	}
	err := s.Send(context.Background(), email("kim@example.com", func(e *dispatcher.Email) { e.ListUnsubscribe = "mailto:u@shop.example" }))
	if !errors.Is(err, dispatcher.ErrPermanent) {
		t.Errorf("mailto-only unsubscribe: err = %v, want permanent", err)
	}
}

func TestSMTPMessageIDDefaultsToTheSenderDomain(t *testing.T) {
	srv := smtptest.NewServer(t)
	s := newSender(t, srv)
	if err := s.Send(context.Background(), email("kim@example.com", func(e *dispatcher.Email) { e.MessageID = "" })); err != nil {
		t.Fatal(err)
	}
	id := srv.WaitForMessages(t, 1, waitFor)[0].Header.Get("Message-Id")
	if !strings.HasPrefix(id, "<") || !strings.HasSuffix(id, "@shop.example>") {
		t.Errorf("Message-ID = %q, want <…@shop.example>", id)
	}
}

func TestSMTPCloseQuitsAndRefusesNewSends(t *testing.T) {
	srv := secureServer(t)
	s := newSender(t, srv)
	if err := s.Send(context.Background(), email("a@example.com")); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	waitUntil(t, func() bool { return srv.OpenConnections() == 0 }, "connections closed")
	if err := s.Send(context.Background(), email("b@example.com")); !errors.Is(err, mailer.ErrClosed) || errors.Is(err, dispatcher.ErrPermanent) {
		t.Errorf("Send after Close: %v, want temporary ErrClosed", err)
	}
	if err := s.Close(); err != nil {
		t.Errorf("second Close: %v", err)
	}
}

func TestNewSMTPRejectsBadConfig(t *testing.T) {
	for _, tc := range []struct {
		name    string
		cfg     mailer.SMTPConfig
		wantErr string
	}{
		{"missing host", mailer.SMTPConfig{}, "missing host"},
		{"bad tls mode", mailer.SMTPConfig{Host: "h", TLS: "ssl"}, `unknown tls mode "ssl": want starttls, tls or none`},
		{"bad port", mailer.SMTPConfig{Host: "h", Port: 70000}, "port 70000 out of range"},
		{"password without user", mailer.SMTPConfig{Host: "h", Password: "hunter2"}, "password set without a user name"},
		{"negative pool", mailer.SMTPConfig{Host: "h", PoolSize: -1}, "negative pool size"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := mailer.NewSMTP(tc.cfg)
			if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
				t.Fatalf("err = %v, want %q", err, tc.wantErr)
			}
			if strings.Contains(err.Error(), "hunter2") {
				t.Errorf("err %q contains the password", err)
			}
		})
	}
}

func TestSMTPConfigStringHidesPassword(t *testing.T) {
	cfg := mailer.SMTPConfig{Host: "smtp.example", Port: 587, Username: "shop", Password: "hunter2"}
	for _, s := range []string{cfg.String(), fmt.Sprintf("%v", cfg), fmt.Sprintf("%+v", cfg), fmt.Sprintf("%#v", cfg)} {
		if strings.Contains(s, "hunter2") {
			t.Errorf("%q contains the password", s)
		}
	}
}

func waitUntil(t *testing.T, cond func() bool, what string) {
	t.Helper()
	deadline := time.Now().Add(waitFor)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for: %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}
