package receiver

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"strconv"
	"time"

	"github.com/gorilla/mux"

	"github.com/trackhook/trackhook/dispatcher"
	"github.com/trackhook/trackhook/dispatcher/redact"
	"github.com/trackhook/trackhook/receiver/ratelimit"
	"github.com/trackhook/trackhook/receiver/source"
	"github.com/trackhook/trackhook/receiver/tracking"
)

// webhook is POST /webhooks/{source}. Status codes are the contract with
// senders: 2xx only once the event is stored (with its notifications in the
// outbox); 5xx whenever it is not, so the sender retries; 400 only for an
// update that means nothing (see package source: display fields are
// cleaned and malformed subscribers dropped, not refused).
func (s *Server) webhook(w http.ResponseWriter, r *http.Request) {
	name := mux.Vars(r)["source"]
	src, ok := s.sources[name]
	if !ok || !src.tokenOK(mux.Vars(r)["token"]) {
		label := name
		if !ok {
			label = SourceUnknown
		}
		s.observe.Webhook(label, RejectedUnknownSource)
		writeError(w, http.StatusNotFound, "unknown or unconfigured source")
		return
	}
	log := s.log.With("source", name, "request_id", requestID(r))
	// Redis has redisWait to answer this webhook's steps; past it the
	// webhook is answered 503 (the sender retries) instead of hanging on
	// through an outage, and its steps not yet sent are dropped.
	// The token is asked for now and checked before the event is stored:
	// reading, verifying and decoding the body meanwhile costs no round
	// trip of its own on the webhook's path. The wait for Redis starts
	// again once the body is decoded (ctx below): decoding a large body is
	// our CPU's time, not Redis's.
	takeCtx, cancelTake := context.WithTimeout(r.Context(), redisWait)
	defer cancelTake()
	limit := s.hookRate.Take(takeCtx, "webhook:"+name)
	ctx := takeCtx
	limited := func() bool {
		ok, wait, err := limit.Result(ctx)
		if err != nil {
			log.Warn("rate limit unavailable; letting the webhook through", "err", err)
		}
		if !ok {
			w.Header().Set("Retry-After", strconv.Itoa(ratelimit.RetryAfterSeconds(wait)))
			s.observe.Webhook(name, RejectedRateLimited)
			writeError(w, http.StatusTooManyRequests, "rate limit exceeded for this source, retry later")
		}
		return !ok
	}

	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, s.maxBody))
	if err != nil {
		var tooLarge *http.MaxBytesError
		if errors.As(err, &tooLarge) {
			log.Warn("webhook rejected: body too large", "limit", s.maxBody)
			s.observe.Webhook(name, RejectedTooLarge)
			writeError(w, http.StatusRequestEntityTooLarge, "body exceeds the size limit")
			return
		}
		s.observe.Webhook(name, RejectedReadFailed)
		writeError(w, http.StatusBadRequest, "could not read body")
		return
	}
	if src.Ping != nil && src.Ping(body, r.Header) {
		log.Info("webhook ping answered")
		s.observe.Webhook(name, OutcomePing)
		writeJSON(w, http.StatusOK, map[string]string{"status": "ping"})
		return
	}
	if err := src.Verifier.Verify(body, r.Header); err != nil {
		log.Warn("webhook rejected: signature", "err", err)
		s.observe.VerificationFailed(name, verifyReason(err))
		s.observe.Webhook(name, RejectedBadSignature)
		writeError(w, http.StatusUnauthorized, "invalid or missing signature")
		return
	}
	events, err := src.Adapter.Decode(body, r.Header)
	if err != nil && !errors.Is(err, source.ErrMalformed) {
		// Not the payload's fault: an adapter broke its own invariant
		// (source.checkEvents). A 400 would make the sender give up and
		// the update would be lost; a 500 makes it retry, after the fix.
		log.Error("webhook not decoded: adapter error; answering 500 so the sender retries", "err", err)
		s.observe.Webhook(name, RejectedMalformed)
		writeError(w, http.StatusInternalServerError, "internal error decoding the payload, retry later")
		return
	}
	if err != nil {
		log.Warn("webhook rejected: payload", "err", err)
		s.observe.Webhook(name, RejectedMalformed)
		writeError(w, http.StatusBadRequest, err.Error())
		return
	}

	var cancel context.CancelFunc
	ctx, cancel = context.WithTimeout(r.Context(), redisWait)
	defer cancel()
	if limited() {
		return
	}

	outcome := OutcomeIgnored
	for _, ev := range events {
		start := time.Now()
		res, err := s.store.Apply(ctx, ev, s.plan)
		s.observe.Applied(time.Since(start))
		if err != nil {
			log.Error("webhook not stored; answering 503 so the sender retries", "err", err)
			s.observe.Webhook(name, RejectedStoreUnavailable)
			writeError(w, http.StatusServiceUnavailable, "store unavailable, retry later")
			return
		}
		outcome = res.Outcome.String()
		log.Info("webhook applied", "tracking_id", res.Tracking.ID, "outcome", outcome,
			"status", res.Tracking.Status.String(), "notifications", len(res.Jobs))
		if res.Outcome == tracking.Created || res.Outcome == tracking.Updated {
			// A redelivery (duplicate, stale) carried the same entries:
			// they were reported when it first changed the tracking.
			s.reportDropped(log, name, res.Tracking.ID, ev.Dropped)
		}
		if len(res.Jobs) > 0 {
			s.enqueue(r.Context(), log, res)
		}
		s.reportSuppressed(r.Context(), log, res)
	}
	s.observe.Webhook(name, outcome)
	writeJSON(w, http.StatusOK, map[string]string{"status": outcome})
}

// redisWait bounds how long a webhook waits for Redis (the rate limit, the
// read and the write of each event) before it is answered 503. Under load
// these take milliseconds; while Redis is unreachable go-redis dials and
// retries for longer than a sender should wait to hear it.
const redisWait = 2 * time.Second

// maxDropLines bounds the lines logged for one event's dropped subscribers
// (a list past its limit drops thousands); the rest are summed up in one
// line. Every one is counted.
const maxDropLines = 10

// reportDropped logs and counts the subscriber entries the adapter left out
// of a stored event (source.recipients): the update was kept, so this is
// how the sender's operator learns of a bad address. The entry is masked
// (redact.Unparsed: a malformed entry may hold a second address or number),
// never logged whole.
func (s *Server) reportDropped(log *slog.Logger, source, trackingID string, dropped []tracking.DroppedRecipient) {
	for i, d := range dropped {
		s.observe.RecipientDropped(source, string(d.Channel))
		if i < maxDropLines {
			log.Warn("webhook subscriber dropped", "tracking_id", trackingID, "channel", string(d.Channel),
				"recipient", redact.Unparsed(d.Value), "reason", d.Reason)
		}
	}
	if n := len(dropped) - maxDropLines; n > 0 {
		log.Warn("webhook subscribers dropped, not logged one by one", "tracking_id", trackingID, "count", n)
	}
}

// enqueue hands the jobs of a stored event over to asynq: in this goroutine,
// before the webhook is answered, or, with Config.Enqueuers, to the
// goroutines that do it after. Either way they are in the outbox already;
// whatever is not handed over is left to the sweeper.
func (s *Server) enqueue(ctx context.Context, log *slog.Logger, res tracking.Result) {
	h := handoff{trackingID: res.Tracking.ID, jobs: res.Jobs, log: log}
	if s.handoffs == nil {
		// The event is stored: finish handing its jobs over even if the
		// sender hangs up now, rather than leave them to the sweeper.
		s.handOver(context.WithoutCancel(ctx), h, nil)
		return
	}
	select {
	case s.handoffs <- h:
	case <-ctx.Done():
		log.Warn("webhook answered before its jobs were handed over; left in the outbox for the sweeper", "tracking_id", h.trackingID)
	}
}

// ApplyEvent stores an event the admin API makes (mark as completed) the
// way a webhook's is stored: the tracking with its notifications in the
// outbox in one step, then the jobs handed to the queue (api.Events).
func (s *Server) ApplyEvent(ctx context.Context, ev tracking.Event) (tracking.Result, error) {
	ctx, cancel := context.WithTimeout(ctx, redisWait)
	defer cancel()
	res, err := s.store.Apply(ctx, ev, s.plan)
	if err != nil {
		return res, err
	}
	log := s.log.With("source", ev.Source)
	log.Info("api event applied", "tracking_id", res.Tracking.ID, "outcome", res.Outcome.String(),
		"status", res.Tracking.Status.String(), "notifications", len(res.Jobs))
	if len(res.Jobs) > 0 {
		s.enqueue(ctx, log, res)
	}
	s.reportSuppressed(ctx, log, res)
	return res, nil
}

// reportSuppressed logs, counts and writes to the delivery log the
// notifications a rule held back as res's status was entered, and those a
// delay rule holds for a while (outcome deferred). The event is stored
// whatever becomes of this: a failure to record only logs.
func (s *Server) reportSuppressed(ctx context.Context, log *slog.Logger, res tracking.Result) {
	if len(res.Suppressed) == 0 && len(res.Delayed) == 0 {
		return
	}
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), redisWait)
	defer cancel()
	for _, d := range res.Delayed {
		s.observe.Delayed(d.Channel)
		if s.dlog == nil {
			continue
		}
		reason := fmt.Sprintf("held for the %s delay (%s) until %s UTC; a later status within it supersedes it",
			d.Status, d.Delay, s.store.Now().Add(d.Delay).UTC().Format("15:04:05"))
		if err := s.dlog.Record(ctx, res.Tracking.ID, dispatcher.Delivery{Status: d.Status.String(), Channel: d.Channel,
			Recipient: redact.Recipient(d.Recipient), Outcome: dispatcher.OutcomeDeferred, Reason: reason}); err != nil {
			log.Warn("delayed notification not recorded in the delivery log", "tracking_id", res.Tracking.ID, "err", err)
		}
	}
	if len(res.Suppressed) == 0 {
		return
	}
	for _, d := range res.Suppressed {
		s.observe.Suppressed(d.Channel, d.Suppressed)
		if s.dlog == nil {
			continue
		}
		if err := s.dlog.Record(ctx, res.Tracking.ID, dispatcher.Delivery{Status: d.Status.String(), Channel: d.Channel,
			Recipient: redact.Recipient(d.Recipient), Outcome: dispatcher.OutcomeSuppressed, Reason: d.Suppressed}); err != nil {
			log.Warn("suppressed notification not recorded in the delivery log", "tracking_id", res.Tracking.ID, "err", err)
		}
	}
	log.Info("notifications suppressed by a rule", "tracking_id", res.Tracking.ID, "status", res.Tracking.Status.String(),
		"reason", res.Suppressed[0].Suppressed, "count", len(res.Suppressed))
}

func requestID(r *http.Request) string {
	if id := r.Header.Get("X-Request-Id"); id != "" && len(id) <= 128 {
		return id
	}
	return newRequestID()
}
