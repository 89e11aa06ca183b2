package carrier

import (
	"net/url"
	"strings"
	"testing"
	"unicode"
)

func FuzzLookupNormalize(f *testing.F) {
	for _, seed := range []string{
		"", " ", "dhl", "DHL Express", "dhl_express", "DHLExpress", "Deutsche Post DHL", "100003",
		"Foo_Bar  baz", "-_ x _-", "..", "Österreichische Post", "İSTANBUL kargo", "ẞ", "K",
		"\xff\xfe", "a\u00a0b", "\t\n", "dhl--express__", "A.B.C", "0",
	} {
		f.Add(seed)
	}
	c := Default()
	dpd, _ := c.Lookup("dpd")            // path position
	usps, _ := c.Lookup("usps")          // query position
	canada, _ := c.Lookup("canada-post") // fragment position

	f.Fuzz(func(t *testing.T, code string) {
		n := c.Normalize(code)
		if again := c.Normalize(n); again != n {
			t.Fatalf("Normalize is not idempotent: %q -> %q -> %q", code, n, again)
		}
		cr, ok := c.Lookup(code)
		if ok {
			if n != cr.Slug {
				t.Fatalf("Normalize(%q) = %q, but Lookup found %q", code, n, cr.Slug)
			}
		} else {
			if _, found := c.Lookup(n); found {
				t.Fatalf("Normalize(%q) = %q turned an unknown code into a known one", code, n)
			}
			if strings.HasPrefix(n, "-") || strings.HasSuffix(n, "-") || strings.Contains(n, "--") ||
				strings.ContainsFunc(n, func(r rune) bool { return r == '_' || unicode.IsSpace(r) }) {
				t.Fatalf("Normalize(%q) = %q is not a cleaned key", code, n)
			}
		}
		if fold(fold(code)) != fold(code) {
			t.Fatalf("fold is not idempotent for %q", code)
		}
		// Codes are also fed to detection, as a number and as a slug list.
		for _, cr := range c.Detect(code) {
			if !matchesNumber(t, cr, NormalizeNumber(code)) {
				t.Fatalf("Detect(%q) returned %q, which does not match", code, cr.Slug)
			}
		}
		if got := c.DetectIn(code, []string{code}); len(got) > 1 {
			t.Fatalf("DetectIn(%q, [%q]) returned %d carriers, want at most 1", code, code, len(got))
		}

		for _, cr := range []Carrier{dpd, usps, canada} {
			got := cr.TrackingURL(code)
			if strings.TrimSpace(code) == "" {
				if got != "" {
					t.Fatalf("%s.TrackingURL(%q) = %q, want empty", cr.Slug, code, got)
				}
				continue
			}
			u, err := url.Parse(got)
			if err != nil {
				t.Fatalf("%s.TrackingURL(%q) = %q does not parse: %v", cr.Slug, code, got, err)
			}
			tmpl, _ := url.Parse(strings.Replace(cr.URLTemplate, Placeholder, "X", 1))
			if u.Scheme != tmpl.Scheme || u.Host != tmpl.Host || u.Path == "" {
				t.Fatalf("%s.TrackingURL(%q) = %q escaped its position", cr.Slug, code, got)
			}
			if !strings.HasPrefix(got, cr.URLTemplate[:strings.Index(cr.URLTemplate, Placeholder)]) {
				t.Fatalf("%s.TrackingURL(%q) = %q lost the template prefix", cr.Slug, code, got)
			}
		}
	})
}

// FuzzDetect checks that Detect never panics, that every carrier it returns
// really matches the normalized number (by S10 or by a pattern, checked
// independently of Detect's compiled patterns), that the S10 match comes
// first, that no carrier is listed twice, and that DetectIn agrees with it.
func FuzzDetect(f *testing.F) {
	for _, tt := range detectSamples {
		f.Add(tt.number)
	}
	for _, seed := range []string{
		"", " ", "-", "1Z", "1z4e7v210358291643", "RR131860913GB", "RR000000005GB", "rr-000-000-080-gb",
		"\xff\xfe", "ǅ", "ß", "İ", "\u00a0", "123456789012345678901234567890123456789012345678901234567890123456789",
		"^\\d{12}$", "JJD", "3S", "TBA", "00000000000000", "LP", "9",
	} {
		f.Add(seed)
	}
	c := Default()
	all := make([]string, 0, c.Len())
	for _, cr := range c.Carriers() {
		all = append(all, cr.Slug)
	}

	f.Fuzz(func(t *testing.T, number string) {
		n := NormalizeNumber(number)
		if again := NormalizeNumber(n); again != n {
			t.Fatalf("NormalizeNumber is not idempotent: %q -> %q -> %q", number, n, again)
		}
		if strings.ContainsFunc(n, func(r rune) bool { return r == '-' || unicode.IsSpace(r) }) {
			t.Fatalf("NormalizeNumber(%q) = %q keeps white space or '-'", number, n)
		}
		got := c.Detect(number)
		if (n == "" || len(n) > maxNumberLen) && got != nil {
			t.Fatalf("Detect(%q) = %d carriers for an empty or overlong number", number, len(got))
		}
		seen := make(map[string]bool)
		s10Country, isS10 := s10Country(n)
		for i, cr := range got {
			if seen[cr.Slug] {
				t.Fatalf("Detect(%q) lists %q twice", number, cr.Slug)
			}
			seen[cr.Slug] = true
			if !matchesNumber(t, cr, n) {
				t.Fatalf("Detect(%q) returned %q, which matches neither by S10 nor by pattern", number, cr.Slug)
			}
			if i > 0 && cr.S10 && isS10 && cr.Country == s10Country {
				t.Fatalf("Detect(%q): the S10 match %q is at position %d, not first", number, cr.Slug, i)
			}
		}
		if again := c.Detect(n); len(again) != len(got) {
			t.Fatalf("Detect(%q) and Detect of its normalized form differ", number)
		}
		in := c.DetectIn(number, all)
		if len(in) != len(got) {
			t.Fatalf("DetectIn(%q, all slugs) = %d carriers, Detect = %d", number, len(in), len(got))
		}
		for i := range in {
			if in[i].Slug != got[i].Slug {
				t.Fatalf("DetectIn(%q, all slugs)[%d] = %q, Detect = %q", number, i, in[i].Slug, got[i].Slug)
			}
		}
		if len(got) > 0 {
			if sub := c.DetectIn(number, []string{got[len(got)-1].Slug}); len(sub) != 1 || sub[0].Slug != got[len(got)-1].Slug {
				t.Fatalf("DetectIn(%q, [%q]) = %d carriers", number, got[len(got)-1].Slug, len(sub))
			}
		}
	})
}
