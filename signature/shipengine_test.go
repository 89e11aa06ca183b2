package signature

import (
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/base64"
	"encoding/pem"
	"errors"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"
)

// ShipEngine publishes no test vector (the key is theirs;
// shared/reference/webhook-sources.md C1). These were made with openssl,
// independently of this package, from a throwaway 2048-bit key whose
// private half was deleted:
//
//	printf '%s.%s' "$TS" "$BODY" | openssl dgst -sha256 -sign key.pem -binary | base64 -w0
//
// BODY is the reference's C3 sample, compacted; TS once ISO 8601, once unix
// seconds (the same instant).
const (
	seKID    = "se-test-2025"
	sePubPEM = `-----BEGIN PUBLIC KEY-----
MIIBIjANBgkqhkiG9w0BAQEFAAOCAQ8AMIIBCgKCAQEAmE0TUOy2szTxSemTdEdg
dEXr5lED2uNG3gUzaVE1dErFC8toQ9kVnrtjvaQu4ogC0avELXiYmdngTAtKXBlh
QZ4muOvr19ew+sdCzd5GHuyn+HosO6reQ0PlQEIAgYYRWl+19EPVx0EvM6hfo8eU
YTGzST/NoxLqhOOEv2uxqNSYnuFriHm75S6KnejlK8xghKjy2vUkPptnfVHP7t/M
AzNxJtjRjkOAilC2i2ZKAzqL89JkZJ5a+EKcQdZz2oFDjhvV//MP6J9vX3OqQxis
Ma+pkVmNgHfPwo5hCT8SjpjSTeitXpn0RrzYIH6TDp9kNRZwpW5J8HujROrJR/Ke
NwIDAQAB
-----END PUBLIC KEY-----`
	seBody   = `{"resource_url":"https://api.shipengine.com/v1/tracking?carrier_code=ups&tracking_number=1Z9634841399247181","resource_type":"API_TRACK","data":{"tracking_number":"1Z9634841399247181","status_code":"IT","status_description":"In Transit","carrier_status_code":"NT","carrier_status_description":"Your package is moving within the UPS network","ship_date":"2025-10-22T16:09:00","estimated_delivery_date":"2025-10-23T00:00:00","actual_delivery_date":null,"exception_description":null,"events":[{"occurred_at":"2025-10-22T20:00:00Z","carrier_occurred_at":"2025-10-22T16:00:00","description":"In Transit","city_locality":"Oakland","state_province":"CA","postal_code":"94602","country_code":"US","event_code":"IT","signer":""}]}}`
	seTS     = "2025-10-22T20:05:00Z"
	seSig    = "fR8rvGl6fjZL0kxsNFUVT8BaPjMn8Zn++d2fF9Zja1gvCKTUu4M4X/mAYLnH46rYNB+r6pHZU44a4MyXrUploe06bm0hwmmbibyUd5dOYJfKihEIl7SCyMTUFxcCnB9Mw/62YU4dY+scCduf/5By1WYbMckzVjiQrX21yzOGE4H9g3czMMmeW8HzIj/y5D3a4N3R+dkTvvZwKbMturD726XEfPHV01rGv9EIpoPD/2ibzAe5SeGj1tJ5Lvn3BjER2tZtX6SL1UpuFZC5jTxx1rG5gHLXl2N220bG/1gsk54pUoGKBZ9O77ky+fZNukTyFjxKIiGRqZ3OiLe+maNISA=="
	seTSUnix = "1761163500"
	seSigUnx = "CXpiHmEyH0QV9iMZlsquaOPMpI60fWoJkWP7oVg0sfJgkKXM9tpAobxa60bFG34C+Ds1w+pDBbS9TTWrXj3r/lKh45TDW7HFDEPzYATpdgkZt4RlYDhaXzliA8FEbLt5y/F9OXT1PHAHq2oPzFbu3L/nogBAYQRocV7770lRXjP4Ayakfq3Wf1h9Utvuqu0fmPR1OVF+R6VOVEhrNAqyKGHyuO3/lZCi+nh/J/RydXaZqHHiVFuc4t3vvnQ3rK5Kj+xhWpacbJPA3vbe85rBFzSm7BgtQoYEbKtUC/QFHm1LtB16G/5w0soGgrhGA81mogSbMPOeLu8I+nqAbf8VMA=="
)

var seAt = time.Date(2025, 10, 22, 20, 5, 0, 0, time.UTC)

func sePub(tb testing.TB) *rsa.PublicKey {
	tb.Helper()
	blk, _ := pem.Decode([]byte(sePubPEM))
	if blk == nil {
		tb.Fatal("bad PEM")
	}
	k, err := x509.ParsePKIXPublicKey(blk.Bytes)
	if err != nil {
		tb.Fatal(err)
	}
	return k.(*rsa.PublicKey)
}

// seOtherKey is a key generated per test run, for rotation and wrong-key cases.
var seOtherKey = sync.OnceValue(func() *rsa.PrivateKey {
	k, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		panic(err)
	}
	return k
})

func seClockAt(t time.Time) Option { return WithClock(frozenAt(t)) }

// failingKeys is a key source whose fetch always fails.
type failingKeys struct{ err error }

func (f failingKeys) Key(string) (*rsa.PublicKey, error) { return nil, f.err }

func TestShipEngineVerify(t *testing.T) {
	pub := sePub(t)
	other := &seOtherKey().PublicKey
	ka := knownAnswer[KeySource]{
		keys: KeyMap{seKID: pub}, body: []byte(seBody), at: seAt,
		header: headers(HeaderShipEngineKeyID, seKID, HeaderShipEngineSignature, seSig, HeaderShipEngineTimestamp, seTS),
		verifier: func(keys KeySource, now func() time.Time, opts []Option) (Verifier, error) {
			return NewShipEngine(keys, append([]Option{WithClock(now)}, opts...)...)
		},
	}
	unixVector := then(setHeader(HeaderShipEngineTimestamp, seTSUnix), setHeader(HeaderShipEngineSignature, seSigUnx))
	runVerifyCases(t, ka, []verifyCase[KeySource]{
		{name: "known answer, ISO 8601 timestamp"},
		{name: "known answer, unix seconds timestamp", mutate: unixVector},
		{name: "URL-safe alphabet, unpadded", mutate: setHeader(HeaderShipEngineSignature, strings.TrimRight(strings.NewReplacer("+", "-", "/", "_").Replace(seSig), "="))},
		{name: "standard alphabet, unpadded", mutate: setHeader(HeaderShipEngineSignature, strings.TrimRight(seSig, "="))},
		{name: "rotation: kid names the old key", keys: KeyMap{"new": other, seKID: pub}},
		{name: "edge of the window, old side", mutate: clockAt(seAt.Add(5 * time.Minute))},
		{name: "edge of the window, new side", mutate: clockAt(seAt.Add(-5 * time.Minute))},
		{name: "wider tolerance", opts: []Option{WithTolerance(10 * time.Minute)}, mutate: clockAt(seAt.Add(9 * time.Minute))},
		{name: "kid names another key", keys: KeyMap{seKID: other}, wantErr: ErrMismatch},
		{name: "unknown kid", keys: KeyMap{"other": pub}, wantErr: ErrUnknownKey},
		{name: "key source down", keys: failingKeys{ErrKeyUnavailable}, wantErr: ErrKeyUnavailable},
		{name: "key source error without sentinel fails closed", keys: failingKeys{errors.New("boom")}, wantErr: ErrKeyUnavailable},
		{name: "body changed", mutate: replaceInBody(`"IT"`, `"DE"`), wantErr: ErrMismatch},
		{name: "trailing newline added", mutate: appendNewline, wantErr: ErrMismatch},
		{name: "timestamp rewritten to the same instant", mutate: setHeader(HeaderShipEngineTimestamp, "2025-10-22T20:05:00.000Z"), wantErr: ErrMismatch},
		{name: "signature of the other timestamp", mutate: setHeader(HeaderShipEngineSignature, seSigUnx), wantErr: ErrMismatch},
		{name: "truncated signature", mutate: setHeader(HeaderShipEngineSignature, seSig[:40]), wantErr: ErrMismatch},
		{name: "missing key id", mutate: delHeader(HeaderShipEngineKeyID), wantErr: ErrNoSignature},
		{name: "missing signature", mutate: delHeader(HeaderShipEngineSignature), wantErr: ErrNoSignature},
		{name: "missing timestamp", mutate: delHeader(HeaderShipEngineTimestamp), wantErr: ErrNoSignature},
		{name: "empty signature", mutate: setHeader(HeaderShipEngineSignature, " "), wantErr: ErrNoSignature},
		{name: "signature not base64", mutate: setHeader(HeaderShipEngineSignature, "not base64!"), wantErr: ErrMalformedHeader},
		{name: "signature mixes alphabets", mutate: setHeader(HeaderShipEngineSignature, "ab+c-d=="), wantErr: ErrMalformedHeader},
		{name: "timestamp not a time", mutate: setHeader(HeaderShipEngineTimestamp, "yesterday"), wantErr: ErrMalformedHeader},
		{name: "negative unix timestamp", mutate: setHeader(HeaderShipEngineTimestamp, "-1761163500"), wantErr: ErrMalformedHeader},
		{name: "key id with white space inside", mutate: setHeader(HeaderShipEngineKeyID, "se test"), wantErr: ErrMalformedHeader},
		{name: "key id too long", mutate: setHeader(HeaderShipEngineKeyID, strings.Repeat("k", 201)), wantErr: ErrMalformedHeader},
		{name: "too old", mutate: clockAt(seAt.Add(5*time.Minute + time.Second)), wantErr: ErrTooOld},
		{name: "too new", mutate: clockAt(seAt.Add(-5*time.Minute - time.Second)), wantErr: ErrTooNew},
		{name: "unix timestamp too old", mutate: then(clockAt(seAt.Add(time.Hour)), unixVector), wantErr: ErrTooOld},
	})
}

func TestShipEngineRefusesMissingKeys(t *testing.T) {
	var nilMap KeyMap
	for name, tc := range map[string]struct {
		keys KeySource
		opts []Option
		want error
	}{
		"nil key source":     {keys: nil, want: ErrNoSecret},
		"nil key map":        {keys: nilMap, want: ErrNoSecret},
		"empty key map":      {keys: KeyMap{}, want: ErrNoSecret},
		"zero tolerance":     {keys: KeyMap{seKID: sePub(t)}, opts: []Option{WithTolerance(0)}, want: ErrInvalidOption},
		"negative tolerance": {keys: KeyMap{seKID: sePub(t)}, opts: []Option{WithTolerance(-time.Minute)}, want: ErrInvalidOption},
		"nil clock":          {keys: KeyMap{seKID: sePub(t)}, opts: []Option{WithClock(nil)}, want: ErrInvalidOption},
	} {
		v, err := NewShipEngine(tc.keys, tc.opts...)
		if err == nil || v != nil {
			t.Errorf("%s: NewShipEngine accepted it", name)
			continue
		}
		if !errors.Is(err, tc.want) {
			t.Errorf("%s: error %v, want %v", name, err, tc.want)
		}
	}
	if _, err := NewShipEngineSigner("", seOtherKey()); !errors.Is(err, ErrNoSecret) {
		t.Errorf("signer without kid: %v", err)
	}
	if _, err := NewShipEngineSigner("k", nil); !errors.Is(err, ErrNoSecret) {
		t.Errorf("signer without key: %v", err)
	}
}

// TestShipEngineSignRoundTrip checks that what the signer produces is what
// the verifier accepts; the known answers above are what tie both to
// ShipEngine's scheme.
func TestShipEngineSignRoundTrip(t *testing.T) {
	key := seOtherKey()
	s, err := NewShipEngineSigner("k2", key)
	if err != nil {
		t.Fatal(err)
	}
	at := time.Date(2026, 11, 20, 8, 17, 0, 0, time.UTC)
	h, err := s.Sign([]byte(seBody), at)
	if err != nil {
		t.Fatal(err)
	}
	if got := h.Get(HeaderShipEngineTimestamp); got != "2026-11-20T08:17:00Z" {
		t.Fatalf("timestamp %q", got)
	}
	if _, err := base64.StdEncoding.DecodeString(h.Get(HeaderShipEngineSignature)); err != nil {
		t.Fatalf("signature not standard base64: %v", err)
	}
	v, err := NewShipEngine(KeyMap{"k2": &key.PublicKey}, seClockAt(at.Add(time.Minute)))
	if err != nil {
		t.Fatal(err)
	}
	if err := v.Verify([]byte(seBody), h); err != nil {
		t.Fatal(err)
	}
}

func TestParseShipEngineTime(t *testing.T) {
	want := seAt
	for _, v := range []string{
		"2025-10-22T20:05:00Z", "2025-10-22T20:05:00.000Z", "2025-10-22T20:05:00.0000000Z",
		"2025-10-22T22:05:00+02:00", "2025-10-22T22:05:00+0200", "2025-10-22T20:05:00", "1761163500", " 1761163500 ",
	} {
		got, ok := ParseShipEngineTime(v)
		if !ok || !got.Equal(want) {
			t.Errorf("ParseShipEngineTime(%q) = %v, %v; want %v", v, got, ok, want)
		}
	}
	for _, v := range []string{"", "x", "2025-10-22", "1761163500.5", "+1761163500", "0x10", "2025-13-22T20:05:00Z", "9999999999999"} {
		if got, ok := ParseShipEngineTime(v); ok {
			t.Errorf("ParseShipEngineTime(%q) = %v, want failure", v, got)
		}
	}
}

func FuzzShipEngineVerify(f *testing.F) {
	f.Add([]byte(seBody), seKID, seSig, seTS)
	f.Add([]byte(seBody), seKID, seSigUnx, seTSUnix)
	f.Add([]byte(seBody), seKID, strings.NewReplacer("+", "-", "/", "_").Replace(seSig), seTS)
	f.Add([]byte("{}"), "", "", "")
	f.Add([]byte("x"), "k", "====", "2025-10-22T20:05:00.123456789+00:00")
	for _, fx := range fixtures(f, "shipengine") {
		f.Add(fx.body, fx.h.Get(HeaderShipEngineKeyID), fx.h.Get(HeaderShipEngineSignature), fx.h.Get(HeaderShipEngineTimestamp))
	}
	pub := sePub(f)
	v, err := NewShipEngine(KeyMap{seKID: pub}, seClockAt(seAt))
	if err != nil {
		f.Fatal(err)
	}
	signed := map[string]bool{seTS + "." + seBody: true, seTSUnix + "." + seBody: true}
	f.Fuzz(func(t *testing.T, body []byte, kid, sig, ts string) {
		h := http.Header{}
		h.Set(HeaderShipEngineKeyID, kid)
		h.Set(HeaderShipEngineSignature, sig)
		h.Set(HeaderShipEngineTimestamp, ts)
		err := v.Verify(body, h)
		if err == nil {
			// Only the messages openssl signed can pass: nobody else has
			// the private key.
			if !signed[strings.TrimSpace(ts)+"."+string(body)] {
				t.Fatalf("accepted an unsigned message: ts %q body %q", ts, body)
			}
			return
		}
		for _, s := range []error{ErrNoSignature, ErrMalformedHeader, ErrMismatch, ErrTooOld, ErrTooNew, ErrUnknownKey, ErrKeyUnavailable} {
			if errors.Is(err, s) {
				return
			}
		}
		t.Fatalf("error %v wraps no sentinel", err)
	})
}
