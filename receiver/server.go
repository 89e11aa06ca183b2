package receiver

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/gorilla/mux"
	"github.com/hibiken/asynq"

	"github.com/trackhook/trackhook/dispatcher"
	"github.com/trackhook/trackhook/receiver/api"
	"github.com/trackhook/trackhook/receiver/carrier"
	"github.com/trackhook/trackhook/receiver/optout"
	"github.com/trackhook/trackhook/receiver/ratelimit"
	"github.com/trackhook/trackhook/receiver/tracking"
	"github.com/trackhook/trackhook/receiver/trackingmore"
)

// MaxBodyBytes caps every webhook body.
const MaxBodyBytes = 1 << 20

// Queue is what the receiver needs of asynq.Client.
type Queue interface {
	EnqueueContext(ctx context.Context, t *asynq.Task, opts ...asynq.Option) (*asynq.TaskInfo, error)
}

// Store is what the webhook edge needs of the tracking store
// (*tracking.Store): the atomic apply step with its outbox, the outbox's
// acknowledgement and sweep, and a ping for readiness.
type Store interface {
	Apply(ctx context.Context, ev tracking.Event, plan tracking.Planner) (tracking.Result, error)
	Ack(ctx context.Context, trackingID string, jobKeys ...string) error
	OutboxDue(ctx context.Context, before time.Time, limit int) ([]tracking.OutboxItem, error)
	OutboxDone(ctx context.Context, items ...tracking.OutboxItem) error
	// Now is the store's clock: the outbox's timestamps and the sweeper's
	// grace are compared on it.
	Now() time.Time
	Ping(ctx context.Context) error
}

// Config wires a Server.
type Config struct {
	Store    Store
	Queue    Queue
	Sources  Registry
	Carriers *carrier.Catalog
	Logger   *slog.Logger
	// MaxBodyBytes overrides the 1 MiB cap (tests).
	MaxBodyBytes int64
	// API serves the AfterShip-compatible admin API; nil leaves it out.
	API *api.API
	// TrackingMore serves TrackingMore's trackings API under /trackingmore,
	// on the same trackings; nil leaves it out. It takes the same APIKeys.
	TrackingMore *trackingmore.API
	// APIKeys are the keys the API accepts (none: every call is refused).
	APIKeys api.Keys
	// OptOut serves unsubscribe links and inbound SMS; nil leaves them out.
	OptOut *optout.Handler
	// WebhookLimit limits webhooks per source, APILimit API calls per key;
	// nil means no limit.
	WebhookLimit *ratelimit.Limiter
	APILimit     *ratelimit.Limiter
	// Metrics serves GET /metrics (Prometheus); nil leaves it out.
	Metrics http.Handler
	// Admin serves /admin/queues (the asynq dashboard) and must do its own
	// authentication; nil leaves it out.
	Admin http.Handler
	// Observer counts webhooks for the metrics; nil counts nothing.
	Observer Observer
	// DeliveryLog records the notifications a rule suppressed when their
	// status was entered (stale, first_delivered), so the tracking's
	// delivery log shows them; nil leaves them out of it.
	DeliveryLog dispatcher.DeliveryLog
	// Enqueuers is how many goroutines hand the jobs of stored events over
	// to asynq after their webhook was answered; the webhook then waits
	// only for Redis to have the event and its outbox. 0 hands them over
	// in the webhook's own goroutine, before it is answered. With
	// Enqueuers, call Close at shutdown.
	Enqueuers int
}

// Server serves the webhook endpoints and health checks.
type Server struct {
	store    Store
	queue    Queue
	sources  Registry
	carriers *carrier.Catalog
	log      *slog.Logger
	maxBody  int64
	api      *api.API
	tm       *trackingmore.API
	keys     api.Keys
	optout   *optout.Handler
	metrics  http.Handler
	admin    http.Handler
	hookRate *ratelimit.Limiter
	apiRate  *ratelimit.Limiter
	observe  Observer
	dlog     dispatcher.DeliveryLog
	handler  *mux.Router

	handoffs    chan handoff // nil: enqueue in the webhook's goroutine
	handoffDone sync.WaitGroup
	closing     sync.Once
}

// New returns a server; its routes are in routes.go.
func New(cfg Config) (*Server, error) {
	if cfg.Store == nil || cfg.Queue == nil {
		return nil, errors.New("receiver: a store and a queue are required")
	}
	if cfg.Carriers == nil {
		cfg.Carriers = carrier.Default()
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	if cfg.MaxBodyBytes <= 0 {
		cfg.MaxBodyBytes = MaxBodyBytes
	}
	if cfg.Observer == nil {
		cfg.Observer = nopObserver{}
	}
	s := &Server{store: cfg.Store, queue: cfg.Queue, sources: cfg.Sources, carriers: cfg.Carriers, log: cfg.Logger, maxBody: cfg.MaxBodyBytes,
		api: cfg.API, tm: cfg.TrackingMore, keys: cfg.APIKeys, optout: cfg.OptOut, metrics: cfg.Metrics, admin: cfg.Admin,
		hookRate: cfg.WebhookLimit, apiRate: cfg.APILimit, observe: cfg.Observer, dlog: cfg.DeliveryLog}
	s.handler = s.routes()
	if cfg.Enqueuers > 0 {
		s.startHandoff(cfg.Enqueuers)
	}
	return s, nil
}

// Router exposes the routes (tests walk it to check the OpenAPI document).
func (s *Server) Router() *mux.Router { return s.handler }

// ServeHTTP implements http.Handler.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) { s.handler.ServeHTTP(w, r) }

// openAPI serves the OpenAPI 3 description of the HTTP surface.
func (s *Server) openAPI(w http.ResponseWriter, _ *http.Request) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	_, _ = w.Write(api.OpenAPI)
}

// apiDialect is how one API family answers the calls apiCall refuses
// itself: AfterShip's envelope, or TrackingMore's.
type apiDialect struct {
	unauthorized    http.HandlerFunc
	tooManyRequests func(w http.ResponseWriter, retryAfterSeconds int)
}

var (
	afterShip        = apiDialect{unauthorized: api.Unauthorized, tooManyRequests: api.TooManyRequests}
	trackingMoreAPIs = apiDialect{unauthorized: trackingmore.Unauthorized, tooManyRequests: trackingmore.TooManyRequests}
)

// limitAPI refuses calls beyond the key's rate with 429.
func (s *Server) limitAPI(h http.HandlerFunc, d apiDialect) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		ok, wait, err := s.apiRate.Allow(r.Context(), "api:"+api.KeyID(r))
		if err != nil {
			s.log.Warn("rate limit unavailable; letting the call through", "err", err)
		}
		if !ok {
			d.tooManyRequests(w, ratelimit.RetryAfterSeconds(wait))
			return
		}
		h(w, r)
	}
}

// apiCall serves one call of the admin API: the key in one of headers, then
// the key's rate limit, then h; and logs it (logAPICall).
func (s *Server) apiCall(h http.HandlerFunc, headers []string, d apiDialect) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		rec := &statusRecorder{ResponseWriter: w}
		r, caller, ok := s.keys.Authenticate(r, headers...)
		if ok {
			s.limitAPI(h, d)(rec, r)
		} else {
			d.unauthorized(rec, r)
		}
		s.logAPICall(r, routePattern(r), caller, rec.Status(), time.Since(start))
	})
}

// What the access line of an API call to no route says.
const (
	routeUnmatched = "unmatched" // the path is no API route: answered 404 or 405
	keyUnchecked   = "unchecked" // no route, so no key was looked at
)

// logAPICall writes the access line of one API call. It names the route by
// its pattern, never the path (which holds tracking numbers), and the key
// by its id (api.KeyID) or api.KeyNone / api.KeyInvalid, never the key.
// Level: error for 5xx, warn for 401, 403 and 429, else info.
func (s *Server) logAPICall(r *http.Request, route, key string, status int, d time.Duration) {
	level := slog.LevelInfo
	switch {
	case status >= 500:
		level = slog.LevelError
	case status == http.StatusUnauthorized || status == http.StatusForbidden || status == http.StatusTooManyRequests:
		level = slog.LevelWarn
	}
	s.log.LogAttrs(r.Context(), level, "api call",
		slog.String("method", r.Method), slog.String("route", route), slog.Int("status", status),
		slog.Duration("duration", d), slog.String("key", key))
}

// routePattern is the gorilla/mux template of the route r matched, with
// each {name:regexp} shortened to {name}: /tracking/{version}/trackings/{id}.
func routePattern(r *http.Request) string {
	route := mux.CurrentRoute(r)
	if route == nil {
		return routeUnmatched
	}
	tpl, err := route.GetPathTemplate()
	if err != nil {
		return routeUnmatched
	}
	var b strings.Builder
	for i := 0; i < len(tpl); i++ {
		if tpl[i] != '{' {
			b.WriteByte(tpl[i])
			continue
		}
		end, depth := i, 0 // the '}' that closes this variable; its regexp may hold braces
		for ; end < len(tpl); end++ {
			if tpl[end] == '{' {
				depth++
			} else if tpl[end] == '}' {
				if depth--; depth == 0 {
					break
				}
			}
		}
		name, _, _ := strings.Cut(tpl[i+1:min(end, len(tpl))], ":")
		b.WriteString("{" + name + "}")
		i = end
	}
	return b.String()
}

// statusRecorder remembers the status code written through it.
type statusRecorder struct {
	http.ResponseWriter
	status int
}

func (w *statusRecorder) WriteHeader(code int) {
	if w.status == 0 {
		w.status = code
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *statusRecorder) Write(b []byte) (int, error) {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	return w.ResponseWriter.Write(b)
}

// Status is the code written, 200 if the handler wrote nothing.
func (w *statusRecorder) Status() int {
	if w.status == 0 {
		return http.StatusOK
	}
	return w.status
}

// Unwrap lets http.ResponseController reach the connection's writer.
func (w *statusRecorder) Unwrap() http.ResponseWriter { return w.ResponseWriter }
