package metrics_test

import (
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/hibiken/asynq"

	"github.com/trackhook/trackhook/cmd/trackhook/internal/metrics"
	"github.com/trackhook/trackhook/dispatcher"
)

// scrape returns the text exposition of reg, as Prometheus would see it.
func scrape(t *testing.T, h http.Handler) string {
	t.Helper()
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest("GET", "/metrics", nil))
	if rec.Code != 200 {
		t.Fatalf("GET /metrics: %d %s", rec.Code, rec.Body)
	}
	return rec.Body.String()
}

func has(t *testing.T, text string, lines ...string) {
	t.Helper()
	for _, l := range lines {
		if !strings.Contains(text, "\n"+l+"\n") {
			t.Errorf("no line %q in:\n%s", l, grep(text, strings.SplitN(l, "{", 2)[0]))
		}
	}
}

func grep(text, prefix string) string {
	var out []string
	for _, l := range strings.Split(text, "\n") {
		if strings.HasPrefix(l, prefix) {
			out = append(out, l)
		}
	}
	return strings.Join(out, "\n")
}

var quiet = slog.New(slog.NewTextHandler(io.Discard, nil))

func TestObserversCount(t *testing.T) {
	reg := metrics.NewRegistry("1.2.3")
	m, err := metrics.New(reg)
	if err != nil {
		t.Fatal(err)
	}
	m.Webhook("aftership", "created")
	m.Webhook("aftership", "created")
	m.Webhook("unknown", "unknown_source")
	m.VerificationFailed("easypost", "too_old")
	m.Applied(3 * time.Millisecond)
	m.RecipientDropped("aftership", "email")
	m.RecipientDropped("aftership", "email")
	m.RecipientDropped("woocommerce", "sms")
	m.Notification(dispatcher.ChannelEmail, dispatcher.OutcomeSent)
	m.Retry(dispatcher.ChannelSMS)
	m.Sent(dispatcher.ChannelSMS, 40*time.Millisecond)

	text := scrape(t, metrics.Handler(reg, quiet))
	has(t, text,
		`trackhook_build_info{version="1.2.3"} 1`,
		`trackhook_webhooks_total{outcome="created",source="aftership"} 2`,
		`trackhook_webhooks_total{outcome="unknown_source",source="unknown"} 1`,
		`trackhook_webhook_verification_failures_total{reason="too_old",source="easypost"} 1`,
		`trackhook_webhook_apply_duration_seconds_bucket{le="0.005"} 1`,
		`trackhook_webhook_apply_duration_seconds_count 1`,
		`trackhook_webhook_recipients_dropped_total{channel="email",source="aftership"} 2`,
		`trackhook_webhook_recipients_dropped_total{channel="sms",source="woocommerce"} 1`,
		`trackhook_notifications_total{channel="email",outcome="sent"} 1`,
		`trackhook_notifications_total{channel="sms",outcome="failed_permanent"} 0`, // known series start at 0
		`trackhook_notification_retries_total{channel="sms"} 1`,
		`trackhook_notification_send_duration_seconds_count{channel="sms"} 1`,
	)
	if !strings.Contains(text, "go_goroutines") || !strings.Contains(text, "process_start_time_seconds") {
		t.Error("no Go runtime or process metrics")
	}
}

func TestTwoRegistriesDoNotClash(t *testing.T) {
	// Nothing is global: two programs in one test binary each get their own.
	for range 2 {
		if _, err := metrics.New(metrics.NewRegistry("dev")); err != nil {
			t.Fatal(err)
		}
	}
}

// fakeInspector serves fixed queue infos, or an error, or hangs.
type fakeInspector struct {
	mu    sync.Mutex
	err   error
	hang  chan struct{}
	calls int
}

func (f *fakeInspector) Queues() ([]string, error) {
	f.mu.Lock()
	f.calls++
	hang, err := f.hang, f.err
	f.mu.Unlock()
	if hang != nil {
		<-hang
	}
	if err != nil {
		return nil, err
	}
	return []string{"email", "sms"}, nil
}

func (f *fakeInspector) GetQueueInfo(q string) (*asynq.QueueInfo, error) {
	if q == "email" {
		return &asynq.QueueInfo{Queue: q, Pending: 4, Retry: 2, Archived: 1, Latency: 1500 * time.Millisecond, ProcessedTotal: 90, FailedTotal: 7, MemoryUsage: 2048}, nil
	}
	return &asynq.QueueInfo{Queue: q, Paused: true}, nil
}

func TestQueueCollector(t *testing.T) {
	insp := &fakeInspector{}
	reg := metrics.NewRegistry("dev")
	reg.MustRegister(metrics.NewQueueCollector(insp, 200*time.Millisecond))
	h := metrics.Handler(reg, quiet)

	has(t, scrape(t, h),
		`trackhook_queue_stats_up 1`,
		`trackhook_queue_tasks{queue="email",state="pending"} 4`,
		`trackhook_queue_tasks{queue="email",state="retry"} 2`,
		`trackhook_queue_tasks{queue="email",state="archived"} 1`,
		`trackhook_queue_tasks{queue="sms",state="pending"} 0`,
		`trackhook_queue_latency_seconds{queue="email"} 1.5`,
		`trackhook_queue_paused{queue="sms"} 1`,
		`trackhook_queue_processed_total{queue="email"} 90`,
		`trackhook_queue_failed_total{queue="email"} 7`,
		`trackhook_queue_memory_usage_bytes{queue="email"} 2048`,
	)

	// Redis refuses: the scrape still works and says so.
	insp.mu.Lock()
	insp.err = errors.New("connection refused")
	insp.mu.Unlock()
	text := scrape(t, h)
	has(t, text, `trackhook_queue_stats_up 0`)
	if strings.Contains(text, "trackhook_queue_tasks") {
		t.Error("stale queue sizes reported while Redis is down")
	}

	// Redis hangs: the scrape returns after the timeout, and a second
	// scrape does not pile another read onto the stuck one.
	hang := make(chan struct{})
	insp.mu.Lock()
	insp.err, insp.hang, insp.calls = nil, hang, 0
	insp.mu.Unlock()
	start := time.Now()
	has(t, scrape(t, h), `trackhook_queue_stats_up 0`)
	has(t, scrape(t, h), `trackhook_queue_stats_up 0`)
	if d := time.Since(start); d > 2*time.Second {
		t.Errorf("two scrapes took %s with a 200ms timeout", d)
	}
	insp.mu.Lock()
	calls := insp.calls
	insp.hang = nil
	insp.mu.Unlock()
	close(hang)
	if calls != 1 {
		t.Errorf("%d reads while one was stuck, want 1", calls)
	}
}
