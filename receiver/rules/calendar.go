// Package rules holds what the time-driven notification rules need to know
// of the world: which days are business days for a recipient, and the time
// zone a recipient lives in (from the phone number, or the destination
// country). Everything here is pure: the clock is always an argument.
package rules

import (
	"fmt"
	"sort"
	"strings"
	"time"

	"golang.org/x/text/language"
)

// Calendar counts business days: Monday to Friday, except the holidays the
// operator lists (TRACKHOOK_HOLIDAYS). A holiday is a date everywhere
// ("2026-12-25") or in one country ("DE:2026-10-03", ISO 3166-1 alpha-2).
// The zero Calendar has no holidays.
type Calendar struct {
	everywhere map[string]bool            // "2026-12-25"
	byCountry  map[string]map[string]bool // "DE" → "2026-10-03"
}

// ParseHolidays reads a comma-separated list of holidays. An entry that is
// not a date, or names no country, is an error naming it.
func ParseHolidays(s string) (Calendar, error) {
	var c Calendar
	for _, entry := range strings.Split(s, ",") {
		entry = strings.TrimSpace(entry)
		if entry == "" {
			continue
		}
		date, country := entry, ""
		if cc, d, ok := strings.Cut(entry, ":"); ok {
			country, date = strings.ToUpper(strings.TrimSpace(cc)), strings.TrimSpace(d)
			r, err := language.ParseRegion(country)
			if err != nil || !r.IsCountry() || len(country) != 2 {
				return Calendar{}, fmt.Errorf("holiday %q: %q is not a country code like DE", entry, cc)
			}
		}
		if _, err := time.Parse(time.DateOnly, date); err != nil {
			return Calendar{}, fmt.Errorf("holiday %q: want a date like 2026-12-25", entry)
		}
		if country == "" {
			if c.everywhere == nil {
				c.everywhere = map[string]bool{}
			}
			c.everywhere[date] = true
			continue
		}
		if c.byCountry == nil {
			c.byCountry = map[string]map[string]bool{}
		}
		if c.byCountry[country] == nil {
			c.byCountry[country] = map[string]bool{}
		}
		c.byCountry[country][date] = true
	}
	return c, nil
}

// String lists the holidays as ParseHolidays reads them, sorted.
func (c Calendar) String() string {
	var out []string
	for d := range c.everywhere {
		out = append(out, d)
	}
	for cc, days := range c.byCountry {
		for d := range days {
			out = append(out, cc+":"+d)
		}
	}
	sort.Strings(out)
	return strings.Join(out, ",")
}

// BusinessDay reports whether the date of t, in t's location, is a
// business day in country (ISO alpha-2 or alpha-3; "" for none).
func (c Calendar) BusinessDay(t time.Time, country string) bool {
	switch t.Weekday() {
	case time.Saturday, time.Sunday:
		return false
	}
	date := t.Format(time.DateOnly)
	if c.everywhere[date] {
		return false
	}
	if cc := Alpha2(country); cc != "" && c.byCountry[cc][date] {
		return false
	}
	return true
}

// AddBusinessDays returns the instant n business days after t, at the same
// wall-clock time in t's location: from a Friday 15:00, five business days
// is the next Friday 15:00; from a Saturday, the first business day counted
// is the Monday. A wall-clock time a change of the clocks skips is moved as
// the time package moves it.
func (c Calendar) AddBusinessDays(t time.Time, n int, country string) time.Time {
	d := t
	for counted := 0; counted < n; {
		// AddDate keeps the wall clock across a change of the clocks.
		d = d.AddDate(0, 0, 1)
		if c.BusinessDay(d, country) {
			counted++
		}
	}
	return d
}

// Alpha2 returns the ISO 3166-1 alpha-2 code of country (alpha-2 or
// alpha-3, any case), or "" when it is none.
func Alpha2(country string) string {
	if country == "" {
		return ""
	}
	r, err := language.ParseRegion(country)
	if err != nil || !r.IsCountry() {
		return ""
	}
	return r.String()
}
