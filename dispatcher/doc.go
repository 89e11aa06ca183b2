// Package dispatcher owns notifications: their vocabulary, their tasks and
// their delivery.
//
// It declares, once, what a notification is: its Channel, its key within a
// tracking (NotificationKey), a recipient's key (RecipientKey), the Outcome
// of an attempt and the Delivery record of it; the asynq task types and
// payload (Notification) that the receiver enqueues; and the Handler that
// runs them: ledger check, send-time gate, quiet hours, render in the
// recipient's language, send, record. Senders classify failures: temporary
// ones are returned so asynq retries them with backoff; permanent ones
// (ErrPermanent) are archived without retry, and DeadLetters runs them
// again on request. A Rescuer queues again, under another id, the tasks a
// dead worker left once asynq's lease on them has run out.
//
//	dispatcher          vocabulary, tasks, handler, dead letters, rescuer
//	dispatcher/state    its Redis state: ledger, delivery log, suppression list, gate
//	dispatcher/mailer   the email senders (SMTP pool, .eml files)
//	dispatcher/sms      the SMS senders (Twilio Messages API, text files)
//	dispatcher/quiet    SMS quiet hours by the number's time zone
//	dispatcher/redact   masking of addresses and numbers for logs
//	dispatcher/groupcommit  the Redis commands of concurrent callers as one
//	                    pipeline (the receiver's webhook path uses it too)
//	dispatcher/spool    the files the embedded default writes messages to
//	dispatcher/smtptest, dispatcher/twiliotest   real servers for tests
//
// The dispatcher imports nothing of the receiver; the one thing it asks
// about a tracking (is the recipient still subscribed?) is an interface it
// declares, state.Subscriptions.
package dispatcher
