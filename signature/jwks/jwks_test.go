package jwks

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"encoding/base64"
	"encoding/json"
	"errors"
	"math/big"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/trackhook/trackhook/signature"
)

// testKeys are generated once per run: 2048-bit RSA generation is slow.
var testKeys = sync.OnceValue(func() []*rsa.PrivateKey {
	var ks []*rsa.PrivateKey
	for range 3 {
		k, err := rsa.GenerateKey(rand.Reader, 2048)
		if err != nil {
			panic(err)
		}
		ks = append(ks, k)
	}
	return ks
})

func jwkOf(kid string, pub *rsa.PublicKey) map[string]any {
	return map[string]any{
		"kty": "RSA", "kid": kid, "use": "sig", "alg": "RS256",
		"n": base64.RawURLEncoding.EncodeToString(pub.N.Bytes()),
		"e": base64.RawURLEncoding.EncodeToString(big.NewInt(int64(pub.E)).Bytes()),
	}
}

func setOf(keys ...map[string]any) []byte {
	b, _ := json.Marshal(map[string]any{"keys": keys})
	return b
}

// fakeJWKS is an httptest server whose answer the test changes.
type fakeJWKS struct {
	*httptest.Server
	fetches atomic.Int32
	mu      sync.Mutex
	status  int
	body    []byte
	gate    chan struct{} // when non-nil, requests wait for it to close
}

func newFake(t *testing.T, body []byte) *fakeJWKS {
	f := &fakeJWKS{status: http.StatusOK, body: body}
	f.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		f.fetches.Add(1)
		f.mu.Lock()
		status, body, gate := f.status, f.body, f.gate
		f.mu.Unlock()
		if gate != nil {
			select {
			case <-gate:
			case <-r.Context().Done():
				return
			}
		}
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(status)
		_, _ = w.Write(body)
	}))
	t.Cleanup(f.Close)
	return f
}

func (f *fakeJWKS) serve(status int, body []byte) {
	f.mu.Lock()
	f.status, f.body = status, body
	f.mu.Unlock()
}

// clock is a settable test clock.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func newClock() *clock { return &clock{t: time.Date(2026, 11, 20, 8, 0, 0, 0, time.UTC)} }

func (c *clock) now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }

func (c *clock) advance(d time.Duration) { c.mu.Lock(); c.t = c.t.Add(d); c.mu.Unlock() }

// settle waits for a background fetch to finish.
func settle(t *testing.T, s *Source) {
	t.Helper()
	s.mu.Lock()
	f := s.inflight
	s.mu.Unlock()
	if f != nil {
		select {
		case <-f.done:
		case <-time.After(5 * time.Second):
			t.Fatal("background fetch did not finish")
		}
	}
}

func sameKey(a, b *rsa.PublicKey) bool { return a != nil && b != nil && a.Equal(b) }

func TestKeyFetchesOnceAndCaches(t *testing.T) {
	ks := testKeys()
	srv := newFake(t, setOf(jwkOf("k1", &ks[0].PublicKey)))
	c := newClock()
	s := New(srv.URL, srv.Client(), WithClock(c.now))
	for range 3 {
		k, err := s.Key("k1")
		if err != nil {
			t.Fatal(err)
		}
		if !sameKey(k, &ks[0].PublicKey) {
			t.Fatal("wrong key")
		}
	}
	if n := srv.fetches.Load(); n != 1 {
		t.Fatalf("%d fetches, want 1", n)
	}
}

func TestRotation(t *testing.T) {
	ks := testKeys()
	srv := newFake(t, setOf(jwkOf("k1", &ks[0].PublicKey)))
	c := newClock()
	s := New(srv.URL, srv.Client(), WithClock(c.now))
	if _, err := s.Key("k1"); err != nil {
		t.Fatal(err)
	}

	// ShipEngine starts signing with k2 and publishes it beside k1.
	srv.serve(http.StatusOK, setOf(jwkOf("k1", &ks[0].PublicKey), jwkOf("k2", &ks[1].PublicKey)))
	c.advance(2 * time.Minute)
	k, err := s.Key("k2")
	if err != nil || !sameKey(k, &ks[1].PublicKey) {
		t.Fatalf("new kid after rotation: %v", err)
	}
	if n := srv.fetches.Load(); n != 2 {
		t.Fatalf("%d fetches, want 2", n)
	}

	// A second unknown kid within the minute: no fetch, unknown.
	c.advance(30 * time.Second)
	if _, err := s.Key("k3"); !errors.Is(err, signature.ErrUnknownKey) {
		t.Fatalf("k3 within a minute: %v, want ErrUnknownKey", err)
	}
	if n := srv.fetches.Load(); n != 2 {
		t.Fatalf("%d fetches, want still 2", n)
	}
	// Known keys are still served from the cache meanwhile.
	if _, err := s.Key("k1"); err != nil {
		t.Fatal(err)
	}

	// After the minute, k3 is looked for again, and is still unknown.
	c.advance(31 * time.Second)
	if _, err := s.Key("k3"); !errors.Is(err, signature.ErrUnknownKey) {
		t.Fatalf("k3 after a minute: %v, want ErrUnknownKey", err)
	}
	if n := srv.fetches.Load(); n != 3 {
		t.Fatalf("%d fetches, want 3", n)
	}

	// k1 withdrawn: gone after the next fetch.
	srv.serve(http.StatusOK, setOf(jwkOf("k2", &ks[1].PublicKey), jwkOf("k3", &ks[2].PublicKey)))
	c.advance(2 * time.Minute)
	if _, err := s.Key("k3"); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Key("k1"); !errors.Is(err, signature.ErrUnknownKey) {
		t.Fatalf("withdrawn k1: %v, want ErrUnknownKey", err)
	}
}

func TestServerDown(t *testing.T) {
	ks := testKeys()
	srv := newFake(t, setOf(jwkOf("k1", &ks[0].PublicKey)))
	c := newClock()
	s := New(srv.URL, srv.Client(), WithClock(c.now))
	if _, err := s.Key("k1"); err != nil {
		t.Fatal(err)
	}
	srv.Close()

	// An unknown kid while the server is down: unavailable, not unknown.
	c.advance(2 * time.Minute)
	if _, err := s.Key("k2"); !errors.Is(err, signature.ErrKeyUnavailable) {
		t.Fatalf("server down: %v, want ErrKeyUnavailable", err)
	}
	// Within the minute the failure is remembered, without a new attempt.
	if _, err := s.Key("k2"); !errors.Is(err, signature.ErrKeyUnavailable) {
		t.Fatalf("server down, rate-limited: %v, want ErrKeyUnavailable", err)
	}
	// The cached key keeps working, even past MaxAge when the background
	// refresh fails.
	c.advance(2 * time.Hour)
	for range 2 {
		k, err := s.Key("k1")
		if err != nil || !sameKey(k, &ks[0].PublicKey) {
			t.Fatalf("cached key while server down: %v", err)
		}
		settle(t, s)
	}
}

func TestNeverFetched(t *testing.T) {
	srv := newFake(t, nil)
	srv.Close()
	s := New(srv.URL, srv.Client())
	if _, err := s.Key("k1"); !errors.Is(err, signature.ErrKeyUnavailable) {
		t.Fatalf("err = %v, want ErrKeyUnavailable", err)
	}
	bad := New("http://[::1", nil)
	if _, err := bad.Key("k1"); !errors.Is(err, signature.ErrKeyUnavailable) {
		t.Fatalf("bad URL: err = %v, want ErrKeyUnavailable", err)
	}
}

func TestBadDocuments(t *testing.T) {
	ks := testKeys()
	small, err := rsa.GenerateKey(rand.Reader, 1024)
	if err != nil {
		t.Fatal(err)
	}
	good := setOf(jwkOf("k1", &ks[0].PublicKey))
	huge := append([]byte(`{"keys":[`), []byte(strings.Repeat(" ", MaxBytes))...)
	huge = append(huge, good[len(`{"keys":[`):]...)
	for _, tc := range []struct {
		name   string
		status int
		body   []byte
	}{
		{"HTTP 500", http.StatusInternalServerError, good},
		{"HTTP 404", http.StatusNotFound, nil},
		{"not JSON", http.StatusOK, []byte("<html>maintenance</html>")},
		{"truncated", http.StatusOK, good[:len(good)/2]},
		{"keys not an array", http.StatusOK, []byte(`{"keys":{}}`)},
		{"no keys", http.StatusOK, []byte(`{"keys":[]}`)},
		{"only an EC key", http.StatusOK, []byte(`{"keys":[{"kty":"EC","kid":"k1","crv":"P-256","x":"AA","y":"AA"}]}`)},
		{"only an encryption key", http.StatusOK, setOf(func() map[string]any { m := jwkOf("k1", &ks[0].PublicKey); m["use"] = "enc"; return m }())},
		{"only a 1024-bit key", http.StatusOK, setOf(jwkOf("k1", &small.PublicKey))},
		{"over 1 MiB", http.StatusOK, huge},
	} {
		t.Run(tc.name, func(t *testing.T) {
			srv := newFake(t, tc.body)
			srv.serve(tc.status, tc.body)
			c := newClock()
			s := New(srv.URL, srv.Client(), WithClock(c.now))
			_, err := s.Key("k1")
			if !errors.Is(err, signature.ErrKeyUnavailable) {
				t.Fatalf("err = %v, want ErrKeyUnavailable", err)
			}

			// And a bad answer after a good one keeps the good keys.
			srv.serve(http.StatusOK, good)
			c.advance(2 * time.Minute)
			if _, err := s.Key("k1"); err != nil {
				t.Fatal(err)
			}
			srv.serve(tc.status, tc.body)
			c.advance(2 * time.Minute)
			if _, err := s.Key("k2"); !errors.Is(err, signature.ErrKeyUnavailable) {
				t.Fatalf("unknown kid after a bad refresh: %v, want ErrKeyUnavailable", err)
			}
			if _, err := s.Key("k1"); err != nil {
				t.Fatalf("good key lost after a bad refresh: %v", err)
			}
		})
	}
}

func TestConcurrentCallersShareOneFetch(t *testing.T) {
	ks := testKeys()
	srv := newFake(t, setOf(jwkOf("k1", &ks[0].PublicKey), jwkOf("k2", &ks[1].PublicKey)))
	gate := make(chan struct{})
	srv.mu.Lock()
	srv.gate = gate
	srv.mu.Unlock()
	c := newClock()
	s := New(srv.URL, srv.Client(), WithClock(c.now))

	const n = 64
	var wg sync.WaitGroup
	errs := make(chan error, n)
	for i := range n {
		wg.Go(func() {
			kid := []string{"k1", "k2", "nope"}[i%3]
			_, err := s.Key(kid)
			if kid == "nope" {
				if !errors.Is(err, signature.ErrUnknownKey) {
					errs <- err
				}
				return
			}
			if err != nil {
				errs <- err
			}
		})
	}
	// Let every caller reach the wait, then answer.
	deadline := time.Now().Add(5 * time.Second)
	for srv.fetches.Load() == 0 && time.Now().Before(deadline) {
		time.Sleep(time.Millisecond)
	}
	time.Sleep(20 * time.Millisecond)
	close(gate)
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	if got := srv.fetches.Load(); got != 1 {
		t.Fatalf("%d fetches for %d concurrent callers, want 1", got, n)
	}
}

func TestTimeoutAndContext(t *testing.T) {
	ks := testKeys()
	srv := newFake(t, setOf(jwkOf("k1", &ks[0].PublicKey)))
	gate := make(chan struct{})
	t.Cleanup(func() { close(gate) })
	srv.mu.Lock()
	srv.gate = gate
	srv.mu.Unlock()

	s := New(srv.URL, srv.Client(), WithTimeout(50*time.Millisecond))
	start := time.Now()
	if _, err := s.Key("k1"); !errors.Is(err, signature.ErrKeyUnavailable) {
		t.Fatalf("hanging server: %v, want ErrKeyUnavailable", err)
	}
	if d := time.Since(start); d > 2*time.Second {
		t.Fatalf("took %v despite a 50 ms timeout", d)
	}

	s2 := New(srv.URL, srv.Client(), WithTimeout(time.Minute))
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Millisecond)
	defer cancel()
	_, err := s2.KeyContext(ctx, "k1")
	if !errors.Is(err, signature.ErrKeyUnavailable) || !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("cancelled wait: %v", err)
	}
}

func TestMaxAgeRefreshesInBackground(t *testing.T) {
	ks := testKeys()
	srv := newFake(t, setOf(jwkOf("k1", &ks[0].PublicKey)))
	c := newClock()
	s := New(srv.URL, srv.Client(), WithClock(c.now), WithMaxAge(time.Hour))
	if _, err := s.Key("k1"); err != nil {
		t.Fatal(err)
	}
	srv.serve(http.StatusOK, setOf(jwkOf("k2", &ks[1].PublicKey)))
	c.advance(59 * time.Minute)
	if _, err := s.Key("k1"); err != nil {
		t.Fatal(err)
	}
	settle(t, s)
	if n := srv.fetches.Load(); n != 1 {
		t.Fatalf("%d fetches before MaxAge, want 1", n)
	}
	c.advance(2 * time.Minute)
	// Served from the cache at once; the refresh runs behind it.
	if _, err := s.Key("k1"); err != nil {
		t.Fatal(err)
	}
	settle(t, s)
	if n := srv.fetches.Load(); n != 2 {
		t.Fatalf("%d fetches after MaxAge, want 2", n)
	}
	if _, err := s.Key("k1"); !errors.Is(err, signature.ErrUnknownKey) {
		t.Fatalf("k1 withdrawn: %v, want ErrUnknownKey", err)
	}
}

func TestRefresh(t *testing.T) {
	ks := testKeys()
	srv := newFake(t, setOf(jwkOf("k1", &ks[0].PublicKey)))
	c := newClock()
	s := New(srv.URL, srv.Client(), WithClock(c.now))
	for range 2 {
		if err := s.Refresh(context.Background()); err != nil {
			t.Fatal(err)
		}
	}
	if n := srv.fetches.Load(); n != 2 {
		t.Fatalf("Refresh ignores the interval: %d fetches, want 2", n)
	}
	srv.serve(http.StatusOK, []byte("x"))
	if err := s.Refresh(context.Background()); !errors.Is(err, ErrInvalid) {
		t.Fatalf("Refresh of garbage: %v", err)
	}
	if _, err := s.Key("k1"); err != nil {
		t.Fatal(err)
	}
}

// TestWithShipEngineVerifier is the path the receiver takes: a webhook
// signed with a key whose public half only the JWKS holds.
func TestWithShipEngineVerifier(t *testing.T) {
	ks := testKeys()
	srv := newFake(t, setOf(jwkOf("se-2026", &ks[2].PublicKey)))
	at := time.Date(2026, 11, 20, 8, 17, 0, 0, time.UTC)
	s := New(srv.URL, srv.Client())
	v, err := signature.NewShipEngine(s, signature.WithClock(func() time.Time { return at }))
	if err != nil {
		t.Fatal(err)
	}
	signer, err := signature.NewShipEngineSigner("se-2026", ks[2])
	if err != nil {
		t.Fatal(err)
	}
	body := []byte(`{"resource_type":"API_TRACK"}`)
	h, err := signer.Sign(body, at)
	if err != nil {
		t.Fatal(err)
	}
	if err := v.Verify(body, h); err != nil {
		t.Fatal(err)
	}
	h.Set(signature.HeaderShipEngineKeyID, "se-2027")
	if err := v.Verify(body, h); !errors.Is(err, signature.ErrUnknownKey) {
		t.Fatalf("unknown kid: %v", err)
	}
}

func TestParseKeys(t *testing.T) {
	ks := testKeys()
	pub := &ks[0].PublicKey
	n := base64.RawURLEncoding.EncodeToString(pub.N.Bytes())
	even := new(big.Int).Sub(pub.N, big.NewInt(1))
	for _, tc := range []struct {
		name string
		key  string
		ok   bool
	}{
		{"RSA sig", `{"kty":"RSA","kid":"a","use":"sig","n":"` + n + `","e":"AQAB"}`, true},
		{"no use", `{"kty":"RSA","kid":"a","n":"` + n + `","e":"AQAB"}`, true},
		{"padded base64url", `{"kty":"RSA","kid":"a","n":"` + n + `==","e":"AQAB"}`, true},
		{"use enc", `{"kty":"RSA","kid":"a","use":"enc","n":"` + n + `","e":"AQAB"}`, false},
		{"no kid", `{"kty":"RSA","n":"` + n + `","e":"AQAB"}`, false},
		{"kty lower case", `{"kty":"rsa","kid":"a","n":"` + n + `","e":"AQAB"}`, false},
		{"standard base64 n", `{"kty":"RSA","kid":"a","n":"` + base64.StdEncoding.EncodeToString(pub.N.Bytes()) + `","e":"AQAB"}`, strings.IndexAny(base64.StdEncoding.EncodeToString(pub.N.Bytes()), "+/") < 0},
		{"exponent 1", `{"kty":"RSA","kid":"a","n":"` + n + `","e":"AQ"}`, false},
		{"even exponent", `{"kty":"RSA","kid":"a","n":"` + n + `","e":"AQAA"}`, false},
		{"exponent too large", `{"kty":"RSA","kid":"a","n":"` + n + `","e":"AQAAAAE"}`, false},
		{"even modulus", `{"kty":"RSA","kid":"a","n":"` + base64.RawURLEncoding.EncodeToString(even.Bytes()) + `","e":"AQAB"}`, false},
		{"n missing", `{"kty":"RSA","kid":"a","e":"AQAB"}`, false},
		{"n wrong type", `{"kty":"RSA","kid":"a","n":1,"e":"AQAB"}`, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := Parse([]byte(`{"keys":[` + tc.key + `]}`))
			if tc.ok {
				if err != nil || !sameKey(got["a"], pub) {
					t.Fatalf("Parse = %v, %v", got, err)
				}
				return
			}
			if !errors.Is(err, ErrInvalid) {
				t.Fatalf("Parse = %v, %v; want ErrInvalid", got, err)
			}
		})
	}
	// A bad entry does not spoil the good one; the first of two kids wins.
	got, err := Parse(setOf(
		map[string]any{"kty": "EC", "kid": "x"},
		jwkOf("a", pub),
		jwkOf("a", &ks[1].PublicKey),
		jwkOf("b", &ks[1].PublicKey),
	))
	if err != nil || len(got) != 2 || !sameKey(got["a"], pub) || !sameKey(got["b"], &ks[1].PublicKey) {
		t.Fatalf("mixed set: %v, %v", got, err)
	}
}

func FuzzParse(f *testing.F) {
	ks := testKeys()
	f.Add(setOf(jwkOf("k1", &ks[0].PublicKey)))
	f.Add([]byte(`{"keys":[{"kty":"RSA","kid":"a","n":"AQAB","e":"AQAB"}]}`))
	f.Add([]byte(`{"keys":null}`))
	f.Add([]byte(`[]`))
	f.Fuzz(func(t *testing.T, data []byte) {
		keys, err := Parse(data)
		if err != nil {
			if !errors.Is(err, ErrInvalid) {
				t.Fatalf("error %v does not wrap ErrInvalid", err)
			}
			return
		}
		if len(keys) == 0 {
			t.Fatal("no error and no keys")
		}
		for kid, k := range keys {
			if kid == "" || k == nil || k.N.BitLen() < minBits || k.N.BitLen() > maxBits || k.E < 3 || k.E%2 == 0 {
				t.Fatalf("unusable key %q accepted: %d bits, e=%d", kid, k.N.BitLen(), k.E)
			}
		}
	})
}
