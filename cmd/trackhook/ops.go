package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"time"

	"github.com/trackhook/trackhook/cmd/trackhook/internal/metrics"
	"github.com/trackhook/trackhook/receiver"
)

// ops is what the roles share for operating them: the metrics they count
// into, GET /metrics, and the queue dashboard (nil when it is off).
type ops struct {
	metrics *metrics.Metrics
	scrape  http.Handler
	admin   http.Handler
}

// workerHandler is the HTTP surface of `trackhook worker`, which has no
// receiver: liveness, readiness (Redis reachable) and metrics, answered the
// way the receiver answers them.
func workerHandler(ping func(context.Context) error, scrape http.Handler) http.Handler {
	mux := http.NewServeMux()
	mux.Handle("GET /healthz", receiver.Healthz())
	mux.Handle("GET /readyz", receiver.Readyz(ping))
	mux.Handle("GET /metrics", scrape)
	mux.HandleFunc("/", func(w http.ResponseWriter, _ *http.Request) {
		writeStatus(w, http.StatusNotFound, map[string]string{"error": "not found"})
	})
	return mux
}

func writeStatus(w http.ResponseWriter, code int, v any) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(code)
	_ = json.NewEncoder(w).Encode(v)
}

// listen serves h on addr (TRACKHOOK_ADDR) until the returned stop is
// called, which lets in-flight requests finish. A failure after start is
// sent to errc.
func listen(addr string, h http.Handler, log *slog.Logger, errc chan<- error) (net.Addr, func(), error) {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, nil, fmt.Errorf("TRACKHOOK_ADDR: listen on %s: %w", addr, err)
	}
	hs := &http.Server{
		Handler:           h,
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       30 * time.Second,
		WriteTimeout:      30 * time.Second,
		IdleTimeout:       120 * time.Second,
		ErrorLog:          slog.NewLogLogger(log.Handler(), slog.LevelWarn),
	}
	go func() {
		if err := hs.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			errc <- err
		}
	}()
	return ln.Addr(), func() {
		ctx, cancel := context.WithTimeout(context.Background(), shutdownTimeout)
		defer cancel()
		if err := hs.Shutdown(ctx); err != nil {
			log.Warn("http shutdown", "err", err)
		}
	}, nil
}
