package mailer_test

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"net"
	"strings"
	"sync"
	"testing"

	"github.com/trackhook/trackhook/dispatcher"
	"github.com/trackhook/trackhook/dispatcher/mailer"
)

// scripted is an SMTP server written out line by line for what go-smtp (in
// smtptest) cannot be made to do: leave PIPELINING out of its EHLO reply,
// and answer DATA with 354 after refusing every recipient, which RFC 2920
// forbids but which a client must survive.
type scripted struct {
	ln         net.Listener
	pipelining bool

	mu        sync.Mutex
	rcpt      string   // reply to RCPT TO
	data      string   // reply to DATA
	early     []string // commands sent before the reply to the one before
	delivered int      // messages ended with a dot and accepted
	conns     int
	lines     int // lines of message data received, dot included
}

func newScripted(t *testing.T, pipelining bool) *scripted {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	s := &scripted{ln: ln, pipelining: pipelining, rcpt: "250 2.1.5 ok", data: "354 go ahead"}
	t.Cleanup(func() { _ = ln.Close() })
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			s.mu.Lock()
			s.conns++
			s.mu.Unlock()
			go s.serve(c)
		}
	}()
	return s
}

func (s *scripted) set(rcpt, data string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.rcpt, s.data = rcpt, data
}

func (s *scripted) serve(c net.Conn) {
	defer c.Close()
	br := bufio.NewReader(c)
	say := func(lines ...string) bool {
		_, err := fmt.Fprint(c, strings.Join(lines, "\r\n")+"\r\n")
		return err == nil
	}
	if !say("220 scripted.test ESMTP") {
		return
	}
	for {
		line, err := br.ReadString('\n')
		if err != nil {
			return
		}
		cmd := strings.ToUpper(strings.TrimSpace(line))
		if !s.pipelining && br.Buffered() > 0 {
			s.mu.Lock()
			s.early = append(s.early, cmd)
			s.mu.Unlock()
		}
		s.mu.Lock()
		rcpt, data := s.rcpt, s.data
		s.mu.Unlock()
		var ok bool
		switch {
		case strings.HasPrefix(cmd, "EHLO"):
			ext := []string{"250-scripted.test", "250-8BITMIME"}
			if s.pipelining {
				ext = append(ext, "250-PIPELINING")
			}
			ok = say(append(ext, "250 SIZE 10000000")...)
		case strings.HasPrefix(cmd, "MAIL FROM:"), cmd == "RSET", cmd == "NOOP":
			ok = say("250 2.0.0 ok")
		case strings.HasPrefix(cmd, "RCPT TO:"):
			ok = say(rcpt)
		case cmd == "DATA":
			if ok = say(data); ok && strings.HasPrefix(data, "354") {
				for {
					l, err := br.ReadString('\n')
					if err != nil {
						return // closed in the middle: nothing delivered
					}
					s.mu.Lock()
					s.lines++
					s.mu.Unlock()
					if l == ".\r\n" {
						break
					}
				}
				s.mu.Lock()
				s.delivered++
				s.mu.Unlock()
				ok = say("250 2.0.0 queued")
			}
		case cmd == "QUIT":
			say("221 2.0.0 bye")
			return
		default:
			ok = say("502 5.5.2 not implemented")
		}
		if !ok {
			return
		}
	}
}

func (s *scripted) sender(t *testing.T) *mailer.SMTP {
	t.Helper()
	cfg, err := mailer.ParseSMTPURL("smtp://" + s.ln.Addr().String() + "?tls=none&pool=1")
	if err != nil {
		t.Fatal(err)
	}
	m, err := mailer.NewSMTP(cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = m.Close() })
	return m
}

// Without PIPELINING in the server's EHLO reply, every command waits for the
// reply to the one before (RFC 5321): a server that does not pipeline may
// read what came early as part of the wrong command.
func TestSMTPWaitsForEachReplyWhenTheServerDoesNotPipeline(t *testing.T) {
	srv := newScripted(t, false)
	s := srv.sender(t)
	for i := range 3 {
		if err := s.Send(context.Background(), email(fmt.Sprintf("c%d@example.com", i))); err != nil {
			t.Fatalf("Send %d: %v", i, err)
		}
	}
	srv.mu.Lock()
	defer srv.mu.Unlock()
	if srv.delivered != 3 {
		t.Errorf("the server accepted %d messages, want 3", srv.delivered)
	}
	if len(srv.early) > 0 {
		t.Errorf("commands sent before the previous reply: %q", srv.early)
	}
}

// A pipelining server that refuses the only recipient and then answers DATA
// with 354 anyway waits for a message: the client must send it nothing (an
// RSET there would be read as the message's first line, and the client would
// wait for a reply until its timeout), so it drops the connection, reports
// the recipient's refusal, and the next message goes out on a new
// connection.
func TestSMTPDropsASessionThatTakesDATAAfterARefusedRecipient(t *testing.T) {
	srv := newScripted(t, true)
	s := srv.sender(t)
	srv.set("550 5.1.1 user unknown", "354 go ahead")

	err := s.Send(context.Background(), email("kim@example.com"))
	srv.mu.Lock()
	if srv.lines > 0 {
		t.Errorf("the client sent %d lines after the 354 that followed a refusal, want none", srv.lines)
	}
	srv.mu.Unlock()
	if !errors.Is(err, dispatcher.ErrPermanent) {
		t.Fatalf("err = %v, want the recipient's permanent refusal", err)
	}
	var re *mailer.ReplyError
	if !errors.As(err, &re) || re.Stage != "RCPT TO" || re.Code != 550 {
		t.Fatalf("err = %v, want a 550 at RCPT TO", err)
	}

	srv.set("250 2.1.5 ok", "354 go ahead")
	if err := s.Send(context.Background(), email("lou@example.com")); err != nil {
		t.Fatalf("next Send: %v", err)
	}
	srv.mu.Lock()
	defer srv.mu.Unlock()
	if srv.delivered != 1 || srv.conns != 2 {
		t.Errorf("delivered %d on %d connections, want 1 on 2 (the first dropped)", srv.delivered, srv.conns)
	}
}

// A pipelining server that refuses the recipient and then DATA (as RFC 2920
// asks) keeps the session: RSET, and the next message uses it.
func TestSMTPPipelinedRefusalKeepsTheSession(t *testing.T) {
	srv := newScripted(t, true)
	s := srv.sender(t)
	srv.set("450 4.2.1 try later", "554 5.5.1 no valid recipients")

	err := s.Send(context.Background(), email("kim@example.com"))
	var re *mailer.ReplyError
	if !errors.As(err, &re) || re.Stage != "RCPT TO" || re.Code != 450 || errors.Is(err, dispatcher.ErrPermanent) {
		t.Fatalf("err = %v, want a temporary 450 at RCPT TO", err)
	}
	srv.set("250 2.1.5 ok", "354 go ahead")
	if err := s.Send(context.Background(), email("lou@example.com")); err != nil {
		t.Fatalf("next Send: %v", err)
	}
	srv.mu.Lock()
	defer srv.mu.Unlock()
	if srv.delivered != 1 || srv.conns != 1 {
		t.Errorf("delivered %d on %d connections, want 1 on 1", srv.delivered, srv.conns)
	}
}
