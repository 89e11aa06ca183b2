// Package redistest starts a real redis-server for tests, on a free
// loopback port, with its data in a temporary directory and the append-only
// file on. Tests can stop it (or kill it) and start it again on the same port
// and data, to see what clients do while Redis is down. Extra redis-server
// arguments go to Start, e.g. Start(t, "--appendfsync", "always").
package redistest

import (
	"context"
	"fmt"
	"net"
	"os/exec"
	"strconv"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
)

// Server is one redis-server process.
type Server struct {
	tb   testing.TB
	port int
	dir  string
	args []string
	cmd  *exec.Cmd
}

// Start launches redis-server and stops it when the test ends. It skips
// nothing: a machine without redis-server fails the test with a hint, since
// these tests are what prove trackhook works against real Redis.
func Start(tb testing.TB, extraArgs ...string) *Server {
	tb.Helper()
	path, err := exec.LookPath("redis-server")
	if err != nil {
		tb.Fatalf("redis-server not found on PATH (apt-get install -y redis-server): %v", err)
	}
	s := &Server{tb: tb, dir: tb.TempDir()}
	s.args = append([]string{path}, extraArgs...)
	for attempt := 0; ; attempt++ {
		s.port = freePort(tb)
		err := s.start()
		if err == nil {
			break
		}
		if attempt == 4 {
			tb.Fatalf("start redis-server: %v", err)
		}
	}
	tb.Cleanup(s.Stop)
	return s
}

func freePort(tb testing.TB) int {
	tb.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		tb.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

func (s *Server) start() error {
	args := append([]string{
		"--port", strconv.Itoa(s.port), "--bind", "127.0.0.1",
		"--dir", s.dir, "--save", "", "--appendonly", "yes", "--daemonize", "no",
		"--logfile", "", "--loglevel", "warning",
	}, s.args[1:]...)
	cmd := exec.Command(s.args[0], args...)
	if err := cmd.Start(); err != nil {
		return err
	}
	s.cmd = cmd
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		c := redis.NewClient(&redis.Options{Addr: s.Addr(), MaxRetries: -1})
		err := c.Ping(context.Background()).Err()
		c.Close()
		if err == nil {
			return nil
		}
		time.Sleep(20 * time.Millisecond)
	}
	s.kill()
	return fmt.Errorf("redis-server on port %d did not answer within 10s", s.port)
}

func (s *Server) kill() {
	if s.cmd != nil && s.cmd.Process != nil {
		_ = s.cmd.Process.Kill()
		_ = s.cmd.Wait()
	}
	s.cmd = nil
}

// Addr is "127.0.0.1:port".
func (s *Server) Addr() string { return "127.0.0.1:" + strconv.Itoa(s.port) }

// URL is "redis://127.0.0.1:port/0".
func (s *Server) URL() string { return "redis://" + s.Addr() + "/0" }

// Client returns a client closed when the test ends.
func (s *Server) Client() *redis.Client {
	c := redis.NewClient(&redis.Options{Addr: s.Addr()})
	s.tb.Cleanup(func() { c.Close() })
	return c
}

// Stop shuts Redis down (the append-only file keeps the data).
func (s *Server) Stop() {
	if s.cmd == nil {
		return
	}
	c := redis.NewClient(&redis.Options{Addr: s.Addr(), MaxRetries: -1})
	_ = c.Shutdown(context.Background()).Err()
	c.Close()
	done := make(chan struct{})
	go func() { _ = s.cmd.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		_ = s.cmd.Process.Kill()
		<-done
	}
	s.cmd = nil
}

// Kill ends redis-server with SIGKILL, as a crash or the OOM killer would:
// no shutdown and no final flush, so what survives is what the append-only
// file already holds (every acknowledged write when the server was started
// with "--appendfsync", "always"). Restart brings it back on the same port
// and data.
func (s *Server) Kill() { s.kill() }

// Pid is the process id of the running redis-server, 0 while it is stopped.
func (s *Server) Pid() int {
	if s.cmd == nil || s.cmd.Process == nil {
		return 0
	}
	return s.cmd.Process.Pid
}

// Dir is the data directory (the append-only file lives here).
func (s *Server) Dir() string { return s.dir }

// Restart starts Redis again on the same port and data after Stop or Kill.
func (s *Server) Restart() {
	s.tb.Helper()
	if s.cmd != nil {
		return
	}
	if err := s.start(); err != nil {
		s.tb.Fatalf("restart redis-server: %v", err)
	}
}
