package redistest_test

import (
	"context"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/redis/go-redis/v9"

	"github.com/trackhook/trackhook/receiver/redistest"
)

func TestClusterIsARealCluster(t *testing.T) {
	c := redistest.StartCluster(t)
	ctx := context.Background()
	cl := c.Client()
	for _, k := range []string{"a", "b", "c", "{t1}:x", "{t1}:y"} {
		if err := cl.Set(ctx, k, "1", 0).Err(); err != nil {
			t.Fatalf("set %s: %v", k, err)
		}
	}
	var masters atomic.Int32 // ForEachMaster calls in parallel
	if err := cl.ForEachMaster(ctx, func(ctx context.Context, n *redis.Client) error {
		masters.Add(1)
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	if masters := masters.Load(); masters != 3 {
		t.Fatalf("%d masters, want 3", masters)
	}
	// One slot: fine. Two slots: the error trackhook's hash tags avoid.
	script := redis.NewScript(`return redis.call("MGET", KEYS[1], KEYS[2])`)
	if err := script.Run(ctx, cl, []string{"{t1}:x", "{t1}:y"}).Err(); err != nil {
		t.Fatalf("same-slot script: %v", err)
	}
	err := script.Run(ctx, cl, []string{"a", "b"}).Err()
	if err == nil || !strings.Contains(err.Error(), "CROSSSLOT") {
		t.Fatalf("cross-slot script: %v, want CROSSSLOT", err)
	}
	if !strings.HasPrefix(c.URL(), "redis-cluster://127.0.0.1:") || strings.Count(c.URL(), ",") != 2 {
		t.Fatalf("URL %s", c.URL())
	}
}

func TestSentinelKnowsTheMaster(t *testing.T) {
	m := redistest.Start(t)
	s := redistest.StartSentinel(t, m, "trackhook")
	rdb := redis.NewFailoverClient(&redis.FailoverOptions{MasterName: "trackhook", SentinelAddrs: []string{s.Addr()}})
	defer rdb.Close()
	ctx := context.Background()
	if err := rdb.Set(ctx, "k", "v", 0).Err(); err != nil {
		t.Fatal(err)
	}
	if got, _ := m.Client().Get(ctx, "k").Result(); got != "v" {
		t.Fatalf("the write did not reach the master: %q", got)
	}
}
