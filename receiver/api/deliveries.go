package api

import (
	"context"
	"net/http"

	"github.com/trackhook/trackhook/dispatcher"
)

// The delivery log is trackhook's own addition to the AfterShip API: every
// attempt to notify a tracking's subscribers, and a way to send the failed
// ones again once the cause is fixed.

// DeadLetters re-runs a tracking's notifications that failed permanently
// (archived in the queue), reporting how many it re-queued.
type DeadLetters interface {
	Retry(ctx context.Context, trackingID string) (int, error)
}

// deliveryJSON is one delivery-log entry. Every key is always present;
// reason, provider_message_id and error are null when there is none.
type deliveryJSON struct {
	Status            string  `json:"status"`
	Channel           string  `json:"channel"`
	Recipient         string  `json:"recipient"` // masked
	Attempt           int     `json:"attempt"`
	Outcome           string  `json:"outcome"`
	Reason            *string `json:"reason"`
	ProviderMessageID *string `json:"provider_message_id"`
	Error             *string `json:"error"`
	At                string  `json:"at"`
	Test              bool    `json:"test"` // a test message an admin sent (POST /messages/test)
}

func deliveryOf(d dispatcher.Delivery) deliveryJSON {
	orNull := func(s string) *string {
		if s == "" {
			return nil
		}
		return &s
	}
	return deliveryJSON{
		Status: d.Status, Channel: string(d.Channel), Recipient: d.Recipient, Attempt: d.Attempt,
		Outcome: d.Outcome.String(), Reason: orNull(d.Reason), ProviderMessageID: orNull(d.ProviderMessageID),
		Error: orNull(d.Error), At: d.At.UTC().Format("2006-01-02T15:04:05.000Z07:00"), Test: d.Test,
	}
}

// ListDeliveries is GET /trackings/{id}/deliveries: the tracking's delivery
// log, newest first.
func (a *API) ListDeliveries(w http.ResponseWriter, r *http.Request) {
	id, err := a.lookup(r)
	if err != nil {
		writeError(w, err)
		return
	}
	list, err := a.notify.Deliveries(r.Context(), id)
	if err != nil {
		a.fail(w, r, err)
		return
	}
	writeDeliveries(w, list)
}

// writeDeliveries answers a delivery log: {"deliveries": [...]}, never null.
func writeDeliveries(w http.ResponseWriter, list []dispatcher.Delivery) {
	out := make([]deliveryJSON, 0, len(list))
	for _, d := range list {
		out = append(out, deliveryOf(d))
	}
	writeData(w, http.StatusOK, map[string]any{"deliveries": out})
}

// RetryDeliveries is POST /trackings/{id}/deliveries/retry: the tracking's
// notifications that failed permanently run again. The answer is how many;
// the attempts themselves show up in the delivery log.
func (a *API) RetryDeliveries(w http.ResponseWriter, r *http.Request) {
	id, err := a.lookup(r)
	if err != nil {
		writeError(w, err)
		return
	}
	if a.dead == nil {
		writeError(w, &Error{501, 501, "NotImplemented", "Retrying deliveries is not configured."})
		return
	}
	if _, err := a.store.Get(r.Context(), id); err != nil {
		a.fail(w, r, err)
		return
	}
	n, err := a.dead.Retry(r.Context(), id)
	if err != nil {
		a.fail(w, r, err)
		return
	}
	writeData(w, http.StatusOK, map[string]any{"retried": n})
}
