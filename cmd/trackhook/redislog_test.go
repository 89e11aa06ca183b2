package main

import (
	"bytes"
	"context"
	"log/slog"
	"strings"
	"testing"
)

// While Redis is down the libraries complain several times a second: each
// kind of complaint is logged once per interval, kinds apart (a failover
// notice does not hide behind dial errors), and asynq's Fatal always.
func TestLibraryComplaintsAreThrottledByKind(t *testing.T) {
	var buf bytes.Buffer
	log := slog.New(slog.NewTextHandler(&buf, nil))
	r := redisLogger{newThrottledLog(log)}
	for range 50 {
		r.Printf(context.Background(), "redis: connection pool: failed to dial after %d attempts: %s", 5, "connection refused")
	}
	r.Printf(context.Background(), "redis: sentinel: new master=%q addr=%q", "mymaster", "10.0.0.2:6379")
	a := newAsynqLogger(log)
	for range 50 {
		a.Error("Dequeue error: UNKNOWN: redis eval error: connection refused")
	}
	a.Fatal("asynq: server cannot run: redis down")
	a.Fatal("asynq: server cannot run: redis down")
	out := buf.String()
	for line, want := range map[string]int{
		"failed to dial": 1, "new master": 1, "Dequeue error": 1, "server cannot run": 2,
	} {
		if n := strings.Count(out, line); n != want {
			t.Errorf("%q logged %d times, want %d:\n%s", line, n, want, out)
		}
	}
}

// asynq's scheduler, which shares our Redis client, reports at shutdown
// that it may not close it: not an error an operator should be woken for.
func TestSharedConnectionNoticeIsNotAnError(t *testing.T) {
	var buf bytes.Buffer
	a := newAsynqLogger(slog.New(slog.NewTextHandler(&buf, nil)))
	a.Error("Failed to close redis client connection: redis connection is shared so the Client can't be closed through asynq")
	if strings.Contains(buf.String(), "level=ERROR") {
		t.Fatalf("logged as an error:\n%s", buf.String())
	}
}
