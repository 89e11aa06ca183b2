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
	tests := []struct {
		name    string
		secrets []string
		mutate  func(body *[]byte, h http.Header)
		want    error
	}{
		{name: "known answer", secrets: []string{asSecret}},
		{name: "rotation: old secret second", secrets: []string{"new-secret", asSecret}},
		{name: "rotation: old secret first", secrets: []string{asSecret, "new-secret"}},
		{name: "wrong secret", secrets: []string{"other"}, want: ErrMismatch},
		{name: "body changed", secrets: []string{asSecret}, mutate: func(b *[]byte, _ http.Header) {
			*b = append([]byte(nil), *b...)
			(*b)[10] = 'X'
		}, want: ErrMismatch},
		{name: "trailing newline added", secrets: []string{asSecret}, mutate: func(b *[]byte, _ http.Header) {
			*b = append(append([]byte(nil), *b...), '\n')
		}, want: ErrMismatch},
		{name: "missing header", secrets: []string{asSecret}, mutate: func(_ *[]byte, h http.Header) {
			h.Del(HeaderAfterShip)
		}, want: ErrNoSignature},
		{name: "not base64", secrets: []string{asSecret}, mutate: func(_ *[]byte, h http.Header) {
			h.Set(HeaderAfterShip, "not base64!")
		}, want: ErrMalformedHeader},
		{name: "hex instead of base64", secrets: []string{asSecret}, mutate: func(_ *[]byte, h http.Header) {
			h.Set(HeaderAfterShip, "fb7c5e26dd3392498f5f5085a13060ce3f9a6cc2a0678e063a466ef4374731c6")
		}, want: ErrMalformedHeader},
		{name: "truncated signature", secrets: []string{asSecret}, mutate: func(_ *[]byte, h http.Header) {
			h.Set(HeaderAfterShip, asSig[:20])
		}, want: ErrMalformedHeader},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			v, err := NewAfterShip(tc.secrets...)
			if err != nil {
				t.Fatal(err)
			}
			body := []byte(asBody)
			h := http.Header{}
			h.Set(HeaderAfterShip, asSig)
			if tc.mutate != nil {
				tc.mutate(&body, h)
			}
			err = v.Verify(body, h)
			if !errors.Is(err, tc.want) || (tc.want == nil) != (err == nil) {
				t.Fatalf("Verify = %v, want %v", err, tc.want)
			}
		})
	}
}

func TestAfterShipRefusesEmptySecret(t *testing.T) {
	for _, secrets := range [][]string{nil, {""}, {"good", ""}} {
		if _, err := NewAfterShip(secrets...); !errors.Is(err, ErrNoSecret) {
			t.Errorf("NewAfterShip(%q) error = %v, want ErrNoSecret", secrets, err)
		}
	}
}

func TestAfterShipSignMatchesVector(t *testing.T) {
	v, err := NewAfterShip(asSecret, "older")
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
	v, err := NewAfterShip(asSecret)
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
