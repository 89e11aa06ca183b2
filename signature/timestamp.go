package signature

import (
	"fmt"
	"strconv"
	"time"
)

// Helpers for the schemes that sign a timestamp (TrackingMore, ShipEngine,
// Standard Webhooks).

// asciiUnix parses 1 to 18 ASCII digits.
func asciiUnix(v string) (int64, bool) {
	if len(v) == 0 || len(v) > 18 {
		return 0, false
	}
	for i := 0; i < len(v); i++ {
		if v[i] < '0' || v[i] > '9' {
			return 0, false
		}
	}
	n, err := strconv.ParseInt(v, 10, 64)
	return n, err == nil
}

// signedAtWithin rejects a signed time further than tolerance from now, in
// either direction.
func signedAtWithin(scheme string, signed, now time.Time, tolerance time.Duration) error {
	switch d := now.Sub(signed); {
	case d > tolerance:
		return fmt.Errorf("%s: signed %s ago, more than %s: %w", scheme, d.Round(time.Second), tolerance, ErrTooOld)
	case d < -tolerance:
		return fmt.Errorf("%s: signed %s in the future, more than %s: %w", scheme, (-d).Round(time.Second), tolerance, ErrTooNew)
	}
	return nil
}
