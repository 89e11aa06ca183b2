package main

import (
	"context"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"time"

	"github.com/redis/go-redis/v9"
	"golang.org/x/time/rate"
)

// repeatInterval is the most often one kind of complaint from go-redis or
// asynq is logged: while Redis is down, go-redis's pool reports every failed
// dial and asynq each failed poll, several times a second.
const repeatInterval = 10 * time.Second

// throttledLog logs the libraries' complaints through the program's logger,
// each kind (the message up to its second colon: "Dequeue error: UNKNOWN",
// "redis: connection pool") at most once every repeatInterval, saying how
// many of that kind were left out since.
type throttledLog struct {
	log   *slog.Logger
	mu    sync.Mutex
	kinds map[string]*throttle
}

type throttle struct {
	sometimes  rate.Sometimes
	suppressed int
}

// maxKinds bounds the kinds remembered; past it every message is its own
// kind's first (logged).
const maxKinds = 256

func newThrottledLog(log *slog.Logger) *throttledLog {
	return &throttledLog{log: log, kinds: map[string]*throttle{}}
}

func (l *throttledLog) logf(ctx context.Context, level slog.Level, msg string) {
	kind := msg
	if i := strings.Index(msg, ":"); i >= 0 {
		// Two fields: go-redis starts nearly every line with "redis:",
		// and a failover notice must not hide behind dial errors.
		if j := strings.Index(msg[i+1:], ":"); j >= 0 {
			kind = msg[:i+1+j]
		} else {
			kind = msg[:i]
		}
	}
	l.mu.Lock()
	th := l.kinds[kind]
	if th == nil {
		th = &throttle{sometimes: rate.Sometimes{Interval: repeatInterval}}
		if len(l.kinds) < maxKinds {
			l.kinds[kind] = th
		}
	}
	logged, suppressed := false, 0
	th.sometimes.Do(func() { logged, suppressed, th.suppressed = true, th.suppressed, 0 })
	if !logged {
		th.suppressed++
	}
	l.mu.Unlock()
	if !logged {
		return
	}
	if suppressed > 0 {
		l.log.Log(ctx, level, msg, "repeats_not_logged", suppressed)
		return
	}
	l.log.Log(ctx, level, msg)
}

// redisLogger is go-redis's logging interface on a throttledLog.
type redisLogger struct{ t *throttledLog }

func (l redisLogger) Printf(ctx context.Context, format string, v ...any) {
	l.t.logf(ctx, slog.LevelWarn, fmt.Sprintf(format, v...))
}

// routeRedisLogs makes go-redis log through log, throttled. go-redis has one
// logger for the whole process (redis.SetLogger); the last server started
// sets it.
func routeRedisLogs(log *slog.Logger) {
	redis.SetLogger(redisLogger{newThrottledLog(log.With("component", "go-redis"))})
}

// asynqLogger routes asynq's own logging to slog; its warnings and errors
// (while Redis is down: every poll of every component) are throttled.
type asynqLogger struct {
	l *slog.Logger
	t *throttledLog
}

func newAsynqLogger(log *slog.Logger) asynqLogger {
	log = log.With("component", "asynq")
	return asynqLogger{l: log, t: newThrottledLog(log)}
}

func (a asynqLogger) Debug(args ...any) { a.l.Debug(fmt.Sprint(args...)) }
func (a asynqLogger) Info(args ...any)  { a.l.Info(fmt.Sprint(args...)) }
func (a asynqLogger) Warn(args ...any) {
	a.t.logf(context.Background(), slog.LevelWarn, fmt.Sprint(args...))
}
func (a asynqLogger) Error(args ...any) {
	msg := fmt.Sprint(args...)
	if strings.Contains(msg, "redis connection is shared") {
		// asynq's scheduler, given our Redis client, says on shutdown that
		// it may not close it: it is not its to close. Nothing failed.
		a.l.Debug(msg)
		return
	}
	a.t.logf(context.Background(), slog.LevelError, msg)
}

// Fatal is never throttled: asynq exits the process after it.
func (a asynqLogger) Fatal(args ...any) { a.l.Error(fmt.Sprint(args...)) }
