// Package jwks fetches a JSON Web Key Set (RFC 7517) over HTTP and caches
// its RSA signing keys by kid. It implements signature.KeySource for the
// ShipEngine verifier. It is the one part under signature/ that does I/O
// (an HTTP GET, a background refresh): package signature stays pure by
// taking its keys through that interface, and all the fetching is here.
//
// Keys are fetched on first use, again when a kid is not in the cache (that
// is how a key rotation reaches us), and in the background once the cache is
// older than MaxAge (so a key ShipEngine withdrew stops being accepted). A
// fetch happens at most once per MinInterval however many unknown kids
// arrive, so forged requests cannot turn the receiver into a load generator
// against the JWKS host; concurrent callers share one fetch. A failed fetch
// keeps the keys already known. The package never logs: errors go to the
// caller, which the receiver logs. Its clock is injectable (WithClock), so
// MinInterval and MaxAge follow the program's clock.
package jwks

import (
	"context"
	"crypto/rsa"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/big"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/trackhook/trackhook/signature"
)

// DefaultURL is where ShipEngine publishes its webhook signing keys
// (shared/reference/webhook-sources.md C1, SECONDARY).
const DefaultURL = "https://api.shipengine.com/jwks"

// Defaults.
const (
	DefaultTimeout     = 10 * time.Second
	DefaultMinInterval = time.Minute
	DefaultMaxAge      = time.Hour
	// MaxBytes bounds the JWKS document.
	MaxBytes = 1 << 20
)

// Key sizes accepted. Smaller keys are refused as too weak; larger ones as
// a way to make every verification expensive.
const (
	minBits = 2048
	maxBits = 8192
)

// ErrInvalid is wrapped by every error about the document itself (not JSON,
// too large, no usable key).
var ErrInvalid = errors.New("jwks: invalid key set")

// Source is a cached, refreshing JWKS. It is safe for concurrent use. The
// zero value is not usable; call New.
type Source struct {
	url         string
	client      *http.Client
	now         func() time.Time
	timeout     time.Duration
	minInterval time.Duration
	maxAge      time.Duration

	mu        sync.Mutex
	keys      map[string]*rsa.PublicKey
	fetchedAt time.Time // last successful fetch
	triedAt   time.Time // start of the last fetch, successful or not
	lastErr   error     // outcome of the last fetch
	inflight  *fetch    // the fetch running now, if any
}

// fetch is one fetch shared by every caller that needs it.
type fetch struct {
	done chan struct{}
	err  error
}

// Option configures New.
type Option func(*Source)

// WithClock sets the clock used for MinInterval and MaxAge (default time.Now).
func WithClock(now func() time.Time) Option { return func(s *Source) { s.now = now } }

// WithTimeout bounds one fetch, connection to last byte (default 10 s). It
// applies on top of the client's own Timeout, if any.
func WithTimeout(d time.Duration) Option { return func(s *Source) { s.timeout = d } }

// WithMinInterval sets the least time between two fetches (default 1 minute).
func WithMinInterval(d time.Duration) Option { return func(s *Source) { s.minInterval = d } }

// WithMaxAge sets how old the cached set may get before a background
// refresh (default 1 hour). Cached keys stay usable while it runs and if it
// fails.
func WithMaxAge(d time.Duration) Option { return func(s *Source) { s.maxAge = d } }

// New returns a Source for the JWKS at url. A nil client means a client with
// a 10-second timeout. Nothing is fetched until the first Key call (or
// Refresh).
func New(url string, client *http.Client, opts ...Option) *Source {
	if client == nil {
		client = &http.Client{Timeout: DefaultTimeout}
	}
	s := &Source{
		url:         url,
		client:      client,
		now:         time.Now,
		timeout:     DefaultTimeout,
		minInterval: DefaultMinInterval,
		maxAge:      DefaultMaxAge,
	}
	for _, o := range opts {
		o(s)
	}
	if s.now == nil {
		s.now = time.Now
	}
	if s.timeout <= 0 {
		s.timeout = DefaultTimeout
	}
	return s
}

// Key implements signature.KeySource. It waits at most the fetch timeout.
func (s *Source) Key(kid string) (*rsa.PublicKey, error) {
	return s.KeyContext(context.Background(), kid)
}

// KeyContext returns the key for kid, fetching the set when kid is unknown
// and the last fetch is at least MinInterval old. ctx bounds only the wait:
// the fetch itself is shared and bounded by the timeout. Errors wrap
// signature.ErrUnknownKey (the set, fetched or not allowed to be fetched
// yet, has no such kid) or signature.ErrKeyUnavailable (no key for kid and
// the set could not be fetched).
func (s *Source) KeyContext(ctx context.Context, kid string) (*rsa.PublicKey, error) {
	s.mu.Lock()
	now := s.now()
	if k, ok := s.keys[kid]; ok {
		if now.Sub(s.fetchedAt) >= s.maxAge {
			s.startLocked(now) // refresh in the background; k stays valid meanwhile
		}
		s.mu.Unlock()
		return k, nil
	}
	f := s.startLocked(now)
	if f == nil {
		// Fetched too recently to fetch again.
		err := s.missLocked(kid, s.lastErr)
		s.mu.Unlock()
		return nil, err
	}
	s.mu.Unlock()

	select {
	case <-f.done:
	case <-ctx.Done():
		return nil, fmt.Errorf("jwks: waiting for keys: %w: %w", signature.ErrKeyUnavailable, ctx.Err())
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if k, ok := s.keys[kid]; ok {
		return k, nil
	}
	return nil, s.missLocked(kid, f.err)
}

// Refresh fetches the set now, regardless of MinInterval, and waits for it
// (or joins a fetch already running). Use it to warm the cache at start-up
// or in a readiness check.
func (s *Source) Refresh(ctx context.Context) error {
	s.mu.Lock()
	f := s.inflight
	if f == nil {
		s.triedAt = time.Time{}
		f = s.startLocked(s.now())
	}
	s.mu.Unlock()
	select {
	case <-f.done:
		return f.err
	case <-ctx.Done():
		return fmt.Errorf("jwks: refresh: %w", ctx.Err())
	}
}

// missLocked is the error for a kid not in the cache, given the outcome of
// the latest fetch.
func (s *Source) missLocked(kid string, fetchErr error) error {
	if fetchErr != nil {
		return fmt.Errorf("jwks: kid %q: %w: %w", kid, signature.ErrKeyUnavailable, fetchErr)
	}
	return fmt.Errorf("jwks: kid %q: %w", kid, signature.ErrUnknownKey)
}

// startLocked returns the running fetch, or starts one if the last attempt
// is at least minInterval old; nil when neither. s.mu must be held.
func (s *Source) startLocked(now time.Time) *fetch {
	if s.inflight != nil {
		return s.inflight
	}
	if !s.triedAt.IsZero() && now.Sub(s.triedAt) < s.minInterval {
		return nil
	}
	f := &fetch{done: make(chan struct{})}
	s.inflight = f
	s.triedAt = now
	go s.run(f)
	return f
}

// run performs f, detached from any caller's context so that one caller
// giving up does not fail the others, and bounded by the timeout.
func (s *Source) run(f *fetch) {
	ctx, cancel := context.WithTimeout(context.Background(), s.timeout)
	defer cancel()
	keys, err := s.get(ctx)

	s.mu.Lock()
	if err == nil {
		s.keys = keys // replace: a key withdrawn from the set is dropped
		s.fetchedAt = s.now()
	}
	s.lastErr = err
	f.err = err
	s.inflight = nil
	s.mu.Unlock()
	close(f.done)
}

func (s *Source) get(ctx context.Context) (map[string]*rsa.PublicKey, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, s.url, nil)
	if err != nil {
		return nil, fmt.Errorf("jwks: request: %w", err)
	}
	req.Header.Set("Accept", "application/json, application/jwk-set+json")
	resp, err := s.client.Do(req)
	if err != nil {
		return nil, fmt.Errorf("jwks: fetch: %w", err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		// Drain a little so the connection can be reused.
		_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 4<<10))
		return nil, fmt.Errorf("jwks: fetch: HTTP %d", resp.StatusCode)
	}
	data, err := io.ReadAll(io.LimitReader(resp.Body, MaxBytes+1))
	if err != nil {
		return nil, fmt.Errorf("jwks: read: %w", err)
	}
	if len(data) > MaxBytes {
		return nil, fmt.Errorf("%w: larger than %d bytes", ErrInvalid, MaxBytes)
	}
	return Parse(data)
}

// jwk is the part of a JSON Web Key we read.
type jwk struct {
	Kty string `json:"kty"`
	Kid string `json:"kid"`
	Use string `json:"use"`
	N   string `json:"n"`
	E   string `json:"e"`
}

// Parse reads a JWK Set and returns its RSA signature keys by kid. Keys that
// are not RSA, are marked for another use than "sig", have no kid, or whose
// n or e do not decode to a usable key (modulus of 2048 to 8192 bits, odd
// exponent from 3 to 2^31-1) are skipped; the first of two keys with one kid
// wins. A set with no usable key is an error wrapping ErrInvalid, so a
// broken document never replaces working keys.
func Parse(data []byte) (map[string]*rsa.PublicKey, error) {
	if len(data) > MaxBytes {
		return nil, fmt.Errorf("%w: larger than %d bytes", ErrInvalid, MaxBytes)
	}
	var set struct {
		Keys []json.RawMessage `json:"keys"`
	}
	if err := json.Unmarshal(data, &set); err != nil {
		return nil, fmt.Errorf("%w: not a JWK Set: %v", ErrInvalid, err)
	}
	keys := make(map[string]*rsa.PublicKey)
	for _, raw := range set.Keys {
		var k jwk
		if json.Unmarshal(raw, &k) != nil {
			continue // one odd entry does not spoil the others
		}
		if k.Kty != "RSA" || (k.Use != "" && k.Use != "sig") || k.Kid == "" {
			continue
		}
		if _, dup := keys[k.Kid]; dup {
			continue
		}
		if pub, ok := rsaKey(k.N, k.E); ok {
			keys[k.Kid] = pub
		}
	}
	if len(keys) == 0 {
		return nil, fmt.Errorf("%w: no usable RSA signing key", ErrInvalid)
	}
	return keys, nil
}

func rsaKey(n64, e64 string) (*rsa.PublicKey, bool) {
	nb, err1 := b64url(n64)
	eb, err2 := b64url(e64)
	if err1 != nil || err2 != nil || len(eb) == 0 || len(eb) > 4 {
		return nil, false
	}
	n := new(big.Int).SetBytes(nb)
	if bits := n.BitLen(); bits < minBits || bits > maxBits || n.Bit(0) == 0 {
		return nil, false
	}
	e := 0
	for _, b := range eb {
		e = e<<8 | int(b)
	}
	if e < 3 || e > 1<<31-1 || e%2 == 0 {
		return nil, false
	}
	return &rsa.PublicKey{N: n, E: e}, true
}

// b64url decodes base64url, tolerating the padding RFC 7518 leaves out.
func b64url(s string) ([]byte, error) {
	return base64.RawURLEncoding.DecodeString(strings.TrimRight(s, "="))
}
