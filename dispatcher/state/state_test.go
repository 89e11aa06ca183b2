package state_test

import (
	"context"
	"testing"

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
