package tracking

import (
	"fmt"
	"strings"
)

// Status is the canonical delivery status: AfterShip's tag set, because the
// admin API mirrors AfterShip. The zero value is not a status.
type Status uint8

// The canonical statuses, in AfterShip's spelling.
const (
	StatusInvalid Status = iota
	Pending
	InfoReceived
	InTransit
	OutForDelivery
	AttemptFail
	AvailableForPickup
	Delivered
	Exception
	Expired
)

var statusNames = [...]string{
	StatusInvalid:      "",
	Pending:            "Pending",
	InfoReceived:       "InfoReceived",
	InTransit:          "InTransit",
	OutForDelivery:     "OutForDelivery",
	AttemptFail:        "AttemptFail",
	AvailableForPickup: "AvailableForPickup",
	Delivered:          "Delivered",
	Exception:          "Exception",
	Expired:            "Expired",
}

// Statuses lists every valid status.
func Statuses() []Status {
	out := make([]Status, 0, len(statusNames)-1)
	for s := Pending; s <= Expired; s++ {
		out = append(out, s)
	}
	return out
}

func (s Status) String() string {
	if int(s) < len(statusNames) {
		return statusNames[s]
	}
	return fmt.Sprintf("Status(%d)", uint8(s))
}

// Valid reports whether s is one of the canonical statuses.
func (s Status) Valid() bool { return s >= Pending && s <= Expired }

// ParseStatus parses a canonical tag. It is case-insensitive and ignores
// underscores and dashes ("out_for_delivery" parses), because operators type
// these into configuration.
func ParseStatus(v string) (Status, error) {
	if s, ok := statusByName[v]; ok { // the canonical spelling: every stored tracking
		return s, nil
	}
	if s, ok := statusByKey[statusKey(v)]; ok {
		return s, nil
	}
	return StatusInvalid, fmt.Errorf("unknown status %q (want one of %s)", v, strings.Join(statusNames[1:], ", "))
}

var (
	statusKeyReplacer = strings.NewReplacer("_", "", "-", "", " ", "")
	statusByName      = map[string]Status{}
	statusByKey       = map[string]Status{}
)

func init() {
	for s := Pending; s <= Expired; s++ {
		statusByName[statusNames[s]] = s
		statusByKey[statusKey(statusNames[s])] = s
	}
}

// statusKey is what ParseStatus compares: lower case, without _ - and spaces.
func statusKey(v string) string { return statusKeyReplacer.Replace(strings.ToLower(v)) }

// MarshalText implements encoding.TextMarshaler.
func (s Status) MarshalText() ([]byte, error) {
	if !s.Valid() {
		return []byte{}, nil
	}
	return []byte(s.String()), nil
}

// UnmarshalText implements encoding.TextUnmarshaler; empty text is StatusInvalid.
func (s *Status) UnmarshalText(b []byte) error {
	if len(b) == 0 {
		*s = StatusInvalid
		return nil
	}
	v, err := ParseStatus(string(b))
	if err != nil {
		return err
	}
	*s = v
	return nil
}

// StatusSet is a set of statuses, e.g. the ones that notify customers.
type StatusSet uint16

// NewStatusSet returns the set of ss.
func NewStatusSet(ss ...Status) StatusSet {
	var set StatusSet
	for _, s := range ss {
		set |= 1 << s
	}
	return set
}

// DefaultTriggers are the statuses that notify unless configured otherwise.
var DefaultTriggers = NewStatusSet(InTransit, OutForDelivery, AvailableForPickup, AttemptFail, Delivered, Exception)

// ParseStatusSet parses a comma-separated list of statuses.
func ParseStatusSet(v string) (StatusSet, error) {
	var set StatusSet
	for _, f := range strings.Split(v, ",") {
		if f = strings.TrimSpace(f); f == "" {
			continue
		}
		s, err := ParseStatus(f)
		if err != nil {
			return 0, err
		}
		set |= 1 << s
	}
	if set == 0 {
		return 0, fmt.Errorf("no status in %q", v)
	}
	return set, nil
}

// Has reports whether s is in the set.
func (set StatusSet) Has(s Status) bool { return s.Valid() && set&(1<<s) != 0 }

func (set StatusSet) String() string {
	var names []string
	for _, s := range Statuses() {
		if set.Has(s) {
			names = append(names, s.String())
		}
	}
	return strings.Join(names, ",")
}
