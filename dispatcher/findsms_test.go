package dispatcher_test

import (
	"context"
	"net/http"
	"testing"
	"time"

	"github.com/trackhook/trackhook/dispatcher"
	"github.com/trackhook/trackhook/dispatcher/sms"
	"github.com/trackhook/trackhook/dispatcher/twiliotest"
)

type twilioFixture struct {
	h      *dispatcher.Handler
	srv    *twiliotest.Server
	ledger *memLedger
	log    *memLog
}

// newTwilioFixture is newFixture with its SMS through sms.Twilio to a
// twiliotest server.
func newTwilioFixture(t *testing.T) *twilioFixture {
	t.Helper()
	const sid, token = "AC00000000000000000000000000000001", "secret-token"
	base := newFixture(t)
	f := &twilioFixture{srv: twiliotest.NewServer(t, sid, token), ledger: base.ledger, log: base.log}
	tw, err := sms.NewTwilio(sms.TwilioConfig{AccountSID: sid, AuthToken: token, From: "+15005550006", BaseURL: f.srv.URL()})
	if err != nil {
		t.Fatal(err)
	}
	f.h = base.handler(t, func(c *dispatcher.Config) { c.SMS = tw })
	return f
}

// forget drops the ledger's record of every sent notification, as if the
// worker had died after Twilio accepted the message and before the ledger
// write.
func (f *twilioFixture) forget() {
	f.ledger.mu.Lock()
	f.ledger.sent = nil
	f.ledger.mu.Unlock()
}

// A worker that died between Twilio's acceptance and the ledger write runs
// the task again: the handler finds the message at Twilio, records it, and
// the customer gets one SMS.
func TestSMSAcceptedBeforeACrashIsFoundNotResent(t *testing.T) {
	f := newTwilioFixture(t)
	n := notification(dispatcher.ChannelSMS, "+4915112345678", "de")
	n.QueuedAt = time.Now()
	if err := f.h.ProcessSMS(context.Background(), task(t, n)); err != nil {
		t.Fatal(err)
	}
	f.forget()
	if err := f.h.ProcessSMS(context.Background(), task(t, n)); err != nil {
		t.Fatal(err)
	}
	msgs := f.srv.Messages()
	if len(msgs) != 1 {
		t.Fatalf("Twilio got %d messages, want 1", len(msgs))
	}
	if f.srv.ListRequests() != 1 {
		t.Errorf("%d list requests, want 1 (only the second attempt asks)", f.srv.ListRequests())
	}
	entries := f.log.all()
	last := entries[len(entries)-1]
	if last.Outcome != dispatcher.OutcomeSent || last.ProviderMessageID != msgs[0].SID || last.Reason == "" {
		t.Fatalf("delivery log entry %+v, want sent with Twilio's SID %s and a reason", last, msgs[0].SID)
	}
	// It is in the ledger now: a third run does not even ask Twilio.
	if err := f.h.ProcessSMS(context.Background(), task(t, n)); err != nil {
		t.Fatal(err)
	}
	if len(f.srv.Messages()) != 1 || f.srv.ListRequests() != 1 {
		t.Fatalf("third run: %d messages, %d list requests", len(f.srv.Messages()), f.srv.ListRequests())
	}
}

// An earlier attempt that Twilio refused (500) left nothing to find: the
// retry sends.
func TestSMSNotAcceptedEarlierIsSent(t *testing.T) {
	f := newTwilioFixture(t)
	n := notification(dispatcher.ChannelSMS, "+4915112345678", "en")
	n.QueuedAt = time.Now()
	f.srv.FailNext(1, http.StatusInternalServerError, 20500, "")
	if err := f.h.ProcessSMS(context.Background(), task(t, n)); err == nil {
		t.Fatal("first attempt succeeded against a 500")
	}
	if err := f.h.ProcessSMS(context.Background(), task(t, n)); err != nil {
		t.Fatal(err)
	}
	if len(f.srv.Messages()) != 1 || f.srv.ListRequests() != 1 {
		t.Fatalf("%d messages, %d list requests; want 1 and 1", len(f.srv.Messages()), f.srv.ListRequests())
	}
}

// When the lookup itself fails, the handler does not gamble on sending: it
// retries later.
func TestSMSLookupFailureIsRetriedNotSent(t *testing.T) {
	f := newTwilioFixture(t)
	n := notification(dispatcher.ChannelSMS, "+4915112345678", "en")
	n.QueuedAt = time.Now()
	if err := f.h.ProcessSMS(context.Background(), task(t, n)); err != nil {
		t.Fatal(err)
	}
	f.forget()
	f.srv.FailNext(1, http.StatusInternalServerError, 20500, "")
	err := f.h.ProcessSMS(context.Background(), task(t, n))
	if err == nil {
		t.Fatal("the attempt succeeded although the lookup failed")
	}
	if len(f.srv.Messages()) != 1 {
		t.Fatalf("%d messages after a failed lookup, want 1", len(f.srv.Messages()))
	}
}
