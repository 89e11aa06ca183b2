package api

import (
	"context"
	"net/http"
	"strings"
	"time"

	"github.com/trackhook/trackhook/receiver/tracking"
)

// Events applies a status change the API makes (mark as completed) the way
// a webhook's is applied: the tracking and the notifications it makes due
// are stored together, and the notifications are handed to the queue. The
// receiver provides it (receiver.Server.ApplyEvent).
type Events func(ctx context.Context, ev tracking.Event) (tracking.Result, error)

// completion is what POST …/mark-as-completed sets for each reason, as
// AfterShip defines them (tracking-sdk-go 2024-04
// model/mark_tracking_completed_by_id_request.go): DELIVERED is
// Delivered_001, LOST is Exception_013, RETURNED_TO_SENDER is Exception_011.
var completion = map[string]struct {
	status  tracking.Status
	subtag  string
	message string
}{
	"DELIVERED":          {tracking.Delivered, "Delivered_001", "Delivered"},
	"LOST":               {tracking.Exception, "Exception_013", "Shipment lost"},
	"RETURNED_TO_SENDER": {tracking.Exception, "Exception_011", "Returned to sender"},
}

// MaxRetracks is how often a tracking may be retracked ("Retrack an expired
// tracking. Max 3 times per tracking.", tracking-sdk-nodejs 2024-07
// src/api/Tracking.ts).
const MaxRetracks = 3

// MarkCompleted returns POST /trackings/{id}/mark-as-completed (and by slug
// and number): the tracking takes the reason's status, and that status
// change notifies the tracking's subscribers like one a carrier reported.
// Marking a tracking with the status it has already changes nothing and
// notifies no one.
func (a *API) MarkCompleted(events Events) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		v := version(r)
		id, err := a.lookup(r)
		if err != nil {
			writeError(w, err)
			return
		}
		body, err := readBody(w, r)
		if err != nil {
			writeError(w, err)
			return
		}
		reason, err := parseCompletion(v, body)
		if err != nil {
			writeError(w, err)
			return
		}
		cur, err := a.store.Get(r.Context(), id)
		if err != nil {
			a.fail(w, r, err)
			return
		}
		c := completion[reason]
		// The admin's word is the newest news of this parcel: it is never
		// older than what a carrier reported, whatever their clocks say.
		now := a.now().UTC()
		occurred, sent := later(now, cur.OccurredAt), later(now, cur.SentAt)
		ev := tracking.Event{
			Source: "api", Slug: cur.Slug, TrackingNumber: cur.TrackingNumber,
			Status: c.status, Subtag: c.subtag, SubtagMessage: c.message, RawStatus: "mark-as-completed:" + reason,
			OccurredAt: occurred, SentAt: sent,
		}
		res, err := events(r.Context(), ev)
		if err != nil {
			a.fail(w, r, err)
			return
		}
		a.writeTracking(w, v, http.StatusOK, res.Tracking)
	}
}

func later(a, b time.Time) time.Time {
	if b.After(a) {
		return b
	}
	return a
}

// parseCompletion decodes {"reason": …}. Every error is an *Error.
func parseCompletion(v Version, body []byte) (string, error) {
	obj, err := decodeObject(body)
	if err != nil {
		return "", err
	}
	if err := unknownField(obj, fieldSet("reason"), "", "a mark-as-completed request", v); err != nil {
		return "", err
	}
	var b struct {
		Reason *string `json:"reason"`
	}
	if err := decodeJSON(body, &b); err != nil {
		return "", err
	}
	if b.Reason == nil || strings.TrimSpace(*b.Reason) == "" {
		return "", errFieldRequired("reason")
	}
	reason := strings.ToUpper(strings.TrimSpace(*b.Reason))
	if _, ok := completion[reason]; !ok {
		return "", errInvalidValue("reason", clipValue(*b.Reason), "one of DELIVERED, LOST, RETURNED_TO_SENDER")
	}
	return reason, nil
}

// Retrack is POST /trackings/{id}/retrack (and by slug and number): an
// Expired tracking becomes active again, at most MaxRetracks times. trackhook
// does not poll carriers, so nothing else changes: the next update a sender
// pushes is applied as always, and Active stays true until the tracking's
// next status.
func (a *API) Retrack(w http.ResponseWriter, r *http.Request) {
	v := version(r)
	id, err := a.lookup(r)
	if err != nil {
		writeError(w, err)
		return
	}
	now := a.now().UTC()
	t, err := a.store.Update(r.Context(), id, func(t *tracking.Tracking) error {
		if t.Status != tracking.Expired || t.Active() {
			return &Error{400, 4013, "BadRequest", "Retrack is not allowed: only an expired tracking that is not active can be retracked."}
		}
		if t.Retracks >= MaxRetracks {
			return &Error{400, 4016, "BadRequest", "Retrack is not allowed: a tracking can be retracked at most 3 times."}
		}
		t.Retracks++
		t.RetrackedAt = later(now, t.OccurredAt)
		return nil
	})
	if err != nil {
		a.fail(w, r, err)
		return
	}
	if v.Wrapped {
		// PartialUpdateTracking (tracking-sdk-go 2024-04
		// model/retrack_tracking_by_id_response.go).
		writeData(w, http.StatusOK, map[string]any{"tracking": map[string]any{
			"id": t.ID, "tracking_number": t.TrackingNumber, "slug": t.Slug, "active": t.Active()}})
		return
	}
	a.writeTracking(w, v, http.StatusOK, t)
}

// LastCheckpoint is GET /last_checkpoint/{id} (and by slug and number): the
// tracking's status and its newest checkpoint ({} when it has none). The
// fields parameter keeps only the checkpoint fields it names.
func (a *API) LastCheckpoint(w http.ResponseWriter, r *http.Request) {
	v := version(r)
	id, err := a.lookup(r)
	if err != nil {
		writeError(w, err)
		return
	}
	keep, err := checkpointFields(r.URL.Query().Get("fields"))
	if err != nil {
		writeError(w, err)
		return
	}
	t, err := a.store.Get(r.Context(), id)
	if err != nil {
		a.fail(w, r, err)
		return
	}
	j := a.toJSON(t)
	cp := map[string]any{}
	if n := len(j.Checkpoints); n > 0 {
		cp = checkpointMap(v, j.Checkpoints[n-1])
		if keep != nil {
			for k := range cp {
				if !keep[k] {
					delete(cp, k)
				}
			}
		}
	}
	writeData(w, http.StatusOK, map[string]any{
		"id": t.ID, "tracking_number": t.TrackingNumber, "slug": t.Slug,
		"tag": j.Tag, "subtag": t.Subtag, "subtag_message": t.SubtagMessage, "checkpoint": cp,
	})
}

// lastCheckpointFields are the values of last_checkpoint's fields parameter
// (tracking-sdk-go 2024-04 model/get_checkpoint_by_tracking_id_query.go).
var lastCheckpointFields = fieldSet("slug", "created_at", "checkpoint_time", "city", "coordinates", "country_iso3",
	"country_name", "message", "state", "tag", "zip")

func checkpointFields(s string) (map[string]bool, error) {
	names := splitComma(s)
	if len(names) == 0 {
		return nil, nil
	}
	keep := map[string]bool{}
	for _, n := range names {
		if !lastCheckpointFields[n] {
			return nil, errInvalidValue("fields", clipValue(n), "one of slug, created_at, checkpoint_time, city, coordinates, country_iso3, country_name, message, state, tag, zip")
		}
		keep[n] = true
	}
	return keep, nil
}
