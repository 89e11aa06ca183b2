package templates

import (
	"fmt"
	"strings"
	"time"

	"github.com/go-playground/locales"
	"github.com/go-playground/locales/ar"
	"github.com/go-playground/locales/bg"
	"github.com/go-playground/locales/cs"
	"github.com/go-playground/locales/da"
	"github.com/go-playground/locales/de"
	"github.com/go-playground/locales/el"
	"github.com/go-playground/locales/en"
	"github.com/go-playground/locales/en_GB"
	"github.com/go-playground/locales/es"
	"github.com/go-playground/locales/et"
	"github.com/go-playground/locales/fi"
	"github.com/go-playground/locales/fr"
	"github.com/go-playground/locales/he"
	"github.com/go-playground/locales/hi"
	"github.com/go-playground/locales/hr"
	"github.com/go-playground/locales/hu"
	"github.com/go-playground/locales/id"
	"github.com/go-playground/locales/it"
	"github.com/go-playground/locales/ja"
	"github.com/go-playground/locales/ko"
	"github.com/go-playground/locales/lt"
	"github.com/go-playground/locales/lv"
	"github.com/go-playground/locales/nb"
	"github.com/go-playground/locales/nl"
	"github.com/go-playground/locales/pl"
	"github.com/go-playground/locales/pt_BR"
	"github.com/go-playground/locales/pt_PT"
	"github.com/go-playground/locales/ro"
	"github.com/go-playground/locales/ru"
	"github.com/go-playground/locales/sk"
	"github.com/go-playground/locales/sl"
	"github.com/go-playground/locales/sr"
	"github.com/go-playground/locales/sv"
	"github.com/go-playground/locales/th"
	"github.com/go-playground/locales/tr"
	"github.com/go-playground/locales/uk"
	"github.com/go-playground/locales/vi"
	"github.com/go-playground/locales/zh_Hans"
	"github.com/go-playground/locales/zh_Hant"
	"golang.org/x/text/feature/plural"
	"golang.org/x/text/language"
)

// cldrLocales are the languages whose dates trackhook writes from CLDR data
// (month names, their grammatical case, the order of day, month and year),
// through github.com/go-playground/locales. They are the embedded catalogs'
// languages and the other languages an operator is most likely to add; a
// catalog for a language that is not here (nor a variant of one that is)
// writes dates as 2026-01-05, which every reader understands. Adding a
// language is one line.
var cldrLocales = map[string]func() locales.Translator{
	"ar": ar.New, "bg": bg.New, "cs": cs.New, "da": da.New, "de": de.New, "el": el.New,
	"en": en.New, "en-GB": en_GB.New, "es": es.New, "et": et.New, "fi": fi.New, "fr": fr.New,
	"he": he.New, "hi": hi.New, "hr": hr.New, "hu": hu.New, "id": id.New, "it": it.New,
	"ja": ja.New, "ko": ko.New, "lt": lt.New, "lv": lv.New, "nb": nb.New, "nl": nl.New,
	"pl": pl.New, "pt": pt_PT.New, "pt-BR": pt_BR.New, "ro": ro.New, "ru": ru.New, "sk": sk.New,
	"sl": sl.New, "sr": sr.New, "sv": sv.New, "th": th.New, "tr": tr.New, "uk": uk.New,
	"vi": vi.New, "zh-Hans": zh_Hans.New, "zh-Hant": zh_Hant.New,
}

// cldrMatcher picks the CLDR locale for a catalog's tag: de-AT gets de,
// no (Norwegian) gets nb, zh-TW gets zh-Hant.
var cldrTags, cldrMatcher = func() ([]string, language.Matcher) {
	names := make([]string, 0, len(cldrLocales))
	tags := make([]language.Tag, 0, len(cldrLocales))
	names = append(names, "en") // the matcher's default comes first
	tags = append(tags, language.English)
	for name := range cldrLocales {
		if name != "en" {
			names = append(names, name)
			tags = append(tags, language.MustParse(name))
		}
	}
	return names, language.NewMatcher(tags)
}()

// calendar writes dates and times in one language.
type calendar struct {
	tr       locales.Translator // nil: ISO 8601 dates
	datetime string             // the catalog's format.datetime: "{date}, {time} Uhr"
}

// cldrTag is the tag whose CLDR data a catalog uses. The catalogs' "pt" is
// Portugal's Portuguese (Brazil's is "pt-BR"), while CLDR's "pt" is
// Brazil's: 0 parcels is "one" there and "other" in Portugal.
func cldrTag(catalog language.Tag) language.Tag {
	if catalog.String() == "pt" {
		return language.MustParse("pt-PT")
	}
	return catalog
}

// newCalendar finds the CLDR data for tag; the datetime pattern comes from
// the catalog.
func newCalendar(tag language.Tag, datetime string) calendar {
	c := calendar{datetime: datetime}
	if mk, ok := cldrLocales[tag.String()]; ok { // pt is Portugal's Portuguese here, as the catalogs are
		c.tr = mk()
	} else if m, i, conf := cldrMatcher.Match(tag); conf >= language.High && sameLanguage(tag, m) {
		c.tr = cldrLocales[cldrTags[i]]()
	}
	return c
}

// Day is a date without a time, in the language's long form: "5. Januar
// 2026", "5 stycznia 2026", "2026年1月5日".
func (c calendar) Day(t time.Time) string {
	if c.tr == nil {
		return t.Format(time.DateOnly)
	}
	return c.tr.FmtDateLong(t)
}

// DateTime is a date and a time of day in the language's medium date, its
// short time, and the catalog's pattern that joins them: "20.11.2026, 09:15
// Uhr", "Nov 20, 2026, 9:15 am" (go-playground/locales writes the English
// day periods in lower case). t is shown in its own location.
func (c calendar) DateTime(t time.Time) string {
	date, clock := t.Format(time.DateOnly), t.Format("15:04")
	if c.tr != nil {
		date, clock = c.tr.FmtDateMedium(t), c.tr.FmtTimeShort(t)
	}
	return joinDateTime(c.datetime, date, clock)
}

// joinDateTime fills the catalog's "format.datetime" pattern: {date} and
// {time} replaced, left to right, and nothing else (a strings.Replacer made
// for every message was a tenth of a render's allocations).
func joinDateTime(pattern, date, clock string) string {
	var b strings.Builder
	b.Grow(len(pattern) + len(date) + len(clock))
	for {
		i := strings.IndexByte(pattern, '{')
		if i < 0 {
			b.WriteString(pattern)
			return b.String()
		}
		b.WriteString(pattern[:i])
		switch rest := pattern[i:]; {
		case strings.HasPrefix(rest, "{date}"):
			b.WriteString(date)
			pattern = rest[len("{date}"):]
		case strings.HasPrefix(rest, "{time}"):
			b.WriteString(clock)
			pattern = rest[len("{time}"):]
		default:
			b.WriteByte('{')
			pattern = rest[1:]
		}
	}
}

// sameLanguage reports whether a and b are one language (de-AT and de; no
// and nb), not merely one its readers understand (the matcher offers
// Russian for Armenian, Spanish for Basque): a language without CLDR data
// here gets ISO dates, not another language's month names.
func sameLanguage(a, b language.Tag) bool {
	ba, _ := a.Base()
	bb, _ := b.Base()
	return ba == bb || (ba.String() == "no" && bb.String() == "nb")
}

// checkDateTimePattern refuses a format.datetime without both placeholders.
func checkDateTimePattern(p string) error {
	if strings.Count(p, "{date}") != 1 || strings.Count(p, "{time}") != 1 || strings.ContainsAny(p, "\r\n") {
		return fmt.Errorf("%q must be one line with {date} and {time} once each (like \"{date}, {time}\")", p)
	}
	return nil
}

// pluralForms are CLDR's plural categories, as catalogs name them.
var pluralForms = map[string]plural.Form{
	"zero": plural.Zero, "one": plural.One, "two": plural.Two,
	"few": plural.Few, "many": plural.Many, "other": plural.Other,
}

// plurals chooses among a catalog's forms of a word by CLDR's plural rules
// for whole numbers in one language.
type plurals struct {
	tag  language.Tag
	used []string // the categories whole numbers take in this language, e.g. one, few, many, other for Polish
}

func newPlurals(tag language.Tag) plurals {
	p := plurals{tag: tag}
	seen := map[plural.Form]bool{}
	for n := 0; n <= 1000; n++ { // every rule for whole numbers shows within the first thousand
		seen[p.form(n)] = true
	}
	seen[plural.Other] = true // what any other number takes
	for _, name := range []string{"zero", "one", "two", "few", "many", "other"} {
		if seen[pluralForms[name]] {
			p.used = append(p.used, name)
		}
	}
	return p
}

func (p plurals) form(n int) plural.Form {
	if n < 0 {
		n = -n
	}
	return plural.Cardinal.MatchPlural(p.tag, n, 0, 0, 0, 0)
}

// choose is the catalog function plural: {{plural .ParcelsTotal "one"
// "Paket" "other" "Pakete"}} gives the text for n's category. The pairs
// must name every category whole numbers take in the language ("other"
// always), so that a catalog cannot silently print the wrong form for a
// count it was not tried with.
func (p plurals) choose(n int, pairs ...string) (string, error) {
	if len(pairs)%2 != 0 {
		return "", fmt.Errorf("plural: want pairs of category and text, got %d strings", len(pairs))
	}
	forms := map[plural.Form]string{}
	for i := 0; i < len(pairs); i += 2 {
		f, ok := pluralForms[pairs[i]]
		if !ok {
			return "", fmt.Errorf("plural: %q is not a CLDR plural category (zero, one, two, few, many, other)", pairs[i])
		}
		forms[f] = pairs[i+1]
	}
	var missing []string
	for _, name := range p.used {
		if _, ok := forms[pluralForms[name]]; !ok {
			missing = append(missing, name)
		}
	}
	if len(missing) > 0 {
		return "", fmt.Errorf("plural: %s needs the categories %s; missing %s",
			p.tag, strings.Join(p.used, ", "), strings.Join(missing, ", "))
	}
	if s, ok := forms[p.form(n)]; ok {
		return s, nil
	}
	return forms[plural.Other], nil
}
