package tracking

// Every Redis key trackhook owns is built here. The keys of one tracking
// carry its id as a hash tag ({id}), so they share a Cluster slot and every
// script touching them runs on one node.

const keyPrefix = "trackhook:"

// stateKey is a hash: "v" the version (CAS counter), "d" the Tracking as
// JSON, "s" its subscribers as "<v>:<JSON>" (see subscribers).
func stateKey(id string) string { return keyPrefix + "{" + id + "}:state" }

// StateKey is the key whose existence says the tracking exists: the
// dispatcher's state package checks it (state.Options.TrackingKey) before it
// writes a tracking's delivery log. The dispatcher's own keys of a tracking
// (its ledger, its delivery log) are built by that package, and share this
// key's hash slot.
func StateKey(id string) string { return stateKey(id) }

// seenKey is a sorted set of "source:event_id" scored by first receipt (ms),
// trimmed to the dedupe retention.
func seenKey(id string) string { return keyPrefix + "{" + id + "}:seen" }

// outboxKey is a hash of notification key → Job JSON: notifications planned
// but not yet known to be enqueued.
func outboxKey(id string) string { return keyPrefix + "{" + id + "}:outbox" }

// outboxIndexKey is a sorted set of tracking ids that may have outbox
// entries, scored by when they were written (ms). It is written before the
// outbox itself and only ever touched by single-key commands, so it needs no
// hash tag.
func outboxIndexKey() string { return keyPrefix + "outbox" }

// indexKey is a sorted set of every tracking id, scored by creation time
// (ms), for listing. Written before the tracking itself; an id whose state
// is gone is skipped and dropped by List.
func indexKey() string { return keyPrefix + "trackings" }

// scheduleKey is a sorted set of tracking ids, scored by when a time-driven
// rule is next due for them (ms): "trackhook:stuck" (the first recipient's
// stuck-parcel deadline), "trackhook:late" (the end of the expected
// delivery day). Written before the tracking itself, with single-key
// commands only, so it needs no hash tag.
func scheduleKey(s Schedule) string { return keyPrefix + string(s) }

// secretKey is a string: the shared secret called name (Secret).
func secretKey(name string) string { return keyPrefix + "secret:" + name }
