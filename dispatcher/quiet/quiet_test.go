package quiet_test

import (
	"errors"
	"testing"
	"time"

	"github.com/trackhook/trackhook/dispatcher/quiet"
)

func at(t *testing.T, zone, clock string) time.Time {
	t.Helper()
	loc, err := time.LoadLocation(zone)
	if err != nil {
		t.Fatal(err)
	}
	v, err := time.ParseInLocation("2006-01-02 15:04", clock, loc)
	if err != nil {
		t.Fatal(err)
	}
	return v
}

func TestUntil(t *testing.T) {
	h := quiet.New(quiet.Default, time.UTC)
	const berlin, newYork = "+4915112345678", "+12125551234"
	for _, tc := range []struct {
		name     string
		number   string
		now      time.Time
		until    time.Time // zero: may be texted now
		wantZone string
	}{
		{"Berlin, evening", berlin, at(t, "Europe/Berlin", "2026-11-21 22:30"), at(t, "Europe/Berlin", "2026-11-22 08:00"), "Europe/Berlin"},
		{"Berlin, 3 a.m.", berlin, at(t, "Europe/Berlin", "2026-11-22 03:00"), at(t, "Europe/Berlin", "2026-11-22 08:00"), "Europe/Berlin"},
		{"Berlin, one minute before the end", berlin, at(t, "Europe/Berlin", "2026-11-22 07:59"), at(t, "Europe/Berlin", "2026-11-22 08:00"), "Europe/Berlin"},
		{"Berlin, at the end", berlin, at(t, "Europe/Berlin", "2026-11-22 08:00"), time.Time{}, ""},
		{"Berlin, just before the start", berlin, at(t, "Europe/Berlin", "2026-11-21 20:59"), time.Time{}, ""},
		{"Berlin, at the start", berlin, at(t, "Europe/Berlin", "2026-11-21 21:00"), at(t, "Europe/Berlin", "2026-11-22 08:00"), "Europe/Berlin"},
		// 22:00 in Berlin is 16:00 in New York: the New York number may be
		// texted, by its own clock.
		{"New York by its own clock", newYork, at(t, "Europe/Berlin", "2026-11-21 22:00"), time.Time{}, ""},
		{"New York at night", newYork, at(t, "America/New_York", "2026-11-21 23:00"), at(t, "America/New_York", "2026-11-22 08:00"), "America/New_York"},
		// The night the clocks go back (Berlin, 25 October 2026, 03:00 → 02:00).
		{"Berlin, DST ends", berlin, at(t, "Europe/Berlin", "2026-10-24 23:00"), at(t, "Europe/Berlin", "2026-10-25 08:00"), "Europe/Berlin"},
		// The morning after the clocks went back, 07:30 on the wall is
		// still quiet (8.5 h after midnight, but the window is wall time).
		{"Berlin, 07:30 after DST ended", berlin, at(t, "Europe/Berlin", "2026-10-25 07:30"), at(t, "Europe/Berlin", "2026-10-25 08:00"), "Europe/Berlin"},
		// The night the clocks go forward (28 March 2027, 02:00 → 03:00):
		// the night is an hour shorter, and 08:00 on the wall (seven hours
		// after midnight) is the end. This case used to loop for ever.
		{"Berlin, DST starts", berlin, at(t, "Europe/Berlin", "2027-03-27 23:00"), at(t, "Europe/Berlin", "2027-03-28 08:00"), "Europe/Berlin"},
		{"Berlin, 08:00 after DST started", berlin, at(t, "Europe/Berlin", "2027-03-28 08:00"), time.Time{}, ""},
		{"Berlin, 03:30 after DST started", berlin, at(t, "Europe/Berlin", "2027-03-28 03:30"), at(t, "Europe/Berlin", "2027-03-28 08:00"), "Europe/Berlin"},
		// A number of many zones (toll-free: Guam to Newfoundland) is quiet
		// while any of them is: at 12:00 UTC it is 22:00 in Guam, and the
		// last zone to wake is Guam at 08:00 (22:00 UTC); at 23:00 UTC it
		// is 09:00 in Guam and 12:00 in Pago Pago, daytime everywhere.
		{"many zones, one asleep", "+18005551234", at(t, "UTC", "2026-11-21 12:00"), at(t, "Pacific/Guam", "2026-11-22 08:00"), "Pacific/Guam"},
		{"many zones, all awake", "+18005551234", at(t, "UTC", "2026-11-21 23:00"), time.Time{}, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			until, zone, err := h.Until(tc.number, tc.now)
			if err != nil {
				t.Fatal(err)
			}
			if !until.Equal(tc.until) || zone != tc.wantZone {
				t.Fatalf("Until = %v (%q), want %v (%q)", until, zone, tc.until, tc.wantZone)
			}
		})
	}
}

// The UK's numbers map to London, Guernsey and the Isle of Man: one offset,
// so the union of their windows is the window.
func TestSeveralZonesOfOneOffset(t *testing.T) {
	h := quiet.New(quiet.Default, time.UTC)
	now := at(t, "Europe/London", "2026-11-21 21:30")
	until, _, err := h.Until("+447700900123", now)
	if err != nil {
		t.Fatal(err)
	}
	if want := at(t, "Europe/London", "2026-11-22 08:00"); !until.Equal(want) {
		t.Fatalf("Until = %v, want %v", until, want)
	}
}

func TestWindowWithinADay(t *testing.T) {
	w, err := quiet.Parse("00:00-07:30")
	if err != nil {
		t.Fatal(err)
	}
	h := quiet.New(w, time.UTC)
	if until, _, _ := h.Until("+4915112345678", at(t, "Europe/Berlin", "2026-11-21 23:59")); !until.IsZero() {
		t.Fatalf("23:59 is outside 00:00-07:30, got until %v", until)
	}
	until, _, _ := h.Until("+4915112345678", at(t, "Europe/Berlin", "2026-11-22 00:00"))
	if want := at(t, "Europe/Berlin", "2026-11-22 07:30"); !until.Equal(want) {
		t.Fatalf("Until = %v, want %v", until, want)
	}
}

func TestParse(t *testing.T) {
	w, err := quiet.Parse(" 22:00-08:00 ")
	if err != nil || w.Start != 22*time.Hour || w.End != 8*time.Hour || w.String() != "22:00-08:00" {
		t.Fatalf("Parse = %+v, %v", w, err)
	}
	for _, bad := range []string{"", "22-08", "22:00", "24:00-08:00", "22:60-08:00", "22:00-8:0", "08:00-08:00", "ab:cd-08:00"} {
		if _, err := quiet.Parse(bad); err == nil {
			t.Errorf("Parse(%q) accepted", bad)
		}
	}
}

func TestNotANumber(t *testing.T) {
	h := quiet.New(quiet.Default, nil)
	for _, bad := range []string{"", "015112345678", "+", "+999123"} {
		if _, _, err := h.Until(bad, time.Date(2026, 11, 21, 12, 0, 0, 0, time.UTC)); !errors.Is(err, quiet.ErrBadNumber) {
			t.Errorf("Until(%q): err = %v, want ErrBadNumber", bad, err)
		}
	}
}

func FuzzUntil(f *testing.F) {
	f.Add("+4915112345678", int64(0))
	f.Add("+18005551234", int64(1_800_000_000))
	f.Add("+79161234567", int64(-1))
	// The night Berlin's clocks go forward: Until used to loop for ever.
	f.Add("+4915112345678", time.Date(2027, 3, 27, 22, 0, 0, 0, time.UTC).Unix())
	f.Add("+12125551234", time.Date(2027, 3, 14, 5, 0, 0, 0, time.UTC).Unix())
	h := quiet.New(quiet.Default, time.UTC)
	f.Fuzz(func(t *testing.T, number string, unix int64) {
		now := time.Unix(unix%(1<<40), 0)
		until, _, err := h.Until(number, now)
		if err != nil {
			return
		}
		if !until.IsZero() && (!until.After(now) || until.Sub(now) > 24*time.Hour) {
			t.Fatalf("Until(%q, %v) = %v: not within the next day", number, now, until)
		}
	})
}

// When the zones' windows together cover the whole day, the fallback's
// window decides (else the message would wait for ever).
func TestWholeDayQuietGoesByFallback(t *testing.T) {
	w, err := quiet.Parse("01:00-23:00")
	if err != nil {
		t.Fatal(err)
	}
	h := quiet.New(w, time.UTC)
	until, zone, err := h.Until("+18005551234", at(t, "UTC", "2026-11-21 12:00"))
	if err != nil {
		t.Fatal(err)
	}
	if want := at(t, "UTC", "2026-11-21 23:00"); !until.Equal(want) || zone != "UTC" {
		t.Fatalf("Until = %v (%q), want %v (UTC)", until, zone, want)
	}
}
