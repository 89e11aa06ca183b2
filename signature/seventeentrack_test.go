package signature

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"
)

// The fixture from shared/reference/webhook-sources.md E: self-computed by
// the reference's author under the assumed scheme (17TRACK publishes no
// vector), recomputed here with Python's hashlib.
const (
	stKey  = "SECURITY_KEY"
	stBody = `{"event":"TRACKING_UPDATED","data":{"number":"RR123456789CN","carrier":3011}}`
	stSig  = "4895b7024afbe84e4be44669723f61681d122874d1409e4ed35885c8a298d1e6"
	// What the two wrong readings of the scheme give (Python): an HMAC of
	// the body, and the key in front. Neither may verify.
	stHMACSig     = "ff580e569368142565184f0a8bff9477ca928e61ff04558df32e8365e5fd1303"
	stKeyFirstSig = "785ae32203f03b7e73e47dbd509406b853891063f2af42cbf3a49dca98631b7a"
)

func TestSeventeenTrackVerify(t *testing.T) {
	ka := knownAnswer[[]string]{
		keys: []string{stKey}, body: []byte(stBody),
		header:   headers("sign", stSig), // the spelling 17TRACK uses; Set canonicalises
		verifier: untimed(NewSeventeenTrack),
	}
	runVerifyCases(t, ka, []verifyCase[[]string]{
		{name: "known answer"},
		{name: "rotation: old key second", keys: []string{"NEW_KEY", stKey}},
		{name: "rotation: old key first", keys: []string{stKey, "NEW_KEY"}},
		{name: "upper-case hex", mutate: setHeader(HeaderSeventeenTrack, strings.ToUpper(stSig))},
		{name: "wrong key", keys: []string{"OTHER_KEY"}, wantErr: ErrMismatch},
		{name: "key with trailing newline is another key", keys: []string{stKey + "\n"}, wantErr: ErrMismatch},
		{name: "body changed", mutate: replaceInBody("3011", "3012"), wantErr: ErrMismatch},
		{name: "trailing newline added", mutate: appendNewline, wantErr: ErrMismatch},
		{name: "HMAC of the body is not the scheme", mutate: setHeader(HeaderSeventeenTrack, stHMACSig), wantErr: ErrMismatch},
		{name: "key before the body is not the scheme", mutate: setHeader(HeaderSeventeenTrack, stKeyFirstSig), wantErr: ErrMismatch},
		{name: "missing header", mutate: delHeader(HeaderSeventeenTrack), wantErr: ErrNoSignature},
		{name: "blank header", mutate: setHeader(HeaderSeventeenTrack, "  "), wantErr: ErrNoSignature},
		{name: "not hex", mutate: setHeader(HeaderSeventeenTrack, "sha256="+stSig), wantErr: ErrMalformedHeader},
		{name: "truncated", mutate: setHeader(HeaderSeventeenTrack, stSig[:40]), wantErr: ErrMalformedHeader},
	})
}

func TestSeventeenTrackRefusesEmptyKey(t *testing.T) {
	for _, keys := range [][]string{nil, {""}, {"good", ""}} {
		if _, err := NewSeventeenTrack(keys); !errors.Is(err, ErrNoSecret) {
			t.Errorf("NewSeventeenTrack(%q) error = %v, want ErrNoSecret", keys, err)
		}
	}
}

func TestSeventeenTrackSignMatchesVector(t *testing.T) {
	v, err := NewSeventeenTrack([]string{stKey, "OLDER"})
	if err != nil {
		t.Fatal(err)
	}
	h, err := v.Sign([]byte(stBody), time.Time{})
	if err != nil {
		t.Fatal(err)
	}
	if got := h.Get(HeaderSeventeenTrack); got != stSig {
		t.Fatalf("Sign = %q, want the reference's %q", got, stSig)
	}
}

func FuzzSeventeenTrackVerify(f *testing.F) {
	f.Add([]byte(stBody), stSig)
	f.Add([]byte(""), "")
	f.Add([]byte("{}"), strings.ToUpper(stSig))
	f.Add([]byte("x/"), stHMACSig)
	for _, fx := range fixtures(f, "17track") {
		f.Add(fx.body, fx.h.Get(HeaderSeventeenTrack))
	}
	v, err := NewSeventeenTrack([]string{stKey})
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, body []byte, header string) {
		h := http.Header{}
		h.Set(HeaderSeventeenTrack, header)
		err := v.Verify(body, h)
		if err == nil {
			// Only the real digest, computed here with the standard
			// library, may pass.
			sum := sha256.Sum256(append(append(append([]byte(nil), body...), '/'), stKey...))
			if got, _ := hex.DecodeString(strings.TrimSpace(header)); string(got) != string(sum[:]) {
				t.Fatalf("accepted a header that is not the digest: %q", header)
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
