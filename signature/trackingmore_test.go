package signature

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"
)

// The official vector from TrackingMore's webhook page (Go example), as
// copied in shared/reference/webhook-sources.md B1 and recomputed there with
// Python: HMAC-SHA256(secret, timestamp), lowercase hex.
const (
	tmSecret = "2e55b9a3-4dd1-4416-9897-c4bd1e3d738f"
	tmTS     = "1662371528"
	tmSig    = "a37084ab68ae16b77db1f8463f31be9fcc965e2515e03efecf8139bb1e511b06"
	// Self-computed with Python (hmac.new(secret, b"1662371528000",
	// sha256).hexdigest()): the same instant in milliseconds.
	tmTSMilli  = "1662371528000"
	tmSigMilli = "a2caca09469cb0545cfdf207107856386bbf6e0136d6d9260a8fbb3794b41d4d"
)

var tmAt = time.Unix(1662371528, 0)

func TestTrackingMoreVerify(t *testing.T) {
	ka := knownAnswer[[]string]{
		keys: []string{tmSecret}, body: []byte(`{"code":200,"message":"Success","data":{}}`),
		header: headers(HeaderTrackingMoreTimestamp, tmTS, HeaderTrackingMoreSignature, tmSig), at: tmAt,
		verifier: timed(NewTrackingMore),
	}
	runVerifyCases(t, ka, []verifyCase[[]string]{
		{name: "known answer"},
		{name: "known answer, clock 4m59s later", mutate: clockAt(tmAt.Add(4*time.Minute + 59*time.Second))},
		{name: "rotation: old secret second", keys: []string{"new-secret", tmSecret}},
		{name: "rotation: old secret first", keys: []string{tmSecret, "new-secret"}},
		{name: "upper-case hex", mutate: setHeader(HeaderTrackingMoreSignature, "A37084AB68AE16B77DB1F8463F31BE9FCC965E2515E03EFECF8139BB1E511B06")},
		{name: "milliseconds timestamp", mutate: then(setHeader(HeaderTrackingMoreTimestamp, tmTSMilli), setHeader(HeaderTrackingMoreSignature, tmSigMilli))},
		// The body is not signed (documented weakness of the scheme).
		{name: "body changed still verifies", mutate: setBody(`{"forged":true}`)},
		{name: "wrong secret", keys: []string{"other"}, wantErr: ErrMismatch},
		{name: "timestamp changed", mutate: setHeader(HeaderTrackingMoreTimestamp, "1662371529"), wantErr: ErrMismatch},
		{name: "timestamp with leading zero", mutate: setHeader(HeaderTrackingMoreTimestamp, "01662371528"), wantErr: ErrMismatch},
		{name: "missing signature", mutate: delHeader(HeaderTrackingMoreSignature), wantErr: ErrNoSignature},
		{name: "missing timestamp", mutate: delHeader(HeaderTrackingMoreTimestamp), wantErr: ErrMalformedHeader},
		{name: "timestamp not digits", mutate: setHeader(HeaderTrackingMoreTimestamp, "2022-09-05T09:52:08Z"), wantErr: ErrMalformedHeader},
		{name: "negative timestamp", mutate: setHeader(HeaderTrackingMoreTimestamp, "-1662371528"), wantErr: ErrMalformedHeader},
		{name: "signature not hex", mutate: setHeader(HeaderTrackingMoreSignature, "zz"+tmSig[2:]), wantErr: ErrMalformedHeader},
		{name: "base64 instead of hex", mutate: setHeader(HeaderTrackingMoreSignature, "o3CEq2iuFrd9sfhGPzG+n8yWXiUV4D7+z4E5ux5RGwY="), wantErr: ErrMalformedHeader},
		{name: "truncated signature", mutate: setHeader(HeaderTrackingMoreSignature, tmSig[:62]), wantErr: ErrMalformedHeader},
		{name: "too old", mutate: clockAt(tmAt.Add(5*time.Minute + time.Second)), wantErr: ErrTooOld},
		{name: "too new", mutate: clockAt(tmAt.Add(-5*time.Minute - time.Second)), wantErr: ErrTooNew},
		{name: "too old with a wrong secret is a mismatch", keys: []string{"other"}, mutate: clockAt(tmAt.Add(time.Hour)), wantErr: ErrMismatch},
		{name: "wider tolerance", opts: []Option{WithTolerance(time.Hour)}, mutate: clockAt(tmAt.Add(50 * time.Minute))},
		{name: "narrower tolerance", opts: []Option{WithTolerance(time.Second)}, mutate: clockAt(tmAt.Add(2 * time.Second)), wantErr: ErrTooOld},
	})
}

func TestTrackingMoreDefaultClockRejectsOldVector(t *testing.T) {
	v, err := NewTrackingMore([]string{tmSecret})
	if err != nil {
		t.Fatal(err)
	}
	h := http.Header{}
	h.Set(HeaderTrackingMoreTimestamp, tmTS)
	h.Set(HeaderTrackingMoreSignature, tmSig)
	if err := v.Verify(nil, h); !errors.Is(err, ErrTooOld) {
		t.Fatalf("a 2022 timestamp against the real clock: %v, want ErrTooOld", err)
	}
}

func TestTrackingMoreRefusesEmptySecret(t *testing.T) {
	for _, secrets := range [][]string{nil, {""}, {"good", ""}} {
		if _, err := NewTrackingMore(secrets); !errors.Is(err, ErrNoSecret) {
			t.Errorf("NewTrackingMore(%q) error = %v, want ErrNoSecret", secrets, err)
		}
	}
}

func TestTrackingMoreRefusesBadOptions(t *testing.T) {
	for name, opt := range map[string]Option{
		"nil clock":          WithClock(nil),
		"zero tolerance":     WithTolerance(0),
		"negative tolerance": WithTolerance(-time.Minute),
	} {
		if v, err := NewTrackingMore([]string{tmSecret}, opt); v != nil || !errors.Is(err, ErrInvalidOption) {
			t.Errorf("%s: NewTrackingMore = %v, %v; want ErrInvalidOption", name, v, err)
		}
	}
}

func TestTrackingMoreSignMatchesVector(t *testing.T) {
	v, err := NewTrackingMore([]string{tmSecret, "older"})
	if err != nil {
		t.Fatal(err)
	}
	h, err := v.Sign([]byte("ignored"), tmAt)
	if err != nil {
		t.Fatal(err)
	}
	if h.Get(HeaderTrackingMoreTimestamp) != tmTS || h.Get(HeaderTrackingMoreSignature) != tmSig {
		t.Fatalf("Sign = %v, want the published %s / %s", h, tmTS, tmSig)
	}
}

func TestTrackingMoreTime(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want time.Time
		ok   bool
	}{
		{"1662371528", tmAt, true},
		{"1662371528000", tmAt, true},
		{"1662371528123", tmAt.Add(123 * time.Millisecond), true},
		{"0", time.Unix(0, 0), true},
		{"", time.Time{}, false},
		{"+1662371528", time.Time{}, false},
		{"1662371528.5", time.Time{}, false},
		{"9999999999999999999", time.Time{}, false},
	} {
		got, ok := TrackingMoreTime(tc.in)
		if ok != tc.ok || !got.Equal(tc.want) {
			t.Errorf("TrackingMoreTime(%q) = %v, %v; want %v, %v", tc.in, got, ok, tc.want, tc.ok)
		}
	}
}

func FuzzTrackingMoreVerify(f *testing.F) {
	f.Add(tmTS, tmSig)
	f.Add(tmTSMilli, tmSigMilli)
	f.Add("", "")
	f.Add("1662371528 ", " "+tmSig)
	f.Add("-0", "00")
	f.Add("99999999999999999999", tmSig)
	for _, fx := range fixtures(f, "trackingmore") {
		f.Add(fx.h.Get(HeaderTrackingMoreTimestamp), fx.h.Get(HeaderTrackingMoreSignature))
	}
	v, err := NewTrackingMore([]string{tmSecret}, WithClock(frozenAt(tmAt)))
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, ts, sig string) {
		h := http.Header{}
		h.Set(HeaderTrackingMoreTimestamp, ts)
		h.Set(HeaderTrackingMoreSignature, sig)
		err := v.Verify(nil, h)
		if err == nil {
			// Only the real HMAC of the (trimmed) timestamp, computed here
			// with the standard library, may pass.
			m := hmac.New(sha256.New, []byte(tmSecret))
			m.Write([]byte(strings.TrimSpace(ts)))
			got, _ := hex.DecodeString(strings.TrimSpace(sig))
			if !hmac.Equal(m.Sum(nil), got) {
				t.Fatalf("accepted ts %q with a signature that is not its HMAC: %q", ts, sig)
			}
			return
		}
		for _, s := range []error{ErrNoSignature, ErrMalformedHeader, ErrMismatch, ErrTooOld, ErrTooNew} {
			if errors.Is(err, s) {
				return
			}
		}
		t.Fatalf("error %v wraps no sentinel", err)
	})
}
