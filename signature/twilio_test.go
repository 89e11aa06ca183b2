package signature

import (
	"bytes"
	"encoding/base64"
	"errors"
	"net/http"
	"net/url"
	"strings"
	"testing"
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

// twRequest is one request as the verifier sees it.
type twRequest struct {
	url  string
	body []byte
	h    http.Header
}

func formRequest(u string, params url.Values, sig string) twRequest {
	h := http.Header{}
	h.Set("Content-Type", "application/x-www-form-urlencoded")
	h.Set(HeaderTwilio, sig)
	return twRequest{url: u, body: []byte(params.Encode()), h: h}
}

func TestTwilioVerify(t *testing.T) {
	httpURL := strings.Replace(twURL, "https://", "http://", 1)
	jsonURL := twURL + "&" + twilioBodyHashParam + "=" + twJSONHash
	tests := []struct {
		name   string
		tokens []string
		req    twRequest
		mutate func(r *twRequest)
		want   error
	}{
		{name: "official vector, https", tokens: []string{twToken}, req: formRequest(twURL, twParams(), twSig)},
		{name: "official vector, http", tokens: []string{twToken}, req: formRequest(httpURL, twParams(), twHTTPSig)},
		{name: "https vector, URL seen with :443", tokens: []string{twToken},
			req: formRequest("https://mycompany.com:443/myapp.php?foo=1&bar=2", twParams(), twSig)},
		{name: "http vector, URL seen with :80", tokens: []string{twToken},
			req: formRequest("http://mycompany.com:80/myapp.php?foo=1&bar=2", twParams(), twHTTPSig)},
		{name: "content type with charset", tokens: []string{twToken}, req: formRequest(twURL, twParams(), twSig),
			mutate: func(r *twRequest) {
				r.h.Set("Content-Type", "application/x-www-form-urlencoded; charset=UTF-8")
			}},
		{name: "body parameters in another order", tokens: []string{twToken}, req: formRequest(twURL, twParams(), twSig),
			mutate: func(r *twRequest) {
				r.body = []byte("To=%2B18005551212&ReasonConferenceEnded=test&Reason=Participant&From=%2B14158675309&Digits=1234&Caller=%2B14158675309&CallSid=CA1234567890ABCDE")
			}},
		{name: "official JSON vector", tokens: []string{twToken}, req: twRequest{url: jsonURL, body: []byte(twJSONBody),
			h: http.Header{"Content-Type": {"application/json"}, HeaderTwilio: {twJSONSig}}}},
		{name: "rotation: old token second", tokens: []string{"new-token", twToken}, req: formRequest(twURL, twParams(), twSig)},
		{name: "rotation: old token first", tokens: []string{twToken, "new-token"}, req: formRequest(twURL, twParams(), twSig)},

		{name: "wrong token", tokens: []string{"54321"}, req: formRequest(twURL, twParams(), twSig), want: ErrMismatch},
		{name: "https signature over the http URL", tokens: []string{twToken}, req: formRequest(httpURL, twParams(), twSig), want: ErrMismatch},
		{name: "tampered parameter", tokens: []string{twToken}, req: formRequest(twURL, twParams(), twSig),
			mutate: func(r *twRequest) {
				p := twParams()
				p.Set("Digits", "1235")
				r.body = []byte(p.Encode())
			}, want: ErrMismatch},
		{name: "added parameter", tokens: []string{twToken}, req: formRequest(twURL, twParams(), twSig),
			mutate: func(r *twRequest) { r.body = append(r.body, "&Body=STOP"...) }, want: ErrMismatch},
		{name: "second value appended to a signed name", tokens: []string{twToken}, req: formRequest(twURL, twParams(), twSig),
			mutate: func(r *twRequest) { r.body = append(r.body, "&From=%2B15550000000"...) }, want: ErrMismatch},
		{name: "removed parameter", tokens: []string{twToken}, req: formRequest(twURL, twParams(), twSig),
			mutate: func(r *twRequest) {
				p := twParams()
				p.Del("Reason")
				r.body = []byte(p.Encode())
			}, want: ErrMismatch},
		{name: "tampered query", tokens: []string{twToken}, req: formRequest(strings.Replace(twURL, "foo=1", "foo=2", 1), twParams(), twSig),
			want: ErrMismatch},
		{name: "other path", tokens: []string{twToken}, req: formRequest(strings.Replace(twURL, "myapp", "other", 1), twParams(), twSig),
			want: ErrMismatch},
		{name: "JSON body changed", tokens: []string{twToken}, req: twRequest{url: jsonURL, body: []byte(twJSONBody + " "),
			h: http.Header{"Content-Type": {"application/json"}, HeaderTwilio: {twJSONSig}}}, want: ErrMismatch},
		{name: "JSON body without bodySHA256", tokens: []string{twToken}, req: twRequest{url: twURL, body: []byte(twJSONBody),
			h: http.Header{"Content-Type": {"application/json"}, HeaderTwilio: {twJSONSig}}}, want: ErrMalformedHeader},
		{name: "form body sent as text/plain is not signed", tokens: []string{twToken}, req: formRequest(twURL, twParams(), twSig),
			mutate: func(r *twRequest) { r.h.Set("Content-Type", "text/plain") }, want: ErrMalformedHeader},
		{name: "form body that does not parse", tokens: []string{twToken}, req: formRequest(twURL, twParams(), twSig),
			mutate: func(r *twRequest) { r.body = append(r.body, "&Bad=%zz"...) }, want: ErrMismatch},
		{name: "missing header", tokens: []string{twToken}, req: formRequest(twURL, twParams(), twSig),
			mutate: func(r *twRequest) { r.h.Del(HeaderTwilio) }, want: ErrNoSignature},
		{name: "blank header", tokens: []string{twToken}, req: formRequest(twURL, twParams(), "  "), want: ErrNoSignature},
		{name: "not base64", tokens: []string{twToken}, req: formRequest(twURL, twParams(), "not base64!"), want: ErrMalformedHeader},
		{name: "SHA-256 sized signature", tokens: []string{twToken},
			req: formRequest(twURL, twParams(), "+3xeJt0zkkmj1zCFoTBMOc+abMKgZ44GOkZu9DdDHGM="), want: ErrMalformedHeader},
		{name: "relative URL", tokens: []string{twToken}, req: formRequest("/myapp.php?foo=1&bar=2", twParams(), twSig), want: ErrMismatch},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			v, err := NewTwilio(tc.tokens...)
			if err != nil {
				t.Fatal(err)
			}
			r := tc.req
			r.h = r.h.Clone()
			if tc.mutate != nil {
				tc.mutate(&r)
			}
			err = v.Verify(r.url, r.body, r.h)
			if !errors.Is(err, tc.want) || (tc.want == nil) != (err == nil) {
				t.Fatalf("Verify = %v, want %v", err, tc.want)
			}
		})
	}
}

// TestTwilioSignMatchesVectors checks Sign against the published values, not
// against Verify.
func TestTwilioSignMatchesVectors(t *testing.T) {
	v, err := NewTwilio(twToken, "older")
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
	v, _ := NewTwilio(twToken)
	const pairSorted = "95+Bu0JVPi0r/SsESZCVf0dWAjw="
	if err := v.Verify(twURL, []byte(twParams().Encode()), http.Header{
		"Content-Type": {"application/x-www-form-urlencoded"}, HeaderTwilio: {pairSorted},
	}); !errors.Is(err, ErrMismatch) {
		t.Fatalf("Verify(pair-sorted signature) = %v, want ErrMismatch", err)
	}
}

func TestTwilioRepeatedNameSignsEveryValue(t *testing.T) {
	v, _ := NewTwilio(twToken)
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
		if _, err := NewTwilio(tokens...); !errors.Is(err, ErrNoSecret) {
			t.Errorf("NewTwilio(%q) error = %v, want ErrNoSecret", tokens, err)
		}
	}
}

func base64HMACSHA1(key, msg string) string {
	v, _ := NewTwilio(key)
	return v.Sign(msg, nil)
}

func FuzzTwilioVerify(f *testing.F) {
	f.Add(twURL, []byte(twParams().Encode()), twSig, "application/x-www-form-urlencoded")
	f.Add(twURL+"&bodySHA256="+twJSONHash, []byte(twJSONBody), twJSONSig, "application/json")
	f.Add("https://[::1]:443/x", []byte("a=1&a=2&b=%zz"), "", "application/x-www-form-urlencoded; charset=utf-8")
	f.Add("http://u@h:/p?#", []byte{0xff, '=', 0}, "AAAAAAAAAAAAAAAAAAAAAAAAAAA=", "text/plain")
	v, _ := NewTwilio(twToken)
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
