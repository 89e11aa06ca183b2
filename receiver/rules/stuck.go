package rules

import (
	"time"

	"github.com/trackhook/trackhook/dispatcher"
	"github.com/trackhook/trackhook/receiver/tracking"
)

// DefaultStuckDays is the stuck-parcel rule's default: five business days
// without an update while in transit.
const DefaultStuckDays = 5

// Stuck is the stuck-parcel rule: a parcel in transit with no update for
// Days business days is late, counted in each recipient's time zone (from
// the phone number for a text, else from the destination country, else
// Fallback) and calendar (weekends and Calendar's holidays of the
// destination country).
type Stuck struct {
	Days     int
	Calendar Calendar
	Fallback *time.Location // nil: UTC
}

// Deadline implements tracking.StuckDeadline: Days business days after the
// tracking's last update, at the same wall-clock time, in the recipient's
// zone. Where the zone is ambiguous (a number prefix that spans zones) the
// latest of them counts, so nobody hears of a delay early.
func (s Stuck) Deadline(t *tracking.Tracking, c dispatcher.Channel, recipient string) time.Time {
	if s.Days <= 0 || t.OccurredAt.IsZero() {
		return time.Time{}
	}
	var locs []*time.Location
	if c == dispatcher.ChannelSMS {
		locs = PhoneZones(recipient)
	}
	if len(locs) == 0 {
		locs = CountryZones(t.DestinationCountry)
	}
	return latestIn(locs, s.Fallback, func(loc *time.Location) time.Time {
		return s.Calendar.AddBusinessDays(t.OccurredAt.In(loc), s.Days, t.DestinationCountry)
	})
}

// latestIn is the latest of at(loc) over locs (over fallback, or UTC, when
// locs is empty): where a zone is ambiguous, nobody hears of a deadline early.
func latestIn(locs []*time.Location, fallback *time.Location, at func(*time.Location) time.Time) time.Time {
	if len(locs) == 0 {
		if fallback == nil {
			fallback = time.UTC
		}
		locs = []*time.Location{fallback}
	}
	var latest time.Time
	for _, loc := range locs {
		if d := at(loc); d.After(latest) {
			latest = d
		}
	}
	return latest
}

// Late is the running-late rule's clock: the expected delivery day is over
// at midnight where the parcel is going (the destination country's zone;
// for a country with several, the latest of them), else in Fallback.
type Late struct {
	Fallback *time.Location // nil: UTC
}

// Deadline implements tracking.LateDeadline.
func (l Late) Deadline(t *tracking.Tracking) time.Time {
	return latestIn(CountryZones(t.DestinationCountry), l.Fallback, func(loc *time.Location) time.Time {
		return tracking.EndOfDay(t.ExpectedDelivery, loc)
	})
}
