package signature

import (
	"bytes"
	"errors"
	"net/http"
	"reflect"
	"testing"
	"time"
)

// This file holds the one table runner every scheme's Verify test uses: a
// known answer (a request the sender signed, taken from the provider's docs
// or SDK tests or computed independently of this package) and a table of
// cases, each a mutation of that request and the error Verify must wrap.

// mutation changes a copy of the known-answer request before it is
// verified: its body, its headers, and the verifier's clock (which starts
// at the time the known answer was signed).
type mutation func(body *[]byte, h http.Header, now *time.Time)

// verifyCase is one request made from a scheme's known answer.
type verifyCase[K any] struct {
	name string
	// keys, unless it is the zero value, replaces the known answer's keys
	// (secrets, a key source: whatever the scheme's verifier is built from).
	keys K
	// opts are passed after WithClock, to schemes that sign a timestamp.
	opts []Option
	// mutate changes the request; nil verifies the known answer as signed.
	mutate mutation
	// wantErr is the sentinel Verify's error must wrap; nil: it verifies.
	wantErr error
}

// knownAnswer is a signed request and how to build its scheme's verifier.
type knownAnswer[K any] struct {
	keys   K
	body   []byte
	header http.Header
	at     time.Time // when it was signed; the verifier's clock by default
	// verifier builds the verifier under test from keys, with now as its
	// clock for the schemes that sign a timestamp.
	verifier func(keys K, now func() time.Time, opts []Option) (Verifier, error)
}

// runVerifyCases verifies each case's request with a fresh verifier and
// checks the outcome against wantErr with errors.Is.
func runVerifyCases[K any](t *testing.T, ka knownAnswer[K], cases []verifyCase[K]) {
	t.Helper()
	seen := make(map[string]bool, len(cases))
	for _, tc := range cases {
		if seen[tc.name] {
			t.Fatalf("two cases are named %q", tc.name)
		}
		seen[tc.name] = true
		t.Run(tc.name, func(t *testing.T) {
			keys := ka.keys
			if !reflect.ValueOf(&tc.keys).Elem().IsZero() {
				keys = tc.keys
			}
			body := bytes.Clone(ka.body)
			h := ka.header.Clone()
			now := ka.at
			if tc.mutate != nil {
				tc.mutate(&body, h, &now)
			}
			v, err := ka.verifier(keys, func() time.Time { return now }, tc.opts)
			if err != nil {
				t.Fatalf("building the verifier: %v", err)
			}
			err = v.Verify(body, h)
			switch {
			case tc.wantErr == nil && err != nil:
				t.Fatalf("Verify = %v, want success", err)
			case tc.wantErr != nil && !errors.Is(err, tc.wantErr):
				t.Fatalf("Verify = %v, want an error wrapping %v", err, tc.wantErr)
			}
		})
	}
}

// untimed adapts the constructor of a scheme that signs no time to
// knownAnswer.verifier. Such a scheme takes no options, so a case that
// passes some is a mistake in the table.
func untimed[V Verifier](newVerifier func([]string) (V, error)) func([]string, func() time.Time, []Option) (Verifier, error) {
	return func(secrets []string, _ func() time.Time, opts []Option) (Verifier, error) {
		if len(opts) > 0 {
			return nil, errors.New("this scheme signs no time and takes no options")
		}
		v, err := newVerifier(secrets)
		if err != nil {
			return nil, err
		}
		return v, nil
	}
}

// timed adapts the constructor of a scheme that signs a timestamp to
// knownAnswer.verifier: the case's clock first, then its options.
func timed[V Verifier](newVerifier func([]string, ...Option) (V, error)) func([]string, func() time.Time, []Option) (Verifier, error) {
	return func(secrets []string, now func() time.Time, opts []Option) (Verifier, error) {
		v, err := newVerifier(secrets, append([]Option{WithClock(now)}, opts...)...)
		if err != nil {
			return nil, err
		}
		return v, nil
	}
}

// headers builds a header from name/value pairs, canonicalising the names
// as a server would.
func headers(kv ...string) http.Header {
	h := http.Header{}
	for i := 0; i+1 < len(kv); i += 2 {
		h.Set(kv[i], kv[i+1])
	}
	return h
}

// Mutations used by several schemes.

func setHeader(name, value string) mutation {
	return func(_ *[]byte, h http.Header, _ *time.Time) { h.Set(name, value) }
}

func delHeader(name string) mutation {
	return func(_ *[]byte, h http.Header, _ *time.Time) { h.Del(name) }
}

func setBody(body string) mutation {
	return func(b *[]byte, _ http.Header, _ *time.Time) { *b = []byte(body) }
}

// replaceInBody replaces the first old in the body with new.
func replaceInBody(old, new string) mutation {
	return func(b *[]byte, _ http.Header, _ *time.Time) { *b = bytes.Replace(*b, []byte(old), []byte(new), 1) }
}

func appendNewline(b *[]byte, _ http.Header, _ *time.Time) { *b = append(*b, '\n') }

// clockAt sets the verifier's clock.
func clockAt(t time.Time) mutation {
	return func(_ *[]byte, _ http.Header, now *time.Time) { *now = t }
}

// then applies mutations in order.
func then(ms ...mutation) mutation {
	return func(b *[]byte, h http.Header, now *time.Time) {
		for _, m := range ms {
			m(b, h, now)
		}
	}
}

func frozenAt(t time.Time) func() time.Time { return func() time.Time { return t } }

// TestRunVerifyCasesIsolatesCases checks the runner itself: a case's
// mutation must not leak into the known answer or the next case.
func TestRunVerifyCasesIsolatesCases(t *testing.T) {
	ka := knownAnswer[[]string]{
		keys: []string{asSecret}, body: []byte(asBody), header: headers(HeaderAfterShip, asSig),
		verifier: untimed(NewAfterShip),
	}
	runVerifyCases(t, ka, []verifyCase[[]string]{
		{name: "body and header changed", mutate: then(appendNewline, setHeader(HeaderAfterShip, "x")), wantErr: ErrMalformedHeader},
		{name: "known answer still verifies"},
	})
	if string(ka.body) != asBody || ka.header.Get(HeaderAfterShip) != asSig {
		t.Fatal("a case changed the known answer")
	}
}
