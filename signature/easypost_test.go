package signature

import (
	"bytes"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// The official vector (shared/reference/webhook-sources.md D1, from
// EasyPost/examples official/fixtures: client-library-fixtures.json
// webhooks.secret / webhooks.hmac_signature and event-body.json). The body
// is event-body.json without its trailing newline.
const (
	epSecret = "s\u00e9cret" // "sécret" as typed (NFC); NFKD turns é into e + U+0301
	epSig    = "hmac-sha256-hex=38f3f53c103713df81616a0a186d77141957323ec21d5fe9363db93840f527db"
	// epSigNoNFKD is what a verifier that skips the normalisation computes
	// (the reference's 7f1669d6…, recomputed with Python over the NFC bytes).
	epSigNoNFKD = "hmac-sha256-hex=7f1669d6699d0b937cc1e69402423bdd2be0a8bcf571d34a8116765f1741219b"
)

// epBody reads the official body: the repo's copy (testdata/easypost, checked
// against shared/testdata by receiver/source's tests when shared/ is beside
// the repo).
func epBody(tb testing.TB) []byte {
	tb.Helper()
	var raw []byte
	var err error
	for _, p := range []string{
		filepath.Join("..", "testdata", "easypost", "official_tracker_updated.json"),
		filepath.Join("..", "..", "shared", "testdata", "easypost-event-body.json"),
	} {
		if raw, err = os.ReadFile(p); err == nil {
			break
		}
	}
	if err != nil {
		tb.Fatalf("official EasyPost body not found (testdata/easypost/official_tracker_updated.json): %v", err)
	}
	body := bytes.TrimSuffix(raw, []byte("\n"))
	if len(body) != 3550 {
		tb.Fatalf("official body is %d bytes without its newline, want 3550", len(body))
	}
	return body
}

func TestEasyPostOfficialVector(t *testing.T) {
	body := epBody(t)
	v, err := NewEasyPost([]string{epSecret})
	if err != nil {
		t.Fatal(err)
	}
	h := http.Header{}
	h.Set(HeaderEasyPost, epSig)
	if err := v.Verify(body, h); err != nil {
		t.Fatalf("official vector: %v", err)
	}
	s, err := v.Sign(body, time.Time{})
	if err != nil {
		t.Fatal(err)
	}
	if got := s.Get(HeaderEasyPost); got != epSig {
		t.Fatalf("Sign = %q, want the published %q", got, epSig)
	}
	// The value without NFKD differs, and is refused: this vector exists
	// to catch a missing normalisation.
	if epSigNoNFKD == epSig {
		t.Fatal("the non-NFKD value must differ")
	}
	h.Set(HeaderEasyPost, epSigNoNFKD)
	if err := v.Verify(body, h); !errors.Is(err, ErrMismatch) {
		t.Fatalf("non-NFKD signature: %v, want ErrMismatch", err)
	}
	// Typing the secret already decomposed changes nothing.
	v2, err := NewEasyPost([]string{"se\u0301cret"})
	if err != nil {
		t.Fatal(err)
	}
	h.Set(HeaderEasyPost, epSig)
	if err := v2.Verify(body, h); err != nil {
		t.Fatalf("decomposed secret: %v", err)
	}
}

func TestEasyPostVerify(t *testing.T) {
	ka := knownAnswer[[]string]{
		keys: []string{epSecret}, body: epBody(t), header: headers(HeaderEasyPost, epSig),
		verifier: untimed(NewEasyPost),
	}
	runVerifyCases(t, ka, []verifyCase[[]string]{
		{name: "known answer"},
		{name: "rotation: old secret second", keys: []string{"new-secret", epSecret}},
		{name: "rotation: old secret first", keys: []string{epSecret, "new-secret"}},
		{name: "wrong secret", keys: []string{"secret"}, wantErr: ErrMismatch},
		{name: "body changed", mutate: replaceInBody("in_transit", "delivered!"), wantErr: ErrMismatch},
		{name: "trailing newline kept", mutate: appendNewline, wantErr: ErrMismatch},
		{name: "missing header", mutate: delHeader(HeaderEasyPost), wantErr: ErrNoSignature},
		{name: "bare hex without prefix", mutate: setHeader(HeaderEasyPost, strings.TrimPrefix(epSig, "hmac-sha256-hex=")), wantErr: ErrMalformedHeader},
		{name: "other prefix", mutate: setHeader(HeaderEasyPost, strings.Replace(epSig, "sha256", "sha512", 1)), wantErr: ErrMalformedHeader},
		{name: "truncated", mutate: setHeader(HeaderEasyPost, epSig[:len(epSig)-2]), wantErr: ErrMalformedHeader},
		{name: "not hex", mutate: setHeader(HeaderEasyPost, epSig[:len(epSig)-1]+"g"), wantErr: ErrMalformedHeader},
		{name: "upper-case hex: compared as a whole string, as EasyPost does",
			mutate:  setHeader(HeaderEasyPost, "hmac-sha256-hex="+strings.ToUpper(strings.TrimPrefix(epSig, "hmac-sha256-hex="))),
			wantErr: ErrMismatch},
	})
}

func TestEasyPostRefusesEmptySecret(t *testing.T) {
	for _, secrets := range [][]string{nil, {""}, {"good", ""}} {
		if _, err := NewEasyPost(secrets); !errors.Is(err, ErrNoSecret) {
			t.Errorf("NewEasyPost(%q) error = %v, want ErrNoSecret", secrets, err)
		}
	}
}

func FuzzEasyPostVerify(f *testing.F) {
	f.Add([]byte(`{"id":"evt_1"}`), epSig)
	f.Add(epBody(f), epSig)
	f.Add([]byte("{}"), "")
	f.Add([]byte("x"), "hmac-sha256-hex=")
	f.Add([]byte("x"), "hmac-sha256-hex="+strings.Repeat("A", 64))
	for _, fx := range fixtures(f, "easypost") {
		f.Add(fx.body, fx.h.Get(HeaderEasyPost))
	}
	v, err := NewEasyPost([]string{epSecret})
	if err != nil {
		f.Fatal(err)
	}
	// The expected value, computed here with crypto/hmac directly from the
	// already-decomposed secret, not with the code under test.
	key := []byte("se\u0301cret")
	f.Fuzz(func(t *testing.T, body []byte, header string) {
		h := http.Header{}
		h.Set(HeaderEasyPost, header)
		err := v.Verify(body, h)
		if err == nil {
			m := hmac.New(sha256.New, key)
			m.Write(body)
			if want := "hmac-sha256-hex=" + hex.EncodeToString(m.Sum(nil)); strings.TrimSpace(header) != want {
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
