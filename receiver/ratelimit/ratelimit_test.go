package ratelimit_test

import (
	"context"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/trackhook/trackhook/receiver/ratelimit"
	"github.com/trackhook/trackhook/receiver/redistest"
)

func TestBucket(t *testing.T) {
	srv := redistest.Start(t)
	ctx := context.Background()
	l := ratelimit.New(srv.Client(), 5, 3)
	for i := 0; i < 3; i++ {
		if ok, _, err := l.Allow(ctx, "a"); !ok || err != nil {
			t.Fatalf("token %d refused: %v", i, err)
		}
	}
	ok, wait, err := l.Allow(ctx, "a")
	if ok || err != nil || wait <= 0 || wait > 250*time.Millisecond {
		t.Fatalf("fourth: ok=%v wait=%v err=%v; want refused with ~200ms", ok, wait, err)
	}
	if ok, _, _ := l.Allow(ctx, "b"); !ok {
		t.Fatal("buckets are not separate")
	}
	time.Sleep(wait + 20*time.Millisecond)
	if ok, _, _ := l.Allow(ctx, "a"); !ok {
		t.Fatal("no token after the wait")
	}
	if ratelimit.RetryAfterSeconds(200*time.Millisecond) != 1 || ratelimit.RetryAfterSeconds(1500*time.Millisecond) != 2 {
		t.Fatal("RetryAfterSeconds")
	}
}

// Several clients (receivers) share one bucket: together they get the burst, not one each.
func TestSharedAcrossClients(t *testing.T) {
	srv := redistest.Start(t)
	var allowed atomic.Int32
	var wg sync.WaitGroup
	for c := 0; c < 4; c++ {
		l := ratelimit.New(srv.Client(), 1, 10)
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < 10; i++ {
				if ok, _, _ := l.Allow(context.Background(), "shared"); ok {
					allowed.Add(1)
				}
			}
		}()
	}
	wg.Wait()
	if n := allowed.Load(); n < 10 || n > 11 {
		t.Fatalf("%d allowed across 4 clients, want the burst of 10", n)
	}
}

func TestNilAndRedisDown(t *testing.T) {
	var l *ratelimit.Limiter = ratelimit.New(nil, 0, 0)
	if ok, _, err := l.Allow(context.Background(), "x"); !ok || err != nil {
		t.Fatal("no limit must allow")
	}
	srv := redistest.Start(t)
	l = ratelimit.New(srv.Client(), 1, 1)
	srv.Stop()
	if ok, _, err := l.Allow(context.Background(), "x"); !ok || err == nil {
		t.Fatalf("Redis down: ok=%v err=%v; want allowed with an error", ok, err)
	}
}
