package smtptest_test

import (
	"crypto/tls"
	"errors"
	"net/smtp"
	"net/textproto"
	"strings"
	"testing"
	"time"

	"github.com/trackhook/trackhook/dispatcher/smtptest"
)

// The server is checked with the standard library's client, independent of
// go-mail, which the mail package tests use.

const rawMessage = "From: Shop <noreply@shop.example>\r\n" +
	"To: kim@example.com\r\n" +
	"Subject: =?UTF-8?q?Ihre_Sendung_ist_unterwegs_=E2=80=93_Gr=C3=B6=C3=9Fe?=\r\n" +
	"MIME-Version: 1.0\r\n" +
	"Content-Type: multipart/alternative; boundary=b1\r\n" +
	"\r\n" +
	"--b1\r\n" +
	"Content-Type: text/plain; charset=UTF-8\r\n" +
	"Content-Transfer-Encoding: base64\r\n" +
	"\r\n" +
	"R3LDvMOfZSBhdXMg\r\nS8O2bG4h\r\n" + // "Grüße aus Köln!" split across lines
	"--b1\r\n" +
	"Content-Type: text/html; charset=UTF-8\r\n" +
	"Content-Transfer-Encoding: quoted-printable\r\n" +
	"\r\n" +
	"<p>Gr=C3=BC=C3=9Fe aus K=C3=B6ln! Eine sehr lange Zeile, die umbrochen wer=\r\nden muss.</p>\r\n" +
	"--b1--\r\n"

func TestServerRecordsAndDecodesMessages(t *testing.T) {
	srv := smtptest.NewServer(t)
	if err := smtp.SendMail(srv.Addr(), nil, "noreply@shop.example", []string{"kim@example.com"}, []byte(rawMessage)); err != nil {
		t.Fatalf("SendMail: %v", err)
	}
	m := srv.WaitForMessages(t, 1, time.Second)[0]
	if m.From != "noreply@shop.example" || len(m.To) != 1 || m.To[0] != "kim@example.com" {
		t.Errorf("envelope = %q → %q", m.From, m.To)
	}
	for name, got := range map[string][2]string{
		"Subject": {m.Subject, "Ihre Sendung ist unterwegs – Größe"},
		"Text":    {m.Text, "Grüße aus Köln!"},
		"HTML":    {m.HTML, "<p>Grüße aus Köln! Eine sehr lange Zeile, die umbrochen werden muss.</p>"},
		"To":      {m.Header.Get("To"), "kim@example.com"},
	} {
		if got[0] != got[1] {
			t.Errorf("%s = %q, want %q", name, got[0], got[1])
		}
	}
	if !strings.Contains(string(m.Raw), "boundary=b1") {
		t.Errorf("Raw does not hold the message: %q", m.Raw)
	}
	if srv.Connections() != 1 {
		t.Errorf("Connections = %d, want 1", srv.Connections())
	}
}

func TestServerProgrammedFailures(t *testing.T) {
	srv := smtptest.NewServer(t)
	send := func(to string) error {
		return smtp.SendMail(srv.Addr(), nil, "noreply@shop.example", []string{to}, []byte("Subject: x\r\n\r\nx\r\n"))
	}
	code := func(err error) int {
		var te *textproto.Error
		if !errors.As(err, &te) {
			t.Fatalf("err = %v, want an SMTP reply", err)
		}
		return te.Code
	}

	srv.FailNext(2, 451, "4.7.1", "greylisted")
	for range 2 {
		if err := send("a@example.com"); code(err) != 451 || !strings.Contains(err.Error(), "4.7.1 greylisted") {
			t.Errorf("err = %v, want 451 4.7.1 greylisted", err)
		}
	}
	if err := send("a@example.com"); err != nil {
		t.Errorf("third send: %v, want it delivered", err)
	}

	srv.FailNextAt(smtptest.StageRcpt, 1, 550, "5.1.1", "no such user")
	if err := send("b@example.com"); code(err) != 550 {
		t.Errorf("err = %v, want 550 at RCPT", err)
	}
	srv.FailNextAt(smtptest.StageMail, 1, 421, "4.7.0", "too many messages")
	if err := send("c@example.com"); code(err) != 421 {
		t.Errorf("err = %v, want 421 at MAIL", err)
	}

	srv.RejectRecipient("Kim@Example.com", 550, "5.1.1 user unknown")
	for range 2 {
		if err := send("kim@example.com"); code(err) != 550 || !strings.Contains(err.Error(), "5.1.1 user unknown") {
			t.Errorf("err = %v, want 550 5.1.1 user unknown", err)
		}
	}

	if got := len(srv.Messages()); got != 1 {
		t.Errorf("Messages = %d, want 1", got)
	}
	if got := srv.Rejected(); got != 6 {
		t.Errorf("Rejected = %d, want 6", got)
	}
}

func TestServerTLSAndAuth(t *testing.T) {
	t.Run("STARTTLS with AUTH", func(t *testing.T) {
		srv := smtptest.NewServer(t, smtptest.WithSTARTTLS(), smtptest.WithAuth("shop", "pw"))
		c, err := smtp.Dial(srv.Addr())
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		if ok, _ := c.Extension("STARTTLS"); !ok {
			t.Fatal("STARTTLS not offered")
		}
		if err := c.Mail("noreply@shop.example"); err == nil || !strings.Contains(err.Error(), "530") {
			t.Errorf("MAIL before AUTH: %v, want 530", err)
		}
		if err := c.StartTLS(srv.ClientTLSConfig()); err != nil {
			t.Fatalf("StartTLS with ClientTLSConfig: %v", err)
		}
		if err := c.Auth(smtp.PlainAuth("", "shop", "wrong", srv.Host())); err == nil || !strings.Contains(err.Error(), "535") {
			t.Errorf("AUTH with a wrong password: %v, want 535", err)
		}
	})
	t.Run("untrusted without ClientTLSConfig", func(t *testing.T) {
		srv := smtptest.NewServer(t, smtptest.WithSTARTTLS())
		c, err := smtp.Dial(srv.Addr())
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		if err := c.StartTLS(&tls.Config{ServerName: srv.Host()}); err == nil {
			t.Error("StartTLS trusted a self-signed certificate")
		}
	})
	t.Run("implicit TLS", func(t *testing.T) {
		srv := smtptest.NewServer(t, smtptest.WithImplicitTLS(), smtptest.WithAuth("shop", "pw"))
		if !strings.HasSuffix(srv.URL(), "?tls=tls") || !strings.HasPrefix(srv.URL(), "smtp://shop:pw@127.0.0.1:") {
			t.Errorf("URL = %q", srv.URL())
		}
		conn, err := tls.Dial("tcp", srv.Addr(), srv.ClientTLSConfig())
		if err != nil {
			t.Fatalf("TLS dial: %v", err)
		}
		c, err := smtp.NewClient(conn, srv.Host())
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		if err := c.Auth(smtp.PlainAuth("", "shop", "pw", srv.Host())); err != nil {
			t.Fatalf("AUTH: %v", err)
		}
		if err := c.Mail("noreply@shop.example"); err != nil {
			t.Errorf("MAIL after AUTH: %v", err)
		}
	})
}

func TestServerDropAndClose(t *testing.T) {
	srv := smtptest.NewServer(t)
	c, err := smtp.Dial(srv.Addr())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if err := c.Noop(); err != nil {
		t.Fatal(err)
	}
	srv.DropConnections()
	if err := c.Noop(); err == nil {
		t.Error("NOOP after DropConnections succeeded")
	}
	if srv.OpenConnections() != 0 {
		t.Errorf("OpenConnections = %d after drop", srv.OpenConnections())
	}
	srv.Close()
	if _, err := smtp.Dial(srv.Addr()); err == nil {
		t.Error("Dial after Close succeeded")
	}
}

func TestServerOutage(t *testing.T) {
	srv := smtptest.NewServer(t)
	send := func(to string) error {
		return smtp.SendMail(srv.Addr(), nil, "noreply@shop.example", []string{to}, []byte("Subject: x\r\n\r\nx\r\n"))
	}
	srv.RejectRecipient("gone@example.com", 550, "5.1.1 mailbox unavailable")
	srv.Fail(
		smtptest.Reply{Stage: smtptest.StageMail, Code: 421, Enhanced: "4.3.2", Message: "closing"},
		smtptest.Reply{Stage: smtptest.StageRcpt, Code: 451, Enhanced: "4.7.1", Message: "greylisted"},
		smtptest.Reply{Stage: smtptest.StageData, Code: 451, Enhanced: "4.3.0", Message: "local error"})
	for _, want := range []struct {
		code int
		msg  string
	}{{421, "4.3.2 closing"}, {451, "4.7.1 greylisted"}, {451, "4.3.0 local error"}, {421, "4.3.2 closing"}} {
		var te *textproto.Error
		if err := send("kim@example.com"); !errors.As(err, &te) || te.Code != want.code || te.Msg != want.msg {
			t.Errorf("err = %v, want %d %s", err, want.code, want.msg)
		}
	}
	// RejectRecipient answers first, also during the outage (whose next
	// reply, 451 at RCPT, this transaction takes up).
	if err := send("gone@example.com"); err == nil || !strings.Contains(err.Error(), "550") {
		t.Errorf("err = %v, want 550", err)
	}
	if got := srv.Recover(); got != 4 {
		t.Errorf("Recover = %d refused, want 4", got)
	}
	if err := send("kim@example.com"); err != nil {
		t.Errorf("after Recover: %v, want it delivered", err)
	}
	if err := send("gone@example.com"); err == nil {
		t.Error("the rejected recipient was accepted after the outage")
	}
	if got := srv.Recover(); got != 0 {
		t.Errorf("Recover without an outage = %d, want 0", got)
	}
	if n, r, g := len(srv.Messages()), srv.Rejected(), srv.RejectedRecipient("GONE@example.com"); n != 1 || r != 6 || g != 2 {
		t.Errorf("Messages %d, Rejected %d, RejectedRecipient %d; want 1, 6, 2", n, r, g)
	}
	if m := srv.Messages()[0]; m.Received.IsZero() {
		t.Errorf("Received not set")
	}
}

// An outage ends when Recover returns: a transaction that began during it
// and had not reached its reply's stage goes through, and Fail without
// replies is a server going away (421 at MAIL).
func TestServerRecoverMidTransaction(t *testing.T) {
	srv := smtptest.NewServer(t)
	srv.Fail(smtptest.Reply{Stage: smtptest.StageData, Code: 451, Enhanced: "4.3.0", Message: "local error"})
	c, err := smtp.Dial(srv.Addr())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if err := c.Mail("noreply@shop.example"); err != nil {
		t.Fatalf("MAIL: %v", err)
	}
	if err := c.Rcpt("kim@example.com"); err != nil {
		t.Fatalf("RCPT: %v", err)
	}
	if got := srv.Recover(); got != 0 {
		t.Errorf("Recover = %d refused, want 0 (the transaction has not reached DATA)", got)
	}
	w, err := c.Data()
	if err != nil {
		t.Fatalf("DATA: %v", err)
	}
	if _, err := w.Write([]byte("Subject: x\r\n\r\nx\r\n")); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Errorf("end of DATA after Recover: %v, want 250", err)
	}
	if got := len(srv.Messages()); got != 1 {
		t.Errorf("Messages = %d, want 1", got)
	}

	srv.Fail()
	var te *textproto.Error
	if err := c.Mail("noreply@shop.example"); !errors.As(err, &te) || te.Code != 421 || te.Msg != "4.3.2 Service not available, closing transmission channel" {
		t.Errorf("MAIL in a default outage: %v, want 421 4.3.2", err)
	}
	if got, rej := srv.Recover(), srv.Rejected(); got != 1 || rej != 1 {
		t.Errorf("Recover = %d, Rejected = %d; want 1 and 1", got, rej)
	}
}
