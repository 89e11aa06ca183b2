package dispatcher

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"reflect"
	"time"

	"github.com/hibiken/asynq"

	"github.com/trackhook/trackhook/dispatcher/redact"
	"github.com/trackhook/trackhook/templates"
)

// Ledger remembers which notifications a provider has accepted, so a task
// that runs again (after a crash, or re-enqueued from an outbox) does not
// send twice.
type Ledger interface {
	Delivered(ctx context.Context, trackingID, key string) (bool, error)
	MarkDelivered(ctx context.Context, trackingID, key string) error
	// BeginSend records that an attempt is about to hand the notification
	// to the provider; again reports that an earlier attempt did, so the
	// provider may have it although MarkDelivered never ran (the worker
	// died in between).
	BeginSend(ctx context.Context, trackingID, key string) (again bool, err error)
}

// Gate decides at send time whether a queued notification may still go out:
// the recipient may have been removed from the tracking, or unsubscribed,
// after the task was queued.
type Gate interface {
	Allowed(ctx context.Context, trackingID string, c Channel, recipient string) (ok bool, reason string, err error)
}

// Checker is a Gate that also answers the Ledger's question, so a send
// asks Redis both in one round trip: whether n was delivered already and,
// if not, whether it may still go out (and why not). Its ledger must be
// the handler's Ledger (state.Gate over the state.Store that is it).
type Checker interface {
	Check(ctx context.Context, n Notification) (delivered, ok bool, reason string, err error)
}

// Settler is a Ledger that also records the notifications that ended
// without a send (skipped, suppressed, failed permanently), so the one
// queued after such a notification for the same recipient (Notification.After)
// does not wait for it. Without it, a later notification waits for such a
// one until Config.OrderWait has passed.
type Settler interface {
	Settle(ctx context.Context, trackingID, key string) error
}

// Orders answers a Delivered message's question about its order (split
// shipments): how many of the order's parcels are delivered, of how many,
// and whether this message (its key, to recipientKey, a RecipientKey) is
// the one that announces the whole order, the same on every attempt. The
// tracking store implements it.
type Orders interface {
	OrderProgress(ctx context.Context, order, recipientKey, key string) (delivered, total int, all bool, err error)
}

// StatusOrderDelivered is the message a recipient gets instead of the last
// parcel's Delivered message when every parcel of the order is delivered.
const StatusOrderDelivered = "OrderDelivered"

// DeliveryLog keeps a record of every attempt to deliver a notification,
// for the admin API's delivery log.
type DeliveryLog interface {
	Record(ctx context.Context, trackingID string, d Delivery) error
}

// SentRecorder is a Ledger that is also the DeliveryLog and records a sent
// notification in both in one step: one round trip to Redis instead of two
// after every send (the state store is one). markErr is MarkDelivered's
// error, recordErr Record's.
type SentRecorder interface {
	MarkDeliveredAndRecord(ctx context.Context, trackingID, key string, d Delivery) (markErr, recordErr error)
}

// Config wires a Handler.
type Config struct {
	Templates Templates
	Email     EmailSender
	SMS       SMSSender
	Ledger    Ledger
	Gate      Gate
	// DeliveryLog records every attempt; a failure to record is logged and
	// does not fail the notification.
	DeliveryLog DeliveryLog
	// UnsubscribeURL returns the recipient's unsubscribe link for a
	// tracking; every email carries it (body and List-Unsubscribe). An
	// error (the link key cannot be loaded) fails the attempt temporarily:
	// no email goes out without its link.
	UnsubscribeURL func(ctx context.Context, trackingID string, c Channel, recipient string) (string, error)
	// From is the email sender, "Shop <noreply@shop.example>".
	From string
	// MessageIDDomain is the right-hand side of Message-IDs (the sending
	// domain; mailbox providers look at it).
	MessageIDDomain string
	// ShopName signs the messages ("Nordlicht Shop"); optional.
	ShopName string
	Logger   *slog.Logger
	// Observer counts notifications for the metrics; nil counts nothing.
	Observer Observer
	// QuietHours defers SMS while it is night for the recipient; nil sends
	// at any hour.
	QuietHours QuietHours
	// Now is the clock for every decision the handler takes by the time:
	// quiet hours and the delay of a deferral, and how far back to look
	// for an earlier SMS at the provider. nil is time.Now.
	Now func() time.Time
	// Rescuer, when set, tells a task that was rescued (its worker died
	// and a copy went out under another id) from one that was not; the
	// original then ends without sending. nil: the ledger alone keeps the
	// two from both sending.
	Rescuer *Rescuer
	// Orders, when set, makes Delivered messages of split shipments say
	// "2 of 3 parcels" and the last one announce the whole order.
	Orders Orders
	// OrderWait bounds how long a notification waits for the one queued
	// before it for the same recipient (Notification.After) to go out,
	// counted from when it was due: past it, it is sent anyway (a
	// predecessor that keeps failing does not hold up the news). 0 is
	// DefaultOrderWait; a negative value never waits.
	OrderWait time.Duration
	// MaxInDoubt bounds the sends of this process that are in doubt at
	// once: handed to the provider (the end of DATA written) and not yet
	// recorded in the ledger. A crash of the process can duplicate at most
	// this many messages. 0 means no bound. See Commit.
	MaxInDoubt int
}

// DefaultOrderWait is Config.OrderWait when unset.
const DefaultOrderWait = 10 * time.Minute

// orderPoll is how soon a notification waiting for an earlier one to the
// same recipient looks again (asynq's forwarder adds up to its own interval).
const orderPoll = time.Second

// Handler processes notify tasks.
type Handler struct {
	cfg     Config
	log     *slog.Logger
	inDoubt chan struct{} // Commit's slots; nil without a bound
	both    SentRecorder  // the Ledger, when it is also the DeliveryLog and a SentRecorder
}

// NewHandler checks cfg and returns a handler.
func NewHandler(cfg Config) (*Handler, error) {
	switch {
	case cfg.Templates == nil:
		return nil, errors.New("dispatcher: no templates")
	case cfg.Email == nil || cfg.SMS == nil:
		return nil, errors.New("dispatcher: an email and an SMS sender are required")
	case cfg.Ledger == nil || cfg.Gate == nil:
		return nil, errors.New("dispatcher: a ledger and a gate are required")
	case cfg.DeliveryLog == nil:
		return nil, errors.New("dispatcher: a delivery log is required")
	case cfg.UnsubscribeURL == nil:
		return nil, errors.New("dispatcher: no unsubscribe links")
	case cfg.From == "":
		return nil, errors.New("dispatcher: no From address")
	}
	if cfg.MessageIDDomain == "" {
		cfg.MessageIDDomain = "trackhook.invalid"
	}
	log := cfg.Logger
	if log == nil {
		log = slog.Default()
	}
	if cfg.Observer == nil {
		cfg.Observer = nopObserver{}
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.OrderWait == 0 {
		cfg.OrderWait = DefaultOrderWait
	}
	h := &Handler{cfg: cfg, log: log}
	if both, ok := cfg.Ledger.(SentRecorder); ok && same(cfg.Ledger, cfg.DeliveryLog) {
		h.both = both
	}
	if cfg.MaxInDoubt > 0 {
		h.inDoubt = make(chan struct{}, cfg.MaxInDoubt)
	}
	return h, nil
}

// Templates renders the messages: a *templates.Set, or a *templates.Live
// that an operator reloads.
type Templates interface {
	Render(kind templates.Kind, status, locale string, d templates.Data) (templates.Message, error)
	Locale(lang, country string) string
}

// Register routes the notify task types to h.
func Register(mux *asynq.ServeMux, h *Handler) {
	mux.HandleFunc(TypeEmail, h.ProcessEmail)
	mux.HandleFunc(TypeSMS, h.ProcessSMS)
	mux.HandleFunc(TypeTest, h.ProcessTest)
}

// ProcessEmail renders and sends one notification email.
func (h *Handler) ProcessEmail(ctx context.Context, t *asynq.Task) error {
	return h.process(ctx, t, ChannelEmail, func(ctx context.Context, n Notification, locale string, data templates.Data) (string, string, error) {
		unsub, err := h.cfg.UnsubscribeURL(ctx, n.TrackingID, n.Channel, n.Recipient)
		if err != nil {
			return "", "", fmt.Errorf("unsubscribe link: %w", err)
		}
		data.UnsubscribeURL = unsub
		m, err := h.cfg.Templates.Render(templates.KindEmail, data.Status, locale, data)
		if err != nil {
			return "", "", err
		}
		msgID := n.ID() + "@" + h.cfg.MessageIDDomain
		if err := h.cfg.Email.Send(ctx, Email{
			From: h.cfg.From, To: n.Recipient, Subject: m.Subject, Text: m.Text, HTML: m.HTML,
			Language: m.Locale, MessageID: msgID, ListUnsubscribe: unsub,
		}); err != nil {
			return "", "", err
		}
		return msgID, "", nil
	})
}

// ProcessSMS renders and sends one notification SMS.
func (h *Handler) ProcessSMS(ctx context.Context, t *asynq.Task) error {
	return h.process(ctx, t, ChannelSMS, func(ctx context.Context, n Notification, locale string, data templates.Data) (string, string, error) {
		if err := h.quiet(n); err != nil {
			return "", "", err
		}
		r, err := h.cfg.Templates.Render(templates.KindSMS, data.Status, locale, data)
		if err != nil {
			return "", "", err
		}
		m := SMS{To: n.Recipient, Body: r.Text}
		if id, found, err := h.findEarlierSMS(ctx, n, m); err != nil || found {
			return id, "an earlier attempt had been accepted by the provider; not sent again", err
		}
		id, err := h.cfg.SMS.Send(ctx, m)
		if err == nil {
			h.cfg.Observer.SMSSegments(r.Segments, r.GSM7)
		}
		return id, "", err
	})
}

// morningSpread is how long after the end of the quiet hours the texts
// deferred to it go out: in the order their statuses were entered (an "out
// for delivery" before the "delivered" that followed it at 07:50), and not
// all in the same second.
const morningSpread = 20 * time.Second

// quiet returns a *DeferredError while it is night for n's number. A number
// QuietHours cannot read is sent to: the provider judges it.
func (h *Handler) quiet(n Notification) error {
	if h.cfg.QuietHours == nil {
		return nil
	}
	now := h.cfg.Now()
	until, zone, err := h.cfg.QuietHours.Until(n.Recipient, now)
	if err != nil || until.IsZero() {
		return nil
	}
	// The day before until maps onto [until, until+morningSpread).
	if day := n.QueuedAt.Sub(until.Add(-24 * time.Hour)); !n.QueuedAt.IsZero() && day > 0 && day < 24*time.Hour {
		until = until.Add(time.Duration(float64(morningSpread) * float64(day) / float64(24*time.Hour)))
	}
	when := until.Format("15:04")
	if loc, err := time.LoadLocation(zone); err == nil {
		when = until.In(loc).Format("15:04")
	}
	return &DeferredError{Until: until, After: until.Sub(now), Reason: fmt.Sprintf("quiet hours in %s until %s", zone, when)}
}

// findEarlierSMS looks for m at the provider when an earlier attempt may have
// handed it over: the worker died after the provider accepted it and before
// the ledger recorded that, or the request timed out after it arrived. It
// needs a provider that can list its messages (SMSFinder); without one the
// message is sent again.
func (h *Handler) findEarlierSMS(ctx context.Context, n Notification, m SMS) (providerID string, found bool, err error) {
	finder, ok := h.cfg.SMS.(SMSFinder)
	if !ok {
		return "", false, nil
	}
	again, err := h.cfg.Ledger.BeginSend(ctx, n.TrackingID, n.Key)
	if err != nil {
		return "", false, fmt.Errorf("record the attempt: %w", err)
	}
	if !again {
		return "", false, nil
	}
	since := n.QueuedAt
	if since.IsZero() { // a task queued before QueuedAt existed
		since = h.cfg.Now().Add(-Retention)
	}
	id, found, err := finder.FindSent(ctx, m, since)
	switch {
	case errors.Is(err, ErrCannotFind):
		return "", false, nil
	case err != nil:
		return "", false, fmt.Errorf("looking for an earlier attempt at the provider: %w", err)
	}
	return id, found, nil
}

// sendFunc renders and sends n. note, when set, explains an outcome that is
// not a plain send (the delivery log's Reason).
type sendFunc func(ctx context.Context, n Notification, locale string, data templates.Data) (providerID, note string, err error)

func (h *Handler) process(ctx context.Context, t *asynq.Task, channel Channel, send sendFunc) error {
	growStack()
	n, err := decode(t.Payload())
	if err != nil {
		h.log.Error("dropping malformed notify task", "type", t.Type(), "err", err)
		h.cfg.Observer.Notification(channel, OutcomeFailedPermanent)
		return fmt.Errorf("%w: %w", err, asynq.SkipRetry)
	}
	if n.Channel != channel {
		h.cfg.Observer.Notification(channel, OutcomeFailedPermanent)
		return fmt.Errorf("task %s carries a %s notification: %w", t.Type(), n.Channel, asynq.SkipRetry)
	}
	log := h.log.With("tracking_id", n.TrackingID, "status", n.Status, "channel", n.Channel,
		"recipient", redact.Recipient(n.Recipient), "task_id", n.ID())
	attempt, last := 1, false
	if retried, ok := asynq.GetRetryCount(ctx); ok {
		attempt = retried + 1
		if max, ok := asynq.GetMaxRetry(ctx); ok {
			last = retried >= max
		}
	}
	if attempt > 1 {
		log = log.With("attempt", attempt)
		h.cfg.Observer.Retry(channel)
	}
	e := Delivery{Status: n.Status, Channel: n.Channel, Recipient: redact.Recipient(n.Recipient), Attempt: attempt}
	if attempt > 1 && h.cfg.Rescuer != nil && h.rescued(ctx) {
		e.Outcome, e.Reason = OutcomeSkipped, "its worker died; a copy was queued in its place"
		log.Info("notification rescued earlier; its copy delivers it")
		h.record(ctx, n.TrackingID, e, log)
		h.cfg.Observer.Notification(channel, e.Outcome)
		return nil
	}
	var recorded bool
	err = h.deliver(ctx, n, log, last, send, &e, &recorded)
	if e.Outcome == OutcomeInvalid { // waiting for an earlier message: no attempt
		return err
	}
	if e.Outcome.Settled() && e.Outcome != OutcomeSent {
		h.settle(ctx, n, log)
	}
	if !recorded {
		h.record(ctx, n.TrackingID, e, log)
	}
	h.cfg.Observer.Notification(channel, e.Outcome)
	return err
}

// settle tells the ledger that n ended without a send (Settler), so the
// notification queued after it for the same recipient need not wait.
func (h *Handler) settle(ctx context.Context, n Notification, log *slog.Logger) {
	s, ok := h.cfg.Ledger.(Settler)
	if !ok {
		return
	}
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), recordTimeout)
	defer cancel()
	if err := s.Settle(ctx, n.TrackingID, n.Key); err != nil {
		log.Warn("notification settled but not recorded; the next one to this recipient waits for it", "err", err)
	}
}

// waitForEarlier says whether n, held back by ReasonWaiting, should wait
// for the earlier notification (a *DeferredError to return) or go out now
// because it has waited OrderWait since it was due.
func (h *Handler) waitForEarlier(n Notification) error {
	if h.cfg.OrderWait < 0 {
		return nil
	}
	due := n.QueuedAt
	if n.NotBefore.After(due) {
		due = n.NotBefore
	}
	if !due.IsZero() && h.cfg.Now().Sub(due) >= h.cfg.OrderWait {
		return nil
	}
	return &DeferredError{After: orderPoll, Reason: ReasonWaiting}
}

// rescued reports whether the running task was rescued (Config.Rescuer).
func (h *Handler) rescued(ctx context.Context) bool {
	id, ok1 := asynq.GetTaskID(ctx)
	q, ok2 := asynq.GetQueueName(ctx)
	return ok1 && ok2 && h.cfg.Rescuer.Rescued(q, id)
}

// deliver sends n unless it was sent already or may no longer be, and fills
// in the outcome of the attempt. last says a failure will not be retried.
func (h *Handler) deliver(ctx context.Context, n Notification, log *slog.Logger, last bool, send sendFunc, e *Delivery, recorded *bool) error {
	fail := func(err error) error {
		e.Error = err.Error()
		if last {
			e.Outcome, e.Reason = OutcomeFailedPermanent, fmt.Sprintf("gave up after %d attempts", e.Attempt)
			log.Error("notification failed on its last attempt; archived", "err", err)
		} else {
			e.Outcome = OutcomeFailedTemporary
			log.Warn("notification failed temporarily; will retry", "err", err)
		}
		return err
	}
	done, ok, reason, err := h.check(ctx, n)
	if err != nil {
		return fail(err)
	}
	if done {
		e.Outcome, e.Reason = OutcomeSkipped, "already delivered"
		log.Info("notification already delivered; not sending again")
		return nil
	}
	switch {
	case !ok && reason == ReasonWaiting:
		if err := h.waitForEarlier(n); err != nil {
			e.Outcome = OutcomeInvalid
			log.Debug("notification waits for the earlier one to this recipient")
			return err
		}
		log.Warn("the earlier notification to this recipient has not gone out; sending this one anyway", "waited_at_least", h.cfg.OrderWait.String())
	case !ok && reason == ReasonSuperseded:
		e.Outcome, e.Reason = OutcomeSuppressed, reason
		h.cfg.Observer.Suppressed(n.Channel, reason)
		log.Info("notification superseded by a later status within its delay; not sent")
		return nil
	case !ok:
		e.Outcome, e.Reason = OutcomeSkipped, reason
		log.Info("notification not sent: " + reason)
		return nil
	}

	locale := h.cfg.Templates.Locale(n.Language, n.Country)
	data := n.Shipment.TemplateData(n.Status, h.cfg.ShopName)
	render := n.Status
	if n.Status == "Delivered" && n.Order != "" && h.cfg.Orders != nil {
		delivered, total, all, err := h.cfg.Orders.OrderProgress(ctx, n.Order, RecipientKey(n.Channel, n.Recipient), n.Key)
		if err != nil {
			return fail(err)
		}
		if total > 1 {
			data.ParcelsDelivered, data.ParcelsTotal = delivered, total
			if all {
				render = StatusOrderDelivered
			}
		}
	}
	data.Status = render
	start := time.Now()
	// The in-doubt slot the sender may take with Commit is given back once
	// the ledger has the outcome (or the send failed).
	c := &commit{slots: h.inDoubt}
	defer c.release()
	providerID, note, err := send(context.WithValue(ctx, commitKey{}, c), n, locale, data)
	var deferred *DeferredError
	if !errors.As(err, &deferred) {
		h.cfg.Observer.Sent(n.Channel, time.Since(start))
	}
	switch {
	case errors.Is(err, templates.ErrNoTemplate):
		e.Outcome, e.Reason, e.Error = OutcomeFailedPermanent, "no template for the status", err.Error()
		log.Error("no template for notification; archived", "locale", locale, "err", err)
		return fmt.Errorf("%w: %w", err, asynq.SkipRetry)
	case errors.As(err, &deferred):
		e.Outcome, e.Reason = OutcomeDeferred, deferred.Reason
		log.Info("notification deferred: " + deferred.Reason)
		return err
	case errors.Is(err, ErrPermanent):
		e.Outcome, e.Reason, e.Error = OutcomeFailedPermanent, "rejected by the provider", err.Error()
		log.Warn("notification rejected permanently; archived, not retried", "err", err)
		return fmt.Errorf("%w: %w", err, asynq.SkipRetry)
	case err != nil:
		return fail(err)
	}
	e.Outcome, e.ProviderMessageID, e.Reason = OutcomeSent, providerID, note
	if err := h.markDelivered(ctx, n, e, recorded, log); err != nil {
		// The message is out. Failing the task now would send it again.
		log.Error("notification sent but not recorded in the ledger", "err", err)
	}
	if note != "" {
		log = log.With("note", note)
	}
	log.Info("notification sent", "locale", locale, "provider_id", providerID)
	return nil
}

// check asks the ledger whether n was delivered and, if not, the gate
// whether it may go out: in one step when the gate is a Checker.
func (h *Handler) check(ctx context.Context, n Notification) (delivered, ok bool, reason string, err error) {
	if c, isChecker := h.cfg.Gate.(Checker); isChecker {
		return c.Check(ctx, n)
	}
	done, err := h.cfg.Ledger.Delivered(ctx, n.TrackingID, n.Key)
	if err != nil {
		return false, false, "", fmt.Errorf("check ledger: %w", err)
	}
	if done {
		return true, false, "", nil
	}
	ok, reason, err = h.cfg.Gate.Allowed(ctx, n.TrackingID, n.Channel, n.Recipient)
	if err != nil {
		return false, false, "", fmt.Errorf("check recipient: %w", err)
	}
	return false, ok, reason, nil
}

// same reports whether a and b are one value (a pointer to one store),
// without panicking on values Go cannot compare.
func same(a, b any) bool {
	ta := reflect.TypeOf(a)
	return ta != nil && ta == reflect.TypeOf(b) && ta.Comparable() && a == b
}

// ledgerRetryFor bounds how long a worker keeps trying to record a sent
// notification while Redis is unreachable.
const ledgerRetryFor = 30 * time.Second

// markDelivered records n in the ledger, retrying through a Redis outage of
// up to ledgerRetryFor, even after the task's context ended. The provider has
// the message: without the record, any later run of the task sends it again,
// and a task whose completion asynq could not write (Redis down at that
// moment) does run again once its lease expires.
//
// When the Ledger is a SentRecorder and the DeliveryLog too, the first try
// writes e to the delivery log in the same step, and sets *recorded when
// that entry is written (else the caller records it as usual). e's time is
// fixed first: a step that timed out may still have run, and the caller's
// second try then writes the very same entry, not a second one.
func (h *Handler) markDelivered(ctx context.Context, n Notification, e *Delivery, recorded *bool, log *slog.Logger) error {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), ledgerRetryFor)
	defer cancel()
	if h.both != nil {
		if e.At.IsZero() {
			e.At = h.cfg.Now().UTC()
		}
		rctx, rcancel := context.WithTimeout(ctx, recordTimeout)
		markErr, recordErr := h.both.MarkDeliveredAndRecord(rctx, n.TrackingID, n.Key, *e)
		rcancel()
		if recordErr == nil {
			*recorded = true
		} else if markErr == nil {
			// Only the log entry failed: it is not tried again.
			*recorded = true
			log.Error("delivery attempt not recorded in the delivery log", "outcome", e.Outcome.String(), "err", recordErr)
		}
		if markErr == nil {
			return nil
		}
	}
	for delay := 50 * time.Millisecond; ; delay = min(2*delay, 2*time.Second) {
		err := h.cfg.Ledger.MarkDelivered(ctx, n.TrackingID, n.Key)
		if err == nil {
			return nil
		}
		select {
		case <-ctx.Done():
			return err
		case <-time.After(delay):
		}
	}
}

// recordTimeout bounds writing one delivery-log entry.
const recordTimeout = 5 * time.Second

// record writes e to the delivery log. It runs even when the task's context
// has ended (a timeout is an attempt too), and a failure only logs: the
// notification's fate does not depend on its log entry.
func (h *Handler) record(ctx context.Context, trackingID string, e Delivery, log *slog.Logger) {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), recordTimeout)
	defer cancel()
	if err := h.cfg.DeliveryLog.Record(ctx, trackingID, e); err != nil {
		log.Error("delivery attempt not recorded in the delivery log", "outcome", e.Outcome.String(), "err", err)
	}
}

// TemplateData is what the templates show of s for a message about status,
// from the shop named shop.
func (s Shipment) TemplateData(status, shop string) templates.Data {
	return templates.Data{
		ShopName:       shop,
		TrackingNumber: s.TrackingNumber, CarrierSlug: s.CarrierSlug, CarrierName: s.CarrierName,
		TrackingURL: s.TrackingURL, OrderNumber: s.OrderNumber, Title: s.Title, CustomerName: s.CustomerName,
		Status: status, Subtag: s.Subtag, SubtagMessage: s.SubtagMessage,
		CheckpointMessage: s.CheckpointMessage, CheckpointLocation: s.CheckpointLocation, CheckpointTime: s.CheckpointTime,
		CheckpointCity: s.CheckpointCity, CheckpointState: s.CheckpointState, CheckpointCountry: s.CheckpointCountry,
		ItemsShipped: s.ItemsShipped, ItemsTotal: s.ItemsTotal, ExpectedDelivery: s.ExpectedDelivery,
	}
}

// RetryDelay is the asynq RetryDelayFunc for notify tasks: a deferral's
// delay (DeferredError.After, decided on the handler's clock; not capped:
// quiet hours last the night), the provider's Retry-After when it gave one,
// else exponential backoff from base (doubling per retry, capped at
// ceiling)
// with ±20% jitter. It reads no clock.
func RetryDelay(base, ceiling time.Duration) asynq.RetryDelayFunc {
	return func(n int, err error, _ *asynq.Task) time.Duration {
		var de *DeferredError
		if errors.As(err, &de) {
			return max(de.After, time.Second)
		}
		var ra *RetryAfterError
		if errors.As(err, &ra) && ra.After > 0 {
			return min(ra.After, ceiling)
		}
		d := base
		for i := 0; i < n && d < ceiling; i++ {
			d *= 2
		}
		d = min(d, ceiling)
		jitter := time.Duration(rand.Int64N(int64(d)/5 + 1))
		return d - d/10 + jitter
	}
}

// IsFailure is the asynq IsFailure predicate for notify tasks. A provider
// that says when to come back (a RetryAfterError: 429, or 503 with
// Retry-After) is throttling, not failing: that retry neither counts toward
// MaxRetry nor lengthens RetryDelay's backoff for a later real failure.
// Otherwise half a minute of "429, Retry-After: 1" uses up half the retries,
// and the next 500 waits 200ms·2^15.
func IsFailure(err error) bool {
	var ra *RetryAfterError
	var de *DeferredError
	return err != nil && !(errors.As(err, &ra) && ra.After > 0) && !errors.As(err, &de)
}
