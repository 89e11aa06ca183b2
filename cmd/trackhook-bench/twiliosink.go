package main

import (
	"fmt"
	"net"
	"net/http"
	"strings"
	"sync/atomic"
	"time"
)

// twilioSink speaks the one call of the Twilio Messages API a send makes
// (POST /2010-04-01/Accounts/{sid}/Messages.json) and answers it after a set
// latency, as the real API does from far away. It counts what it accepted.
type twilioSink struct {
	ln       net.Listener
	srv      *http.Server
	latency  atomic.Int64 // ns before each answer
	accepted atomic.Int64
	seq      atomic.Int64
}

const benchTwilioSID = "AC00000000000000000000000000000bench"

func startTwilioSink() (*twilioSink, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	s := &twilioSink{ln: ln}
	s.srv = &http.Server{Handler: http.HandlerFunc(s.serve), ReadHeaderTimeout: 10 * time.Second}
	go func() { _ = s.srv.Serve(ln) }()
	return s, nil
}

func (s *twilioSink) url() string { return "http://" + s.ln.Addr().String() }

func (s *twilioSink) close() { _ = s.srv.Close() }

func (s *twilioSink) serve(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost || !strings.HasSuffix(r.URL.Path, "/Messages.json") {
		http.Error(w, `{"code":20404,"message":"not found"}`, http.StatusNotFound)
		return
	}
	if err := r.ParseForm(); err != nil || r.PostForm.Get("To") == "" || r.PostForm.Get("Body") == "" {
		http.Error(w, `{"code":21604,"message":"To and Body are required"}`, http.StatusBadRequest)
		return
	}
	if d := time.Duration(s.latency.Load()); d > 0 {
		select {
		case <-time.After(d):
		case <-r.Context().Done():
			return
		}
	}
	s.accepted.Add(1)
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(http.StatusCreated)
	fmt.Fprintf(w, `{"sid":"SM%032d","status":"queued","to":%q}`, s.seq.Add(1), r.PostForm.Get("To"))
}
