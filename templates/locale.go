package templates

import (
	"strings"

	"golang.org/x/text/language"
)

// Locale picks the locale for one recipient; the first candidate that
// matches a supported locale wins:
//
//  1. lang, the tracking's language (ISO 639-1 or BCP 47: "de", "pt-BR",
//     "de-AT"); when it names no region and country is given, the country
//     is added, so "es" in "MX" would prefer an "es-MX" catalog if there
//     were one;
//  2. the main language of country (ISO 3166-1 alpha-2 or alpha-3: "DE",
//     "DEU"), from CLDR's likely subtags;
//  3. Options.DefaultLanguage;
//  4. "en".
//
// A candidate matches when golang.org/x/text/language's matcher is at least
// highly confident: "de-AT" matches "de", while "pt-BR" does not match
// anything unless a "pt" catalog exists, and the next candidate is tried.
// CLDR also counts some languages as readable by their speakers with High
// confidence ("gsw" and "lb" → "de", "gl" and "eu" → "es", "br" → "fr"), and
// those match too. Empty, malformed and unknown values are skipped.
func (s *Set) Locale(lang, country string) string {
	region, hasRegion := parseCountry(country)
	if t, ok := parseLanguage(lang); ok {
		if hasRegion {
			if _, conf := t.Region(); conf != language.Exact {
				t = withRegion(t, region)
			}
		}
		if l, ok := s.matchTag(t); ok {
			return l
		}
	}
	if hasRegion {
		if t, ok := mainLanguage(region); ok {
			if l, ok := s.matchTag(t); ok {
				return l
			}
		}
	}
	return s.fallback
}

// match resolves a language string to a supported locale.
func (s *Set) match(lang string) (string, bool) {
	t, ok := parseLanguage(lang)
	if !ok {
		return "", false
	}
	return s.matchTag(t)
}

func (s *Set) matchTag(t language.Tag) (string, bool) {
	// Match returns a tag carrying the request's region as a -u-rg-
	// extension ("de-u-rg-atzzzz" for "de-AT"); the index names the
	// supported tag itself.
	_, i, conf := s.matcher.Match(t)
	if conf < language.High {
		return "", false
	}
	return s.tags[i].String(), true
}

// maxTagLen bounds what is parsed from a webhook; real tags are short.
const maxTagLen = 64

func parseLanguage(lang string) (language.Tag, bool) {
	lang = strings.TrimSpace(lang)
	if lang == "" || len(lang) > maxTagLen {
		return language.Und, false
	}
	// Parse returns the well-formed part of a tag with an error for the
	// rest ("de-Latn-DE-x" gives "de-Latn-DE"); that part is still useful.
	t, _ := language.Parse(lang)
	return t, t != language.Und
}

func parseCountry(country string) (language.Region, bool) {
	country = strings.TrimSpace(country)
	if country == "" || len(country) > 3 {
		return language.Region{}, false
	}
	r, err := language.ParseRegion(country)
	if err != nil || !r.IsCountry() {
		return language.Region{}, false
	}
	return r, true
}

// mainLanguage is the most likely language of region, e.g. "es-MX" for MX,
// from CLDR's likely-subtags data.
func mainLanguage(r language.Region) (language.Tag, bool) {
	t, err := language.Compose(language.Und, r)
	if err != nil {
		return language.Und, false
	}
	base, conf := t.Base()
	if conf < language.High {
		return language.Und, false
	}
	t, err = language.Compose(base, r)
	return t, err == nil
}

func withRegion(t language.Tag, r language.Region) language.Tag {
	if rt, err := language.Compose(t, r); err == nil {
		return rt
	}
	return t
}
