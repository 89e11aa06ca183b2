package trackingmore

import (
	"strings"

	"github.com/trackhook/trackhook/receiver/tracking"
)

// statusWord is TrackingMore's delivery status for a canonical status: the
// inverse of the inbound mapping trackhook uses for TrackingMore webhooks
// (shared/reference/webhook-sources.md B3; receiver/source/trackingmore.go).
// v2's words are pending, notfound, transit, pickup, delivered,
// undelivered, exception, expired (VERIFIED, trackingmore.com/docs/logistics_status.php);
// v4 adds inforeceived (UNVERIFIED but what v4 webhooks send). v2 has no
// "info received" status: its substatus notfound001 means it, so
// InfoReceived is notfound/notfound001 there. pickup covers both out for
// delivery and ready for pickup; v4's substatus (pickup001, pickup002)
// tells them apart.
func statusWord(v version, s tracking.Status) string {
	switch s {
	case tracking.InfoReceived:
		if v == v2 {
			return "notfound"
		}
		return "inforeceived"
	case tracking.InTransit:
		return "transit"
	case tracking.OutForDelivery, tracking.AvailableForPickup:
		return "pickup"
	case tracking.AttemptFail:
		return "undelivered"
	case tracking.Delivered:
		return "delivered"
	case tracking.Exception:
		return "exception"
	case tracking.Expired:
		return "expired"
	}
	return "pending"
}

// subByTag inverts the inbound substatus table (receiver/source
// trackingmore.go tmSubstatuses): an AfterShip-style subtag to the
// TrackingMore substatus that maps to it. Where several map to one subtag
// the first is used (transit002 for InTransit_003, delivered001 for
// Delivered_001, undelivered001 for AttemptFail_001, exception005 for
// Exception_001). v2only marks the codes the v2 docs list (notfound001/002,
// transit001–005, delivered001–004, exception004–011, VERIFIED on the
// legacy status page); the others are v4 only.
var subByTag = map[string]struct {
	code string
	v4   bool
}{
	"InfoReceived_001":       {"inforeceived001", true},
	"InTransit_001":          {"transit001", false},
	"InTransit_003":          {"transit002", false},
	"InTransit_004":          {"transit004", false},
	"InTransit_005":          {"transit005", false},
	"InTransit_007":          {"transit006", true},
	"OutForDelivery_001":     {"pickup001", true},
	"OutForDelivery_003":     {"pickup003", true},
	"AvailableForPickup_001": {"pickup002", true},
	"Delivered_001":          {"delivered001", false},
	"Delivered_002":          {"delivered002", false},
	"Delivered_003":          {"delivered003", false},
	"AttemptFail_001":        {"undelivered001", true},
	"AttemptFail_002":        {"undelivered002", true},
	"Exception_008":          {"exception004", false},
	"Exception_001":          {"exception005", false},
	"Exception_004":          {"exception006", false},
	"Exception_020":          {"exception008", false},
	"Exception_003":          {"exception009", false},
	"Exception_011":          {"exception010", false},
	"Exception_010":          {"exception011", false},
}

// substatus is TrackingMore's substatus for a status and subtag, "" when
// none fits. It always belongs to the family of statusWord (a subtag of
// another status is ignored).
func substatus(v version, s tracking.Status, subtag string) string {
	word := statusWord(v, s)
	if v == v2 && s == tracking.InfoReceived {
		return "notfound001"
	}
	if e, ok := subByTag[subtag]; ok && (v == v4 || !e.v4) && strings.TrimRight(e.code, "0123456789") == word {
		return e.code
	}
	if v == v4 {
		switch s {
		case tracking.InfoReceived:
			return "inforeceived001"
		case tracking.OutForDelivery:
			return "pickup001"
		case tracking.AvailableForPickup:
			return "pickup002"
		}
	}
	return ""
}

// statusesOf are the canonical statuses a TrackingMore status word selects
// in a list filter; ok is false for a word that is none of the version's.
func statusesOf(v version, word string) (out []tracking.Status, ok bool) {
	switch strings.ToLower(strings.TrimSpace(word)) {
	case "pending":
		return []tracking.Status{tracking.Pending}, true
	case "notfound":
		if v == v2 {
			return []tracking.Status{tracking.InfoReceived}, true
		}
		return []tracking.Status{}, true // v4 shows InfoReceived as inforeceived
	case "inforeceived":
		if v == v4 {
			return []tracking.Status{tracking.InfoReceived}, true
		}
	case "transit":
		return []tracking.Status{tracking.InTransit}, true
	case "pickup":
		return []tracking.Status{tracking.OutForDelivery, tracking.AvailableForPickup}, true
	case "delivered":
		return []tracking.Status{tracking.Delivered}, true
	case "undelivered":
		return []tracking.Status{tracking.AttemptFail}, true
	case "exception":
		return []tracking.Status{tracking.Exception}, true
	case "expired":
		return []tracking.Status{tracking.Expired}, true
	}
	return nil, false
}
