package api

import "net/http"

// ListDeliveries is GET /trackings/{id}/deliveries: the tracking's delivery
// log. (Being written.)
func (a *API) ListDeliveries(w http.ResponseWriter, r *http.Request) {
	writeError(w, &Error{501, 501, "NotImplemented", "The delivery log is not available yet."})
}

// RetryDeliveries is POST /trackings/{id}/deliveries/retry: send the
// tracking's failed notifications again. (Being written.)
func (a *API) RetryDeliveries(w http.ResponseWriter, r *http.Request) {
	writeError(w, &Error{501, 501, "NotImplemented", "Retrying deliveries is not available yet."})
}
