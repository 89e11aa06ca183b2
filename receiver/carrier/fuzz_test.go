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
