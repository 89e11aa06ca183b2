package signature

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"
)

// The official vector of Standard Webhooks (libraries/go/webhook_test.go
// TestWebhookSign; the same in the JS/PHP/Java/C# tests), recomputed with
// Python in shared/reference/webhook-sources.md G, and the known-bad value
// those tests use.
const (
	swSecret  = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
	swID      = "msg_p5jXN8AQM9LWM0D4loKWxJek"
	swTS      = "1614265330"
	swBody    = `{"test": 2432232314}`
	swSig     = "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="
	swBadSig  = "v1,Ceo5qEr07ixe2NLpvHk3FH9bwy/WavXrAFQ/9tdO6mc="
	swOtherSK = "whsec_dHJhY2tob29rLXJvdGF0aW9uLXNlY3JldCE=" // base64("trackhook-rotation-secret!")
)

var swAt = time.Unix(1614265330, 0)

func TestStandardWebhooksVerify(t *testing.T) {
	ka := knownAnswer[[]string]{
		keys: []string{swSecret}, body: []byte(swBody), at: swAt,
		header:   headers("webhook-id", swID, "webhook-timestamp", swTS, "webhook-signature", swSig),
		verifier: timed(NewStandardWebhooks),
	}
	runVerifyCases(t, ka, []verifyCase[[]string]{
		{name: "known answer"},
		{name: "bare base64 secret", keys: []string{strings.TrimPrefix(swSecret, "whsec_")}},
		{name: "rotation: old secret second", keys: []string{swOtherSK, swSecret}},
		{name: "rotation: old secret first", keys: []string{swSecret, swOtherSK}},
		{name: "multi signature, as in the official tests",
			mutate: setHeader(HeaderStandardSignature, strings.Join([]string{swBadSig, "v2,Ceo5qEr07ixe2NLpvHk3FH9bwy/WavXrAFQ/9tdO6mc=", swSig, swBadSig}, " "))},
		{name: "v1a and junk entries are skipped",
			mutate: setHeader(HeaderStandardSignature, "v1a,hnO3f9T8Ytu9HwrXslvumlUpqtNVqkhqw/enGzPCXe5BdqzCInXqYXFymVJaA7AZdpXwVLPo3mNl8EM+m7TBAg== garbage "+swSig)},
		{name: "known-bad signature", mutate: setHeader(HeaderStandardSignature, swBadSig), wantErr: ErrMismatch},
		{name: "wrong secret", keys: []string{swOtherSK}, wantErr: ErrMismatch},
		{name: "body changed", mutate: setBody(`{"test":2432232314}`), wantErr: ErrMismatch}, // the space removed
		{name: "id changed", mutate: setHeader(HeaderStandardID, swID+"x"), wantErr: ErrMismatch},
		{name: "timestamp changed", mutate: setHeader(HeaderStandardTimestamp, "1614265331"), wantErr: ErrMismatch},
		{name: "signature under another version", mutate: setHeader(HeaderStandardSignature, "v2"+swSig[2:]), wantErr: ErrMalformedHeader},
		{name: "missing signature", mutate: delHeader(HeaderStandardSignature), wantErr: ErrNoSignature},
		{name: "missing id", mutate: delHeader(HeaderStandardID), wantErr: ErrMalformedHeader},
		{name: "missing timestamp", mutate: delHeader(HeaderStandardTimestamp), wantErr: ErrMalformedHeader},
		{name: "timestamp not an integer", mutate: setHeader(HeaderStandardTimestamp, "1614265330.0"), wantErr: ErrMalformedHeader},
		{name: "signature without version", mutate: setHeader(HeaderStandardSignature, strings.TrimPrefix(swSig, "v1,")), wantErr: ErrMalformedHeader},
		{name: "signature not base64", mutate: setHeader(HeaderStandardSignature, "v1,not-base64!"), wantErr: ErrMalformedHeader},
		{name: "signature truncated", mutate: setHeader(HeaderStandardSignature, "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJE"), wantErr: ErrMalformedHeader},
		{name: "5 minutes old is accepted", mutate: clockAt(swAt.Add(5 * time.Minute))},
		{name: "too old", mutate: clockAt(swAt.Add(5*time.Minute + time.Second)), wantErr: ErrTooOld},
		{name: "too new", mutate: clockAt(swAt.Add(-5*time.Minute - time.Second)), wantErr: ErrTooNew},
		{name: "wider tolerance", opts: []Option{WithTolerance(time.Hour)}, mutate: clockAt(swAt.Add(-30 * time.Minute))},
	})
}

func TestStandardWebhooksRefusesBadSecrets(t *testing.T) {
	for _, secrets := range [][]string{nil, {""}, {"  "}, {swSecret, ""}, {"whsec_"}, {"whsec_not base64!"}, {"whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaS"}} {
		if _, err := NewStandardWebhooks(secrets); !errors.Is(err, ErrNoSecret) {
			t.Errorf("NewStandardWebhooks(%q) error = %v, want ErrNoSecret", secrets, err)
		}
	}
}

func TestStandardWebhooksRefusesBadOptions(t *testing.T) {
	for name, opt := range map[string]Option{
		"nil clock":          WithClock(nil),
		"zero tolerance":     WithTolerance(0),
		"negative tolerance": WithTolerance(-time.Minute),
	} {
		if v, err := NewStandardWebhooks([]string{swSecret}, opt); v != nil || !errors.Is(err, ErrInvalidOption) {
			t.Errorf("%s: NewStandardWebhooks = %v, %v; want ErrInvalidOption", name, v, err)
		}
	}
}

func TestStandardWebhooksSignMessageMatchesVector(t *testing.T) {
	v, err := NewStandardWebhooks([]string{swSecret, swOtherSK})
	if err != nil {
		t.Fatal(err)
	}
	got, err := v.SignMessage(swID, swAt, []byte(swBody))
	if err != nil {
		t.Fatal(err)
	}
	if got != swSig {
		t.Fatalf("SignMessage = %q, want the official %q", got, swSig)
	}
	if _, err := v.SignMessage("", swAt, nil); !errors.Is(err, ErrMalformedHeader) {
		t.Fatalf("empty id: %v", err)
	}
}

func TestStandardWebhooksSignRoundTrip(t *testing.T) {
	v, err := NewStandardWebhooks([]string{swSecret}, WithClock(frozenAt(swAt)))
	if err != nil {
		t.Fatal(err)
	}
	body := []byte(`{"type":"tracking.updated","data":{}}`)
	h1, err := v.Sign(body, swAt)
	if err != nil {
		t.Fatal(err)
	}
	if err := v.Verify(body, h1); err != nil {
		t.Fatalf("own signature does not verify: %v", err)
	}
	if h1.Get(HeaderStandardTimestamp) != swTS || !strings.HasPrefix(h1.Get(HeaderStandardID), "msg_") {
		t.Fatalf("headers %v", h1)
	}
	h2, _ := v.Sign(body, swAt.Add(time.Minute))
	if h1.Get(HeaderStandardID) != h2.Get(HeaderStandardID) {
		t.Fatalf("the same body got two message ids: %q, %q", h1.Get(HeaderStandardID), h2.Get(HeaderStandardID))
	}
}

func FuzzStandardWebhooksVerify(f *testing.F) {
	f.Add([]byte(swBody), swID, swTS, swSig)
	f.Add([]byte(swBody), swID, swTS, swBadSig+" "+swSig)
	f.Add([]byte(""), "", "", "")
	f.Add([]byte("x"), "a.b", "+1", "v1,  v1a,xx v1,=")
	f.Add([]byte(swBody), swID, "01614265330", swSig)
	for _, fx := range fixtures(f, "standard") {
		f.Add(fx.body, fx.h.Get(HeaderStandardID), fx.h.Get(HeaderStandardTimestamp), fx.h.Get(HeaderStandardSignature))
	}
	key, _ := base64.StdEncoding.DecodeString(strings.TrimPrefix(swSecret, "whsec_"))
	v, err := NewStandardWebhooks([]string{swSecret}, WithClock(frozenAt(swAt)))
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, body []byte, id, ts, sigs string) {
		h := http.Header{}
		h.Set(HeaderStandardID, id)
		h.Set(HeaderStandardTimestamp, ts)
		h.Set(HeaderStandardSignature, sigs)
		err := v.Verify(body, h)
		if err == nil {
			// Some v1 entry must be the HMAC of id.ts.body, computed here
			// with the standard library.
			m := hmac.New(sha256.New, key)
			m.Write([]byte(strings.TrimSpace(id) + "." + strings.TrimSpace(ts) + "."))
			m.Write(body)
			want := "v1," + base64.StdEncoding.EncodeToString(m.Sum(nil))
			for _, e := range strings.Fields(sigs) {
				if e == want {
					return
				}
			}
			t.Fatalf("accepted %q for id %q ts %q", sigs, id, ts)
		}
		for _, s := range []error{ErrNoSignature, ErrMalformedHeader, ErrMismatch, ErrTooOld, ErrTooNew} {
			if errors.Is(err, s) {
				return
			}
		}
		t.Fatalf("error %v wraps no sentinel", err)
	})
}
