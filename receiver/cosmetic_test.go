package receiver_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/hibiken/asynq"

	"github.com/trackhook/trackhook/dispatcher"
	"github.com/trackhook/trackhook/receiver"
	"github.com/trackhook/trackhook/receiver/carrier"
	"github.com/trackhook/trackhook/receiver/redistest"
	"github.com/trackhook/trackhook/receiver/source"
	"github.com/trackhook/trackhook/receiver/tracking"
	"github.com/trackhook/trackhook/signature"
)

// dropCounter is a receiver.Observer that counts dropped recipients by
// "source/channel".
type dropCounter struct {
	mu      sync.Mutex
	dropped map[string]int
}

func (*dropCounter) Webhook(string, string)                {}
func (*dropCounter) VerificationFailed(string, string)     {}
func (*dropCounter) Applied(time.Duration)                 {}
func (*dropCounter) Suppressed(dispatcher.Channel, string) {}
func (*dropCounter) Delayed(dispatcher.Channel)            {}

func (o *dropCounter) RecipientDropped(source, channel string) {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.dropped[source+"/"+channel]++
}

func (o *dropCounter) count(key string) int {
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.dropped[key]
}

// TestCosmeticFieldsNeverRefuseASignedUpdate: a signed AfterShip webhook
// with line breaks in its display fields and a header-injection attempt
// among its subscribers is stored (200) with the fields on one line and the
// good subscriber only; the bad one is logged masked and counted.
func TestCosmeticFieldsNeverRefuseASignedUpdate(t *testing.T) {
	rdb := redistest.Start(t).Client()
	store := tracking.NewStore(rdb, tracking.Options{})
	as, err := signature.NewAfterShip([]string{secret})
	if err != nil {
		t.Fatal(err)
	}
	logs := &lockedBuffer{}
	obs := &dropCounter{dropped: map[string]int{}}
	srv, err := receiver.New(receiver.Config{
		Store: store, Queue: asynq.NewClientFromRedisClient(rdb), Carriers: carrier.Default(),
		Sources:  receiver.Registry{"aftership": {Verifier: as, Adapter: source.AfterShip{Carriers: carrier.Default()}}},
		Logger:   slog.New(slog.NewTextHandler(logs, nil)),
		Observer: obs,
	})
	if err != nil {
		t.Fatal(err)
	}
	hs := httptest.NewServer(srv)
	t.Cleanup(hs.Close)
	post := func(msg map[string]any) (int, string) {
		t.Helper()
		b, _ := json.Marshal(map[string]any{"event": "tracking_update", "event_id": "evt-" + fmt.Sprint(msg["tracking_number"]), "ts": time.Now().Unix(), "msg": msg})
		h, err := as.Sign(b, time.Now())
		if err != nil {
			t.Fatal(err)
		}
		req, _ := http.NewRequest(http.MethodPost, hs.URL+"/webhooks/aftership", bytes.NewReader(b))
		req.Header = h
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var out bytes.Buffer
		_, _ = out.ReadFrom(resp.Body)
		return resp.StatusCode, out.String()
	}

	const bad = "bad\r\nBcc: x@evil.example"
	// Malformed entries that hold a whole second address or number.
	const both, named = "lee@example.com (+4915199999999)", "Ana <ana@example.org>"
	code, out := post(map[string]any{"tracking_number": "9400100000000000000777", "slug": "usps", "tag": "InTransit",
		"customer_name": "Kim\nMeyer", "title": "Order\r\n#1001", "emails": []string{"kim@example.com", bad, both, named}})
	if code != 200 || !strings.Contains(out, "created") {
		t.Fatalf("answered %d %s, want 200 created", code, out)
	}
	tr, err := store.Get(context.Background(), tracking.ID("usps", "9400100000000000000777"))
	if err != nil {
		t.Fatal(err)
	}
	if tr.CustomerName != "Kim Meyer" || tr.Title != "Order #1001" || fmt.Sprint(tr.Emails) != "[kim@example.com]" {
		t.Fatalf("stored customer %q, title %q, emails %q", tr.CustomerName, tr.Title, tr.Emails)
	}
	var dropLine string
	for _, l := range strings.Split(logs.String(), "\n") {
		if strings.Contains(l, `msg="webhook subscriber dropped"`) {
			dropLine = l
		}
	}
	for _, want := range []string{"source=aftership", "tracking_id=" + tr.ID, "channel=email", "recipient=", "reason="} {
		if !strings.Contains(dropLine, want) {
			t.Errorf("drop line %q lacks %q; log:\n%s", dropLine, want, logs)
		}
	}
	if !strings.Contains(logs.String(), `recipient="b*** (24 bytes)"`) || !strings.Contains(logs.String(), `reason="contains a line break`) {
		t.Errorf("the line-break entry is not logged masked with its reason:\n%s", logs)
	}
	for _, leak := range []string{"Bcc", "evil.example", "lee@", "example.com (", "+4915199999999", "99999", "ana@", "example.org"} {
		if strings.Contains(logs.String(), leak) {
			t.Errorf("the log holds %q of a malformed entry:\n%s", leak, logs)
		}
	}
	if n := obs.count("aftership/email"); n != 3 {
		t.Errorf("observer counted %d dropped emails, want 3", n)
	}

	// A list past its limit: the first 100 entries are read, every other one
	// counted, ten logged one by one and the rest in one line.
	phones := make([]string, 150)
	for i := range phones {
		phones[i] = fmt.Sprintf("+1415555%04d", i)
	}
	if code, out := post(map[string]any{"tracking_number": "9400100000000000000778", "slug": "usps", "tag": "InTransit", "smses": phones}); code != 200 {
		t.Fatalf("150 phone numbers: %d %s", code, out)
	}
	if n := obs.count("aftership/sms"); n != 50 {
		t.Errorf("observer counted %d dropped phone numbers, want 50", n)
	}
	l := logs.String()
	if n := strings.Count(l, `channel=sms`); n != 10 || !strings.Contains(l, `msg="webhook subscribers dropped, not logged one by one"`) || !strings.Contains(l, "count=40") {
		t.Errorf("%d phone lines logged, want 10 and a line for the other 40:\n%s", n, l)
	}
}
