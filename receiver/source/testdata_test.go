package source

import (
	"encoding/json"
	"errors"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/trackhook/trackhook/receiver/tracking"
	"github.com/trackhook/trackhook/signature"
	"github.com/trackhook/trackhook/signature/jwks"
)

// fixtureSource is one sender's testdata folder and how to check it.
type fixtureSource struct {
	dir     string
	adapter Adapter
	// verifier builds the verifier for the folder's secret, with its clock
	// at the time recorded in h where the scheme signs one.
	verifier func(t *testing.T, secret string, h http.Header) signature.Verifier
	// empty names the fixtures that carry nothing to track.
	empty func(name string) bool
}

func secretVerifier[V signature.Verifier](ctor func([]string) (V, error)) func(*testing.T, string, http.Header) signature.Verifier {
	return func(t *testing.T, secret string, _ http.Header) signature.Verifier {
		t.Helper()
		v, err := ctor([]string{secret})
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
}

func fixtureSources() []fixtureSource {
	none := func(string) bool { return false }
	return []fixtureSource{
		{"aftership", as(), secretVerifier(signature.NewAfterShip), none},
		{"easypost", ep(), secretVerifier(signature.NewEasyPost), func(n string) bool { return strings.HasSuffix(n, "_ignored") }},
		{"17track", stAdapter(), secretVerifier(signature.NewSeventeenTrack), func(n string) bool { return n == "tracking_stopped" }},
		{"woocommerce", wcAdapter(), secretVerifier(signature.NewWooCommerce), none},
		{"trackingmore", tmAdapter(), func(t *testing.T, secret string, h http.Header) signature.Verifier {
			sent, ok := signature.TrackingMoreTime(h.Get(signature.HeaderTrackingMoreTimestamp))
			if !ok {
				t.Fatal("recorded timestamp does not parse")
			}
			v, err := signature.NewTrackingMore([]string{secret}, signature.WithClock(func() time.Time { return sent }))
			if err != nil {
				t.Fatal(err)
			}
			return v
		}, none},
		{"standard", stdAdapter(), func(t *testing.T, secret string, h http.Header) signature.Verifier {
			ts, err := strconv.ParseInt(h.Get(signature.HeaderStandardTimestamp), 10, 64)
			if err != nil {
				t.Fatal(err)
			}
			v, err := signature.NewStandardWebhooks([]string{secret}, signature.WithClock(func() time.Time { return time.Unix(ts, 0) }))
			if err != nil {
				t.Fatal(err)
			}
			return v
		}, func(n string) bool { return n == "other_type" }},
		{"shipengine", se(), func(t *testing.T, _ string, h http.Header) signature.Verifier {
			set, err := os.ReadFile(filepath.Join("..", "..", "testdata", "shipengine", "jwks.json"))
			if err != nil {
				t.Fatal(err)
			}
			keys, err := jwks.Parse(set)
			if err != nil {
				t.Fatal(err)
			}
			at, ok := signature.ParseShipEngineTime(h.Get(signature.HeaderShipEngineTimestamp))
			if !ok {
				t.Fatal("no recorded timestamp")
			}
			v, err := signature.NewShipEngine(signature.KeyMap(keys), signature.WithClock(func() time.Time { return at.Add(time.Minute) }))
			if err != nil {
				t.Fatal(err)
			}
			return v
		}, none},
	}
}

// TestTestdata checks every testdata/<sender>/<name>.json: its recorded
// signature (computed outside our code, see testdata/README.md) verifies,
// and its canonical events equal <name>.canonical.golden (rewritten with
// go test -update).
func TestTestdata(t *testing.T) {
	for _, src := range fixtureSources() {
		t.Run(src.dir, func(t *testing.T) {
			dir := filepath.Join("..", "..", "testdata", src.dir)
			secret, _ := os.ReadFile(filepath.Join(dir, "secret.txt"))
			files, _ := filepath.Glob(filepath.Join(dir, "*.json"))
			n := 0
			for _, f := range files {
				base := strings.TrimSuffix(f, ".json")
				if _, err := os.Stat(base + ".headers"); errors.Is(err, os.ErrNotExist) {
					continue // jwks.json and the like
				}
				n++
				name := filepath.Base(base)
				t.Run(name, func(t *testing.T) {
					body, _ := os.ReadFile(f)
					h := readHeaders(t, base+".headers")
					if err := src.verifier(t, strings.TrimSpace(string(secret)), h).Verify(body, h); err != nil {
						t.Fatalf("recorded signature does not verify: %v", err)
					}
					evs, err := src.adapter.Decode(body, h)
					if err != nil {
						t.Fatal(err)
					}
					if src.empty(name) != (len(evs) == 0) {
						t.Fatalf("%d events", len(evs))
					}
					golden(t, base+".canonical.golden", evs)
				})
			}
			if n < 3 {
				t.Fatalf("%d fixtures, want at least 3", n)
			}
		})
	}
}

// golden compares evs, as indented JSON, with the golden file, or rewrites
// the file under -update.
func golden(t *testing.T, path string, evs []tracking.Event) {
	t.Helper()
	got, _ := json.MarshalIndent(evs, "", "  ")
	if *update {
		if err := os.WriteFile(path, append(got, '\n'), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test -update)", err)
	}
	if string(want) != string(got)+"\n" {
		t.Fatalf("canonical events differ from %s:\n%s", path, got)
	}
}

// TestWooCommerceRecordedPing: the recorded creation ping is recognised,
// and is unsigned (the receiver answers it before verifying); no order is
// taken for a ping.
func TestWooCommerceRecordedPing(t *testing.T) {
	dir := filepath.Join("..", "..", "testdata", "woocommerce")
	secret, _ := os.ReadFile(filepath.Join(dir, "secret.txt"))
	v, err := signature.NewWooCommerce([]string{strings.TrimSpace(string(secret))})
	if err != nil {
		t.Fatal(err)
	}
	ping, err := os.ReadFile(filepath.Join(dir, "ping.txt"))
	if err != nil {
		t.Fatal(err)
	}
	ph := readHeaders(t, filepath.Join(dir, "ping.headers"))
	if !WooCommercePing(ping, ph) {
		t.Fatal("the recorded ping is not recognised")
	}
	if err := v.Verify(ping, ph); !errors.Is(err, signature.ErrNoSignature) {
		t.Fatalf("Verify(ping) = %v, want ErrNoSignature", err)
	}
	files, _ := filepath.Glob(filepath.Join(dir, "*.json"))
	for _, f := range files {
		body, _ := os.ReadFile(f)
		if WooCommercePing(body, readHeaders(t, strings.TrimSuffix(f, ".json")+".headers")) {
			t.Fatalf("%s is taken for a ping", f)
		}
	}
}

// TestEasyPostFixtureIsTheOfficialBody: the fixture is the shared official
// event body, without its trailing newline.
func TestEasyPostFixtureIsTheOfficialBody(t *testing.T) {
	shared, err := os.ReadFile(filepath.Join("..", "..", "..", "shared", "testdata", "easypost-event-body.json"))
	if err != nil {
		t.Skipf("shared testdata not beside the repo: %v", err)
	}
	local, _ := os.ReadFile(filepath.Join("..", "..", "testdata", "easypost", "official_tracker_updated.json"))
	if strings.TrimSuffix(string(shared), "\n") != string(local) {
		t.Fatal("official_tracker_updated.json differs from shared/testdata/easypost-event-body.json")
	}
}
