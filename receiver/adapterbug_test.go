package receiver_test

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/trackhook/trackhook/receiver"
	"github.com/trackhook/trackhook/receiver/source"
	"github.com/trackhook/trackhook/receiver/tracking"
	"github.com/trackhook/trackhook/signature"
)

// failingAdapter fails as an adapter's own bug does (an error that is not
// source.ErrMalformed), or as a malformed payload does.
type failingAdapter struct{ err error }

func (a failingAdapter) Decode([]byte, http.Header) ([]tracking.Event, error) { return nil, a.err }

// A payload the adapter cannot read is the sender's problem: 400, it gives
// up. An adapter that breaks its own invariant is ours: 500, so the sender
// retries after the fix instead of dropping the status change.
func TestAdapterBugIsA500NotA400(t *testing.T) {
	e := newEnv(t)
	v, err := signature.NewAfterShip([]string{secret})
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		err  error
		want int
	}{
		{fmt.Errorf("%w: msg.tracking_number is required", source.ErrMalformed), http.StatusBadRequest},
		{errors.New("source: an adapter left a line break in the title"), http.StatusInternalServerError},
	} {
		srv, err := receiver.New(receiver.Config{Store: e.store, Queue: e.queue,
			Sources: receiver.Registry{"aftership": {Verifier: v, Adapter: failingAdapter{tc.err}}},
			Logger:  slog.New(slog.NewTextHandler(io.Discard, nil))})
		if err != nil {
			t.Fatal(err)
		}
		hs := httptest.NewServer(srv)
		at := time.Date(2026, 11, 20, 8, 0, 0, 0, time.UTC)
		b := body("bug-1", "9400100000000000000888", "InTransit", at)
		h, _ := v.Sign(b, at)
		req, _ := http.NewRequest(http.MethodPost, hs.URL+"/webhooks/aftership", bytes.NewReader(b))
		req.Header = h
		resp, err := http.DefaultClient.Do(req)
		hs.Close()
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != tc.want {
			t.Errorf("adapter error %q: answered %d, want %d", tc.err, resp.StatusCode, tc.want)
		}
	}
}
