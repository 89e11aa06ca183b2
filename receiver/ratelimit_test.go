package receiver_test

import (
	"bytes"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/hibiken/asynq"

	"github.com/trackhook/trackhook/dispatcher/state"
	"github.com/trackhook/trackhook/receiver"
	"github.com/trackhook/trackhook/receiver/api"
	"github.com/trackhook/trackhook/receiver/carrier"
	"github.com/trackhook/trackhook/receiver/ratelimit"
	"github.com/trackhook/trackhook/receiver/redistest"
	"github.com/trackhook/trackhook/receiver/source"
	"github.com/trackhook/trackhook/receiver/tracking"
	"github.com/trackhook/trackhook/signature"
)

// Rate limits: per source for webhooks, per key for the API, shared through
// Redis; 429 with Retry-After, the API's in AfterShip's envelope.
func TestRateLimits(t *testing.T) {
	rs := redistest.Start(t)
	rdb := rs.Client()
	store := tracking.NewStore(rdb, tracking.Options{})
	a, err := api.New(api.Config{Store: store, Notifications: state.New(rdb, state.Options{TrackingKey: tracking.StateKey})})
	if err != nil {
		t.Fatal(err)
	}
	v, _ := signature.NewAfterShip([]string{secret})
	srv, err := receiver.New(receiver.Config{Store: store, Queue: asynq.NewClientFromRedisClient(rdb), API: a,
		APIKeys:      api.NewKeys([]string{"k1", "k2"}),
		Sources:      receiver.Registry{"aftership": {Verifier: v, Adapter: source.AfterShip{Carriers: carrier.Default()}}},
		WebhookLimit: ratelimit.New(rdb, 0.5, 2), APILimit: ratelimit.New(rdb, 0.5, 2),
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		t.Fatal(err)
	}
	hs := httptest.NewServer(srv)
	t.Cleanup(hs.Close)

	post := func() *http.Response {
		b := body("rl", "RL1", "InTransit", time.Now())
		h, _ := v.Sign(b, time.Now())
		req, _ := http.NewRequest(http.MethodPost, hs.URL+"/webhooks/aftership", bytes.NewReader(b))
		req.Header = h
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp
	}
	for i := 0; i < 2; i++ {
		if resp := post(); resp.StatusCode != 200 {
			t.Fatalf("webhook %d: %d", i, resp.StatusCode)
		}
	}
	if resp := post(); resp.StatusCode != 429 || resp.Header.Get("Retry-After") != "2" {
		t.Fatalf("third webhook: %d Retry-After %q; want 429 and 2", resp.StatusCode, resp.Header.Get("Retry-After"))
	}

	get := func(key string) (*http.Response, api.Meta) {
		req, _ := http.NewRequest(http.MethodGet, hs.URL+"/tracking/2024-04/trackings", nil)
		req.Header.Set("as-api-key", key)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var env struct{ Meta api.Meta }
		_ = json.NewDecoder(resp.Body).Decode(&env)
		return resp, env.Meta
	}
	for i := 0; i < 2; i++ {
		if resp, _ := get("k1"); resp.StatusCode != 200 {
			t.Fatalf("call %d: %d", i, resp.StatusCode)
		}
	}
	resp, meta := get("k1")
	if resp.StatusCode != 429 || meta.Code != 429 || meta.Type != "TooManyRequests" || resp.Header.Get("Retry-After") == "" {
		t.Fatalf("third call: %d %+v", resp.StatusCode, meta)
	}
	for _, h := range []string{"X-Ratelimit-Remaining", "X-Ratelimit-Reset", "X-Ratelimit-Limit"} {
		if resp.Header.Get(h) != "" {
			t.Fatalf("%s sent: the AfterShip SDK would refuse calls locally", h)
		}
	}
	// Another key has its own bucket.
	if resp, _ := get("k2"); resp.StatusCode != 200 {
		t.Fatalf("other key: %d", resp.StatusCode)
	}
}
