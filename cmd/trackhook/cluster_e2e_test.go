package main

import (
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/hibiken/asynq"

	"github.com/trackhook/trackhook/dispatcher"
	"github.com/trackhook/trackhook/receiver/redistest"
)

const testAdminKey = "e2e-admin-key-0123456789"

// drained waits until no notify task is pending, active, scheduled or
// retrying in the Redis insp looks at.
func drained(t testing.TB, insp *asynq.Inspector) {
	t.Helper()
	waitFor(t, 15*time.Second, "the queues to drain", func() bool {
		for _, q := range []string{dispatcher.QueueEmail, dispatcher.QueueSMS} {
			info, err := insp.GetQueueInfo(q)
			if err != nil {
				continue // a queue that never had a task does not exist
			}
			if info.Pending+info.Active+info.Scheduled+info.Retry > 0 {
				return false
			}
		}
		return true
	})
}

// get fetches path from the app, with the admin key as Basic password
// when admin is set, and returns status and body.
func (a *app) get(path string, admin bool) (int, string) {
	a.t.Helper()
	req, _ := http.NewRequest(http.MethodGet, a.base+path, nil)
	if admin {
		req.SetBasicAuth("ops", testAdminKey)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		a.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

// TestEndToEndOnRedisCluster runs the product against a three-master Redis
// Cluster: every multi-key step (the Lua scripts, transactions) must keep to
// one slot, or Redis answers CROSSSLOT and the webhook gets a 503.
func TestEndToEndOnRedisCluster(t *testing.T) {
	cluster := redistest.StartCluster(t)
	a := startApp(t, func(env map[string]string) {
		env["TRACKHOOK_REDIS_URL"] = cluster.URL()
		env["TRACKHOOK_ADMIN_KEYS"] = testAdminKey
	})
	insp := asynq.NewInspectorFromRedisClient(cluster.Client())
	at := time.Date(2026, 11, 20, 8, 0, 0, 0, time.UTC)

	// A signed webhook: one email and one SMS.
	first := webhook("cl-1", dhlNumber, "InTransit", at)
	if code, body := a.postSigned(first); code != http.StatusOK || !strings.Contains(body, "created") {
		t.Fatalf("webhook: %d %s", code, body)
	}
	mails := a.smtp.WaitForMessages(t, 1, 10*time.Second)
	a.twilio.WaitForMessages(t, 1, 10*time.Second)
	if mails[0].To[0] != kimEmail || !strings.Contains(mails[0].Text, dhlNumber) {
		t.Fatalf("email to %v:\n%s", mails[0].To, mails[0].Text)
	}

	// The replay, and an older event: nothing new.
	if code, body := a.postSigned(first); code != http.StatusOK || !strings.Contains(body, "duplicate") {
		t.Fatalf("replay: %d %s", code, body)
	}
	if code, body := a.postSigned(webhook("cl-0", dhlNumber, "InfoReceived", at.Add(-time.Hour))); code != http.StatusOK || !strings.Contains(body, "stale") {
		t.Fatalf("older event: %d %s", code, body)
	}
	drained(t, insp)
	if m, s := len(a.smtp.Messages()), len(a.twilio.Messages()); m != 1 || s != 1 {
		t.Fatalf("after replay: %d emails, %d SMS; want 1 and 1", m, s)
	}

	// The API and the opt-out paths touch other keys: subscribers,
	// suppressions, the tracking index.
	const number = "1Z999AA10123456784"
	code, env := a.api("POST", "/trackings", map[string]any{"tracking": map[string]any{
		"tracking_number": number, "slug": "ups", "emails": []string{"ana@example.com"}, "language": "fr",
	}})
	if code != 201 {
		t.Fatalf("create: %d %v", code, env)
	}
	if code, env := a.api("GET", "/trackings", nil); code != 200 || len(env["data"].(map[string]any)["trackings"].([]any)) != 2 {
		t.Fatalf("list: %d %v", code, env)
	}
	noSubscribers := func(m map[string]any) { delete(m, "emails"); delete(m, "smses"); m["slug"] = "ups"; m["language"] = "" }
	if code, body := a.postSigned(webhook("cl-ups-1", number, "InTransit", at, noSubscribers)); code != 200 {
		t.Fatalf("webhook: %d %s", code, body)
	}
	mails = a.smtp.WaitForMessages(t, 2, 10*time.Second)
	lu := strings.Trim(mails[1].Header.Get("List-Unsubscribe"), "<>")
	resp, err := http.Post(lu, "application/x-www-form-urlencoded", strings.NewReader("List-Unsubscribe=One-Click"))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Fatalf("unsubscribe: %d", resp.StatusCode)
	}
	if code, body := a.postSigned(webhook("cl-ups-2", number, "Delivered", at.Add(time.Hour), noSubscribers)); code != 200 {
		t.Fatalf("webhook: %d %s", code, body)
	}
	drained(t, insp)
	if m := len(a.smtp.Messages()); m != 2 {
		t.Fatalf("%d emails after unsubscribing; want still 2", m)
	}

	// Operating it on a cluster: queue sizes and the dashboard.
	_, text := a.get("/metrics", false)
	for _, l := range []string{"trackhook_queue_stats_up 1", `trackhook_notifications_total{channel="email",outcome="sent"} 2`} {
		if !strings.Contains(text, l+"\n") {
			t.Errorf("metrics lack %q:\n%s", l, grepLines(text, "trackhook_notif", "trackhook_queue_stats"))
		}
	}
	code, body := a.get("/admin/queues/api/queues", true)
	var queues struct {
		Queues []struct {
			Queue string `json:"queue"`
		} `json:"queues"`
	}
	if code != 200 || json.Unmarshal([]byte(body), &queues) != nil || len(queues.Queues) != 2 {
		t.Fatalf("dashboard queues on a cluster: %d %s", code, body)
	}
	if code, body := a.get("/admin/queues/api/redis_info", true); code != 200 || !strings.Contains(body, "cluster") {
		t.Errorf("dashboard redis info on a cluster: %d %.200s", code, body)
	}

	// Nothing in the background (asynq's heartbeat, forwarder, recoverer;
	// the outbox sweeper) stumbled on the cluster either.
	for _, bad := range []string{"CROSSSLOT", "MOVED", `"level":"ERROR"`} {
		if strings.Contains(a.logs.String(), bad) {
			t.Errorf("%s in the log", bad)
		}
	}
}

// TestEndToEndThroughSentinel reaches Redis the way a Sentinel setup does:
// only the Sentinel's address is configured.
func TestEndToEndThroughSentinel(t *testing.T) {
	master := redistest.Start(t)
	sentinel := redistest.StartSentinel(t, master, "trackhook")
	a := startApp(t, func(env map[string]string) { env["TRACKHOOK_REDIS_URL"] = sentinel.URL() })

	body := webhook("sn-1", dhlNumber, "InTransit", time.Date(2026, 11, 20, 8, 0, 0, 0, time.UTC))
	if code, resp := a.postSigned(body); code != http.StatusOK {
		t.Fatalf("webhook: %d %s", code, resp)
	}
	a.smtp.WaitForMessages(t, 1, 10*time.Second)
	if code, resp := a.postSigned(body); code != http.StatusOK || !strings.Contains(resp, "duplicate") {
		t.Fatalf("replay: %d %s", code, resp)
	}
	drained(t, asynq.NewInspectorFromRedisClient(master.Client()))
	if m := len(a.smtp.Messages()); m != 1 {
		t.Fatalf("%d emails, want 1", m)
	}
	// The state is on the master the Sentinel named.
	if n, err := master.Client().DBSize(t.Context()).Result(); err != nil || n == 0 {
		t.Fatalf("master holds %d keys (%v)", n, err)
	}
}

// grepLines returns the lines of text that start with one of prefixes.
func grepLines(text string, prefixes ...string) string {
	var out []string
	for _, l := range strings.Split(text, "\n") {
		for _, p := range prefixes {
			if strings.HasPrefix(l, p) {
				out = append(out, l)
				break
			}
		}
	}
	return strings.Join(out, "\n")
}
