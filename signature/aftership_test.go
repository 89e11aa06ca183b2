package signature

import (
	"errors"
	"net/http"
	"testing"
	"time"
)

// The vector from shared/reference/webhook-sources.md A6 (self-computed by the
// reference's author with openssl and Python; AfterShip publishes none).
const (
	asSecret = "your_webhook_secret"
	asBody   = `{"event":"tracking_update","event_id":"94dadd60-ed26-46d0-aa52-3ced925a50ff","is_tracking_first_tag":true,"msg":{"tracking_number":"0000000000000000","slug":"usps","tag":"Delivered","subtag":"Delivered_001","subtag_message":"Delivered","order_number":"ORD-1001"},"ts":1712741696}`
	asSig    = "+3xeJt0zkkmj1zCFoTBMOc+abMKgZ44GOkZu9DdDHGM="
)

func TestAfterShipVerify(t *testing.T) {
	ka := knownAnswer[[]string]{
		keys: []string{asSecret}, body: []byte(asBody), header: headers(HeaderAfterShip, asSig),
		verifier: untimed(NewAfterShip),
	}
	runVerifyCases(t, ka, []verifyCase[[]string]{
		{name: "known answer"},
		{name: "rotation: old secret second", keys: []string{"new-secret", asSecret}},
		{name: "rotation: old secret first", keys: []string{asSecret, "new-secret"}},
		{name: "wrong secret", keys: []string{"other"}, wantErr: ErrMismatch},
		{name: "body changed", mutate: func(b *[]byte, _ http.Header, _ *time.Time) { (*b)[10] = 'X' }, wantErr: ErrMismatch},
		{name: "trailing newline added", mutate: appendNewline, wantErr: ErrMismatch},
		{name: "missing header", mutate: delHeader(HeaderAfterShip), wantErr: ErrNoSignature},
		{name: "not base64", mutate: setHeader(HeaderAfterShip, "not base64!"), wantErr: ErrMalformedHeader},
		{name: "hex instead of base64", mutate: setHeader(HeaderAfterShip, "fb7c5e26dd3392498f5f5085a13060ce3f9a6cc2a0678e063a466ef4374731c6"), wantErr: ErrMalformedHeader},
		{name: "truncated signature", mutate: setHeader(HeaderAfterShip, asSig[:20]), wantErr: ErrMalformedHeader},
	})
}

func TestAfterShipRefusesEmptySecret(t *testing.T) {
	for _, secrets := range [][]string{nil, {""}, {"good", ""}} {
		if _, err := NewAfterShip(secrets); !errors.Is(err, ErrNoSecret) {
			t.Errorf("NewAfterShip(%q) error = %v, want ErrNoSecret", secrets, err)
		}
	}
}

func TestAfterShipSignMatchesVector(t *testing.T) {
	v, err := NewAfterShip([]string{asSecret, "older"})
	if err != nil {
		t.Fatal(err)
	}
	h, err := v.Sign([]byte(asBody), time.Time{})
	if err != nil {
		t.Fatal(err)
	}
	if got := h.Get(HeaderAfterShip); got != asSig {
		t.Fatalf("Sign = %q, want the published %q", got, asSig)
	}
}

func FuzzAfterShipVerify(f *testing.F) {
	f.Add([]byte(asBody), asSig)
	f.Add([]byte("{}"), "")
	f.Add([]byte(""), "====")
	f.Add([]byte("x"), "hmac-sha256="+asSig)
	for _, fx := range fixtures(f, "aftership") {
		f.Add(fx.body, fx.h.Get(HeaderAfterShip))
	}
	v, err := NewAfterShip([]string{asSecret})
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, body []byte, header string) {
		h := http.Header{}
		h.Set(HeaderAfterShip, header)
		err := v.Verify(body, h)
		if err == nil {
			// Only a real signature may pass.
			want, _ := v.Sign(body, time.Time{})
			if want.Get(HeaderAfterShip) != header && want.Get(HeaderAfterShip) != stripSpace(header) {
				t.Fatalf("accepted a header that is not the signature: %q", header)
			}
			return
		}
		for _, s := range []error{ErrNoSignature, ErrMalformedHeader, ErrMismatch} {
			if errors.Is(err, s) {
				return
			}
		}
		t.Fatalf("error %v wraps no sentinel", err)
	})
}

func stripSpace(s string) string {
	for len(s) > 0 && (s[0] == ' ' || s[0] == '\t') {
		s = s[1:]
	}
	for len(s) > 0 && (s[len(s)-1] == ' ' || s[len(s)-1] == '\t') {
		s = s[:len(s)-1]
	}
	return s
}
