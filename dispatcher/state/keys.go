package state

// Every Redis key of the dispatcher's state is built here. The keys of one
// tracking carry its id as a hash tag ({id}), so they share a Cluster slot
// with the receiver's keys of it and every script touching them runs on one
// node.

const keyPrefix = "trackhook:"

// sentKey is a set of notification keys whose message the provider accepted.
func sentKey(id string) string { return keyPrefix + "{" + id + "}:sent" }

// attemptedKey is a set of notification keys that an attempt has begun to
// hand to the provider (BeginSend).
func attemptedKey(id string) string { return keyPrefix + "{" + id + "}:attempted" }

// settledKey is a set of notification keys that were settled without a send
// (skipped, suppressed, failed permanently): the notification queued after
// one of them for the same recipient need not wait for it.
func settledKey(id string) string { return keyPrefix + "{" + id + "}:settled" }

// deliveriesKey is a sorted set of dispatcher.Delivery JSON scored by the
// attempt's time (µs): the tracking's delivery log, capped and trimmed to the
// delivery retention on every write.
func deliveriesKey(id string) string { return keyPrefix + "{" + id + "}:deliveries" }

// suppressionsKey is a hash of dispatcher.RecipientKey → Suppression JSON:
// the recipients who opted out of every shipment.
func suppressionsKey() string { return keyPrefix + "suppressions" }

// TrackingKeys are the keys this package keeps for one tracking, for the
// tracking's owner to delete with it.
func TrackingKeys(trackingID string) []string {
	return []string{sentKey(trackingID), attemptedKey(trackingID), settledKey(trackingID), deliveriesKey(trackingID)}
}
