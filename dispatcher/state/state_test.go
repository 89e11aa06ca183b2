package state_test

import (
	"context"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/trackhook/trackhook/dispatcher"

	"github.com/trackhook/trackhook/dispatcher/state"
	"github.com/trackhook/trackhook/receiver/redistest"
)

func newStore(t *testing.T) (*state.Store, *redistest.Server) {
	t.Helper()
	srv := redistest.Start(t)
	return state.New(srv.Client(), state.Options{}), srv
}

func TestDeliveredLedger(t *testing.T) {
	ctx := context.Background()
	s, _ := newStore(t)
	if ok, err := s.Delivered(ctx, "abc", "k"); ok || err != nil {
		t.Fatalf("Delivered before = %v, %v", ok, err)
	}
	if err := s.MarkDelivered(ctx, "abc", "k"); err != nil {
		t.Fatal(err)
	}
	if ok, err := s.Delivered(ctx, "abc", "k"); !ok || err != nil {
		t.Fatalf("Delivered after = %v, %v", ok, err)
	}
}

func TestBeginSendTellsARepeatedAttempt(t *testing.T) {
	ctx := context.Background()
	s, _ := newStore(t)
	for i, want := range []bool{false, true, true} {
		again, err := s.BeginSend(ctx, "abc", "InTransit|sms|+4915112345678")
		if err != nil || again != want {
			t.Fatalf("attempt %d: BeginSend = %v, %v; want %v", i+1, again, err, want)
		}
	}
	if again, err := s.BeginSend(ctx, "abc", "Delivered|sms|+4915112345678"); again || err != nil {
		t.Fatalf("another notification: BeginSend = %v, %v; want false", again, err)
	}
}

// Data an existing deployment wrote before the state moved here (same key
// names, same JSON) reads as it did: the ledger, the delivery log and the
// suppression list. The raw values are spelled out, not made by this
// package, so a drifting key name or JSON tag fails here.
func TestReadsWhatEarlierVersionsWrote(t *testing.T) {
	ctx := context.Background()
	s, srv := newStore(t)
	rdb := srv.Client()
	const id = "abcdefghijklmnopqrstuvwx"
	at := time.Date(2026, 11, 20, 8, 0, 0, 0, time.UTC)
	rdb.SAdd(ctx, "trackhook:{"+id+"}:sent", "InTransit|email|kim@example.com")
	rdb.SAdd(ctx, "trackhook:{"+id+"}:attempted", "InTransit|sms|+4915112345678")
	rdb.ZAdd(ctx, "trackhook:{"+id+"}:deliveries", redis.Z{Score: float64(at.UnixMicro()),
		Member: `{"status":"InTransit","channel":"email","recipient":"k***@example.com","attempt":2,"outcome":"sent","provider_message_id":"n-1@shop.example","at":"2026-11-20T08:00:00Z"}`})
	rdb.HSet(ctx, "trackhook:suppressions", "sms:+4915112345678",
		`{"channel":"sms","recipient":"+4915112345678","reason":"sms STOP","created_at":"2026-11-19T10:00:00Z"}`)

	if ok, err := s.Delivered(ctx, id, "InTransit|email|kim@example.com"); !ok || err != nil {
		t.Errorf("Delivered = %v, %v; want the old ledger entry", ok, err)
	}
	if again, err := s.BeginSend(ctx, id, "InTransit|sms|+4915112345678"); !again || err != nil {
		t.Errorf("BeginSend = %v, %v; want the old attempt seen", again, err)
	}
	ds, err := state.New(rdb, state.Options{Now: func() time.Time { return at.Add(time.Hour) }}).Deliveries(ctx, id)
	if err != nil || len(ds) != 1 {
		t.Fatalf("Deliveries = %+v, %v", ds, err)
	}
	if d := ds[0]; d.Status != "InTransit" || d.Channel != dispatcher.ChannelEmail || d.Outcome != dispatcher.OutcomeSent ||
		d.Attempt != 2 || d.ProviderMessageID != "n-1@shop.example" || !d.At.Equal(at) {
		t.Errorf("delivery %+v", d)
	}
	if sup, err := s.Suppressed(ctx, dispatcher.ChannelSMS, "+4915112345678"); !sup || err != nil {
		t.Errorf("Suppressed = %v, %v; want the old entry", sup, err)
	}
	list, err := s.Suppressions(ctx)
	if err != nil || len(list) != 1 || list[0].Reason != "sms STOP" || list[0].Channel != dispatcher.ChannelSMS {
		t.Errorf("Suppressions = %+v, %v", list, err)
	}
	if keys := state.TrackingKeys(id); len(keys) != 4 || keys[0] != "trackhook:{"+id+"}:sent" ||
		keys[1] != "trackhook:{"+id+"}:attempted" || keys[2] != "trackhook:{"+id+"}:settled" || keys[3] != "trackhook:{"+id+"}:deliveries" {
		t.Errorf("TrackingKeys = %v", keys)
	}
}

// pipelines counts the pipelines and single commands a client sends.
type pipelines struct{ pipes, cmds, singles int }

func (p *pipelines) DialHook(next redis.DialHook) redis.DialHook { return next }
func (p *pipelines) ProcessHook(next redis.ProcessHook) redis.ProcessHook {
	return func(ctx context.Context, cmd redis.Cmder) error { p.singles++; return next(ctx, cmd) }
}
func (p *pipelines) ProcessPipelineHook(next redis.ProcessPipelineHook) redis.ProcessPipelineHook {
	return func(ctx context.Context, cmds []redis.Cmder) error {
		p.pipes++
		p.cmds += len(cmds)
		return next(ctx, cmds)
	}
}

// After a send, the ledger's entry and the delivery log's go to Redis in one
// step; a tracking deleted meanwhile still gets its ledger entry, and no log.
func TestMarkDeliveredAndRecordIsOneStep(t *testing.T) {
	ctx := context.Background()
	srv := redistest.Start(t)
	rdb := srv.Client()
	count := &pipelines{}
	rdb.AddHook(count)
	s := state.New(rdb, state.Options{TrackingKey: func(id string) string { return "tracking:{" + id + "}" }})
	rdb.Set(ctx, "tracking:{abc}", "x", 0)

	d := dispatcher.Delivery{Status: "InTransit", Channel: dispatcher.ChannelEmail, Recipient: "kim@example.com", Attempt: 1,
		Outcome: dispatcher.OutcomeSent, ProviderMessageID: "n-1@shop.example"}
	// The first call loads the scripts into Redis.
	if _, err := s.MarkDeliveredAndRecord(ctx, "warm", "k", d); err != nil {
		t.Fatal(err)
	}
	before := *count
	markErr, recordErr := s.MarkDeliveredAndRecord(ctx, "abc", "InTransit|email|kim@example.com", d)
	if markErr != nil || recordErr != nil {
		t.Fatalf("MarkDeliveredAndRecord = %v, %v", markErr, recordErr)
	}
	if got := *count; got.pipes-before.pipes != 1 || got.cmds-before.cmds != 2 || got.singles != before.singles {
		t.Errorf("sent %d pipelines (%d commands) and %d single commands, want one pipeline of two",
			got.pipes-before.pipes, got.cmds-before.cmds, got.singles-before.singles)
	}
	if ok, err := s.Delivered(ctx, "abc", "InTransit|email|kim@example.com"); !ok || err != nil {
		t.Errorf("Delivered = %v, %v", ok, err)
	}
	ds, err := s.Deliveries(ctx, "abc")
	if err != nil || len(ds) != 1 || ds[0].Recipient != "k***@example.com" || ds[0].ProviderMessageID != "n-1@shop.example" {
		t.Errorf("Deliveries = %+v, %v", ds, err)
	}

	// A step that timed out may still have run; the handler's second try
	// with the same entry (its time fixed) leaves one entry.
	d.At = time.Now().UTC().Add(-time.Minute)
	if _, err := s.MarkDeliveredAndRecord(ctx, "abc", "InTransit|email|kim@example.com", d); err != nil {
		t.Fatal(err)
	}
	if err := s.Record(ctx, "abc", d); err != nil {
		t.Fatal(err)
	}
	if ds, err := s.Deliveries(ctx, "abc"); err != nil || len(ds) != 2 {
		t.Errorf("after a repeated entry: %d entries (%v), want 2 (the first and the repeated one once)", len(ds), err)
	}

	markErr, recordErr = s.MarkDeliveredAndRecord(ctx, "gone", "InTransit|email|kim@example.com", d)
	if markErr != nil || recordErr != nil {
		t.Fatalf("for a deleted tracking: %v, %v", markErr, recordErr)
	}
	if ok, _ := s.Delivered(ctx, "gone", "InTransit|email|kim@example.com"); !ok {
		t.Error("a deleted tracking's send is not in the ledger")
	}
	if n := rdb.Exists(ctx, "trackhook:{gone}:deliveries").Val(); n != 0 {
		t.Error("a deleted tracking got a delivery log")
	}
}
