package receiver

import (
	"net/http"
	"strings"
	"time"

	"github.com/gorilla/mux"

	"github.com/trackhook/trackhook/receiver/api"
)

// apiPrefixes are the AfterShip API bases trackhook answers on, with the
// headers that carry the key on each: the versioned API takes only
// as-api-key; the legacy /v4 API also takes aftership-api-key.
var apiPrefixes = []struct {
	prefix  string
	headers []string
}{
	{"/tracking/{version:[0-9]{4}-[0-9]{2}}", []string{"as-api-key"}},
	{"/v4", []string{"as-api-key", "aftership-api-key"}},
}

// routes is the whole HTTP surface of the receiver.
func (s *Server) routes() *mux.Router {
	r := mux.NewRouter()
	r.NotFoundHandler = http.HandlerFunc(s.notFound)
	r.MethodNotAllowedHandler = http.HandlerFunc(s.methodNotAllowed)

	// Webhooks. Fixed senders first, then the registry.
	if s.optout != nil {
		s.optout.Register(r) // POST /webhooks/twilio, GET|POST /unsubscribe/{token}
	}
	r.HandleFunc("/webhooks/{source}", s.webhook).Methods(http.MethodPost)
	r.HandleFunc("/webhooks/{source}/{token}", s.webhook).Methods(http.MethodPost)

	// The AfterShip-compatible admin API, under each prefix. Every call:
	// the key, the key's rate limit, the handler, one access line (apiCall).
	if a := s.api; a != nil {
		for _, p := range apiPrefixes {
			auth := func(h http.HandlerFunc) http.Handler { return s.apiCall(h, p.headers) }
			v := p.prefix
			r.Handle(v+"/trackings", auth(a.CreateTracking)).Methods(http.MethodPost)
			r.Handle(v+"/trackings", auth(a.ListTrackings)).Methods(http.MethodGet)
			// Before {slug}/{tracking_number}, which would take "deliveries" for a tracking number.
			r.Handle(v+"/trackings/{id}/deliveries", auth(a.ListDeliveries)).Methods(http.MethodGet)
			r.Handle(v+"/trackings/{id}/deliveries/retry", auth(a.RetryDeliveries)).Methods(http.MethodPost)
			r.Handle(v+"/trackings/{id}", auth(a.GetTracking)).Methods(http.MethodGet)
			r.Handle(v+"/trackings/{id}", auth(a.UpdateTracking)).Methods(http.MethodPut)
			r.Handle(v+"/trackings/{id}", auth(a.DeleteTracking)).Methods(http.MethodDelete)
			r.Handle(v+"/trackings/{slug}/{tracking_number}", auth(a.GetTracking)).Methods(http.MethodGet)
			r.Handle(v+"/trackings/{slug}/{tracking_number}", auth(a.UpdateTracking)).Methods(http.MethodPut)
			r.Handle(v+"/trackings/{slug}/{tracking_number}", auth(a.DeleteTracking)).Methods(http.MethodDelete)
			r.Handle(v+"/notifications/{id}", auth(a.GetNotification)).Methods(http.MethodGet)
			r.Handle(v+"/notifications/{id}/add", auth(a.AddNotification)).Methods(http.MethodPost)
			r.Handle(v+"/notifications/{id}/remove", auth(a.RemoveNotification)).Methods(http.MethodPost)
			r.Handle(v+"/notifications/{slug}/{tracking_number}", auth(a.GetNotification)).Methods(http.MethodGet)
			r.Handle(v+"/notifications/{slug}/{tracking_number}/add", auth(a.AddNotification)).Methods(http.MethodPost)
			r.Handle(v+"/notifications/{slug}/{tracking_number}/remove", auth(a.RemoveNotification)).Methods(http.MethodPost)
			r.Handle(v+"/suppressions", auth(a.ListSuppressions)).Methods(http.MethodGet)
			r.Handle(v+"/suppressions/add", auth(a.AddSuppressions)).Methods(http.MethodPost)
			r.Handle(v+"/suppressions/remove", auth(a.RemoveSuppressions)).Methods(http.MethodPost)
		}
	}
	r.HandleFunc("/openapi.json", s.openAPI).Methods(http.MethodGet)

	// Operations.
	if s.metrics != nil {
		r.Handle("/metrics", s.metrics).Methods(http.MethodGet)
	}
	if s.admin != nil {
		r.PathPrefix("/admin/queues").Handler(s.admin) // the asynq dashboard, behind its own auth
	}
	r.Handle("/healthz", Healthz()).Methods(http.MethodGet, http.MethodHead)
	r.Handle("/readyz", Readyz(s.store.Ping)).Methods(http.MethodGet, http.MethodHead)
	return r
}

func isAPIPath(p string) bool {
	return strings.HasPrefix(p, "/tracking/") || strings.HasPrefix(p, "/v4/")
}

func (s *Server) notFound(w http.ResponseWriter, r *http.Request) {
	if isAPIPath(r.URL.Path) {
		start := time.Now()
		api.NotFound(w, r)
		s.logAPICall(r, routeUnmatched, keyUnchecked, http.StatusNotFound, time.Since(start))
		return
	}
	writeError(w, http.StatusNotFound, "not found")
}

func (s *Server) methodNotAllowed(w http.ResponseWriter, r *http.Request) {
	if isAPIPath(r.URL.Path) {
		start := time.Now()
		api.MethodNotAllowed(w, r)
		s.logAPICall(r, routeUnmatched, keyUnchecked, http.StatusMethodNotAllowed, time.Since(start))
		return
	}
	writeError(w, http.StatusMethodNotAllowed, "method not allowed")
}
