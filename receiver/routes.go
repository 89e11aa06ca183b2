package receiver

import (
	"net/http"
	"regexp"
	"strings"
	"time"

	"github.com/gorilla/mux"

	"github.com/trackhook/trackhook/receiver/api"
	"github.com/trackhook/trackhook/receiver/trackingmore"
)

// apiBase is where version v of the AfterShip API is served, with the
// headers that carry the key: the versioned API takes only as-api-key; the
// legacy /v4 API also takes aftership-api-key.
func apiBase(v api.Version) (string, []string) {
	if v.Name == api.Legacy.Name {
		return "/v4", []string{"as-api-key", "aftership-api-key"}
	}
	// A variable holding one value: the route is the version's own, and its
	// template (access log, OpenAPI) reads /tracking/{version}/….
	return "/tracking/{version:" + regexp.QuoteMeta(v.Name) + "}", []string{"as-api-key"}
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

	// The AfterShip-compatible admin API, each version under its base, in
	// its own shape. Every call: the key, the key's rate limit, the
	// handler, one access line (apiCall).
	if a := s.api; a != nil {
		for _, v := range api.Versions {
			base, headers := apiBase(v)
			for _, rt := range a.Routes(v, s.ApplyEvent) {
				r.Handle(base+rt.Path, s.apiCall(rt.Handler, headers, afterShip)).Methods(rt.Method)
			}
		}
	}
	// TrackingMore's trackings API (v2 and v4) on the same trackings, each
	// route on the main router with the prefix prepended, so a wrong method
	// is a 405 (see trackingmore.API.Routes).
	if tm := s.tm; tm != nil {
		for _, rt := range tm.Routes() {
			r.Handle(trackingMorePrefix+rt.Path, s.apiCall(rt.Handler, trackingmore.KeyHeaders, trackingMoreAPIs)).Methods(rt.Method)
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

// unservedVersion reports the version of a /tracking/{version}/… path
// when trackhook does not serve it.
func unservedVersion(p string) (string, bool) {
	rest, ok := strings.CutPrefix(p, "/tracking/")
	if !ok {
		return "", false
	}
	name, _, _ := strings.Cut(rest, "/")
	if _, served := api.LookupVersion(name); served {
		return "", false
	}
	return name, true
}

// trackingMorePrefix is where TrackingMore's API is served: a merchant's
// TrackingMore base URL becomes https://host/trackingmore.
const trackingMorePrefix = "/trackingmore"

func isTrackingMorePath(p string) bool {
	return strings.HasPrefix(p, trackingMorePrefix+"/")
}

func isAPIPath(p string) bool {
	return strings.HasPrefix(p, "/tracking/") || strings.HasPrefix(p, "/v4/")
}

func (s *Server) notFound(w http.ResponseWriter, r *http.Request) {
	if s.tm != nil && isTrackingMorePath(r.URL.Path) {
		start := time.Now()
		trackingmore.NotFound(w, r)
		s.logAPICall(r, routeUnmatched, keyUnchecked, http.StatusNotFound, time.Since(start))
		return
	}
	if isAPIPath(r.URL.Path) {
		start := time.Now()
		if name, ok := unservedVersion(r.URL.Path); ok {
			api.UnsupportedVersion(w, name)
		} else {
			api.NotFound(w, r)
		}
		s.logAPICall(r, routeUnmatched, keyUnchecked, http.StatusNotFound, time.Since(start))
		return
	}
	writeError(w, http.StatusNotFound, "not found")
}

func (s *Server) methodNotAllowed(w http.ResponseWriter, r *http.Request) {
	if s.tm != nil && isTrackingMorePath(r.URL.Path) {
		start := time.Now()
		trackingmore.MethodNotAllowed(w, r)
		s.logAPICall(r, routeUnmatched, keyUnchecked, http.StatusMethodNotAllowed, time.Since(start))
		return
	}
	if isAPIPath(r.URL.Path) {
		start := time.Now()
		api.MethodNotAllowed(w, r)
		s.logAPICall(r, routeUnmatched, keyUnchecked, http.StatusMethodNotAllowed, time.Since(start))
		return
	}
	writeError(w, http.StatusMethodNotAllowed, "method not allowed")
}
