package dispatcher

import (
	"encoding/json"
	"fmt"
	"strings"

	"github.com/trackhook/trackhook/dispatcher/redact"
)

// RedactedPayload shows a notify task's payload with the customer's contact
// data masked, for the queue dashboard: the recipient (also inside the
// notification key) and the customer's name. Anything that is not a
// notification is not shown at all.
func RedactedPayload(taskType string, payload []byte) string {
	if taskType != TypeEmail && taskType != TypeSMS {
		return fmt.Sprintf("(%d bytes, not shown)", len(payload))
	}
	var n Notification
	if err := json.Unmarshal(payload, &n); err != nil {
		return fmt.Sprintf("(%d bytes, not a notification)", len(payload))
	}
	masked := redact.Recipient(n.Recipient)
	if n.Recipient != "" {
		n.Key = strings.ReplaceAll(n.Key, n.Recipient, masked)
	}
	n.Recipient = masked
	if r := []rune(n.Shipment.CustomerName); len(r) > 0 {
		n.Shipment.CustomerName = string(r[0]) + "***"
	}
	b, err := json.MarshalIndent(n, "", "  ")
	if err != nil {
		return fmt.Sprintf("(%d bytes, not shown)", len(payload))
	}
	return string(b)
}
