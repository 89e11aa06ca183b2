package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/trackhook/trackhook/receiver/redistest"
	"github.com/trackhook/trackhook/signature"
)

// The real binary, started with TRACKHOOK_REDIS_URL on a closed port and no
// TRACKHOOK_UNSUBSCRIBE_SECRET, serves: /healthz 200, /readyz and webhooks
// 503 (so senders retry), and says so once, without contradicting itself.
// go-redis's own complaints come through the JSON log, a few, not four a
// second in plain text. When Redis comes up on that port the same process
// loads the link key, accepts the webhook and writes the email.
func TestStartWithoutRedis(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a process")
	}
	rs := redistest.Start(t)
	rs.Stop() // the port is closed now
	addr, outbox := freeAddr(t), t.TempDir()
	p := startTrackhookProcess(t, "TRACKHOOK_ADDR="+addr, "TRACKHOOK_REDIS_URL="+rs.URL(), "TRACKHOOK_OUTBOX_DIR="+outbox,
		"TRACKHOOK_AFTERSHIP_SECRET="+testSecret, "TRACKHOOK_LOG_FORMAT=json")
	logs, exited := p.logs, p.exited
	get := func(path string) int {
		resp, err := http.Get("http://" + addr + path)
		if err != nil {
			return 0
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	waitFor(t, 20*time.Second, "trackhook to answer /healthz", func() bool {
		select {
		case err := <-exited:
			t.Fatalf("trackhook exited while Redis was down: %v", err)
		default:
		}
		return get("/healthz") == http.StatusOK
	})
	if code := get("/readyz"); code != http.StatusServiceUnavailable {
		t.Errorf("/readyz while Redis is down: %d, want 503", code)
	}
	body := webhook("nr-1", dhlNumber, "InTransit", time.Now())
	v, err := signature.NewAfterShip([]string{testSecret})
	if err != nil {
		t.Fatal(err)
	}
	post := func() int {
		h, _ := v.Sign(body, time.Now())
		req, _ := http.NewRequest(http.MethodPost, "http://"+addr+"/webhooks/aftership", bytes.NewReader(body))
		req.Header = h
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	if code := post(); code != http.StatusServiceUnavailable {
		t.Fatalf("webhook while Redis is down: %d, want 503", code)
	}

	// Redis comes up on the same port: the same process takes the webhook
	// and, with the link key loaded from Redis, writes the email.
	rs.Restart()
	waitFor(t, 20*time.Second, "/readyz once Redis is up", func() bool { return get("/readyz") == http.StatusOK })
	if code := post(); code != http.StatusOK {
		t.Fatalf("webhook once Redis is up: %d, want 200", code)
	}
	waitFor(t, 20*time.Second, "the email in the outbox", func() bool {
		files, _ := filepath.Glob(filepath.Join(outbox, "*.eml"))
		return len(files) == 1
	})
	files, _ := filepath.Glob(filepath.Join(outbox, "*.eml"))
	eml, _ := os.ReadFile(files[0])
	if !bytes.Contains(eml, []byte("List-Unsubscribe: <http://localhost:8080/unsubscribe/")) {
		t.Errorf("the email has no unsubscribe link:\n%s", eml)
	}

	// The log: every line JSON; no message promising to serve beside one
	// announcing an exit; go-redis's lines few and through the logger.
	var redisLines int
	sc := bufio.NewScanner(strings.NewReader(logs.String()))
	for sc.Scan() {
		line := sc.Text()
		if line == "" || strings.HasPrefix(line, "=== RUN") || strings.HasPrefix(line, "--- ") || line == "PASS" {
			continue
		}
		var rec map[string]any
		if err := json.Unmarshal([]byte(line), &rec); err != nil {
			t.Errorf("a log line is not JSON: %q", line)
			continue
		}
		if rec["component"] == "go-redis" {
			redisLines++
		}
		if msg, _ := rec["msg"].(string); strings.Contains(msg, "cannot load the unsubscribe-link key") || strings.Contains(msg, "exit") {
			t.Errorf("a line says it will stop: %q", msg)
		}
	}
	if !strings.Contains(logs.String(), "webhooks answer 503 until it is") {
		t.Error("the log does not say that webhooks answer 503 until Redis is reachable")
	}
	if redisLines > 4 {
		t.Errorf("%d go-redis lines logged; want them rate-limited", redisLines)
	}
}
