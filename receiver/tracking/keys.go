package tracking

// Every Redis key trackhook owns is built here. The keys of one tracking
// carry its id as a hash tag ({id}), so they share a Cluster slot and every
// script touching them runs on one node.

const keyPrefix = "trackhook:"

// stateKey is a hash: "v" the version (CAS counter), "d" the Tracking as JSON.
func stateKey(id string) string { return keyPrefix + "{" + id + "}:state" }

// seenKey is a sorted set of "source:event_id" scored by first receipt (ms),
// trimmed to the dedupe retention.
func seenKey(id string) string { return keyPrefix + "{" + id + "}:seen" }

// outboxKey is a hash of notification key → Job JSON: notifications planned
// but not yet known to be enqueued.
func outboxKey(id string) string { return keyPrefix + "{" + id + "}:outbox" }

// sentKey is a set of notification keys whose message the provider accepted.
func sentKey(id string) string { return keyPrefix + "{" + id + "}:sent" }

// attemptedKey is a set of notification keys that an attempt has begun to
// hand to the provider (BeginSend).
func attemptedKey(id string) string { return keyPrefix + "{" + id + "}:attempted" }

// deliveriesKey is a sorted set of Delivery JSON scored by the attempt's
// time (µs): the tracking's delivery log, capped and trimmed to the
// delivery retention on every write.
func deliveriesKey(id string) string { return keyPrefix + "{" + id + "}:deliveries" }

// outboxIndexKey is a sorted set of tracking ids that may have outbox
// entries, scored by when they were written (ms). It is written before the
// outbox itself and only ever touched by single-key commands, so it needs no
// hash tag.
func outboxIndexKey() string { return keyPrefix + "outbox" }

// indexKey is a sorted set of every tracking id, scored by creation time
// (ms), for listing. Written before the tracking itself; an id whose state
// is gone is skipped and dropped by List.
func indexKey() string { return keyPrefix + "trackings" }

// suppressionsKey is a hash of "channel:recipient" → Suppression JSON: the
// recipients who opted out of every shipment.
func suppressionsKey() string { return keyPrefix + "suppressions" }
