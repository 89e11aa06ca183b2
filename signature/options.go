package signature

import (
	"fmt"
	"time"
)

// defaultTolerance is how far a signed timestamp may be from now, in either
// direction, unless WithTolerance says otherwise: the window ShipEngine's
// guide and the Standard Webhooks library use, and the one trackhook uses
// for TrackingMore, which documents none.
const defaultTolerance = 5 * time.Minute

// Option configures a verifier whose scheme signs a timestamp: TrackingMore,
// ShipEngine and Standard Webhooks. Those constructors take ...Option.
//
// The schemes that sign no time (AfterShip, EasyPost, 17TRACK, WooCommerce,
// Twilio) take no options at all, so passing one to them does not compile:
// there is nothing for a clock or a tolerance to act on, and a constructor
// that accepted and ignored a tolerance would let its caller believe that
// replays were bounded.
type Option func(*options)

// options is what an Option sets.
type options struct {
	now       func() time.Time
	tolerance time.Duration
}

// WithClock sets the clock signed timestamps are checked against (default
// time.Now). A nil clock is refused by the constructor.
func WithClock(now func() time.Time) Option {
	return func(o *options) { o.now = now }
}

// WithTolerance sets how far a signed timestamp may be from the clock, in
// either direction (default 5 minutes). A tolerance that is not positive is
// refused by the constructor: a verifier never accepts every timestamp.
func WithTolerance(d time.Duration) Option {
	return func(o *options) { o.tolerance = d }
}

// newOptions applies opts over the defaults. Errors wrap ErrInvalidOption.
func newOptions(scheme string, opts []Option) (options, error) {
	o := options{now: time.Now, tolerance: defaultTolerance}
	for _, opt := range opts {
		if opt != nil {
			opt(&o)
		}
	}
	if o.now == nil {
		return options{}, fmt.Errorf("%s: nil clock: %w", scheme, ErrInvalidOption)
	}
	if o.tolerance <= 0 {
		return options{}, fmt.Errorf("%s: tolerance %v is not positive: %w", scheme, o.tolerance, ErrInvalidOption)
	}
	return o, nil
}
