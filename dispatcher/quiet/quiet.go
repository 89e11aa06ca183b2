// Package quiet decides when a text message may not go out: the quiet hours
// of the recipient's local time (by default 21:00 to 08:00), found from the
// phone number. A notification due in the quiet hours is deferred to their
// end, not dropped.
//
// A number whose country spans several time zones (+1 212 is one zone, +7
// or some +1 numbers are several) is quiet while it is quiet in any of them,
// so nobody is woken in the westmost zone at 08:00 in the eastmost one. A
// number with no known zone uses the fallback location (the server's).
package quiet

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/nyaruka/phonenumbers"
)

// Window is a daily span of local time: from Start until End, both as
// offsets from midnight. Start > End spans midnight (21:00–08:00).
type Window struct {
	Start, End time.Duration
}

// Default is the quiet window most services use.
var Default = Window{Start: 21 * time.Hour, End: 8 * time.Hour}

// String formats w as "21:00-08:00".
func (w Window) String() string { return clock(w.Start) + "-" + clock(w.End) }

func clock(d time.Duration) string {
	return fmt.Sprintf("%02d:%02d", int(d/time.Hour), int(d%time.Hour/time.Minute))
}

// Parse reads "HH:MM-HH:MM" (local time; "21:00-08:00" spans midnight).
func Parse(s string) (Window, error) {
	from, to, ok := strings.Cut(strings.TrimSpace(s), "-")
	if !ok {
		return Window{}, fmt.Errorf("%q: want HH:MM-HH:MM, e.g. 21:00-08:00", s)
	}
	start, err := parseClock(from)
	if err != nil {
		return Window{}, fmt.Errorf("%q: %w", s, err)
	}
	end, err := parseClock(to)
	if err != nil {
		return Window{}, fmt.Errorf("%q: %w", s, err)
	}
	if start == end {
		return Window{}, fmt.Errorf("%q: the window is empty", s)
	}
	return Window{Start: start, End: end}, nil
}

func parseClock(s string) (time.Duration, error) {
	hh, mm, ok := strings.Cut(strings.TrimSpace(s), ":")
	h, err1 := strconv.Atoi(hh)
	m, err2 := strconv.Atoi(mm)
	if !ok || err1 != nil || err2 != nil || len(mm) != 2 || h < 0 || h > 23 || m < 0 || m > 59 {
		return 0, fmt.Errorf("%q is not a time of day (HH:MM, 00:00 to 23:59)", s)
	}
	return time.Duration(h)*time.Hour + time.Duration(m)*time.Minute, nil
}

// Hours tells when a number's quiet hours end. It is safe for concurrent
// use.
type Hours struct {
	w        Window
	fallback *time.Location

	mu    sync.Mutex
	zones map[string]*time.Location // loaded IANA zones; nil value: not loadable
}

// New returns the quiet hours w, with fallback for numbers of no known zone
// (nil: UTC).
func New(w Window, fallback *time.Location) *Hours {
	if fallback == nil {
		fallback = time.UTC
	}
	return &Hours{w: w, fallback: fallback, zones: map[string]*time.Location{}}
}

// ErrBadNumber is returned for a recipient that is not an E.164 number.
var ErrBadNumber = errors.New("not an E.164 phone number")

// Until returns when the quiet hours of the number e164 end, if they are on
// at now, and the zone that holds them ("Europe/Berlin"). The zero time
// means the number may be texted now.
func (h *Hours) Until(e164 string, now time.Time) (until time.Time, zone string, err error) {
	locs, err := h.locations(e164)
	if err != nil {
		return time.Time{}, "", err
	}
	until, zone, ok := h.until(locs, now)
	if !ok {
		// The zones' quiet hours cover the whole day (a non-geographic
		// number, +1 800, spans Guam to Newfoundland): go by the
		// fallback's.
		until, zone, _ = h.until([]*time.Location{h.fallback}, now)
	}
	return until, zone, nil
}

// until steps past each zone's window until no zone is quiet. Every step
// moves t forward to a window's end; ok is false when that takes a day.
func (h *Hours) until(locs []*time.Location, now time.Time) (time.Time, string, bool) {
	t, zone := now, ""
	for {
		moved := false
		for _, loc := range locs {
			if end, ok := h.end(t, loc); ok {
				t, zone, moved = end, loc.String(), true
			}
		}
		switch {
		case t.Sub(now) >= 24*time.Hour:
			return time.Time{}, "", false
		case !moved && t.Equal(now):
			return time.Time{}, "", true
		case !moved:
			return t, zone, true
		}
	}
}

// end returns the end of the window that holds t in loc. The window is in
// wall-clock time: on the days the clocks change, "08:00" is 08:00 on the
// wall, not eight hours after midnight. The end it returns is always after
// t, so until's steps always move forward.
func (h *Hours) end(t time.Time, loc *time.Location) (time.Time, bool) {
	local := t.In(loc)
	y, mo, d := local.Date()
	at := time.Duration(local.Hour())*time.Hour + time.Duration(local.Minute())*time.Minute +
		time.Duration(local.Second())*time.Second + time.Duration(local.Nanosecond())
	endOn := func(day int) time.Time {
		return time.Date(y, mo, day, int(h.w.End/time.Hour), int(h.w.End%time.Hour/time.Minute), 0, 0, loc)
	}
	var end time.Time
	switch {
	case h.w.Start < h.w.End: // a window within one day
		if at >= h.w.Start && at < h.w.End {
			end = endOn(d)
		}
	case at < h.w.End: // after midnight, before the end
		end = endOn(d)
	case at >= h.w.Start: // the evening part: ends tomorrow
		end = endOn(d + 1)
	}
	// An end in the hour the clocks skip is normalised by time.Date to an
	// instant that may not be after t; such a window is over.
	if end.IsZero() || !end.After(t) {
		return time.Time{}, false
	}
	return end, true
}

// locations returns the time zones of the number.
func (h *Hours) locations(e164 string) ([]*time.Location, error) {
	if !strings.HasPrefix(e164, "+") {
		return nil, ErrBadNumber
	}
	num, err := phonenumbers.Parse(e164, "")
	if err != nil {
		return nil, ErrBadNumber
	}
	names, err := phonenumbers.GetTimezonesForNumber(num)
	if err != nil {
		names = nil
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	var locs []*time.Location
	for _, name := range names {
		loc, seen := h.zones[name]
		if !seen {
			loc, err = time.LoadLocation(name)
			if err != nil {
				loc = nil // "Etc/Unknown", or a zone this system does not have
			}
			h.zones[name] = loc
		}
		if loc != nil {
			locs = append(locs, loc)
		}
	}
	if len(locs) == 0 {
		locs = []*time.Location{h.fallback}
	}
	return locs, nil
}
