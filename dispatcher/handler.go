package dispatcher

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
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
}

// Gate decides at send time whether a queued notification may still go out:
// the recipient may have been removed from the tracking, or unsubscribed,
// after the task was queued.
type Gate interface {
	Allowed(ctx context.Context, trackingID, channel, recipient string) (ok bool, reason string, err error)
}

// Config wires a Handler.
type Config struct {
	Templates *templates.Set
	Email     EmailSender
	SMS       SMSSender
	Ledger    Ledger
	Gate      Gate
	// UnsubscribeURL returns the recipient's unsubscribe link for a
	// tracking; every email carries it (body and List-Unsubscribe).
	UnsubscribeURL func(trackingID, channel, recipient string) string
	// From is the email sender, "Shop <noreply@shop.example>".
	From string
	// MessageIDDomain is the right-hand side of Message-IDs (the sending
	// domain; mailbox providers look at it).
	MessageIDDomain string
	// ShopName signs the messages ("Nordlicht Shop"); optional.
	ShopName string
	Logger   *slog.Logger
}

// Handler processes notify tasks.
type Handler struct {
	cfg Config
	log *slog.Logger
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
	return &Handler{cfg: cfg, log: log}, nil
}

// Register routes the notify task types to h.
func Register(mux *asynq.ServeMux, h *Handler) {
	mux.HandleFunc(TypeEmail, h.ProcessEmail)
	mux.HandleFunc(TypeSMS, h.ProcessSMS)
}

// ProcessEmail renders and sends one notification email.
func (h *Handler) ProcessEmail(ctx context.Context, t *asynq.Task) error {
	return h.process(ctx, t, ChannelEmail, func(n Notification, locale string, data templates.Data) (string, error) {
		unsub := h.cfg.UnsubscribeURL(n.TrackingID, n.Channel, n.Recipient)
		data.UnsubscribeURL = unsub
		m, err := h.cfg.Templates.Render(templates.KindEmail, n.Status, locale, data)
		if err != nil {
			return "", err
		}
		return "", h.cfg.Email.Send(ctx, Email{
			From: h.cfg.From, To: n.Recipient, Subject: m.Subject, Text: m.Text, HTML: m.HTML,
			Language: m.Locale, MessageID: n.ID() + "@" + h.cfg.MessageIDDomain, ListUnsubscribe: unsub,
		})
	})
}

// ProcessSMS renders and sends one notification SMS.
func (h *Handler) ProcessSMS(ctx context.Context, t *asynq.Task) error {
	return h.process(ctx, t, ChannelSMS, func(n Notification, locale string, data templates.Data) (string, error) {
		m, err := h.cfg.Templates.Render(templates.KindSMS, n.Status, locale, data)
		if err != nil {
			return "", err
		}
		return h.cfg.SMS.Send(ctx, SMS{To: n.Recipient, Body: m.Text})
	})
}

type sendFunc func(n Notification, locale string, data templates.Data) (providerID string, err error)

func (h *Handler) process(ctx context.Context, t *asynq.Task, channel string, send sendFunc) error {
	n, err := decode(t.Payload())
	if err != nil {
		h.log.Error("dropping malformed notify task", "type", t.Type(), "err", err)
		return fmt.Errorf("%w: %w", err, asynq.SkipRetry)
	}
	if n.Channel != channel {
		return fmt.Errorf("task %s carries a %s notification: %w", t.Type(), n.Channel, asynq.SkipRetry)
	}
	log := h.log.With("tracking_id", n.TrackingID, "status", n.Status, "channel", n.Channel,
		"recipient", redact.Recipient(n.Recipient), "task_id", n.ID())
	if retried, ok := asynq.GetRetryCount(ctx); ok && retried > 0 {
		log = log.With("attempt", retried+1)
	}

	done, err := h.cfg.Ledger.Delivered(ctx, n.TrackingID, n.Key)
	if err != nil {
		return fmt.Errorf("check ledger: %w", err)
	}
	if done {
		log.Info("notification already delivered; not sending again")
		return nil
	}
	ok, reason, err := h.cfg.Gate.Allowed(ctx, n.TrackingID, n.Channel, n.Recipient)
	if err != nil {
		return fmt.Errorf("check recipient: %w", err)
	}
	if !ok {
		log.Info("notification not sent: " + reason)
		return nil
	}

	locale := h.cfg.Templates.Locale(n.Language, n.Country)
	providerID, err := send(n, locale, n.Shipment.templateData(n.Status, h.cfg.ShopName))
	switch {
	case errors.Is(err, templates.ErrNoTemplate):
		log.Error("no template for notification; archived", "locale", locale, "err", err)
		return fmt.Errorf("%w: %w", err, asynq.SkipRetry)
	case errors.Is(err, ErrPermanent):
		log.Warn("notification rejected permanently; archived, not retried", "err", err)
		return fmt.Errorf("%w: %w", err, asynq.SkipRetry)
	case err != nil:
		log.Warn("notification failed temporarily; will retry", "err", err)
		return err
	}
	if err := h.cfg.Ledger.MarkDelivered(ctx, n.TrackingID, n.Key); err != nil {
		// The message is out. Failing the task now would send it again.
		log.Error("notification sent but not recorded in the ledger", "err", err)
	}
	log.Info("notification sent", "locale", locale, "provider_id", providerID)
	return nil
}

func (s Shipment) templateData(status, shop string) templates.Data {
	return templates.Data{
		ShopName:       shop,
		TrackingNumber: s.TrackingNumber, CarrierSlug: s.CarrierSlug, CarrierName: s.CarrierName,
		TrackingURL: s.TrackingURL, OrderNumber: s.OrderNumber, Title: s.Title, CustomerName: s.CustomerName,
		Status: status, Subtag: s.Subtag, SubtagMessage: s.SubtagMessage,
		CheckpointMessage: s.CheckpointMessage, CheckpointLocation: s.CheckpointLocation, CheckpointTime: s.CheckpointTime,
		ItemsShipped: s.ItemsShipped, ItemsTotal: s.ItemsTotal,
	}
}

// RetryDelay is the asynq RetryDelayFunc for notify tasks: the provider's
// Retry-After when it gave one, else exponential backoff from base (doubling
// per retry, capped at max) with ±20% jitter.
func RetryDelay(base, max time.Duration) asynq.RetryDelayFunc {
	return func(n int, err error, _ *asynq.Task) time.Duration {
		var ra *RetryAfterError
		if errors.As(err, &ra) && ra.After > 0 {
			return min(ra.After, max)
		}
		d := base
		for i := 0; i < n && d < max; i++ {
			d *= 2
		}
		d = min(d, max)
		jitter := time.Duration(rand.Int64N(int64(d)/5 + 1))
		return d - d/10 + jitter
	}
}
