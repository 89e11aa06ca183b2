// Package state keeps the dispatcher's own Redis state: the ledger of the
// notifications a provider accepted (and of the attempts begun), each
// tracking's delivery log, and the suppression list of recipients who opted
// out of everything. The receiver writes the suppression list too (opt-out
// links, SMS STOP, the admin API) and reads the delivery log back for the
// API; it imports this package, never the reverse.
//
// The keys of one tracking carry its id as a hash tag, like the receiver's,
// so in Redis Cluster a tracking's keys share one slot. The key names are
// those trackhook has always used: an existing deployment's data is read as
// it is.
package state

import (
	"errors"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/trackhook/trackhook/dispatcher/groupcommit"
)

// ErrNoTracking is returned by Deliveries for a tracking that does not
// exist (Options.TrackingKey).
var ErrNoTracking = errors.New("state: no such tracking")

// Options configure a Store. Zero values take defaults.
type Options struct {
	// Retention is how long a tracking's ledger lives after its last write:
	// the tracking's own retention (180 days).
	Retention time.Duration
	// DeliveryRetention is how long a delivery-log entry is kept (120 days,
	// AfterShip's retention).
	DeliveryRetention time.Duration
	// TrackingKey names the key whose existence says a tracking exists:
	// the receiver's state hash, which shares the tracking's slot. The
	// delivery log records and lists only for a tracking that exists, so
	// an attempt that ends after the tracking was deleted leaves nothing
	// behind. nil: every tracking exists.
	TrackingKey func(trackingID string) string
	// Now is the clock of the times the store writes and the cut-offs it
	// reads by; nil is time.Now.
	Now func() time.Time
	// Batcher carries the commands of a send (the ledger, the suppression
	// check, the delivery log), so concurrent sends share pipelines
	// (package groupcommit). nil sends each step as its own pipeline.
	Batcher *groupcommit.Batcher
}

// Store is the dispatcher's Redis state. It implements dispatcher.Ledger
// and dispatcher.DeliveryLog, and with Gate the dispatcher.Gate.
type Store struct {
	rdb  redis.UniversalClient
	opts Options
	b    *groupcommit.Batcher
}

// New returns a Store on rdb.
func New(rdb redis.UniversalClient, opts Options) *Store {
	if opts.Retention <= 0 {
		opts.Retention = 180 * 24 * time.Hour
	}
	if opts.DeliveryRetention <= 0 {
		opts.DeliveryRetention = 120 * 24 * time.Hour
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	b := opts.Batcher
	if b == nil {
		b = groupcommit.Direct(rdb)
	}
	return &Store{rdb: rdb, opts: opts, b: b}
}
