package dispatcher

import "context"

// A send is "in doubt" from the moment the provider may have the message
// (an SMTP client has sent the end of DATA) until the ledger records it. A
// worker process that dies in that moment leaves a message that was
// delivered but is not known to be: its task runs again after the restart
// and the customer gets it twice. No protocol closes that gap for SMTP: a
// server that has the message and a server that never got the final dot look
// the same to a client that died before the reply.
//
// What can be bounded is how many sends are in doubt at once. Senders call
// Commit right before the irrevocable step; the handler holds the slot Commit
// took until the ledger has the outcome. With Config.MaxInDoubt = 1 (the
// default), one crash can duplicate at most one message however many workers
// run; the price is that the end-of-DATA round trips of one process (the
// server's reply and one Redis write) happen one after another.

type commitKey struct{}

// commit is one send's claim on an in-doubt slot. It is used by one
// goroutine: the handler's, which calls the sender, which calls Commit.
type commit struct {
	slots chan struct{} // nil: no bound
	held  bool
}

// Commit is called by a sender just before the step after which the provider
// may have the message. It waits for an in-doubt slot, honouring ctx; the
// handler gives the slot back after recording the outcome. An error means
// nothing was handed over: the sender must abandon the message (close the
// connection in the middle of DATA) and report a temporary failure.
//
// Outside a handler (a sender used on its own), Commit returns nil at once.
func Commit(ctx context.Context) error {
	c, _ := ctx.Value(commitKey{}).(*commit)
	if c == nil || c.slots == nil || c.held {
		return nil
	}
	select {
	case c.slots <- struct{}{}:
		c.held = true
		return nil
	case <-ctx.Done():
		return context.Cause(ctx)
	}
}

func (c *commit) release() {
	if c.held {
		c.held = false
		<-c.slots
	}
}
