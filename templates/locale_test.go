package templates

import (
	"strings"
	"testing"
)

func TestLocale(t *testing.T) {
	tests := []struct {
		name            string
		defaultLanguage string
		lang, country   string
		want            string
	}{
		{"language", "", "de", "", "de"},
		// Portugal's and Brazil's Portuguese are two catalogs.
		{"pt is Portugal's", "", "pt", "", "pt"},
		{"pt-PT", "", "pt-PT", "", "pt"},
		{"pt-BR", "", "pt-BR", "", "pt-BR"},
		{"Angola reads Portugal's", "", "pt-AO", "", "pt"},
		{"Brazil by country", "", "", "BRA", "pt-BR"},
		{"Portugal by country", "", "", "PRT", "pt"},
		{"Norwegian", "", "no", "", "nb"},
		{"old code for Hebrew", "", "iw", "", "he"},
		{"Chinese in China", "", "zh-CN", "", "zh-Hans"},
		{"Chinese by country", "", "", "CHN", "zh-Hans"},
		{"Traditional Chinese is not Simplified", "", "zh-TW", "", "en"},
		{"Japan", "", "", "JPN", "ja"},
		{"Korea", "", "", "KOR", "ko"},
		{"Arabic in Egypt", "", "ar-EG", "", "ar"},
		{"Saudi Arabia", "", "", "SAU", "ar"},
		{"Belgium reads Dutch first", "", "", "BEL", "nl"},
		{"regional variant falls back to the language", "", "de-AT", "", "de"},
		{"unsupported language falls back to the default", "", "ro-RO", "", "en"},
		{"country alpha-3", "", "", "DEU", "de"},
		{"country alpha-2", "", "", "FR", "fr"},
		{"country alpha-3 outside Europe", "", "", "MEX", "es"},
		{"country in lower case", "", "", "at", "de"},
		{"malformed language falls back to the default", "", "xx-invalid", "", "en"},
		{"malformed language with another default", "es", "xx-invalid", "", "es"},
		{"unsupported language, then the country", "", "ro-RO", "ESP", "es"},
		{"language wins over the country", "", "fr", "DE", "fr"},
		{"nothing given: the default", "fr", "", "", "fr"},
		{"nothing given: en", "", "", "", "en"},
		{"underscore form", "", "fr_CA", "", "fr"},
		{"upper case language", "", "DE", "", "de"},
		{"language with script and region", "", "de-Latn-CH", "", "de"},
		{"country whose language is not supported", "de", "", "RO", "de"},
		{"unknown country", "de", "", "ZZ", "de"},
		{"not a country", "de", "", "EU", "de"},
		{"garbage country", "de", "", "Germany", "de"},
		{"language and country both unsupported", "fr", "ro", "ROU", "fr"},
		{"white space is ignored", "", " es ", " MEX ", "es"},
		{"absurdly long language", "de", strings.Repeat("en-", 1000), "", "de"},
		{"und", "de", "und", "", "de"},
		// CLDR counts Swiss German readers as German readers.
		{"closely related language", "", "gsw", "", "de"},
	}
	sets := map[string]*Set{}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, ok := sets[tt.defaultLanguage]
			if !ok {
				s = newSet(t, Options{DefaultLanguage: tt.defaultLanguage})
				sets[tt.defaultLanguage] = s
			}
			if got := s.Locale(tt.lang, tt.country); got != tt.want {
				t.Errorf("Locale(%q, %q) with default %q = %q, want %q",
					tt.lang, tt.country, tt.defaultLanguage, got, tt.want)
			}
		})
	}
}

func TestDefaultLanguage(t *testing.T) {
	tests := []struct {
		def     string
		want    string // "" when New must fail
		errWant string
	}{
		{"", "en", ""},
		{"en", "en", ""},
		{"fr", "fr", ""},
		{"de-AT", "de", ""},
		{"ro", "", `"ro" is not supported`},
		{"xx-invalid", "", `"xx-invalid" is not supported`},
		{"klingon", "", "not supported"},
	}
	for _, tt := range tests {
		t.Run(tt.def, func(t *testing.T) {
			s, err := New(Options{DefaultLanguage: tt.def})
			if tt.want == "" {
				if err == nil {
					t.Fatalf("New with default %q succeeded, want an error", tt.def)
				}
				if !strings.Contains(err.Error(), tt.errWant) || !strings.Contains(err.Error(), "de, en, es") {
					t.Errorf("error %q should say %q and list the supported locales", err, tt.errWant)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got := s.Locale("", ""); got != tt.want {
				t.Errorf("Locale(\"\", \"\") = %q, want %q", got, tt.want)
			}
		})
	}
}

func TestLocaleRegionalCatalog(t *testing.T) {
	// A regional catalog is preferred for a plain language in its country,
	// and the plain catalog stays the choice elsewhere.
	dir := writeFiles(t, map[string]string{"locales/es-MX.json": catalogJSON(t, "es")})
	s := newSet(t, Options{OverrideDir: dir})
	tests := []struct{ lang, country, want string }{
		{"es", "MX", "es-MX"},
		{"es-MX", "", "es-MX"},
		{"", "MEX", "es-MX"},
		{"es", "ES", "es"},
		{"es", "", "es"},
		{"", "ESP", "es"},
	}
	for _, tt := range tests {
		if got := s.Locale(tt.lang, tt.country); got != tt.want {
			t.Errorf("Locale(%q, %q) = %q, want %q", tt.lang, tt.country, got, tt.want)
		}
	}
}

// catalogJSON returns an embedded catalog's file as it is.
func catalogJSON(tb testing.TB, locale string) string {
	tb.Helper()
	data, err := embedded.ReadFile("locales/" + locale + ".json")
	if err != nil {
		tb.Fatal(err)
	}
	return string(data)
}

func BenchmarkLocale(b *testing.B) {
	s := newSet(b, Options{})
	for b.Loop() {
		s.Locale("ro-RO", "ESP")
	}
}
