package receiver

import (
	"crypto/rand"
	"crypto/rsa"
	"encoding/base64"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/trackhook/trackhook/receiver/carrier"
	"github.com/trackhook/trackhook/signature"
)

// TestSendersCatalogue pins the external contract: the {source} names and
// the TRACKHOOK_<Env>_* stems the README documents.
func TestSendersCatalogue(t *testing.T) {
	want := map[string]struct {
		env        string
		credential Credential
	}{
		"aftership":    {"AFTERSHIP", SharedSecret},
		"trackingmore": {"TRACKINGMORE", SharedSecret},
		"shipengine":   {"SHIPENGINE", PublishedKey},
		"easypost":     {"EASYPOST", SharedSecret},
		"17track":      {"SEVENTEENTRACK", SharedSecret},
		"woocommerce":  {"WOOCOMMERCE", SharedSecret},
		"standard":     {"STANDARD", SharedSecret},
	}
	senders := Senders()
	if len(senders) != len(want) {
		t.Fatalf("%d senders, want %d", len(senders), len(want))
	}
	for _, s := range senders {
		w, ok := want[s.Name]
		if !ok {
			t.Errorf("unexpected sender %q", s.Name)
			continue
		}
		delete(want, s.Name) // a second entry with this name fails above
		if s.Env != w.env || s.Credential != w.credential {
			t.Errorf("%s: env %q credential %d, want %q %d", s.Name, s.Env, s.Credential, w.env, w.credential)
		}
		if s.Verifier == nil || s.Adapter == nil || s.Adapter(carrier.Default()) == nil {
			t.Errorf("%s: no verifier or adapter", s.Name)
		}
		if got, ok := SenderNamed(s.Name); !ok || got.Env != s.Env {
			t.Errorf("SenderNamed(%q) = %v, %v", s.Name, got.Env, ok)
		}
		// Never open: no secret, or no key source, is refused.
		if v, err := s.Verifier(SenderConfig{}); v != nil || !errors.Is(err, signature.ErrNoSecret) {
			t.Errorf("%s: verifier without a credential = %v, %v; want ErrNoSecret", s.Name, v, err)
		}
	}
	if _, ok := SenderNamed("twilio"); ok {
		t.Error("SenderNamed found a sender that is not in the catalogue")
	}
	Senders()[0].Name = "changed"
	if Senders()[0].Name == "changed" {
		t.Error("the catalogue can be changed through a returned slice")
	}
}

// TestSenderSigner: every SharedSecret sender can be signed for, and what
// its signer makes its verifier accepts; a PublishedKey sender cannot.
func TestSenderSigner(t *testing.T) {
	at := time.Date(2026, 11, 20, 8, 15, 0, 0, time.UTC)
	secrets := map[string]string{"standard": "whsec_" + base64.StdEncoding.EncodeToString([]byte("a test key of 24+ bytes!!"))}
	body := []byte(`{"test":1}`)
	for _, s := range Senders() {
		t.Run(s.Name, func(t *testing.T) {
			secret := secrets[s.Name]
			if secret == "" {
				secret = "test-secret"
			}
			signer, err := s.Signer([]string{secret})
			if s.Credential == PublishedKey {
				if err == nil || !strings.Contains(err.Error(), "cannot sign") {
					t.Fatalf("Signer = %v, %v; want refused", signer, err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			h, err := signer.Sign(body, at)
			if err != nil {
				t.Fatal(err)
			}
			v, err := s.Verifier(SenderConfig{Secrets: []string{secret}, Now: func() time.Time { return at }})
			if err != nil {
				t.Fatal(err)
			}
			if err := v.Verify(body, h); err != nil {
				t.Fatalf("own signature: %v", err)
			}
		})
	}
}

func TestNewRegistry(t *testing.T) {
	keys := signature.KeyMap{"k1": &testRSAKey(t).PublicKey}
	token := []string{"0123456789abcdef"}
	for _, tc := range []struct {
		name    string
		configs map[string]SenderConfig
		want    []string // the registry's names
		wantErr string   // a substring of the error
		errIs   error
	}{
		{name: "nothing configured", configs: nil},
		{name: "a config without its credential is off",
			configs: map[string]SenderConfig{"aftership": {PathTokens: token}, "shipengine": {Keys: keys}}},
		{name: "secrets switch a shared-secret sender on",
			configs: map[string]SenderConfig{"aftership": {Secrets: []string{"s"}}, "woocommerce": {Secrets: []string{"w"}, PathTokens: token}},
			want:    []string{"aftership", "woocommerce"}},
		{name: "the path token switches a published-key sender on",
			configs: map[string]SenderConfig{"shipengine": {Keys: keys, PathTokens: token}}, want: []string{"shipengine"}},
		{name: "published-key sender without keys is refused, not open",
			configs: map[string]SenderConfig{"shipengine": {PathTokens: token}},
			wantErr: "TRACKHOOK_SHIPENGINE_JWKS_URL", errIs: signature.ErrNoSecret},
		{name: "an empty secret is refused",
			configs: map[string]SenderConfig{"easypost": {Secrets: []string{"new", ""}}},
			wantErr: "TRACKHOOK_EASYPOST_SECRET", errIs: signature.ErrNoSecret},
		{name: "a malformed Standard Webhooks secret is refused",
			configs: map[string]SenderConfig{"standard": {Secrets: []string{"whsec_not base64!"}}},
			wantErr: "TRACKHOOK_STANDARD_SECRET", errIs: signature.ErrNoSecret},
		{name: "an unknown name is refused",
			configs: map[string]SenderConfig{"aftership": {Secrets: []string{"s"}}, "aftershipp": {Secrets: []string{"s"}}},
			wantErr: `"aftershipp"`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			reg, err := NewRegistry(tc.configs, carrier.Default())
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) || (tc.errIs != nil && !errors.Is(err, tc.errIs)) {
					t.Fatalf("NewRegistry = %v, %v; want an error with %q wrapping %v", reg, err, tc.wantErr, tc.errIs)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if len(reg) != len(tc.want) {
				t.Fatalf("registry has %d sources, want %v", len(reg), tc.want)
			}
			for _, name := range tc.want {
				src, ok := reg[name]
				if !ok {
					t.Fatalf("%s missing", name)
				}
				if src.Verifier == nil || src.Adapter == nil {
					t.Fatalf("%s: %+v", name, src)
				}
				if got, want := len(src.PathTokens), len(tc.configs[name].PathTokens); got != want {
					t.Errorf("%s: %d path tokens, want %d", name, got, want)
				}
				if (src.Ping != nil) != (name == "woocommerce") {
					t.Errorf("%s: ping set: %v", name, src.Ping != nil)
				}
			}
		})
	}
}

// TestNewRegistryPassesTheClock: the configured clock, not time.Now, is what
// every timestamp-signing sender's verifier checks against. The times are
// fixed and far from today, so a verifier reading the real clock fails.
func TestNewRegistryPassesTheClock(t *testing.T) {
	signedAt := time.Date(2026, 11, 20, 8, 15, 0, 0, time.UTC)
	key := testRSAKey(t)
	seSigner, err := signature.NewShipEngineSigner("k1", key)
	if err != nil {
		t.Fatal(err)
	}
	stdSecret := "whsec_" + base64.StdEncoding.EncodeToString([]byte("a test key of 24+ bytes!!"))
	signers := map[string]signature.Signer{"shipengine": seSigner}
	for _, name := range []string{"trackingmore", "standard"} {
		s, _ := SenderNamed(name)
		secret := "tm-secret"
		if name == "standard" {
			secret = stdSecret
		}
		if signers[name], err = s.Signer([]string{secret}); err != nil {
			t.Fatal(err)
		}
	}
	body := []byte(`{"test":1}`)
	for _, tc := range []struct {
		after time.Duration
		want  error
	}{
		{time.Minute, nil},
		{-time.Minute, nil},
		{10 * time.Minute, signature.ErrTooOld},
		{-10 * time.Minute, signature.ErrTooNew},
	} {
		now := signedAt.Add(tc.after)
		token := []string{"0123456789abcdef"}
		reg, err := NewRegistry(map[string]SenderConfig{
			"trackingmore": {Secrets: []string{"tm-secret"}, Now: func() time.Time { return now }},
			"standard":     {Secrets: []string{stdSecret}, Now: func() time.Time { return now }},
			"shipengine":   {Keys: signature.KeyMap{"k1": &key.PublicKey}, PathTokens: token, Now: func() time.Time { return now }},
		}, carrier.Default())
		if err != nil {
			t.Fatal(err)
		}
		for name, signer := range signers {
			h, err := signer.Sign(body, signedAt)
			if err != nil {
				t.Fatal(err)
			}
			if err := reg[name].Verifier.Verify(body, h); !errors.Is(err, tc.want) || (tc.want == nil) != (err == nil) {
				t.Errorf("%s, clock %v after signing: Verify = %v, want %v", name, tc.after, err, tc.want)
			}
		}
	}
}

func testRSAKey(t *testing.T) *rsa.PrivateKey {
	t.Helper()
	k, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	return k
}
