package signature

import (
	"bytes"
	"encoding/base64"
	"errors"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"
)

// The official vectors from shared/reference/webhook-sources.md H1 (from
// Twilio's SDK test suites; recomputed by the reference's author).
const (
	twToken    = "12345"
	twURL      = "https://mycompany.com/myapp.php?foo=1&bar=2"
	twSig      = "vOEb5UThFn24KEfnOFLQY2AE5FY="
	twHTTPSig  = "n2xBNyzSW7rfYStDtOFiFMv7qNo="
	twJSONBody = `{"property": "value", "boolean": true}`
	twJSONHash = "0a1ff7634d9ab3b95db5c9a2dfe9416e41502b283a80c7cf19632632f96e6620"
	twJSONSig  = "a9nBmqA0ju/hNViExpshrM61xv4="
)

func twParams() url.Values {
	return url.Values{
		"CallSid":               {"CA1234567890ABCDE"},
		"Caller":                {"+14158675309"},
		"Digits":                {"1234"},
		"From":                  {"+14158675309"},
		"To":                    {"+18005551212"},
		"Reason":                {"Participant"},
		"ReasonConferenceEnded": {"test"},
	}
}

// twilioTarget is what a Twilio verifier is built from: its auth tokens,
// and the URL Twilio was configured to call (an input to Verify, signed
// with the request). Empty fields mean the official vector's.
type twilioTarget struct {
	tokens []string
	url    string
}

// verifierFunc makes a Twilio check, bound to a URL, a Verifier.
type verifierFunc func(body []byte, h http.Header) error

func (f verifierFunc) Verify(body []byte, h http.Header) error { return f(body, h) }

// asJSON turns the known-answer form POST into the official JSON vector's
// request (its URL, with bodySHA256, comes from the case's target).
func asJSON(body string) mutation {
	return then(setBody(body), setHeader("Content-Type", "application/json"), setHeader(HeaderTwilio, twJSONSig))
}

func TestTwilioVerify(t *testing.T) {
	httpURL := strings.Replace(twURL, "https://", "http://", 1)
	jsonURL := twURL + "&" + twilioBodyHashParam + "=" + twJSONHash
	ka := knownAnswer[twilioTarget]{
		keys:   twilioTarget{tokens: []string{twToken}, url: twURL},
		body:   []byte(twParams().Encode()),
		header: headers("Content-Type", "application/x-www-form-urlencoded", HeaderTwilio, twSig),
		verifier: func(target twilioTarget, _ func() time.Time, opts []Option) (Verifier, error) {
			if len(opts) > 0 {
				return nil, errors.New("twilio signs no time and takes no options")
			}
			if target.tokens == nil {
				target.tokens = []string{twToken}
			}
			if target.url == "" {
				target.url = twURL
			}
			tw, err := NewTwilio(target.tokens)
			if err != nil {
				return nil, err
			}
			return verifierFunc(func(body []byte, h http.Header) error { return tw.Verify(target.url, body, h) }), nil
		},
	}
	withParams := func(change func(url.Values)) mutation {
		return func(b *[]byte, _ http.Header, _ *time.Time) {
			p := twParams()
			change(p)
			*b = []byte(p.Encode())
		}
	}
	appendToBody := func(s string) mutation {
		return func(b *[]byte, _ http.Header, _ *time.Time) { *b = append(*b, s...) }
	}
	runVerifyCases(t, ka, []verifyCase[twilioTarget]{
		{name: "official vector, https"},
		{name: "official vector, http", keys: twilioTarget{url: httpURL}, mutate: setHeader(HeaderTwilio, twHTTPSig)},
		{name: "https vector, URL seen with :443", keys: twilioTarget{url: "https://mycompany.com:443/myapp.php?foo=1&bar=2"}},
		{name: "http vector, URL seen with :80", keys: twilioTarget{url: "http://mycompany.com:80/myapp.php?foo=1&bar=2"},
			mutate: setHeader(HeaderTwilio, twHTTPSig)},
		{name: "content type with charset", mutate: setHeader("Content-Type", "application/x-www-form-urlencoded; charset=UTF-8")},
		{name: "body parameters in another order",
			mutate: setBody("To=%2B18005551212&ReasonConferenceEnded=test&Reason=Participant&From=%2B14158675309&Digits=1234&Caller=%2B14158675309&CallSid=CA1234567890ABCDE")},
		{name: "official JSON vector", keys: twilioTarget{url: jsonURL}, mutate: asJSON(twJSONBody)},
		{name: "rotation: old token second", keys: twilioTarget{tokens: []string{"new-token", twToken}}},
		{name: "rotation: old token first", keys: twilioTarget{tokens: []string{twToken, "new-token"}}},

		{name: "wrong token", keys: twilioTarget{tokens: []string{"54321"}}, wantErr: ErrMismatch},
		{name: "https signature over the http URL", keys: twilioTarget{url: httpURL}, wantErr: ErrMismatch},
		{name: "tampered parameter", mutate: withParams(func(p url.Values) { p.Set("Digits", "1235") }), wantErr: ErrMismatch},
		{name: "added parameter", mutate: appendToBody("&Body=STOP"), wantErr: ErrMismatch},
		{name: "second value appended to a signed name", mutate: appendToBody("&From=%2B15550000000"), wantErr: ErrMismatch},
		{name: "removed parameter", mutate: withParams(func(p url.Values) { p.Del("Reason") }), wantErr: ErrMismatch},
		{name: "tampered query", keys: twilioTarget{url: strings.Replace(twURL, "foo=1", "foo=2", 1)}, wantErr: ErrMismatch},
		{name: "other path", keys: twilioTarget{url: strings.Replace(twURL, "myapp", "other", 1)}, wantErr: ErrMismatch},
		{name: "JSON body changed", keys: twilioTarget{url: jsonURL}, mutate: asJSON(twJSONBody + " "), wantErr: ErrMismatch},
		{name: "JSON body without bodySHA256", mutate: asJSON(twJSONBody), wantErr: ErrMalformedHeader},
		{name: "form body sent as text/plain is not signed", mutate: setHeader("Content-Type", "text/plain"), wantErr: ErrMalformedHeader},
		{name: "form body that does not parse", mutate: appendToBody("&Bad=%zz"), wantErr: ErrMismatch},
		{name: "missing header", mutate: delHeader(HeaderTwilio), wantErr: ErrNoSignature},
		{name: "blank header", mutate: setHeader(HeaderTwilio, "  "), wantErr: ErrNoSignature},
		{name: "not base64", mutate: setHeader(HeaderTwilio, "not base64!"), wantErr: ErrMalformedHeader},
		{name: "SHA-256 sized signature", mutate: setHeader(HeaderTwilio, "+3xeJt0zkkmj1zCFoTBMOc+abMKgZ44GOkZu9DdDHGM="), wantErr: ErrMalformedHeader},
		{name: "relative URL", keys: twilioTarget{url: "/myapp.php?foo=1&bar=2"}, wantErr: ErrMismatch},
	})
}

// TestTwilioSignMatchesVectors checks Sign against the published values, not
// against Verify.
func TestTwilioSignMatchesVectors(t *testing.T) {
	v, err := NewTwilio([]string{twToken, "older"})
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		url    string
		params url.Values
		want   string
	}{
		{twURL, twParams(), twSig},
		{strings.Replace(twURL, "https://", "http://", 1), twParams(), twHTTPSig},
		{twURL + "&" + twilioBodyHashParam + "=" + twJSONHash, nil, twJSONSig},
	} {
		if got := v.Sign(tc.url, tc.params); got != tc.want {
			t.Errorf("Sign(%q) = %s, want %s", tc.url, got, tc.want)
		}
	}
}

// TestTwilioSortsNamesNotPairs pins the detail the official vector exists
// for: sorting "name+value" strings (as twilio-go does internally) would put
// ReasonConferenceEnded first and give 95+Bu0JVPi0r/SsESZCVf0dWAjw=.
func TestTwilioSortsNamesNotPairs(t *testing.T) {
	v, _ := NewTwilio([]string{twToken})
	const pairSorted = "95+Bu0JVPi0r/SsESZCVf0dWAjw="
	if err := v.Verify(twURL, []byte(twParams().Encode()), http.Header{
		"Content-Type": {"application/x-www-form-urlencoded"}, HeaderTwilio: {pairSorted},
	}); !errors.Is(err, ErrMismatch) {
		t.Fatalf("Verify(pair-sorted signature) = %v, want ErrMismatch", err)
	}
}

func TestTwilioRepeatedNameSignsEveryValue(t *testing.T) {
	v, _ := NewTwilio([]string{twToken})
	const u = "https://example.com/hook"
	p := url.Values{"MediaUrl": {"b", "a"}, "From": {"+1555"}}
	// The string twilio-python and twilio-node build: values sorted.
	want := base64HMACSHA1(twToken, u+"From+1555MediaUrlaMediaUrlb")
	if got := v.Sign(u, p); got != want {
		t.Fatalf("Sign = %s, want %s", got, want)
	}
	h := http.Header{"Content-Type": {"application/x-www-form-urlencoded"}, HeaderTwilio: {want}}
	if err := v.Verify(u, []byte("MediaUrl=b&From=%2B1555&MediaUrl=a"), h); err != nil {
		t.Fatalf("Verify = %v", err)
	}
	if err := v.Verify(u, []byte("MediaUrl=b&From=%2B1555"), h); !errors.Is(err, ErrMismatch) {
		t.Fatalf("Verify without the second value = %v, want ErrMismatch", err)
	}
}

func TestTwilioURLForms(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want []string
	}{
		{"https://a.example/x?y=1", []string{"https://a.example/x?y=1", "https://a.example:443/x?y=1"}},
		{"http://a.example", []string{"http://a.example", "http://a.example:80"}},
		{"https://a.example:8443/x", []string{"https://a.example:8443/x", "https://a.example/x"}},
		{"https://u:p@a.example/x", []string{"https://u:p@a.example/x", "https://u:p@a.example:443/x"}},
		{"https://[::1]/x", []string{"https://[::1]/x", "https://[::1]:443/x"}},
		{"https://[::1]:443/x", []string{"https://[::1]:443/x", "https://[::1]/x"}},
		{"https://a.example/p%2Fq?x=%41", []string{"https://a.example/p%2Fq?x=%41", "https://a.example:443/p%2Fq?x=%41"}},
		{"ftp://a.example/x", []string{"ftp://a.example/x"}},
	} {
		u, err := url.Parse(tc.in)
		if err != nil {
			t.Fatal(err)
		}
		got := twilioURLs(tc.in, u)
		if strings.Join(got, " ") != strings.Join(tc.want, " ") {
			t.Errorf("twilioURLs(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

func TestTwilioRefusesEmptyToken(t *testing.T) {
	for _, tokens := range [][]string{nil, {""}, {"good", ""}} {
		if _, err := NewTwilio(tokens); !errors.Is(err, ErrNoSecret) {
			t.Errorf("NewTwilio(%q) error = %v, want ErrNoSecret", tokens, err)
		}
	}
}

func base64HMACSHA1(key, msg string) string {
	v, _ := NewTwilio([]string{key})
	return v.Sign(msg, nil)
}

func FuzzTwilioVerify(f *testing.F) {
	f.Add(twURL, []byte(twParams().Encode()), twSig, "application/x-www-form-urlencoded")
	f.Add(twURL+"&bodySHA256="+twJSONHash, []byte(twJSONBody), twJSONSig, "application/json")
	f.Add("https://[::1]:443/x", []byte("a=1&a=2&b=%zz"), "", "application/x-www-form-urlencoded; charset=utf-8")
	f.Add("http://u@h:/p?#", []byte{0xff, '=', 0}, "AAAAAAAAAAAAAAAAAAAAAAAAAAA=", "text/plain")
	v, _ := NewTwilio([]string{twToken})
	f.Fuzz(func(t *testing.T, u string, body []byte, sig, contentType string) {
		h := http.Header{"Content-Type": {contentType}, HeaderTwilio: {sig}}
		if err := v.Verify(u, body, h); err == nil {
			// Only what Sign makes for one of the URL forms may pass.
			got, _ := base64.StdEncoding.DecodeString(strings.TrimSpace(sig))
			pu, _ := url.Parse(u)
			p, _ := url.ParseQuery(string(body))
			found := false
			for _, c := range twilioURLs(u, pu) {
				for _, want := range []string{v.Sign(c, p), v.Sign(c, nil)} {
					w, _ := base64.StdEncoding.DecodeString(want)
					found = found || bytes.Equal(got, w)
				}
			}
			if !found {
				t.Fatalf("Verify accepted %q for %q", sig, u)
			}
		}
		// Round trip: whatever parses as a form verifies when signed.
		p, err := url.ParseQuery(string(body))
		if err != nil {
			return
		}
		if pu, err := url.Parse(u); err != nil || pu.Host == "" || pu.Opaque != "" || pu.Query().Has(twilioBodyHashParam) {
			return
		}
		h = http.Header{"Content-Type": {"application/x-www-form-urlencoded"}, HeaderTwilio: {v.Sign(u, p)}}
		if err := v.Verify(u, body, h); err != nil {
			t.Fatalf("Verify(Sign(%q, %q)) = %v", u, body, err)
		}
	})
}
