package main

import (
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/http/pprof"
	"time"
)

// servePprof serves net/http/pprof on addr (TRACKHOOK_PPROF_ADDR), a
// listener of its own so profiles never show on the public port. It is off
// unless that variable is set; the returned func closes it.
func servePprof(addr string, log *slog.Logger) (func(), error) {
	mux := http.NewServeMux()
	mux.HandleFunc("/debug/pprof/", pprof.Index)
	mux.HandleFunc("/debug/pprof/cmdline", pprof.Cmdline)
	mux.HandleFunc("/debug/pprof/profile", pprof.Profile)
	mux.HandleFunc("/debug/pprof/symbol", pprof.Symbol)
	mux.HandleFunc("/debug/pprof/trace", pprof.Trace)
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("TRACKHOOK_PPROF_ADDR: listen on %s: %w", addr, err)
	}
	// No WriteTimeout: a CPU profile answers after the seconds it was asked for.
	hs := &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	go func() {
		if err := hs.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			log.Error("pprof listener stopped", "err", err)
		}
	}()
	log.Warn("pprof is served: it shows the program's internals to anyone who can reach it; keep TRACKHOOK_PPROF_ADDR on loopback",
		"addr", ln.Addr().String())
	return func() { _ = hs.Close() }, nil
}
