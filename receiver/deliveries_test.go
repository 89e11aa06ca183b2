package receiver_test

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/hibiken/asynq"

	"github.com/trackhook/trackhook/dispatcher"
	"github.com/trackhook/trackhook/dispatcher/state"
	"github.com/trackhook/trackhook/receiver"
	"github.com/trackhook/trackhook/receiver/api"
	"github.com/trackhook/trackhook/receiver/redistest"
	"github.com/trackhook/trackhook/receiver/tracking"
)

type deliveriesFixture struct {
	base   string
	store  *tracking.Store
	notify *state.Store
	rdb    *redistest.Server
	client *asynq.Client
	insp   *asynq.Inspector
}

func newDeliveriesFixture(t *testing.T, now func() time.Time) *deliveriesFixture {
	t.Helper()
	rs := redistest.Start(t)
	rdb := rs.Client()
	store := tracking.NewStore(rdb, tracking.Options{Now: now})
	insp := asynq.NewInspectorFromRedisClient(rdb)
	quiet := slog.New(slog.NewTextHandler(io.Discard, nil))
	notify := state.New(rdb, state.Options{TrackingKey: tracking.StateKey, Now: now})
	a, err := api.New(api.Config{Store: store, Notifications: notify, DeadLetters: dispatcher.NewDeadLetters(insp), Logger: quiet})
	if err != nil {
		t.Fatal(err)
	}
	client := asynq.NewClientFromRedisClient(rdb)
	srv, err := receiver.New(receiver.Config{Store: store, Queue: client, API: a, APIKeys: api.NewKeys([]string{apiKey}), Logger: quiet})
	if err != nil {
		t.Fatal(err)
	}
	hs := httptest.NewServer(srv)
	t.Cleanup(hs.Close)
	return &deliveriesFixture{base: hs.URL, store: store, notify: notify, rdb: rs, client: client, insp: insp}
}

func (f *deliveriesFixture) call(t *testing.T, method, path string) (int, string) {
	t.Helper()
	req, err := http.NewRequest(method, f.base+path+"?", nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("content-type", "application/json")
	req.Header.Set("as-api-key", apiKey)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

func TestAPIDeliveryLog(t *testing.T) {
	// The store's clock: the test sets the minute of each entry.
	var minute atomic.Int64
	f := newDeliveriesFixture(t, func() time.Time {
		return time.Date(2026, 11, 20, 8, 0, 0, 0, time.UTC).Add(time.Duration(minute.Load()) * time.Minute)
	})
	ctx := context.Background()
	tr, err := f.store.Create(ctx, tracking.Tracking{Slug: "dhl-germany", TrackingNumber: "00340434161094042557",
		Emails: []string{"kim@example.com"}, SMSes: []string{"+4915112345678"}})
	if err != nil {
		t.Fatal(err)
	}
	// What the worker records, in the dispatcher's state.
	log := f.notify
	for _, e := range []dispatcher.Delivery{
		{Status: "InTransit", Channel: "email", Recipient: "k***@example.com", Attempt: 1, Outcome: dispatcher.OutcomeFailedTemporary,
			Error: `smtp: sending to k***@example.com: end of DATA: 451 "4.3.0 try again later"`},
		{Status: "InTransit", Channel: "email", Recipient: "k***@example.com", Attempt: 2, Outcome: dispatcher.OutcomeSent,
			ProviderMessageID: "n-0123@shop.example"},
		// Unmasked by mistake: the store masks it anyway.
		{Status: "InTransit", Channel: "sms", Recipient: "+4915112345678", Attempt: 1, Outcome: dispatcher.OutcomeSkipped,
			Reason: "recipient is on the suppression list"},
	} {
		minute.Add(1)
		if err := log.Record(ctx, tr.ID, e); err != nil {
			t.Fatal(err)
		}
	}

	want := `{"meta":{"code":200},"data":{"deliveries":[` +
		`{"status":"InTransit","channel":"sms","recipient":"+49******78","attempt":1,"outcome":"skipped","reason":"recipient is on the suppression list","provider_message_id":null,"error":null,"at":"2026-11-20T08:03:00.000Z","test":false},` +
		`{"status":"InTransit","channel":"email","recipient":"k***@example.com","attempt":2,"outcome":"sent","reason":null,"provider_message_id":"n-0123@shop.example","error":null,"at":"2026-11-20T08:02:00.000Z","test":false},` +
		`{"status":"InTransit","channel":"email","recipient":"k***@example.com","attempt":1,"outcome":"failed_temporary","reason":null,"provider_message_id":null,"error":"smtp: sending to k***@example.com: end of DATA: 451 \"4.3.0 try again later\"","at":"2026-11-20T08:01:00.000Z","test":false}` +
		`]}}` + "\n"
	for _, prefix := range []string{"/tracking/2024-04", "/v4"} {
		code, body := f.call(t, "GET", prefix+"/trackings/"+tr.ID+"/deliveries")
		if code != 200 || body != want {
			t.Fatalf("GET %s/trackings/{id}/deliveries: %d\n%s\nwant\n%s", prefix, code, body, want)
		}
	}

	// A tracking without attempts: an empty list, not null.
	other, err := f.store.Create(ctx, tracking.Tracking{Slug: "ups", TrackingNumber: "1Z999AA10123456784"})
	if err != nil {
		t.Fatal(err)
	}
	if code, body := f.call(t, "GET", "/v4/trackings/"+other.ID+"/deliveries"); code != 200 || body != `{"meta":{"code":200},"data":{"deliveries":[]}}`+"\n" {
		t.Fatalf("empty log: %d %s", code, body)
	}

	// Unknown trackings: a well-formed id that does not exist, a malformed
	// one, and a deleted one, whose log went with it.
	if err := f.store.Delete(ctx, tr.ID); err != nil {
		t.Fatal(err)
	}
	notFound := `{"meta":{"code":4004,"message":"Tracking does not exist.","type":"BadRequest"},"data":{}}` + "\n"
	for _, id := range []string{tracking.ID("dhl", "NOSUCHPARCEL"), "not-an-id", tr.ID} {
		for _, call := range [][2]string{{"GET", "/deliveries"}, {"POST", "/deliveries/retry"}} {
			if code, body := f.call(t, call[0], "/tracking/2024-04/trackings/"+id+call[1]); code != 404 || body != notFound {
				t.Errorf("%s %s for tracking %q: %d %s, want 404 and 4004", call[0], call[1], id, code, body)
			}
		}
	}
}

// archived enqueues n and moves it straight to the archive, as asynq does
// after a permanent failure.
func (f *deliveriesFixture) archived(t *testing.T, n dispatcher.Notification) {
	t.Helper()
	task, err := dispatcher.NewTask(n)
	if err != nil {
		t.Fatal(err)
	}
	info, err := f.client.Enqueue(task)
	if err != nil {
		t.Fatal(err)
	}
	if err := f.insp.ArchiveTask(info.Queue, info.ID); err != nil {
		t.Fatal(err)
	}
}

func TestAPIRetryDeliveriesRunsOnlyThisTrackingsDeadLetters(t *testing.T) {
	f := newDeliveriesFixture(t, nil)
	ctx := context.Background()
	tr, err := f.store.Create(ctx, tracking.Tracking{Slug: "dhl-germany", TrackingNumber: "00340434161094042557"})
	if err != nil {
		t.Fatal(err)
	}
	other, err := f.store.Create(ctx, tracking.Tracking{Slug: "ups", TrackingNumber: "1Z999AA10123456784"})
	if err != nil {
		t.Fatal(err)
	}
	// Nothing was ever queued: the queues do not exist yet.
	if code, body := f.call(t, "POST", "/v4/trackings/"+tr.ID+"/deliveries/retry"); code != 200 || body != `{"meta":{"code":200},"data":{"retried":0}}`+"\n" {
		t.Fatalf("retry with no queues: %d %s", code, body)
	}

	note := func(id, status string, channel dispatcher.Channel, rcpt string) dispatcher.Notification {
		return dispatcher.Notification{TrackingID: id, Key: dispatcher.NotificationKey(status, channel, rcpt), Status: status, Channel: channel, Recipient: rcpt,
			Shipment: dispatcher.Shipment{TrackingNumber: "x"}}
	}
	mine := []dispatcher.Notification{
		note(tr.ID, "InTransit", dispatcher.ChannelEmail, "gone@example.com"),
		note(tr.ID, "InTransit", dispatcher.ChannelSMS, "+4915112345678"),
	}
	for _, n := range mine {
		f.archived(t, n)
	}
	theirs := note(other.ID, "InTransit", dispatcher.ChannelEmail, "gone@example.com")
	f.archived(t, theirs)
	// A task of this tracking that is merely waiting (pending) is not a dead letter.
	pending, _ := dispatcher.NewTask(note(tr.ID, "Delivered", dispatcher.ChannelEmail, "kim@example.com"))
	if _, err := f.client.Enqueue(pending); err != nil {
		t.Fatal(err)
	}

	code, body := f.call(t, "POST", "/tracking/2024-04/trackings/"+tr.ID+"/deliveries/retry")
	if code != 200 || body != `{"meta":{"code":200},"data":{"retried":2}}`+"\n" {
		t.Fatalf("retry: %d %s, want retried 2", code, body)
	}
	state := func(n dispatcher.Notification) asynq.TaskState {
		t.Helper()
		queue := dispatcher.QueueEmail
		if n.Channel == dispatcher.ChannelSMS {
			queue = dispatcher.QueueSMS
		}
		info, err := f.insp.GetTaskInfo(queue, n.ID())
		if err != nil {
			t.Fatal(err)
		}
		return info.State
	}
	for _, n := range mine {
		if s := state(n); s != asynq.TaskStatePending {
			t.Errorf("%s task of the tracking is %v after retry, want pending", n.Channel, s)
		}
	}
	if s := state(theirs); s != asynq.TaskStateArchived {
		t.Errorf("another tracking's dead letter is %v, want still archived", s)
	}
	// Again: nothing left to retry.
	if code, body := f.call(t, "POST", "/v4/trackings/"+tr.ID+"/deliveries/retry"); code != 200 || !strings.Contains(body, `"retried":0`) {
		t.Fatalf("second retry: %d %s, want retried 0", code, body)
	}

	// Redis down: 503, as every store failure.
	f.rdb.Stop()
	if code, body := f.call(t, "POST", "/v4/trackings/"+tr.ID+"/deliveries/retry"); code != 503 || !strings.Contains(body, `"code":503`) {
		t.Fatalf("retry with Redis down: %d %s", code, body)
	}
	if code, body := f.call(t, "GET", "/v4/trackings/"+tr.ID+"/deliveries"); code != 503 || !strings.Contains(body, `"code":503`) {
		t.Fatalf("log with Redis down: %d %s", code, body)
	}
}

func TestAPIRetryDeliveriesWithoutDeadLetters(t *testing.T) {
	rs := redistest.Start(t)
	store := tracking.NewStore(rs.Client(), tracking.Options{})
	a, err := api.New(api.Config{Store: store, Notifications: state.New(rs.Client(), state.Options{TrackingKey: tracking.StateKey})})
	if err != nil {
		t.Fatal(err)
	}
	srv, err := receiver.New(receiver.Config{Store: store, Queue: asynq.NewClientFromRedisClient(rs.Client()), API: a,
		APIKeys: api.NewKeys([]string{apiKey}), Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		t.Fatal(err)
	}
	hs := httptest.NewServer(srv)
	t.Cleanup(hs.Close)
	f := &deliveriesFixture{base: hs.URL}
	code, body := f.call(t, "POST", "/v4/trackings/"+tracking.ID("dhl", "X1")+"/deliveries/retry")
	var env struct {
		Meta struct{ Code int } `json:"meta"`
	}
	if code != 501 || json.Unmarshal([]byte(body), &env) != nil || env.Meta.Code != 501 {
		t.Fatalf("retry without dead letters: %d %s, want 501", code, body)
	}
}

// TestDeliveryLogTakesEveryOutcome: every outcome the dispatcher reports is
// recorded, an invalid one is refused, and an attempt for a deleted
// tracking is dropped without an error (the worker would only log it).
func TestDeliveryLogTakesEveryOutcome(t *testing.T) {
	f := newDeliveriesFixture(t, nil)
	ctx := context.Background()
	tr, err := f.store.Create(ctx, tracking.Tracking{Slug: "ups", TrackingNumber: "1Z999AA10123456784"})
	if err != nil {
		t.Fatal(err)
	}
	log := f.notify
	outcomes := dispatcher.Outcomes()
	for _, o := range outcomes {
		if err := log.Record(ctx, tr.ID, dispatcher.Delivery{Status: "Delivered", Channel: dispatcher.ChannelSMS, Recipient: "+4915112345678", Attempt: 1, Outcome: o}); err != nil {
			t.Errorf("outcome %q: %v", o, err)
		}
	}
	got, err := f.notify.Deliveries(ctx, tr.ID)
	if err != nil || len(got) != len(outcomes) {
		t.Fatalf("%d entries (%v), want %d", len(got), err, len(outcomes))
	}
	for _, d := range got {
		if d.Recipient != "+49******78" || d.Status != tracking.Delivered.String() {
			t.Errorf("entry %+v", d)
		}
	}
	if err := log.Record(ctx, tr.ID, dispatcher.Delivery{Status: "Delivered", Channel: dispatcher.ChannelSMS, Attempt: 1, Outcome: dispatcher.Outcome(99)}); err == nil {
		t.Error("an invalid outcome was recorded")
	}
	if err := f.store.Delete(ctx, tr.ID); err != nil {
		t.Fatal(err)
	}
	if err := log.Record(ctx, tr.ID, dispatcher.Delivery{Status: "Delivered", Channel: dispatcher.ChannelSMS, Attempt: 1, Outcome: dispatcher.OutcomeSkipped,
		Reason: "tracking was deleted"}); err != nil {
		t.Errorf("attempt for a deleted tracking: %v, want nil", err)
	}
	if n, err := f.rdb.Client().Exists(ctx, state.TrackingKeys(tr.ID)...).Result(); err != nil || n != 0 {
		t.Errorf("a deleted tracking's notification state: %d keys left (%v)", n, err)
	}
}
