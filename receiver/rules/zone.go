package rules

import (
	"strings"
	"sync"
	"time"

	"github.com/nyaruka/phonenumbers"
)

// zones caches time.LoadLocation.
var zones sync.Map // name → *time.Location (nil: not on this system)

func load(name string) *time.Location {
	if v, ok := zones.Load(name); ok {
		loc, _ := v.(*time.Location)
		return loc
	}
	loc, err := time.LoadLocation(name)
	if err != nil {
		loc = nil
	}
	zones.Store(name, loc)
	return loc
}

func locations(names []string) []*time.Location {
	var out []*time.Location
	for _, n := range names {
		if loc := load(n); loc != nil {
			out = append(out, loc)
		}
	}
	return out
}

// PhoneZones returns the time zones of an E.164 number, as libphonenumber's
// geocoding data gives them (one for most numbers; several for a prefix
// that spans zones), or nil when it knows none. The number is looked up
// by its longest known prefix, without parsing it: trackhook keeps numbers
// in E.164 already, and this runs on the webhook's path.
func PhoneZones(e164 string) []*time.Location {
	digits, ok := strings.CutPrefix(e164, "+")
	if !ok || digits == "" || strings.Trim(digits, "0123456789") != "" {
		return nil
	}
	names, err := phonenumbers.GetTimezonesForPrefix(digits)
	if err != nil {
		return nil
	}
	return locations(names)
}

var countryZones sync.Map // alpha-2 → []*time.Location

// CountryZones returns the time zones of a country (ISO alpha-2 or
// alpha-3): those of libphonenumber's example fixed-line number for it, so
// one zone for most countries and, for a country that spans several, the
// zone of its example number (the US: New York). nil when unknown.
func CountryZones(country string) []*time.Location {
	cc := Alpha2(country)
	if cc == "" {
		return nil
	}
	if v, ok := countryZones.Load(cc); ok {
		locs, _ := v.([]*time.Location)
		return locs
	}
	var locs []*time.Location
	if num := phonenumbers.GetExampleNumber(cc); num != nil {
		if names, err := phonenumbers.GetTimezonesForNumber(num); err == nil {
			locs = locations(names)
		}
	}
	countryZones.Store(cc, locs)
	return locs
}
