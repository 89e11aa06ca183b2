package templates

import (
	"strings"
	"testing"
	"time"

	"golang.org/x/text/language"
)

// Dates are written from CLDR data in each language: month names in their
// grammatical case, the language's order of day, month and year.
func TestCalendarDay(t *testing.T) {
	day := time.Date(2026, 1, 5, 0, 0, 0, 0, time.UTC)
	for _, tc := range []struct{ tag, want string }{
		{"en", "January 5, 2026"},
		{"de", "5. Januar 2026"},
		{"fr", "5 janvier 2026"},
		{"pl", "5 stycznia 2026"}, // genitive: "styczeń" is the nominative
		{"cs", "5. ledna 2026"},
		{"fi", "5. tammikuuta 2026"},
		{"ja", "2026年1月5日"},
		{"zh-Hans", "2026年1月5日"},
		{"ko", "2026년 1월 5일"},
		{"pt-BR", "5 de janeiro de 2026"},
		{"pt", "5 de janeiro de 2026"}, // Portugal's CLDR data; dates read the same, times differ (below)
		{"ar", "5 يناير 2026"},
		{"he", "5 בינואר 2026"},
		{"kl", "2026-01-05"}, // Greenlandic: no CLDR data compiled in, ISO 8601
		{"hy", "2026-01-05"}, // Armenian: not Russian month names, though its readers may read Russian
		{"eu", "2026-01-05"}, // Basque: not Spanish ones
		{"no", "5. januar 2026"},
	} {
		if got := newCalendar(language.MustParse(tc.tag), "{date} {time}").Day(day); got != tc.want {
			t.Errorf("%s: Day = %q, want %q", tc.tag, got, tc.want)
		}
	}
}

func TestCalendarDateTime(t *testing.T) {
	at := time.Date(2026, 11, 20, 9, 15, 0, 0, time.FixedZone("", 3600))
	for _, tc := range []struct{ tag, pattern, want string }{
		{"de", "{date}, {time} Uhr", "20.11.2026, 09:15 Uhr"},
		{"fr", "{date} à {time}", "20 nov. 2026 à 09:15"},
		{"ja", "{date} {time}", "2026/11/20 9:15"},
		{"kl", "{date} {time}", "2026-11-20 09:15"},
	} {
		if got := newCalendar(language.MustParse(tc.tag), tc.pattern).DateTime(at); got != tc.want {
			t.Errorf("%s: DateTime = %q, want %q", tc.tag, got, tc.want)
		}
	}
}

// Every CLDR locale listed can be made: a typo in cldrLocales fails here,
// not on a customer's message.
func TestCLDRLocales(t *testing.T) {
	for name, mk := range cldrLocales {
		if language.MustParse(name).String() != name {
			t.Errorf("%q is not how language.Tag writes it: it would never be found", name)
		}
		if tr := mk(); tr.FmtDateLong(time.Date(2026, 1, 5, 0, 0, 0, 0, time.UTC)) == "" {
			t.Errorf("%s: no long date", name)
		}
	}
}

func TestPlural(t *testing.T) {
	pl := newPlurals(language.Polish)
	if got := strings.Join(pl.used, " "); got != "one few many other" {
		t.Errorf("Polish categories %q, want one few many other", got)
	}
	forms := []string{"one", "paczka", "few", "paczki", "many", "paczek", "other", "paczki"}
	for n, want := range map[int]string{1: "paczka", 2: "paczki", 4: "paczki", 5: "paczek", 12: "paczek", 22: "paczki", 25: "paczek", 0: "paczek"} {
		if got, err := pl.choose(n, forms...); err != nil || got != want {
			t.Errorf("pl %d: %q %v, want %q", n, got, err, want)
		}
	}
	ar := newPlurals(language.Arabic)
	if got := strings.Join(ar.used, " "); got != "zero one two few many other" {
		t.Errorf("Arabic categories %q", got)
	}
	if got := strings.Join(newPlurals(language.Japanese).used, " "); got != "other" {
		t.Errorf("Japanese categories %q, want other", got)
	}
	en := newPlurals(language.English)
	for _, tc := range []struct {
		args []string
		want string // in the error
	}{
		{[]string{"one", "parcel"}, "missing other"},
		{[]string{"other", "parcels"}, "missing one"},
		{[]string{"one", "parcel", "lots", "parcels"}, `"lots" is not a CLDR plural category`},
		{[]string{"one"}, "pairs"},
	} {
		if _, err := en.choose(2, tc.args...); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("choose(2, %q) = %v, want an error with %q", tc.args, err, tc.want)
		}
	}
	if got, _ := en.choose(1, "one", "has", "other", "have", "zero", "none"); got != "has" {
		t.Errorf("a category English does not use is allowed and ignored; got %q", got)
	}
}

// The catalogs' counts agree with the number: "1 of the 3 parcels has",
// "2 of the 3 parcels have".
func TestParcelsProgressAgrees(t *testing.T) {
	s := newSet(t, Options{})
	for _, tc := range []struct {
		locale    string
		delivered int
		want      string
	}{
		{"en", 1, "1 of the 3 parcels of your order has now been delivered."},
		{"en", 2, "2 of the 3 parcels of your order have now been delivered."},
		{"de", 1, "1 von 3 Paketen Ihrer Bestellung ist jetzt zugestellt."},
		{"de", 2, "2 von 3 Paketen Ihrer Bestellung sind jetzt zugestellt."},
		{"fr", 1, "1 colis sur les 3 de votre commande a été livré."},
		{"es", 2, "Ya se han entregado 2 de los 3 paquetes de su pedido."},
	} {
		d := realData(tc.locale)
		d.ParcelsDelivered, d.ParcelsTotal = tc.delivered, 3
		if m := render(t, s, KindEmail, "InTransit", tc.locale, d); !strings.Contains(m.Text, tc.want) {
			t.Errorf("%s, %d delivered: text lacks %q:\n%s", tc.locale, tc.delivered, tc.want, m.Text)
		}
	}
}

func TestJoinDateTime(t *testing.T) {
	for _, c := range []struct{ pattern, want string }{
		{"{date}, {time}", "20.11.2026, 09:15"},
		{"{date} um {time} Uhr", "20.11.2026 um 09:15 Uhr"},
		{"{time} {date}", "09:15 20.11.2026"},
		{"{date}", "20.11.2026"},
		{"{ {date}{time}{x} {", "{ 20.11.202609:15{x} {"},
		{"", ""},
	} {
		// As strings.NewReplacer("{date}", d, "{time}", t) does it.
		if got := joinDateTime(c.pattern, "20.11.2026", "09:15"); got != c.want {
			t.Errorf("joinDateTime(%q) = %q; want %q", c.pattern, got, c.want)
		}
		if want := strings.NewReplacer("{date}", "20.11.2026", "{time}", "09:15").Replace(c.pattern); want != c.want {
			t.Errorf("case %q: the Replacer gives %q", c.pattern, want)
		}
	}
}
