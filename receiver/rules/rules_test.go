package rules

import (
	"strings"
	"testing"
	"time"

	"github.com/trackhook/trackhook/dispatcher"
	"github.com/trackhook/trackhook/receiver/tracking"
)

func mustLoad(t *testing.T, name string) *time.Location {
	t.Helper()
	loc, err := time.LoadLocation(name)
	if err != nil {
		t.Fatal(err)
	}
	return loc
}

func TestAddBusinessDays(t *testing.T) {
	berlin := mustLoad(t, "Europe/Berlin")
	cal, err := ParseHolidays("2027-12-24, DE:2027-10-04 ,fr:2027-11-11")
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		name    string
		from    time.Time
		days    int
		country string
		want    time.Time
	}{
		{"Friday to Friday", time.Date(2027, 5, 14, 15, 0, 0, 0, berlin), 5, "DE", time.Date(2027, 5, 21, 15, 0, 0, 0, berlin)},
		{"Saturday counts from Monday", time.Date(2027, 5, 15, 10, 0, 0, 0, berlin), 5, "DE", time.Date(2027, 5, 21, 10, 0, 0, 0, berlin)},
		{"Wednesday, one day", time.Date(2027, 5, 12, 9, 0, 0, 0, berlin), 1, "", time.Date(2027, 5, 13, 9, 0, 0, 0, berlin)},
		{"Christmas Eve everywhere", time.Date(2027, 12, 22, 9, 0, 0, 0, berlin), 2, "ES", time.Date(2027, 12, 27, 9, 0, 0, 0, berlin)},
		{"a German holiday (alpha-3 country)", time.Date(2027, 10, 1, 9, 0, 0, 0, berlin), 1, "DEU", time.Date(2027, 10, 5, 9, 0, 0, 0, berlin)},
		{"not a holiday in Austria", time.Date(2027, 10, 1, 9, 0, 0, 0, berlin), 1, "AT", time.Date(2027, 10, 4, 9, 0, 0, 0, berlin)},
		// Across the change to summer time (28 March 2027): the wall clock stays.
		{"across a change of the clocks", time.Date(2027, 3, 26, 8, 0, 0, 0, berlin), 1, "DE", time.Date(2027, 3, 29, 8, 0, 0, 0, berlin)},
	} {
		if got := cal.AddBusinessDays(c.from, c.days, c.country); !got.Equal(c.want) {
			t.Errorf("%s: %v, want %v", c.name, got, c.want)
		}
	}
	if s := cal.String(); s != "2027-12-24,DE:2027-10-04,FR:2027-11-11" {
		t.Errorf("String() = %q", s)
	}
}

func TestParseHolidaysErrorsNameTheEntry(t *testing.T) {
	for _, bad := range []string{"2027-13-01", "christmas", "XX:2027-12-25", "DEU:2027-12-25", ":2027-12-25"} {
		if _, err := ParseHolidays("2027-12-24," + bad); err == nil {
			t.Errorf("%q accepted", bad)
		} else if !strings.Contains(err.Error(), bad) {
			t.Errorf("%q: error %q does not name it", bad, err)
		}
	}
}

func TestZones(t *testing.T) {
	if z := PhoneZones("+4915112345678"); len(z) != 1 || z[0].String() != "Europe/Berlin" {
		t.Errorf("German mobile: %v", z)
	}
	if z := PhoneZones("+12125551234"); len(z) != 1 || z[0].String() != "America/New_York" {
		t.Errorf("New York: %v", z)
	}
	if z := PhoneZones("0151 123"); z != nil {
		t.Errorf("not E.164: %v", z)
	}
	for _, c := range []struct{ country, zone string }{{"DEU", "Europe/Berlin"}, {"fr", "Europe/Paris"}, {"JPN", "Asia/Tokyo"}} {
		if z := CountryZones(c.country); len(z) == 0 || z[0].String() != c.zone {
			t.Errorf("%s: %v, want %s", c.country, z, c.zone)
		}
	}
	if z := CountryZones("ZZZ"); z != nil {
		t.Errorf("unknown country: %v", z)
	}
}

// The deadline is counted in each recipient's zone: a text to a Tokyo
// number and an email to a German address about the same update fall on
// different instants.
func TestStuckDeadline(t *testing.T) {
	s := Stuck{Days: 5}
	// Friday 16:00 UTC: Friday 18:00 in Berlin, already Saturday 01:00 in Tokyo.
	tr := &tracking.Tracking{OccurredAt: time.Date(2027, 5, 14, 16, 0, 0, 0, time.UTC), DestinationCountry: "DEU"}
	// Berlin: five business days later is Friday 21 May, 18:00.
	email := s.Deadline(tr, dispatcher.ChannelEmail, "kim@example.com")
	if want := time.Date(2027, 5, 21, 16, 0, 0, 0, time.UTC); !email.Equal(want) {
		t.Errorf("email deadline %v, want %v", email.UTC(), want)
	}
	// Tokyo: from a Saturday, Monday is the first: Friday 21 May, 01:00,
	// which is Thursday 16:00 UTC.
	text := s.Deadline(tr, dispatcher.ChannelSMS, "+81312345678")
	if want := time.Date(2027, 5, 20, 16, 0, 0, 0, time.UTC); !text.Equal(want) {
		t.Errorf("Tokyo text deadline %v, want %v", text.UTC(), want)
	}
	if d := (Stuck{}).Deadline(tr, dispatcher.ChannelEmail, "x@example.com"); !d.IsZero() {
		t.Errorf("rule off: %v", d)
	}
	// No zone known: the fallback. Friday 09:00 in Los Angeles + 1 = Monday 09:00.
	tr.DestinationCountry = ""
	if d := (Stuck{Days: 1, Fallback: mustLoad(t, "America/Los_Angeles")}).Deadline(tr, dispatcher.ChannelEmail, "x@example.com"); !d.Equal(time.Date(2027, 5, 17, 16, 0, 0, 0, time.UTC)) {
		t.Errorf("fallback zone: %v", d.UTC())
	}
}

func TestLateDeadline(t *testing.T) {
	tr := &tracking.Tracking{ExpectedDelivery: "2027-05-20", DestinationCountry: "DEU"}
	if d := (Late{}).Deadline(tr); !d.Equal(time.Date(2027, 5, 20, 22, 0, 0, 0, time.UTC)) {
		t.Errorf("Berlin: the day is over at %v, want midnight CEST", d.UTC())
	}
	tr.DestinationCountry = ""
	if d := (Late{Fallback: mustLoad(t, "Asia/Tokyo")}).Deadline(tr); !d.Equal(time.Date(2027, 5, 20, 15, 0, 0, 0, time.UTC)) {
		t.Errorf("fallback: %v", d.UTC())
	}
	tr.ExpectedDelivery = "soon"
	if d := (Late{}).Deadline(tr); !d.IsZero() {
		t.Errorf("no day: %v", d)
	}
}

// TRACKHOOK_HOLIDAYS is operator input: it parses or is refused, never
// panics, and what parses prints back to itself.
func FuzzParseHolidays(f *testing.F) {
	for _, s := range []string{"2027-12-25", "DE:2027-10-03, fr:2027-11-11", "", ",,", "XX:2027-01-01", "DE:", ":", "2027-02-30"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		c, err := ParseHolidays(s)
		if err != nil {
			return
		}
		again, err := ParseHolidays(c.String())
		if err != nil || again.String() != c.String() {
			t.Fatalf("%q → %q → %q, %v", s, c.String(), again.String(), err)
		}
		// Any day: BusinessDay answers without panicking.
		_ = c.BusinessDay(time.Date(2027, 12, 25, 12, 0, 0, 0, time.UTC), "DE")
	})
}
