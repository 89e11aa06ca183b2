package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/redis/go-redis/v9"
)

// buildTrackhook builds ./cmd/trackhook into dir, the way `make build` does.
func buildTrackhook(ctx context.Context, dir string) (string, error) {
	bin := filepath.Join(dir, "trackhook")
	cmd := exec.CommandContext(ctx, "go", "build", "-o", bin, "./cmd/trackhook")
	cmd.Stdout, cmd.Stderr = os.Stderr, os.Stderr
	if err := cmd.Run(); err != nil {
		return "", fmt.Errorf("go build ./cmd/trackhook (run the bench from the repository root): %w", err)
	}
	return bin, nil
}

// freeAddr returns a 127.0.0.1 address that was free a moment ago.
func freeAddr() (string, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	defer l.Close()
	return l.Addr().String(), nil
}

// redisServer is one redis-server process on a free loopback port, its data
// in a temporary directory, configured like production (append-only file,
// fsync every second).
type redisServer struct {
	addr string
	cmd  *exec.Cmd
}

func startRedis(ctx context.Context, dir string) (*redisServer, error) {
	path, err := exec.LookPath("redis-server")
	if err != nil {
		return nil, fmt.Errorf("redis-server not found on PATH (apt-get install -y redis-server): %w", err)
	}
	var lastErr error
	for range 5 {
		addr, err := freeAddr()
		if err != nil {
			return nil, err
		}
		_, port, _ := net.SplitHostPort(addr)
		cmd := exec.Command(path, "--port", port, "--bind", "127.0.0.1", "--dir", dir,
			"--save", "", "--appendonly", "yes", "--appendfsync", "everysec",
			"--daemonize", "no", "--logfile", "", "--loglevel", "warning")
		if err := cmd.Start(); err != nil {
			return nil, err
		}
		s := &redisServer{addr: addr, cmd: cmd}
		if lastErr = s.waitReady(ctx); lastErr == nil {
			return s, nil
		}
		s.stop()
	}
	return nil, fmt.Errorf("start redis-server: %w", lastErr)
}

func (s *redisServer) waitReady(ctx context.Context) error {
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		c := redis.NewClient(&redis.Options{Addr: s.addr, MaxRetries: -1})
		err := c.Ping(ctx).Err()
		c.Close()
		if err == nil {
			return nil
		}
		time.Sleep(20 * time.Millisecond)
	}
	return fmt.Errorf("redis-server on %s did not answer within 10s", s.addr)
}

func (s *redisServer) url() string { return "redis://" + s.addr + "/0" }

func (s *redisServer) stop() {
	if s.cmd == nil || s.cmd.Process == nil {
		return
	}
	_ = s.cmd.Process.Signal(syscall.SIGTERM)
	done := make(chan struct{})
	go func() { _ = s.cmd.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		_ = s.cmd.Process.Kill()
		<-done
	}
	s.cmd = nil
}

// child is one trackhook process.
type child struct {
	role string
	base string // http://127.0.0.1:port
	cmd  *exec.Cmd
	log  *os.File
	done chan struct{}
	err  error // set when done is closed
}

// startChild runs `bin role` with exactly env (nothing is inherited but
// PATH, HOME, TMPDIR and the Go runtime's GOGC, GOMEMLIMIT and GODEBUG,
// for trying the runtime's settings), its log in logPath, and waits for
// /readyz.
func startChild(ctx context.Context, bin, role string, env map[string]string, logPath string) (*child, error) {
	logFile, err := os.Create(logPath)
	if err != nil {
		return nil, err
	}
	cmd := exec.Command(bin, role)
	for _, k := range []string{"PATH", "HOME", "TMPDIR", "GOGC", "GOMEMLIMIT", "GODEBUG"} {
		if v, ok := os.LookupEnv(k); ok {
			cmd.Env = append(cmd.Env, k+"="+v)
		}
	}
	for k, v := range env {
		cmd.Env = append(cmd.Env, k+"="+v)
	}
	cmd.Stdout, cmd.Stderr = logFile, logFile
	if err := cmd.Start(); err != nil {
		logFile.Close()
		return nil, fmt.Errorf("start trackhook %s: %w", role, err)
	}
	c := &child{role: role, base: "http://" + env["TRACKHOOK_ADDR"], cmd: cmd, log: logFile, done: make(chan struct{})}
	go func() { c.err = cmd.Wait(); close(c.done) }()

	deadline := time.Now().Add(20 * time.Second)
	for {
		select {
		case <-c.done:
			return nil, fmt.Errorf("trackhook %s exited at start (%v); see %s", role, c.err, logPath)
		case <-ctx.Done():
			c.stop()
			return nil, ctx.Err()
		default:
		}
		if resp, err := http.Get(c.base + "/readyz"); err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return c, nil
			}
		}
		if time.Now().After(deadline) {
			c.stop()
			return nil, fmt.Errorf("trackhook %s did not answer /readyz within 20s; see %s", role, logPath)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func (c *child) pid() int { return c.cmd.Process.Pid }

// peakRSS is the process's high-water mark of resident memory (VmHWM).
func (c *child) peakRSS() (int64, error) {
	return vmHWM(c.cmd.Process.Pid)
}

// kill ends the process with SIGKILL, as a crash or the OOM killer would,
// and waits for it.
func (c *child) kill() {
	defer c.log.Close()
	_ = c.cmd.Process.Kill()
	<-c.done
}

// stop sends SIGTERM (a graceful shutdown) and waits; it kills the process
// if it is not gone after 30s.
func (c *child) stop() error {
	defer c.log.Close()
	select {
	case <-c.done:
		return fmt.Errorf("trackhook %s had exited: %v", c.role, c.err)
	default:
	}
	_ = c.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-c.done:
	case <-time.After(30 * time.Second):
		_ = c.cmd.Process.Kill()
		<-c.done
		return fmt.Errorf("trackhook %s did not stop within 30s of SIGTERM", c.role)
	}
	var exit *exec.ExitError
	if c.err != nil && !errors.As(c.err, &exit) {
		return c.err
	}
	if c.err != nil {
		return fmt.Errorf("trackhook %s: %v", c.role, c.err)
	}
	return nil
}

// vmHWM reads the peak resident set size of pid from /proc, in bytes.
func vmHWM(pid int) (int64, error) {
	f, err := os.Open("/proc/" + strconv.Itoa(pid) + "/status")
	if err != nil {
		return 0, err
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		rest, ok := strings.CutPrefix(sc.Text(), "VmHWM:")
		if !ok {
			continue
		}
		fields := strings.Fields(rest) // "12345 kB"
		if len(fields) != 2 || fields[1] != "kB" {
			return 0, fmt.Errorf("unexpected VmHWM line %q", sc.Text())
		}
		kb, err := strconv.ParseInt(fields[0], 10, 64)
		if err != nil {
			return 0, err
		}
		return kb * 1024, nil
	}
	if err := sc.Err(); err != nil {
		return 0, err
	}
	return 0, errors.New("no VmHWM in /proc/<pid>/status")
}
