package mailer_test

import (
	"context"
	"testing"

	"github.com/trackhook/trackhook/dispatcher/mailer"
	"github.com/trackhook/trackhook/dispatcher/smtptest"
)

// The two benchmarks send the same message to the same STARTTLS+AUTH server;
// the only difference is whether connections are reused. DialEach is what a
// sender without a pool (go-mail's DialAndSend per message) costs: TCP
// connect, EHLO, STARTTLS handshake, EHLO, AUTH, then the message, then
// QUIT. Over loopback this measures CPU (TLS handshakes); over a real
// network every round trip adds latency on top.

func BenchmarkSMTPSendPooled(b *testing.B) {
	benchmarkSMTPSend(b, 100)
}

func BenchmarkSMTPSendDialEach(b *testing.B) {
	benchmarkSMTPSend(b, 1) // recycle after every message: one connection per message
}

func benchmarkSMTPSend(b *testing.B, maxPerConn int) {
	srv := smtptest.NewServer(b, smtptest.WithSTARTTLS(), smtptest.WithAuth("shop", "s3cret"))
	s := newSender(b, srv, func(c *mailer.SMTPConfig) {
		c.PoolSize = 1
		c.MaxMessagesPerConn = maxPerConn
	})
	e := email("kim@example.com")
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		if err := s.Send(ctx, e); err != nil {
			b.Fatal(err)
		}
	}
	b.StopTimer()
	b.ReportMetric(float64(srv.Connections())/float64(b.N), "conns/op")
}
