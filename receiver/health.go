package receiver

import (
	"context"
	"net/http"
	"time"
)

// Healthz is GET /healthz, liveness: 200 while the process serves, whatever
// Redis does (a restart would not bring Redis back).
func Healthz() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		writeJSON(w, http.StatusOK, map[string]string{"status": "ok"})
	})
}

// Readyz is GET /readyz, readiness: 200 while ping (Redis) answers within
// two seconds, else 503, so a load balancer sends webhooks elsewhere. Every
// role serves these two, the worker included.
func Readyz(ping func(context.Context) error) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ctx, cancel := context.WithTimeout(r.Context(), 2*time.Second)
		defer cancel()
		if err := ping(ctx); err != nil {
			writeJSON(w, http.StatusServiceUnavailable, map[string]string{"status": "unavailable", "error": "redis unreachable"})
			return
		}
		writeJSON(w, http.StatusOK, map[string]string{"status": "ready"})
	})
}
