package templates

import (
	"encoding/json"
	"errors"
	"golang.org/x/text/language"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	texttemplate "text/template"
)

// embeddedCatalog reads one embedded catalog as plain JSON, independently of
// the loader under test.
func embeddedCatalog(tb testing.TB, locale string) map[string]string {
	tb.Helper()
	data, err := embedded.ReadFile("locales/" + locale + ".json")
	if err != nil {
		tb.Fatal(err)
	}
	var m map[string]string
	if err := json.Unmarshal(data, &m); err != nil {
		tb.Fatalf("locales/%s.json: %v", locale, err)
	}
	return m
}

func embeddedLocales(tb testing.TB) []string {
	tb.Helper()
	paths, err := fs.Glob(embedded, "locales/*.json")
	if err != nil {
		tb.Fatal(err)
	}
	var out []string
	for _, p := range paths {
		out = append(out, strings.TrimSuffix(path.Base(p), ".json"))
	}
	if len(out) < 4 {
		tb.Fatalf("embedded locales = %q, want at least en, de, fr, es", out)
	}
	return out
}

func TestCatalogsHaveTheReferenceKeys(t *testing.T) {
	ref := embeddedCatalog(t, referenceLocale)
	for _, l := range embeddedLocales(t) {
		t.Run(l, func(t *testing.T) {
			c := embeddedCatalog(t, l)
			for k := range ref {
				if _, ok := c[k]; !ok {
					t.Errorf("missing key %q", k)
				}
			}
			for k := range c {
				if _, ok := ref[k]; !ok {
					t.Errorf("unknown key %q (not in %s.json)", k, referenceLocale)
				}
			}
		})
	}
}

func TestCatalogStringsParse(t *testing.T) {
	for _, l := range embeddedLocales(t) {
		for k, v := range embeddedCatalog(t, l) {
			if strings.HasPrefix(k, "format.") {
				continue
			}
			funcs := texttemplate.FuncMap{"plural": newPlurals(language.Make(l)).choose}
			if _, err := texttemplate.New(k).Funcs(funcs).Parse(v); err != nil {
				t.Errorf("%s.json: %q: %v", l, k, err)
			}
		}
	}
}

// TestCatalogKeysAreUsed guards against keys nothing shows: every shared key
// is named in a layout, every per-status key is one the layouts ask for.
func TestCatalogKeysAreUsed(t *testing.T) {
	var layouts strings.Builder
	for _, name := range []string{layoutEmailHTML, layoutEmailText, layoutSMS} {
		data, err := embedded.ReadFile("layouts/" + name)
		if err != nil {
			t.Fatal(err)
		}
		layouts.Write(data)
	}
	usedByGo := map[string]bool{"subject": true, keyDateTime: true, "heading": true}
	s := newSet(t, Options{})
	for k := range embeddedCatalog(t, referenceLocale) {
		name, st, _ := strings.Cut(k, ".")
		if s.hasStatus[st] || s.hasStatus[strings.Split(st, "_")[0]] {
			k = name // per-status key: the layout asks for the name
		}
		if !usedByGo[k] && !strings.Contains(layouts.String(), `"`+k+`"`) {
			t.Errorf("key %q is not used by any layout", k)
		}
	}
}

// gsm7Languages are the embedded languages whose texts GSM-7 can spell:
// each of their SMS must, or it costs twice as much. (Polish, Czech,
// Turkish, Portuguese need letters GSM-7 lacks, and Arabic, Hebrew, Japanese,
// Chinese and Korean another script: their texts go as UCS-2, and the
// segment limit keeps them short.)
var gsm7Languages = []string{"da", "de", "en", "es", "fi", "fr", "it", "nb", "nl", "sv"}

func TestSMSStringsAreGSM7(t *testing.T) {
	s := newSet(t, Options{})
	// ASCII data: whatever is not GSM-7 in a render comes from a catalog.
	d := Data{TrackingNumber: "JJD000390007880123456A", CarrierName: "DHL Paket", OrderNumber: "100234",
		ShopName: "Shop", TrackingURL: "https://track.example.com/x"}
	for _, l := range s.Locales() {
		if !slices.Contains(gsm7Languages, l) {
			continue
		}
		for _, st := range s.Statuses() {
			for _, sub := range s.subtags(st) {
				for _, d := range []Data{d, {TrackingNumber: "1"}} {
					d.Subtag = sub
					m := render(t, s, KindSMS, st, l, d)
					if gsm, _ := SMSSegments(m.Text); !gsm {
						t.Errorf("%s %s %s: not GSM-7: %q (first offender %q)", l, st, sub, m.Text, firstNonGSM(m.Text))
					}
				}
			}
		}
	}
}

func firstNonGSM(s string) string {
	for _, r := range s {
		if gsmSeptets(r) == 0 {
			return string(r)
		}
	}
	return ""
}

// TestSMSFitsOneSegment: with a 22-character tracking number, a 60-character
// link, a shop name and a carrier name, every SMS in a GSM-7 language fits
// in one segment (the order number is left out when it would not fit; a
// message about the delivery day may take two rather than lose the shop's
// name), and
// every other one in two (70 UCS-2 characters each), if need be in the
// compact "heading: number link" form.
func TestSMSFitsOneSegment(t *testing.T) {
	s := newSet(t, Options{})
	for _, l := range s.Locales() {
		d := realData(l)
		if len(d.TrackingNumber) != 22 || len(d.TrackingURL) < 60 {
			t.Fatalf("sample has a %d-character tracking number and a %d-character URL, want 22 and at least 60",
				len(d.TrackingNumber), len(d.TrackingURL))
		}
		for _, st := range s.Statuses() {
			for _, sub := range s.subtags(st) {
				d.Subtag = sub
				m := render(t, s, KindSMS, st, l, d)
				gsm, n := SMSSegments(m.Text)
				// A message about the date keeps it, and the shop's name goes
				// only when nothing else fits the limit: those may take two.
				oneWanted := st != "NewDate" && st != "Late"
				if slices.Contains(gsm7Languages, l) && (!gsm || (oneWanted && n != 1)) {
					t.Errorf("%s %s %s: GSM-7 %v, %d segments (%d characters): %s", l, st, sub, gsm, n, len([]rune(m.Text)), m.Text)
				}
				heading := render(t, s, KindEmail, st, l, d).HTML
				compact := strings.Contains(heading, ">"+strings.SplitN(m.Text, ":", 2)[0]+"</h1>")
				if n > 2 || (compact && slices.Contains(gsm7Languages, l)) {
					t.Errorf("%s %s %s: %d segments or the compact form (%d characters): %s", l, st, sub, n, len([]rune(m.Text)), m.Text)
				}
			}
		}
	}
}

func TestSMSKeepsOrderNumberWhenItFits(t *testing.T) {
	s := newSet(t, Options{})
	d := realData("en")
	m := render(t, s, KindSMS, "InTransit", "en", d)
	if !strings.Contains(m.Text, "for order 100234") {
		t.Errorf("SMS lacks the order number although it fits: %s", m.Text)
	}
	d.ShopName = "Nordlicht Outdoor Equipment"
	m = render(t, s, KindSMS, "InTransit", "en", d)
	if strings.Contains(m.Text, "100234") {
		t.Errorf("SMS keeps the order number although that makes two segments: %s", m.Text)
	}
	if _, n := SMSSegments(m.Text); n != 1 {
		t.Errorf("SMS takes %d segments: %s", n, m.Text)
	}
}

// writeFiles writes files (path relative to dir → content) under a new temp dir.
func writeFiles(tb testing.TB, files map[string]string) string {
	tb.Helper()
	dir := tb.TempDir()
	for name, content := range files {
		p := filepath.Join(dir, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			tb.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			tb.Fatal(err)
		}
	}
	return dir
}

// romanian is a complete catalog for a language that is not embedded: the
// English catalog with Romanian subjects for a few statuses.
func romanian(tb testing.TB) string {
	tb.Helper()
	c := embeddedCatalog(tb, "en")
	c["subject.InTransit"] = "Coletul tău {{.TrackingNumber}} este pe drum"
	c["sms.InTransit"] = "Coletul tău {{.TrackingNumber}} este pe drum."
	c["format.datetime"] = "{date}, {time}"
	c["parcels.progress"] = "{{plural .ParcelsDelivered `one` `Un colet livrat` `few` `{{.ParcelsDelivered}} colete livrate` `other` `{{.ParcelsDelivered}} de colete livrate`}} din {{.ParcelsTotal}}."
	data, err := json.MarshalIndent(c, "", "  ")
	if err != nil {
		tb.Fatal(err)
	}
	return string(data)
}

func TestOverrideDir(t *testing.T) {
	dir := writeFiles(t, map[string]string{
		"locales/de.json":      `{"subject.InTransit": "Unterwegs: {{.TrackingNumber}}"}`,
		"locales/ro.json":      romanian(t),
		"layouts/sms.txt.tmpl": `{{.T "sms"}} -- {{.ShopName}}`,
		"README.txt":           "operators may keep notes here",
	})
	s := newSet(t, Options{OverrideDir: dir})

	if !slices.Contains(s.Locales(), "ro") {
		t.Fatalf("Locales() = %q, want ro added", s.Locales())
	}
	d := realData("de")
	if m := render(t, s, KindEmail, "InTransit", "de", d); m.Subject != "Unterwegs: JJD000390007880123456A" {
		t.Errorf("de subject = %q, want the override", m.Subject)
	}
	// The rest of de.json still comes from the embedded catalog.
	if m := render(t, s, KindEmail, "Delivered", "de", d); m.Subject != "Ihre Sendung JJD000390007880123456A wurde zugestellt" {
		t.Errorf("de Delivered subject = %q, want the embedded one", m.Subject)
	}
	if got := s.Locale("ro-MD", ""); got != "ro" {
		t.Errorf(`Locale("ro-MD", "") = %q, want "ro"`, got)
	}
	if got := s.Locale("", "ROU"); got != "ro" {
		t.Errorf(`Locale("", "ROU") = %q, want "ro"`, got)
	}
	m := render(t, s, KindEmail, "InTransit", "ro", d)
	if m.Subject != "Coletul tău JJD000390007880123456A este pe drum" || m.Locale != "ro" {
		t.Errorf("ro: Locale %q, Subject %q", m.Locale, m.Subject)
	}
	if !strings.Contains(m.HTML, `<html lang="ro"`) || !strings.Contains(m.Text, "20 nov. 2026, 09:15") {
		t.Errorf("ro email does not use its lang or date format:\n%s", m.Text)
	}
	if m := render(t, s, KindSMS, "InTransit", "ro", d); m.Text != "Coletul tău JJD000390007880123456A este pe drum. -- Nordlicht Shop" {
		t.Errorf("ro SMS = %q, want the override layout and catalog", m.Text)
	}
}

func TestOverrideDirErrors(t *testing.T) {
	tests := []struct {
		name  string
		files map[string]string
		want  []string // all must appear in the error
	}{
		{"layout does not parse",
			map[string]string{"layouts/email.html.tmpl": `<p>{{.T "heading"</p>`},
			[]string{filepath.Join("layouts", "email.html.tmpl")}},
		{"layout calls a missing key",
			map[string]string{"layouts/email.txt.tmpl": `{{.T "no.such.key"}}`},
			[]string{filepath.Join("layouts", "email.txt.tmpl"), `"no.such.key"`}},
		{"layout uses a missing field",
			map[string]string{"layouts/sms.txt.tmpl": `{{.Nope}}`},
			[]string{filepath.Join("layouts", "sms.txt.tmpl"), "Nope"}},
		{"unknown layout",
			map[string]string{"layouts/push.tmpl": `x`},
			[]string{filepath.Join("layouts", "push.tmpl"), "unknown layout"}},
		{"catalog string does not parse",
			map[string]string{"locales/fr.json": `{"subject.InTransit": "Colis {{.TrackingNumber"}`},
			[]string{filepath.Join("locales", "fr.json"), `"subject.InTransit"`}},
		{"catalog string uses a missing field",
			map[string]string{"locales/fr.json": `{"intro.Delivered": "Livré à {{.Adresse}}"}`},
			[]string{filepath.Join("locales", "fr.json"), `"intro.Delivered"`, "Adresse"}},
		{"catalog is not JSON",
			map[string]string{"locales/fr.json": "{\n\"subject.InTransit\": \"x\",\n}"},
			[]string{filepath.Join("locales", "fr.json") + ":3"}},
		{"catalog value is not a string",
			map[string]string{"locales/fr.json": `{"subject.InTransit": 3}`},
			[]string{filepath.Join("locales", "fr.json"), `"subject.InTransit"`, "must be a string"}},
		{"catalog has a key twice",
			map[string]string{"locales/fr.json": `{"button": "a", "button": "b"}`},
			[]string{filepath.Join("locales", "fr.json"), `"button"`, "twice"}},
		{"catalog has an unknown key",
			map[string]string{"locales/fr.json": `{"subjet.InTransit": "typo"}`},
			[]string{filepath.Join("locales", "fr.json"), `"subjet.InTransit"`, "unknown"}},
		{"new language lacks keys",
			map[string]string{"locales/ro.json": `{"subject.InTransit": "Coletul tău"}`},
			[]string{filepath.Join("locales", "ro.json"), "missing keys", `"button"`}},
		{"a catalog written for the Go date layouts of earlier versions",
			map[string]string{"locales/fr.json": `{"format.date": "02/01/2006 15:04"}`},
			[]string{filepath.Join("locales", "fr.json"), `"format.date"`, "CLDR", `"format.datetime"`}},
		{"date and time pattern without the time",
			map[string]string{"locales/fr.json": `{"format.datetime": "{date}"}`},
			[]string{filepath.Join("locales", "fr.json"), `"format.datetime"`, "{time}"}},
		{"plural without a category the language needs",
			map[string]string{"locales/fr.json": `{"parcels.progress": "{{plural .ParcelsDelivered ` + "`other` `colis`" + `}}"}`},
			[]string{filepath.Join("locales", "fr.json"), `"parcels.progress"`, "missing one"}},
		{"plural with an unknown category",
			map[string]string{"locales/fr.json": `{"parcels.progress": "{{plural .ParcelsDelivered ` + "`one` `a` `several` `b` `other` `c`" + `}}"}`},
			[]string{filepath.Join("locales", "fr.json"), `"several"`, "not a CLDR plural category"}},
		{"file name is not a language tag",
			map[string]string{"locales/french.json": `{}`},
			[]string{filepath.Join("locales", "french.json"), "BCP 47"}},
		{"file name is not canonical",
			map[string]string{"locales/pt_br.json": `{}`},
			[]string{filepath.Join("locales", "pt_br.json"), "pt-BR.json"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := writeFiles(t, tt.files)
			_, err := New(Options{OverrideDir: dir})
			if err == nil {
				t.Fatal("New succeeded, want an error")
			}
			t.Logf("New: %v", err)
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not mention %q", err, w)
				}
			}
			if !strings.Contains(err.Error(), dir) {
				t.Errorf("error %q does not name the file in the override directory", err)
			}
		})
	}
}

func TestOverrideDirMissing(t *testing.T) {
	_, err := New(Options{OverrideDir: filepath.Join(t.TempDir(), "nope")})
	if !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("err = %v, want one wrapping fs.ErrNotExist", err)
	}
}

func TestRightToLeftLanguage(t *testing.T) {
	// English words under an Arabic name: what matters here is the direction.
	c := embeddedCatalog(t, "en")
	c["parcels.progress"] = "{{.ParcelsDelivered}}/{{.ParcelsTotal}}" // Arabic needs six plural forms
	data, err := json.Marshal(c)
	if err != nil {
		t.Fatal(err)
	}
	dir := writeFiles(t, map[string]string{"locales/ar.json": string(data)})
	s := newSet(t, Options{OverrideDir: dir})
	if m := render(t, s, KindEmail, "Delivered", "ar", realData("en")); !strings.Contains(m.HTML, `<html lang="ar" dir="rtl">`) {
		t.Errorf("ar email is not marked right-to-left:\n%s", m.HTML[:200])
	}
	if m := render(t, s, KindEmail, "Delivered", "de", realData("de")); !strings.Contains(m.HTML, `<html lang="de" dir="ltr">`) {
		t.Errorf("de email is not marked left-to-right:\n%s", m.HTML[:200])
	}
}
