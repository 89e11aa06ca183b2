package receiver_test

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/hibiken/asynq"

	"github.com/trackhook/trackhook/dispatcher/state"
	"github.com/trackhook/trackhook/receiver"
	"github.com/trackhook/trackhook/receiver/api"
	"github.com/trackhook/trackhook/receiver/carrier"
	"github.com/trackhook/trackhook/receiver/redistest"
	"github.com/trackhook/trackhook/receiver/tracking"
)

// lockedBuffer is the log output, written by the server's goroutines.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// accessLine is one access line of the API as the JSON handler writes it.
type accessLine struct {
	Level    string         `json:"level"`
	Msg      string         `json:"msg"`
	Method   string         `json:"method"`
	Route    string         `json:"route"`
	Status   int            `json:"status"`
	Duration *time.Duration `json:"duration"` // nanoseconds
	Key      string         `json:"key"`
}

// TestAPIAccessLog: every API call logs one line with the route pattern,
// the status, the duration and the key's id, and never the key, a wrong
// key, or the tracking number in the path.
func TestAPIAccessLog(t *testing.T) {
	const (
		goodKey  = "access-log-good-key-5c1e"
		wrongKey = "access-log-wrong-key-9b7d"
		number   = "1Z999AA10123456784"
	)
	rs := redistest.Start(t)
	rdb := rs.Client()
	store := tracking.NewStore(rdb, tracking.Options{})
	logs := &lockedBuffer{}
	log := slog.New(slog.NewJSONHandler(logs, nil))
	a, err := api.New(api.Config{Store: store, Notifications: state.New(rdb, state.Options{TrackingKey: tracking.StateKey}), Carriers: carrier.Default(), Logger: log})
	if err != nil {
		t.Fatal(err)
	}
	srv, err := receiver.New(receiver.Config{Store: store, Queue: asynq.NewClientFromRedisClient(rdb), API: a,
		APIKeys: api.NewKeys([]string{"another-key", goodKey}), Logger: log})
	if err != nil {
		t.Fatal(err)
	}
	hs := httptest.NewServer(srv)
	t.Cleanup(hs.Close)

	// The id an operator computes: printf %s "$KEY" | sha256sum | cut -c1-16
	sum := sha256.Sum256([]byte(goodKey))
	goodID := hex.EncodeToString(sum[:])[:16]

	seen := 0
	// do makes one call and returns its status and the one line it logged.
	do := func(method, path, header, key, body string) (int, accessLine) {
		t.Helper()
		req, err := http.NewRequest(method, hs.URL+path, strings.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		req.Header.Set("Content-Type", "application/json")
		if key != "" {
			req.Header.Set(header, key)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		var lines []string
		deadline := time.Now().Add(5 * time.Second)
		for {
			lines = strings.Split(strings.TrimSpace(logs.String()), "\n")
			if logs.String() == "" {
				lines = nil
			}
			if len(lines) > seen || time.Now().After(deadline) {
				break
			}
			time.Sleep(10 * time.Millisecond)
		}
		if len(lines) != seen+1 {
			t.Fatalf("%s %s logged %d lines, want 1:\n%s", method, path, len(lines)-seen, strings.Join(lines[seen:], "\n"))
		}
		seen = len(lines)
		var l accessLine
		if err := json.Unmarshal([]byte(lines[len(lines)-1]), &l); err != nil {
			t.Fatalf("%s %s: log line %q: %v", method, path, lines[len(lines)-1], err)
		}
		if l.Msg != "api call" || l.Method != method || l.Duration == nil || *l.Duration < 0 {
			t.Errorf("%s %s: access line %+v", method, path, l)
		}
		return resp.StatusCode, l
	}

	created := `{"tracking":{"slug":"ups","tracking_number":"` + number + `","emails":["kim@example.com"]}}`
	for _, tc := range []struct {
		name                            string
		method, path, header, key, body string
		status                          int
		route, logKey, level            string
	}{
		{"wrong key", "POST", "/tracking/2024-04/trackings", "as-api-key", wrongKey, created,
			401, "/tracking/{version}/trackings", api.KeyInvalid, "WARN"},
		{"no key", "GET", "/tracking/2024-04/trackings/ups/" + number, "as-api-key", "", "",
			401, "/tracking/{version}/trackings/{slug}/{tracking_number}", api.KeyNone, "WARN"},
		{"created", "POST", "/tracking/2024-04/trackings", "as-api-key", goodKey, created,
			201, "/tracking/{version}/trackings", goodID, "INFO"},
		{"by number", "GET", "/tracking/2024-04/trackings/ups/" + number, "as-api-key", goodKey, "",
			200, "/tracking/{version}/trackings/{slug}/{tracking_number}", goodID, "INFO"},
		{"by id", "GET", "/tracking/2024-04/trackings/" + tracking.ID("ups", number), "as-api-key", goodKey, "",
			200, "/tracking/{version}/trackings/{id}", goodID, "INFO"},
		{"v4, legacy header", "GET", "/v4/notifications/ups/" + number, "aftership-api-key", goodKey, "",
			200, "/v4/notifications/{slug}/{tracking_number}", goodID, "INFO"},
		{"v4, wrong key", "GET", "/v4/trackings/ups/" + number, "aftership-api-key", wrongKey, "",
			401, "/v4/trackings/{slug}/{tracking_number}", api.KeyInvalid, "WARN"},
		{"not found", "GET", "/tracking/2024-04/trackings/ups/NOPE0000000", "as-api-key", goodKey, "",
			404, "/tracking/{version}/trackings/{slug}/{tracking_number}", goodID, "INFO"},
		{"no such route", "GET", "/v4/trackings/ups/" + number + "/extra/segments", "as-api-key", goodKey, "",
			404, "unmatched", "unchecked", "INFO"},
	} {
		status, l := do(tc.method, tc.path, tc.header, tc.key, tc.body)
		if status != tc.status || l.Status != tc.status || l.Route != tc.route || l.Key != tc.logKey || l.Level != tc.level {
			t.Errorf("%s: HTTP %d, logged %+v; want %d, route %s, key %s, level %s", tc.name, status, l, tc.status, tc.route, tc.logKey, tc.level)
		}
	}

	out := logs.String()
	wrongSum := sha256.Sum256([]byte(wrongKey))
	for what, secret := range map[string]string{
		"the key": goodKey, "a wrong key": wrongKey, "a wrong key's hash": hex.EncodeToString(wrongSum[:])[:16],
		"the key's full hash": hex.EncodeToString(sum[:]), "a tracking number from a path": number,
	} {
		if strings.Contains(out, secret) {
			t.Errorf("the log shows %s:\n%s", what, out)
		}
	}
}
