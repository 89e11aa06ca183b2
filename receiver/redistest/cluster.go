package redistest

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
)

// Cluster is a Redis Cluster of three masters (no replicas), each a
// redis-server started by Start, with the 16384 slots split between them.
type Cluster struct {
	tb    testing.TB
	Nodes []*Server
}

// StartCluster starts a three-master Redis Cluster and waits until every
// node reports cluster_state:ok and knows the other two. It is stopped when
// the test ends.
func StartCluster(tb testing.TB) *Cluster {
	tb.Helper()
	c := &Cluster{tb: tb}
	for range 3 {
		c.Nodes = append(c.Nodes, Start(tb,
			"--cluster-enabled", "yes", "--cluster-config-file", "nodes.conf", "--cluster-node-timeout", "2000"))
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	// Slots split as redis-cli --cluster create does, then every node meets
	// the first.
	const slots = 16384
	for i, n := range c.Nodes {
		cl := n.Client()
		first, last := i*slots/3, (i+1)*slots/3-1
		if err := cl.ClusterAddSlotsRange(ctx, first, last).Err(); err != nil {
			tb.Fatalf("cluster addslotsrange on %s: %v", n.Addr(), err)
		}
		if i > 0 {
			if err := cl.ClusterMeet(ctx, "127.0.0.1", strconv.Itoa(c.Nodes[0].port)).Err(); err != nil {
				tb.Fatalf("cluster meet from %s: %v", n.Addr(), err)
			}
		}
	}
	for {
		ready := true
		for _, n := range c.Nodes {
			info, err := n.Client().ClusterInfo(ctx).Result()
			if err != nil || !strings.Contains(info, "cluster_state:ok") || !strings.Contains(info, "cluster_known_nodes:3") {
				ready = false
				break
			}
		}
		if ready {
			break
		}
		select {
		case <-ctx.Done():
			tb.Fatalf("redis cluster on %v not ready within 30s", c.Addrs())
		case <-time.After(50 * time.Millisecond):
		}
	}
	return c
}

// Addrs are the nodes' "127.0.0.1:port".
func (c *Cluster) Addrs() []string {
	out := make([]string, len(c.Nodes))
	for i, n := range c.Nodes {
		out[i] = n.Addr()
	}
	return out
}

// URL is TRACKHOOK_REDIS_URL for the cluster:
// "redis-cluster://127.0.0.1:p1,127.0.0.1:p2,127.0.0.1:p3".
func (c *Cluster) URL() string { return "redis-cluster://" + strings.Join(c.Addrs(), ",") }

// Client returns a cluster client closed when the test ends.
func (c *Cluster) Client() *redis.ClusterClient {
	cl := redis.NewClusterClient(&redis.ClusterOptions{Addrs: c.Addrs()})
	c.tb.Cleanup(func() { cl.Close() })
	return cl
}

// Sentinel is one redis-server in sentinel mode, watching a master.
type Sentinel struct {
	port   int
	master string
	cmd    *exec.Cmd
}

// StartSentinel starts a Sentinel that monitors master under the name
// name, with a quorum of one, and waits until it reports the master's
// address. It is stopped when the test ends.
func StartSentinel(tb testing.TB, master *Server, name string) *Sentinel {
	tb.Helper()
	path, err := exec.LookPath("redis-server")
	if err != nil {
		tb.Fatalf("redis-server not found on PATH (apt-get install -y redis-server): %v", err)
	}
	dir := tb.TempDir()
	// Sentinel rewrites its configuration file, so it gets its own.
	conf := filepath.Join(dir, "sentinel.conf")
	body := fmt.Sprintf("sentinel monitor %s 127.0.0.1 %d 1\nsentinel down-after-milliseconds %s 2000\n", name, master.port, name)
	if err := os.WriteFile(conf, []byte(body), 0o600); err != nil {
		tb.Fatal(err)
	}
	s := &Sentinel{master: name}
	for attempt := 0; ; attempt++ {
		s.port = freePort(tb)
		// The configuration file must come first.
		s.cmd = exec.Command(path, conf, "--sentinel", "--port", strconv.Itoa(s.port), "--bind", "127.0.0.1",
			"--dir", dir, "--daemonize", "no", "--logfile", "", "--loglevel", "warning")
		if err := s.cmd.Start(); err != nil {
			tb.Fatalf("start redis-server --sentinel: %v", err)
		}
		if s.waitForMaster(name, master.port, 10*time.Second) == nil {
			break
		}
		s.stop()
		if attempt == 4 {
			tb.Fatalf("sentinel on port %d does not know master %q", s.port, name)
		}
	}
	tb.Cleanup(s.stop)
	return s
}

func (s *Sentinel) waitForMaster(name string, port int, within time.Duration) error {
	sc := redis.NewSentinelClient(&redis.Options{Addr: s.Addr(), MaxRetries: -1})
	defer sc.Close()
	deadline := time.Now().Add(within)
	for {
		addr, err := sc.GetMasterAddrByName(context.Background(), name).Result()
		if err == nil && len(addr) == 2 && addr[1] == strconv.Itoa(port) {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("master %q not known: %v %v", name, addr, err)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func (s *Sentinel) stop() {
	if s.cmd != nil && s.cmd.Process != nil {
		_ = s.cmd.Process.Kill()
		_ = s.cmd.Wait()
	}
	s.cmd = nil
}

// Addr is the Sentinel's "127.0.0.1:port".
func (s *Sentinel) Addr() string { return "127.0.0.1:" + strconv.Itoa(s.port) }

// URL is TRACKHOOK_REDIS_URL through this Sentinel:
// "redis-sentinel://127.0.0.1:port/name".
func (s *Sentinel) URL() string { return "redis-sentinel://" + s.Addr() + "/" + s.master }
