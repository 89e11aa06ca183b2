package dispatcher_test

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/trackhook/trackhook/dispatcher"
	"github.com/trackhook/trackhook/dispatcher/smtptest"
)

// slowLedger is a memLedger whose MarkDelivered takes a while (Redis under
// load) and which watches how many messages the SMTP server holds that the
// ledger does not: the messages a crash at that moment would send twice.
type slowLedger struct {
	memLedger
	srv      *smtptest.Server
	delay    time.Duration
	marked   atomic.Int64
	maxDoubt atomic.Int64
}

func (l *slowLedger) MarkDelivered(ctx context.Context, id, key string) error {
	time.Sleep(l.delay)
	err := l.memLedger.MarkDelivered(ctx, id, key)
	l.marked.Add(1)
	return err
}

func (l *slowLedger) observe() {
	if d := int64(len(l.srv.Messages())) - l.marked.Load(); d > l.maxDoubt.Load() {
		l.maxDoubt.Store(d)
	}
}

// inDoubtRun sends n emails through 8 concurrent handler calls and a pool
// of 4 SMTP connections, and returns the most messages that were at the
// server and not yet in the ledger at once.
func inDoubtRun(t *testing.T, maxInDoubt, n int) int64 {
	f := newFixture(t, smtptest.WithLatency(5*time.Millisecond))
	srv := f.smtp
	ledger := &slowLedger{srv: srv, delay: 20 * time.Millisecond}
	h := f.handler(t, func(c *dispatcher.Config) { c.Ledger, c.Gate, c.MaxInDoubt = ledger, ledger, maxInDoubt })

	stop := make(chan struct{})
	watched := make(chan struct{})
	go func() {
		defer close(watched)
		for {
			ledger.observe()
			select {
			case <-stop:
				return
			case <-time.After(200 * time.Microsecond):
			}
		}
	}()
	jobs := make(chan int)
	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() {
			for i := range jobs {
				note := notification(dispatcher.ChannelEmail, fmt.Sprintf("c%d@example.com", i), "en")
				if err := h.ProcessEmail(context.Background(), task(t, note)); err != nil {
					t.Error(err)
				}
			}
		})
	}
	for i := range n {
		jobs <- i
	}
	close(jobs)
	wg.Wait()
	close(stop)
	<-watched
	ledger.observe()
	if got := len(srv.Messages()); got != n {
		t.Fatalf("the server has %d messages, want %d", got, n)
	}
	return ledger.maxDoubt.Load()
}

// With MaxInDoubt = 1, a crash at any moment finds at most one email that
// the server has and the ledger does not, however many workers and pooled
// connections send at once: the next end of DATA waits for the last one's
// ledger write.
func TestAtMostOneEmailInDoubt(t *testing.T) {
	if got := inDoubtRun(t, 1, 24); got > 1 {
		t.Fatalf("%d emails were at the server and not in the ledger at once, want at most 1", got)
	}
}

// Without the bound, concurrent sends overlap in that window (this is what
// the bound is for, and shows the test above can fail).
func TestWithoutBoundSeveralEmailsInDoubt(t *testing.T) {
	if got := inDoubtRun(t, 0, 24); got < 2 {
		t.Fatalf("at most %d email in doubt at once without a bound; the test cannot see the window", got)
	}
}

// Commit outside a handler (a sender used on its own) does not wait.
func TestCommitOutsideHandler(t *testing.T) {
	if err := dispatcher.Commit(context.Background()); err != nil {
		t.Fatal(err)
	}
}

// blockingLedger holds MarkDelivered until release is closed.
type blockingLedger struct {
	memLedger
	marking chan struct{} // closed when the first MarkDelivered starts
	release chan struct{}
	once    sync.Once
}

func (l *blockingLedger) MarkDelivered(ctx context.Context, id, key string) error {
	l.once.Do(func() { close(l.marking) })
	<-l.release
	return l.memLedger.MarkDelivered(ctx, id, key)
}

// A send that cannot get an in-doubt slot before its context ends gives up
// before the end of DATA: the server drops the half-sent message, the error
// is temporary, and the retry delivers it once.
func TestWaitingForSlotGivesUpBeforeTheEndOfData(t *testing.T) {
	f := newFixture(t)
	srv := f.smtp
	ledger := &blockingLedger{marking: make(chan struct{}), release: make(chan struct{})}
	h := f.handler(t, func(c *dispatcher.Config) { c.Ledger, c.Gate, c.MaxInDoubt = ledger, ledger, 1 })
	first := make(chan error, 1)
	go func() {
		first <- h.ProcessEmail(context.Background(), task(t, notification(dispatcher.ChannelEmail, "kim@example.com", "en")))
	}()
	<-ledger.marking // kim's email is at the server, its ledger write hangs

	second := task(t, notification(dispatcher.ChannelEmail, "lou@example.com", "en"))
	ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	err := h.ProcessEmail(ctx, second)
	cancel()
	if err == nil || errors.Is(err, dispatcher.ErrPermanent) {
		t.Fatalf("second send: err = %v, want a temporary error", err)
	}
	if got := len(srv.Messages()); got != 1 {
		t.Fatalf("the server has %d messages while the first is in doubt, want 1", got)
	}

	close(ledger.release)
	if err := <-first; err != nil {
		t.Fatal(err)
	}
	if err := h.ProcessEmail(context.Background(), second); err != nil {
		t.Fatalf("retry: %v", err)
	}
	msgs := srv.Messages()
	if len(msgs) != 2 || msgs[1].To[0] != "lou@example.com" {
		t.Fatalf("after the retry the server has %d messages, want kim's and lou's once each", len(msgs))
	}
}
