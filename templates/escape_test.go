package templates

import (
	"fmt"
	"reflect"
	"regexp"
	"strings"
	"testing"
)

// hostile is what a forged or careless webhook might put in any field.
var hostile = []string{
	`<script>alert(1)</script>`,
	`"><img src=x onerror=1>`,
	"a\r\nBcc: x@evil",
	`https://evil.example/"><script>alert(1)</script>`,
	`https://evil.example/?q="><img/src=x/onerror=alert(1)>`,
	`javascript:alert(1)`,
	"\u202eevil\u202c",
}

// stringFields lists the names of Data's string fields, so a field added
// later is covered without touching this test.
func stringFields(tb testing.TB) []string {
	tb.Helper()
	var names []string
	typ := reflect.TypeFor[Data]()
	for i := range typ.NumField() {
		if typ.Field(i).Type.Kind() == reflect.String {
			names = append(names, typ.Field(i).Name)
		}
	}
	if len(names) < 14 {
		tb.Fatalf("found %d string fields in Data: %q", len(names), names)
	}
	return names
}

// withField returns d with the named string field set to v.
func withField(d Data, name, v string) Data {
	reflect.ValueOf(&d).Elem().FieldByName(name).SetString(v)
	return d
}

func TestHostileData(t *testing.T) {
	s := newSet(t, Options{})
	fields := stringFields(t)
	for _, payload := range hostile {
		t.Run(fmt.Sprintf("%q", payload), func(t *testing.T) {
			t.Parallel()
			// One field at a time, and every field at once.
			var inputs []Data
			all := realData("en")
			for _, f := range fields {
				inputs = append(inputs, withField(realData("en"), f, payload))
				all = withField(all, f, payload)
			}
			inputs = append(inputs, all)

			for _, locale := range s.Locales() {
				for _, status := range s.Statuses() {
					for _, sub := range s.subtags(status) {
						for i, d := range inputs {
							d.Subtag = sub
							field := "all fields"
							if i < len(fields) {
								field = fields[i]
							}
							checkSafe(t, s, status, locale, d, payload, field)
						}
					}
				}
			}
		})
	}
}

func checkSafe(tb testing.TB, s *Set, status, locale string, d Data, payload, field string) {
	tb.Helper()
	email, err := s.Render(KindEmail, status, locale, d)
	if err != nil {
		tb.Fatalf("%s %s, %q in %s: %v", locale, status, payload, field, err)
	}
	sms, err := s.Render(KindSMS, status, locale, d)
	if err != nil {
		tb.Fatalf("%s %s, %q in %s: %v", locale, status, payload, field, err)
	}
	where := func() string { return locale + " " + status + ", " + field + " = " + payload }

	html := strings.ToLower(email.HTML)
	for _, bad := range []string{"<script", "<img"} {
		if strings.Contains(html, bad) {
			tb.Errorf("%s: HTML contains %q:\n%s", where(), bad, excerpt(html, bad))
		}
	}
	for _, m := range hrefRE.FindAllStringSubmatch(email.HTML, -1) {
		if !strings.HasPrefix(m[1], "https://") && !strings.HasPrefix(m[1], "http://") {
			tb.Errorf("%s: link to %q", where(), m[1])
		}
	}
	if n, want := strings.Count(email.HTML, "<a "), len(hrefRE.FindAllString(email.HTML, -1)); n != want {
		tb.Errorf("%s: %d links but %d well-formed href attributes", where(), n, want)
	}
	if strings.ContainsAny(email.Subject, "\r\n") {
		tb.Errorf("%s: Subject contains CR or LF: %q", where(), email.Subject)
	}
	if strings.ContainsAny(sms.Text, "\r\n") {
		tb.Errorf("%s: SMS contains CR or LF: %q", where(), sms.Text)
	}
	for _, part := range []string{email.Subject, email.Text, email.HTML, sms.Text} {
		if strings.ContainsAny(part, "\r\u202e") {
			tb.Errorf("%s: a part contains CR or a bidi override", where())
		}
		for _, line := range strings.Split(part, "\n") {
			if strings.HasPrefix(line, "Bcc:") {
				tb.Errorf("%s: a line starts with Bcc:\n%s", where(), part)
			}
		}
	}
}

var hrefRE = regexp.MustCompile(`<a href="([^"]*)"(?: dir="ltr")? style="[^"]*">`)

func excerpt(s, sub string) string {
	i := strings.Index(s, sub)
	return s[max(0, i-80):min(len(s), i+80)]
}

// TestHostileDataIsShownEscaped makes sure the hostile values do reach the
// HTML, escaped, so TestHostileData is not passing on an empty render.
func TestHostileDataIsShownEscaped(t *testing.T) {
	s := newSet(t, Options{})
	tests := []struct {
		field, value string
		wantHTML     []string
		wantText     string
	}{
		{"CustomerName", `<script>alert(1)</script>`,
			[]string{`Hello <bdi>&lt;script&gt;alert(1)&lt;/script&gt;</bdi>,`},
			`Hello <script>alert(1)</script>,`},
		{"CarrierName", `"><img src=x onerror=1>`,
			[]string{`&#34;&gt;&lt;img src=x onerror=1&gt;`},
			`Carrier: "><img src=x onerror=1>`},
		{"TrackingURL", `https://evil.example/?q="><img/src=x/onerror=alert(1)>`,
			[]string{`href="https://evil.example/?q=%22%3e%3cimg/src=x/onerror=alert%281%29%3e"`,
				`>https://evil.example/?q=&#34;&gt;&lt;img/src=x/onerror=alert(1)&gt;</a>`},
			`Track your parcel: https://evil.example/?q="><img/src=x/onerror=alert(1)>`},
		{"ShopName", "a\r\nBcc: x@evil",
			[]string{`a Bcc: x@evil`},
			"a Bcc: x@evil"},
	}
	for _, tt := range tests {
		t.Run(tt.field, func(t *testing.T) {
			m := render(t, s, KindEmail, "InTransit", "en", withField(realData("en"), tt.field, tt.value))
			for _, w := range tt.wantHTML {
				if !strings.Contains(m.HTML, w) {
					t.Errorf("HTML lacks %q", w)
				}
			}
			if !strings.Contains(m.Text, tt.wantText) {
				t.Errorf("text lacks %q:\n%s", tt.wantText, m.Text)
			}
		})
	}
}

// The marks that H turns into <bdi> cannot come from a webhook's link nor
// from a catalog.
func TestMarksCannotBeSmuggledIn(t *testing.T) {
	if got := webURL("https://a.example/t?x=\ue001y"); got != "" {
		t.Errorf("webURL kept a mark: %q", got)
	}
	_, err := New(Options{OverrideDir: writeFiles(t, map[string]string{"locales/fr.json": "{\"button\": \"Suivre\ue001\"}"})})
	if err == nil || !strings.Contains(err.Error(), "reserved") {
		t.Errorf("a catalog with a mark: %v", err)
	}
}

// A catalog's logic sees the same values in the HTML part as in the text
// part: the <bdi> marks are added to what it prints, not to what it reads.
func TestCatalogLogicSeesPlainValuesInHTML(t *testing.T) {
	s := newSet(t, Options{OverrideDir: writeFiles(t, map[string]string{"locales/en.json": `{
  "intro.InTransit": "{{if eq .Carrier \"DHL Paket\"}}Yellow van.{{end}} Number {{slice .TrackingNumber 0 3}}, {{len .OrderNumber}} digits, {{or .CustomerName \"friend\"}}."
}`})})
	d := realData("en")
	d.CustomerName = ""
	m := render(t, s, KindEmail, "InTransit", "en", d)
	if !strings.Contains(m.Text, "Yellow van. Number JJD, 6 digits, friend.") {
		t.Errorf("text: %s", m.Text)
	}
	// (the preheader repeats the intro as plain text; the paragraph is H's)
	if !strings.Contains(m.HTML, `<p style="margin:0;">Yellow van. Number <bdi>JJD</bdi>, 6 digits, <bdi>friend</bdi>.</p>`) {
		t.Errorf("HTML: %s", excerpt(m.HTML, `<p style="margin:0;">`))
	}
}
