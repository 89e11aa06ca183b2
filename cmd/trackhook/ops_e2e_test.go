package main

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/hibiken/asynq"

	"github.com/trackhook/trackhook/dispatcher"
	"github.com/trackhook/trackhook/receiver/redistest"
)

// TestEndToEndMetrics: what an operator's Prometheus sees after a few
// webhooks, and that no customer contact or secret is in it.
func TestEndToEndMetrics(t *testing.T) {
	a := startApp(t)
	at := time.Date(2026, 11, 20, 8, 0, 0, 0, time.UTC)
	body := webhook("m-1", dhlNumber, "InTransit", at)
	if code, resp := a.postSigned(body); code != 200 {
		t.Fatalf("webhook: %d %s", code, resp)
	}
	a.postSigned(body) // duplicate
	h := http.Header{"Content-Type": {"application/json"}, "Aftership-Hmac-Sha256": {"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA="}}
	if code, _ := a.post(body, h); code != 401 {
		t.Fatalf("bad signature: %d", code)
	}
	req, _ := http.NewRequest("POST", a.base+"/webhooks/made-up-"+strings.Repeat("x", 20), strings.NewReader("{}"))
	if resp, err := http.DefaultClient.Do(req); err != nil || resp.StatusCode != 404 {
		t.Fatalf("unknown source: %v %v", resp, err)
	} else {
		resp.Body.Close()
	}
	a.smtp.WaitForMessages(t, 1, 10*time.Second)
	a.twilio.WaitForMessages(t, 1, 10*time.Second)
	a.quiet()

	code, text := a.get("/metrics", false)
	if code != 200 {
		t.Fatalf("GET /metrics: %d", code)
	}
	for _, l := range []string{
		`trackhook_webhooks_total{outcome="created",source="aftership"} 1`,
		`trackhook_webhooks_total{outcome="duplicate",source="aftership"} 1`,
		`trackhook_webhooks_total{outcome="bad_signature",source="aftership"} 1`,
		`trackhook_webhooks_total{outcome="unknown_source",source="unknown"} 1`,
		`trackhook_webhook_verification_failures_total{reason="mismatch",source="aftership"} 1`,
		`trackhook_webhook_apply_duration_seconds_count 2`,
		`trackhook_notifications_total{channel="email",outcome="sent"} 1`,
		`trackhook_notifications_total{channel="sms",outcome="sent"} 1`,
		`trackhook_notification_send_duration_seconds_count{channel="email"} 1`,
		`trackhook_sms_segments_bucket{encoding="gsm7",le="1"} 1`,
		`trackhook_sms_segments_count{encoding="ucs2"} 0`,
		`trackhook_queue_stats_up 1`,
		`trackhook_queue_tasks{queue="email",state="completed"} 1`,
		`trackhook_build_info{version="dev"} 1`,
	} {
		if !strings.Contains(text, "\n"+l+"\n") {
			t.Errorf("no %s in:\n%s", l, grepLines(text, strings.SplitN(l, "{", 2)[0]))
		}
	}
	for _, leak := range []string{kimEmail, kimPhone, "k***", testSecret, "made-up", dhlNumber} {
		if strings.Contains(text, leak) {
			t.Errorf("/metrics shows %q", leak)
		}
	}
}

// TestEndToEndQueueDashboard: off without TRACKHOOK_ADMIN_KEYS; with it,
// behind HTTP Basic, masking customers, refusing cross-site changes.
func TestEndToEndQueueDashboard(t *testing.T) {
	off := startApp(t)
	if code, _ := off.get("/admin/queues", true); code != 404 {
		t.Fatalf("dashboard without admin keys: %d, want 404", code)
	}

	a := startApp(t, func(env map[string]string) { env["TRACKHOOK_ADMIN_KEYS"] = "another-key-0123456789," + testAdminKey })
	for _, pw := range []string{"", "wrong-key-0123456789", testAPIKey} {
		req, _ := http.NewRequest("GET", a.base+"/admin/queues", nil)
		if pw != "" {
			req.SetBasicAuth("ops", pw)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != 401 || !strings.HasPrefix(resp.Header.Get("WWW-Authenticate"), "Basic ") {
			t.Fatalf("password %q: %d %q, want 401 with a Basic challenge", pw, resp.StatusCode, resp.Header.Get("WWW-Authenticate"))
		}
	}
	code, page := a.get("/admin/queues", true)
	if code != 200 || !strings.Contains(page, "<html") {
		t.Fatalf("dashboard page: %d %.300s", code, page)
	}
	// The page loads its scripts from under the mount point.
	scripts := regexp.MustCompile(`src="(/[^"]+\.js)"`).FindAllStringSubmatch(page, -1)
	if len(scripts) == 0 {
		t.Fatalf("no scripts on the dashboard page: %.500s", page)
	}
	for _, m := range scripts {
		if !strings.HasPrefix(m[1], "/admin/queues/") {
			t.Errorf("script %s is not under /admin/queues/", m[1])
		} else if code, js := a.get(m[1], true); code != 200 || len(js) < 1000 {
			t.Errorf("script %s: %d, %d bytes", m[1], code, len(js))
		}
	}

	// A notification goes through; the dashboard shows it, masked.
	if code, resp := a.postSigned(webhook("d-1", dhlNumber, "InTransit", time.Date(2026, 11, 20, 8, 0, 0, 0, time.UTC))); code != 200 {
		t.Fatalf("webhook: %d %s", code, resp)
	}
	a.smtp.WaitForMessages(t, 1, 10*time.Second)
	a.quiet()
	code, body := a.get("/admin/queues/api/queues/"+dispatcher.QueueEmail+"/completed_tasks", true)
	if code != 200 || !strings.Contains(body, "k***@example.com") {
		t.Fatalf("completed tasks: %d %s", code, body)
	}
	if strings.Contains(body, kimEmail) {
		t.Errorf("the dashboard shows the recipient's address: %s", body)
	}

	// Changes from another site (a form the browser posts with the cached
	// Basic credentials) are refused; from the dashboard itself they work.
	pause := func(h http.Header) int {
		req, _ := http.NewRequest("POST", a.base+"/admin/queues/api/queues/"+dispatcher.QueueSMS+":pause", nil)
		req.SetBasicAuth("ops", testAdminKey)
		for k, v := range h {
			req.Header[k] = v
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	if code := pause(http.Header{"Sec-Fetch-Site": {"cross-site"}, "Origin": {"https://evil.example"}}); code != 403 {
		t.Fatalf("cross-site pause: %d, want 403", code)
	}
	if code := pause(http.Header{"Sec-Fetch-Site": {"same-origin"}, "Origin": {a.base}}); code != 204 && code != 200 {
		t.Fatalf("same-origin pause: %d", code)
	}
	info, err := a.inspector().GetQueueInfo(dispatcher.QueueSMS)
	if err != nil || !info.Paused {
		t.Fatalf("sms queue not paused: %+v %v", info, err)
	}
}

// TestWorkerServesHealthAndMetrics: `trackhook worker` has no receiver,
// but answers probes and scrapes on TRACKHOOK_ADDR.
func TestWorkerServesHealthAndMetrics(t *testing.T) {
	rs := redistest.Start(t)
	addr := freeAddr(t)
	env := map[string]string{
		"TRACKHOOK_ADDR": addr, "TRACKHOOK_REDIS_URL": rs.URL(), "TRACKHOOK_OUTBOX_DIR": t.TempDir(),
		"TRACKHOOK_UNSUBSCRIBE_SECRET": strings.Repeat("u", 32), "TRACKHOOK_ADMIN_KEYS": testAdminKey,
	}
	logs := &syncBuffer{}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- run(ctx, []string{"worker"}, envOf(env), nil, io.Discard, logs) }()
	defer func() {
		cancel()
		select {
		case err := <-done:
			if err != nil {
				t.Errorf("worker returned %v", err)
			}
		case <-time.After(20 * time.Second):
			t.Error("worker did not stop within 20s")
		}
		if t.Failed() {
			t.Logf("logs:\n%s", logs)
		}
	}()
	base := "http://" + addr
	status := func(path string) (int, string) {
		resp, err := http.Get(base + path)
		if err != nil {
			return 0, err.Error()
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}
	waitFor(t, 10*time.Second, "the worker to answer /readyz", func() bool { c, _ := status("/readyz"); return c == 200 })
	if c, b := status("/healthz"); c != 200 || !json.Valid([]byte(b)) {
		t.Fatalf("/healthz: %d %s", c, b)
	}

	// It works: a task enqueued by some receiver is processed and counted
	// (skipped: no tracking in Redis has this recipient).
	n := dispatcher.Notification{TrackingID: "t1", Key: "InTransit|email|kim@example.com", Status: "InTransit", Channel: "email",
		Recipient: kimEmail, Shipment: dispatcher.Shipment{TrackingNumber: dhlNumber}}
	task, err := dispatcher.NewTask(n)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := asynq.NewClientFromRedisClient(rs.Client()).Enqueue(task); err != nil {
		t.Fatal(err)
	}
	waitFor(t, 10*time.Second, "the task to be counted", func() bool {
		_, b := status("/metrics")
		return strings.Contains(b, `trackhook_notifications_total{channel="email",outcome="skipped"} 1`)
	})
	_, text := status("/metrics")
	if !strings.Contains(text, "trackhook_queue_stats_up 1") || strings.Contains(text, "trackhook_webhooks_total") {
		t.Errorf("worker metrics:\n%s", grepLines(text, "trackhook_"))
	}
	for _, p := range []string{"/webhooks/aftership", "/admin/queues", "/tracking/2024-04/trackings"} {
		if c, _ := status(p); c != 404 {
			t.Errorf("worker answers %s with %d, want 404", p, c)
		}
	}

	// Redis goes away: not ready, still alive, metrics still served.
	rs.Stop()
	waitFor(t, 10*time.Second, "/readyz to fail", func() bool { c, _ := status("/readyz"); return c == 503 })
	if c, _ := status("/healthz"); c != 200 {
		t.Errorf("/healthz without Redis: %d", c)
	}
	if c, b := status("/metrics"); c != 200 || !strings.Contains(b, "trackhook_queue_stats_up 0") {
		t.Errorf("/metrics without Redis: %d\n%s", c, grepLines(b, "trackhook_queue"))
	}
	rs.Restart()
}
