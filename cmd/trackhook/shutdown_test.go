package main

import (
	"bufio"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/trackhook/trackhook/receiver/redistest"
	"github.com/trackhook/trackhook/signature"
)

// TestHelperProcessTrackhook is not a test: the SIGTERM test runs this test
// binary again with only this function selected and TRACKHOOK_TEST_MAIN=1,
// which makes it the trackhook binary, main() and signal handling included.
func TestHelperProcessTrackhook(t *testing.T) {
	if os.Getenv("TRACKHOOK_TEST_MAIN") != "1" {
		return
	}
	os.Args = []string{"trackhook", "serve"}
	main()
}

// trackhookProcess is `trackhook serve` running as a child process (this
// test binary, as TestHelperProcessTrackhook), with env added to a minimal
// environment; its output is in logs, and exited receives its end. It is
// killed when the test ends, and its output logged if the test failed.
type trackhookProcess struct {
	cmd    *exec.Cmd
	logs   *syncBuffer
	exited chan error
}

func startTrackhookProcess(t *testing.T, env ...string) *trackhookProcess {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^TestHelperProcessTrackhook$")
	cmd.Env = append([]string{"TRACKHOOK_TEST_MAIN=1", "PATH=" + os.Getenv("PATH"), "HOME=" + t.TempDir()}, env...)
	p := &trackhookProcess{cmd: cmd, logs: &syncBuffer{}, exited: make(chan error, 1)}
	cmd.Stdout, cmd.Stderr = p.logs, p.logs
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { p.exited <- cmd.Wait() }()
	t.Cleanup(func() {
		_ = cmd.Process.Kill() // in case the test failed before it exited
		if t.Failed() {
			t.Logf("trackhook output:\n%s", p.logs)
		}
	})
	return p
}

// TestSIGTERMFinishesInFlightRequests sends SIGTERM to a running
// `trackhook serve` while a webhook is half-way through its body: the
// webhook still gets its answer, and the process exits 0.
func TestSIGTERMFinishesInFlightRequests(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a process")
	}
	rs := redistest.Start(t)
	addr, outbox := freeAddr(t), t.TempDir()
	p := startTrackhookProcess(t, "TRACKHOOK_ADDR="+addr, "TRACKHOOK_REDIS_URL="+rs.URL(), "TRACKHOOK_OUTBOX_DIR="+outbox,
		"TRACKHOOK_AFTERSHIP_SECRET="+testSecret)
	cmd, logs, exited := p.cmd, p.logs, p.exited
	waitFor(t, 15*time.Second, "trackhook to answer /readyz", func() bool {
		resp, err := http.Get("http://" + addr + "/readyz")
		if err != nil {
			return false
		}
		resp.Body.Close()
		return resp.StatusCode == 200
	})

	// Headers and half the body of a signed webhook...
	// A fresh event: an old one would be held back by the stale rule.
	body := webhook("sig-1", dhlNumber, "InTransit", time.Now().UTC().Add(-time.Hour).Truncate(time.Second))
	v, err := signature.NewAfterShip([]string{testSecret})
	if err != nil {
		t.Fatal(err)
	}
	h, _ := v.Sign(body, time.Now())
	conn, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	fmt.Fprintf(conn, "POST /webhooks/aftership HTTP/1.1\r\nHost: %s\r\nContent-Type: application/json\r\nContent-Length: %d\r\n", addr, len(body))
	for k := range h {
		fmt.Fprintf(conn, "%s: %s\r\n", k, h.Get(k))
	}
	fmt.Fprint(conn, "Connection: close\r\n\r\n")
	half := len(body) / 2
	if _, err := conn.Write(body[:half]); err != nil {
		t.Fatal(err)
	}
	time.Sleep(200 * time.Millisecond) // the server is now reading the body

	// ...then SIGTERM, then the rest of the body.
	if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	waitFor(t, 5*time.Second, "trackhook to notice the signal", func() bool { return strings.Contains(logs.String(), "shutting down") })
	waitFor(t, 5*time.Second, "new connections to be refused", func() bool {
		c, err := net.DialTimeout("tcp", addr, time.Second)
		if err == nil {
			c.Close()
		}
		return err != nil
	})
	if _, err := conn.Write(body[half:]); err != nil {
		t.Fatal(err)
	}
	resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
	if err != nil {
		t.Fatalf("the in-flight webhook got no answer: %v", err)
	}
	resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Fatalf("the in-flight webhook: %d", resp.StatusCode)
	}

	select {
	case err := <-exited:
		if err != nil {
			t.Fatalf("trackhook exited with %v", err)
		}
	case <-time.After(20 * time.Second):
		t.Fatal("trackhook did not exit within 20s of SIGTERM")
	}
	if !strings.Contains(logs.String(), `"msg":"stopped"`) {
		t.Error(`no "stopped" in the log`)
	}
	// The webhook it accepted has its email sent (to the outbox directory)
	// by the worker before it stopped, or queued for the next one.
	files, _ := os.ReadDir(outbox)
	queued, _ := rs.Client().Exists(t.Context(), "asynq:{email}:pending").Result()
	if len(files) == 0 && queued == 0 {
		t.Error("the accepted webhook's email is neither sent nor queued")
	}
}
