package mailer

import (
	"context"
	"net"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/trackhook/trackhook/dispatcher"
	"github.com/trackhook/trackhook/dispatcher/smtptest"
)

// countingConn counts the writes a connection is asked to make: each one is
// a system call (and, under TLS, at least one record).
type countingConn struct {
	net.Conn
	writes *atomic.Int64
}

func (c countingConn) Write(p []byte) (int, error) {
	c.writes.Add(1)
	return c.Conn.Write(p)
}

// A message of tens of kilobytes goes out in one write after the DATA
// command, not one per 4 KB of textproto's buffer; and to a server that
// offers PIPELINING (go-smtp does), MAIL FROM, RCPT TO and DATA go out
// together: two writes per message, one round trip for the envelope.
func TestSMTPWritesAMessageAtOnce(t *testing.T) {
	var writes atomic.Int64
	dialed = func(c net.Conn) net.Conn { return countingConn{Conn: c, writes: &writes} }
	t.Cleanup(func() { dialed = nil })

	srv := smtptest.NewServer(t)
	cfg, err := ParseSMTPURL(srv.URL())
	if err != nil {
		t.Fatal(err)
	}
	cfg.PoolSize = 1
	s, err := NewSMTP(cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = s.Close() })

	e := dispatcher.Email{
		From: "Shop <noreply@shop.example>", To: "kim@example.com", Subject: "Your parcel",
		Text:     strings.Repeat("Your parcel 1Z999 is in transit.\n", 600), // about 20 KB
		HTML:     "<p>" + strings.Repeat("Your parcel <b>1Z999</b> is in transit.<br>\n", 500) + "</p>",
		Language: "en", MessageID: "n-1@shop.example",
	}
	ctx := context.Background()
	if err := s.Send(ctx, e); err != nil { // dials: EHLO and its replies count here
		t.Fatal(err)
	}
	before := writes.Load()
	e.MessageID = "n-2@shop.example"
	if err := s.Send(ctx, e); err != nil {
		t.Fatal(err)
	}
	msgs := srv.WaitForMessages(t, 2, 5*time.Second)
	if n := len(msgs[1].Raw); n < 40<<10 {
		t.Fatalf("the message is %d bytes; the test wants one of over 40 KB", n)
	}
	if got := writes.Load() - before; got != 2 {
		t.Errorf("the second message took %d writes; want 2 (MAIL+RCPT+DATA, the message with its dot)", got)
	}
}
