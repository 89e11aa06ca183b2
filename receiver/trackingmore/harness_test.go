package trackingmore_test

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/gorilla/mux"
	"github.com/redis/go-redis/v9"

	"github.com/trackhook/trackhook/dispatcher/state"
	"github.com/trackhook/trackhook/receiver/api"
	"github.com/trackhook/trackhook/receiver/redistest"
	"github.com/trackhook/trackhook/receiver/tracking"
	"github.com/trackhook/trackhook/receiver/trackingmore"
)

const testKey = "tm-test-key"

type env struct {
	url   string // the TrackingMore base URL: server + /trackingmore
	srv   *httptest.Server
	store *tracking.Store
	redis *redistest.Server
	v2    v2Client
	v4    v4Client
}

// mount wires a's routes under /trackingmore the way the receiver does:
// the key check and the 404/405 answers in TrackingMore's envelope. The
// AfterShip-compatible API's GET and PUT by slug and number are mounted
// under /aftership on the same store, as the receiver serves both.
func mount(t testing.TB, a *trackingmore.API, as *api.API) http.Handler {
	// One router with the prefix in every path: gorilla/mux v1.8.1 loses a
	// method mismatch inside a PathPrefix subrouter (each of its routes
	// re-matches the prefix, which clears the mismatch), answering 404
	// where 405 is due.
	r := mux.NewRouter()
	for _, rt := range a.Routes() {
		r.HandleFunc("/trackingmore"+rt.Path, rt.Handler).Methods(rt.Method)
	}
	if as != nil {
		r.HandleFunc("/aftership/v4/trackings/{slug}/{tracking_number}", as.GetTracking).Methods(http.MethodGet)
		r.HandleFunc("/aftership/v4/trackings/{slug}/{tracking_number}", as.UpdateTracking).Methods(http.MethodPut)
	}
	r.NotFoundHandler = http.HandlerFunc(trackingmore.NotFound)
	r.MethodNotAllowedHandler = http.HandlerFunc(trackingmore.MethodNotAllowed)
	return http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		ok := false
		for _, h := range trackingmore.KeyHeaders {
			if req.Header.Get(h) == testKey {
				ok = true
			}
		}
		if !ok && req.Header.Get("as-api-key") != testKey {
			trackingmore.Unauthorized(w, req)
			return
		}
		r.ServeHTTP(w, req)
	})
}

func quiet() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }

func newEnv(t *testing.T) *env {
	t.Helper()
	return newEnvWith(t, func(rs *redistest.Server) *redis.Client { return rs.Client() })
}

// newEnvWith builds the env on the Redis client client makes.
func newEnvWith(t *testing.T, client func(*redistest.Server) *redis.Client) *env {
	t.Helper()
	rs := redistest.Start(t)
	rdb := client(rs)
	store := tracking.NewStore(rdb, tracking.Options{})
	a, err := trackingmore.New(trackingmore.Config{Store: store, Logger: quiet()})
	if err != nil {
		t.Fatal(err)
	}
	as, err := api.New(api.Config{Store: store, Notifications: state.New(rdb, state.Options{TrackingKey: tracking.StateKey}), Logger: quiet()})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(mount(t, a, as))
	t.Cleanup(srv.Close)
	base := srv.URL + "/trackingmore"
	return &env{url: base, srv: srv, store: store, redis: rs, v2: v2Client{base, testKey}, v4: v4Client{base, testKey}}
}

// get reads a tracking from the store directly.
func (e *env) get(t *testing.T, slug, number string) tracking.Tracking {
	t.Helper()
	tr, err := e.store.Get(context.Background(), tracking.ID(slug, number))
	if err != nil {
		t.Fatalf("store.Get(%s, %s): %v", slug, number, err)
	}
	return tr
}

// absent asserts the store has no such tracking.
func (e *env) absent(t *testing.T, slug, number string) {
	t.Helper()
	if _, err := e.store.Get(context.Background(), tracking.ID(slug, number)); !errors.Is(err, tracking.ErrNotFound) {
		t.Fatalf("store.Get(%s, %s) = %v, want ErrNotFound", slug, number, err)
	}
}

// count is how many trackings the store lists.
func (e *env) count(t *testing.T) int {
	t.Helper()
	_, n, err := e.store.List(context.Background(), tracking.ListQuery{Limit: 1})
	if err != nil {
		t.Fatal(err)
	}
	return n
}

func decodeBody(res *http.Response, v any) error { return json.NewDecoder(res.Body).Decode(v) }
