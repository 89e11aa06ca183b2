// Package receiver is trackhook's HTTP edge and the owner of trackings.
//
// It verifies and decodes webhooks by the registry of senders, folds them
// into the tracking store in one atomic step per tracking, decides which
// notifications are due, and enqueues them as the dispatcher's tasks. It also
// serves the AfterShip-compatible admin API, the opt-out pages and the
// health probes.
//
// # The seam with the dispatcher
//
// The receiver owns trackings: the canonical model, the fold, the statuses
// and their Redis store (package tracking). The dispatcher owns
// notifications: the channel, the notification key, the outcome and the
// delivery record, the ledger, the delivery log, the suppression list and
// the send-time gate (package dispatcher and dispatcher/state). The receiver
// imports the dispatcher's types and state to enqueue, to show the delivery
// log and to write opt-outs; the dispatcher imports nothing of the receiver.
// The one question the dispatcher asks about a tracking, whether a
// recipient is still subscribed, is a small interface it declares
// (state.Subscriptions) and the tracking store implements.
//
//	receiver            webhooks, routes, enqueue and the outbox sweeper
//	receiver/source     one adapter per sender: payload bytes in, events out
//	receiver/tracking   model, fold, statuses and the tracking store
//	receiver/api        the AfterShip-compatible API
//	receiver/optout     unsubscribe links and pages, SMS STOP/START
//	receiver/carrier    the carrier catalogue
//	receiver/contact    email and phone normalisation
//	receiver/ratelimit  the token bucket shared through Redis
package receiver
