// Package tracking holds trackhook's canonical model (Status, Event,
// Tracking), the pure fold of an event into a tracking, and the Redis store
// that applies it atomically.
package tracking

import (
	"crypto/sha256"
	"encoding/base32"
	"strings"
	"time"

	"github.com/trackhook/trackhook/dispatcher"
)

// Event is one update from a sender, normalised. Adapters produce it; the
// store folds it into a Tracking.
type Event struct {
	Source  string // registry name of the sender, "aftership"
	EventID string // the sender's idempotency key; "" when it has none

	Slug           string // canonical carrier slug
	TrackingNumber string
	Status         Status
	Subtag         string // open-ended, e.g. "InTransit_003"
	SubtagMessage  string
	RawStatus      string // the sender's own status word, kept for support

	// OccurredAt orders events: the latest checkpoint's time, or the time
	// the sender produced the event when there is no checkpoint. SentAt
	// breaks ties between events with the same OccurredAt.
	OccurredAt time.Time
	SentAt     time.Time

	Checkpoints []Checkpoint

	Emails   []string // subscribers carried by the payload; unioned into the tracking
	SMSes    []string
	Language string

	OrderID            string
	OrderNumber        string
	Title              string
	CustomerName       string
	DestinationCountry string // ISO 3166-1 alpha-3 or alpha-2, as sent
	TrackingURL        string // sender-provided tracking page, if any
	SourceRef          string // the sender's id for the tracking (AfterShip msg.id)
	// ExpectedDelivery is the day the sender expects the parcel to arrive
	// by, as a civil date "2006-01-02" in the carrier's local sense (for a
	// window, its last day); "" when the sender gives none. Adapters
	// validate it (ParseDeliveryDate) and leave a bad one out.
	ExpectedDelivery string

	// Items are the order lines in this parcel, when the sender knows them
	// (shop plugins); ItemsTotal is the quantity of the whole order, so a
	// partial shipment can say "2 of 5 items". Zero when unknown.
	Items      []Item
	ItemsTotal int

	// Dropped lists the subscriber entries the adapter left out so the
	// rest of the update could be kept (malformed, or past the list
	// limit). It is for the receiver's log and metrics only: never stored,
	// never marshalled.
	Dropped []DroppedRecipient `json:"-"`
}

// DroppedRecipient is one subscriber entry a payload carried that was not
// kept.
type DroppedRecipient struct {
	Channel dispatcher.Channel // dispatcher.ChannelEmail or dispatcher.ChannelSMS
	Value   string             // as the sender sent it: mask it (redact.Recipient) before logging
	Reason  string             // a fixed phrase, never the value: "not an email address"
}

// Item is one order line in a parcel.
type Item struct {
	SKU      string `json:"sku,omitempty"`
	Name     string `json:"name,omitempty"`
	Quantity int    `json:"quantity"`
}

// Checkpoint is one scan event.
type Checkpoint struct {
	Time          time.Time `json:"checkpoint_time"`
	Status        Status    `json:"tag,omitempty"`
	Subtag        string    `json:"subtag,omitempty"`
	SubtagMessage string    `json:"subtag_message,omitempty"`
	Message       string    `json:"message,omitempty"`
	Location      string    `json:"location,omitempty"`
	City          string    `json:"city,omitempty"`
	State         string    `json:"state,omitempty"`
	Zip           string    `json:"zip,omitempty"`
	CountryISO3   string    `json:"country_iso3,omitempty"`
}

// Place is a one-line location for templates: Location, or "City, State, Country".
func (c Checkpoint) Place() string {
	if c.Location != "" {
		return c.Location
	}
	var parts []string
	for _, p := range []string{c.City, c.State, c.CountryISO3} {
		if p != "" {
			parts = append(parts, p)
		}
	}
	return strings.Join(parts, ", ")
}

// Tracking is the canonical state of one parcel, keyed by carrier slug and
// tracking number (see ID). It is what the store keeps and the API returns.
type Tracking struct {
	ID             string `json:"id"`
	Slug           string `json:"slug"`
	TrackingNumber string `json:"tracking_number"`

	Status        Status `json:"tag"`
	Subtag        string `json:"subtag,omitempty"`
	SubtagMessage string `json:"subtag_message,omitempty"`
	RawStatus     string `json:"raw_status,omitempty"`
	Source        string `json:"source,omitempty"` // sender of the last applied event

	OccurredAt time.Time `json:"occurred_at"`
	SentAt     time.Time `json:"sent_at"`

	Checkpoints []Checkpoint `json:"checkpoints,omitempty"`

	Emails   []string `json:"emails,omitempty"`
	SMSes    []string `json:"smses,omitempty"`
	Language string   `json:"language,omitempty"`

	OrderID            string            `json:"order_id,omitempty"`
	OrderNumber        string            `json:"order_number,omitempty"`
	Title              string            `json:"title,omitempty"`
	CustomerName       string            `json:"customer_name,omitempty"`
	DestinationCountry string            `json:"destination_country,omitempty"`
	TrackingURL        string            `json:"tracking_url,omitempty"`
	ExpectedDelivery   string            `json:"expected_delivery,omitempty"` // "2006-01-02"
	SourceRefs         map[string]string `json:"source_refs,omitempty"`       // sender → its id for this tracking
	CustomFields       map[string]string `json:"custom_fields,omitempty"`
	Note               string            `json:"note,omitempty"`
	Items              []Item            `json:"items,omitempty"`
	ItemsTotal         int               `json:"items_total,omitempty"`

	// Customers are the subscribers as AfterShip's 2025-01+ API names them
	// (customers[]): who they are and the language each reads. Emails and
	// SMSes stay the subscriber lists; a customer whose email or phone is
	// no longer on them is shown without it (see the API).
	Customers []Customer `json:"customers,omitempty"`

	// Retracks counts the API's retrack calls; RetrackedAt is the last. A
	// retracked Expired tracking is active again until its next status.
	Retracks    int       `json:"retracks,omitempty"`
	RetrackedAt time.Time `json:"retracked_at,omitzero"`

	// OptedOut holds "channel:recipient" for recipients who unsubscribed
	// from this shipment; payloads never add them back.
	OptedOut []string `json:"opted_out,omitempty"`

	// Notified holds the notifications already planned, as NotificationKey
	// strings, so each (status, channel, recipient) is planned once.
	Notified []string `json:"notified,omitempty"`
	// Seq counts the notifying statuses the tracking entered; a queued
	// notification of an earlier Seq has been superseded (see Due.Seq).
	Seq int `json:"seq,omitempty"`
	// Last maps "channel:recipient" to the key of the last notification
	// queued for them (Due.After).
	Last map[string]string `json:"last,omitempty"`

	CreatedAt time.Time `json:"created_at"`
	UpdatedAt time.Time `json:"updated_at"`
}

// Customer is one subscriber as the API's customers[] gives it. Email and
// Phone are normalised (contact.Email, contact.Phone); either may be empty.
type Customer struct {
	Role     string `json:"role,omitempty"`
	Name     string `json:"name,omitempty"`
	Email    string `json:"email,omitempty"`
	Phone    string `json:"phone_number,omitempty"`
	Language string `json:"language,omitempty"`
}

// LanguageFor is the language a recipient reads: the language of the
// customer with that email or phone number if it has one, else the
// tracking's.
func (t *Tracking) LanguageFor(c dispatcher.Channel, recipient string) string {
	for _, cu := range t.Customers {
		if cu.Language == "" {
			continue
		}
		if c == dispatcher.ChannelEmail && cu.Email == recipient || c == dispatcher.ChannelSMS && cu.Phone == recipient {
			return cu.Language
		}
	}
	return t.Language
}

// NameFor is the name a recipient is greeted by: the name of the customer
// with that email or phone number; else, when the tracking names no
// customers and only a customer_name, that name for the first email and the
// first phone number (the customer the tracking was made for); else none.
// A subscriber added later is never greeted by someone else's name.
func (t *Tracking) NameFor(c dispatcher.Channel, recipient string) string {
	for _, cu := range t.Customers {
		if c == dispatcher.ChannelEmail && cu.Email == recipient || c == dispatcher.ChannelSMS && cu.Phone == recipient {
			return cu.Name
		}
	}
	if len(t.Customers) > 0 || t.CustomerName == "" {
		return ""
	}
	list := t.Emails
	if c == dispatcher.ChannelSMS {
		list = t.SMSes
	}
	if len(list) > 0 && list[0] == recipient {
		return t.CustomerName
	}
	return ""
}

// Active reports whether the parcel is still on its way, as AfterShip's
// "active" says: not Delivered or Expired, or Expired and retracked since.
func (t *Tracking) Active() bool {
	switch t.Status {
	case Delivered:
		return false
	case Expired:
		return !t.RetrackedAt.IsZero() && !t.OccurredAt.After(t.RetrackedAt)
	}
	return true
}

// LatestCheckpoint returns the newest checkpoint, if any.
func (t *Tracking) LatestCheckpoint() (Checkpoint, bool) {
	if len(t.Checkpoints) == 0 {
		return Checkpoint{}, false
	}
	return t.Checkpoints[len(t.Checkpoints)-1], true
}

// Due is one notification the fold found due: the first time this tracking
// entered Status, for this recipient on this channel.
type Due struct {
	Status    Status
	Channel   dispatcher.Channel
	Recipient string
	// Seq is the tracking's Seq when it entered Status: a notification
	// whose Seq is below the tracking's has been superseded by a later
	// status.
	Seq int
	// After is the key of the notification queued before this one for the
	// same recipient and channel ("" for the first): it goes out first.
	After string
	// Delay is how long the notification is held back (Policy.Delays): it
	// is superseded if a later status comes within it.
	Delay time.Duration
	// Kind is a message other than the status's own (KindStuck); Ref
	// tells its occurrences apart (the update it is about).
	Kind, Ref string
	// Suppressed is the rule that holds this notification back
	// (SuppressedStale, …); "" when it is to be sent.
	Suppressed string
}

// Key is the notification's identity within its tracking: for a status
// message "status|channel|recipient", for another kind of message
// "Kind@Ref|channel|recipient".
func (d Due) Key() string {
	if d.Kind != "" {
		return dispatcher.NotificationKey(d.Message(), d.Channel, d.Recipient)
	}
	return NotificationKey(d.Status, d.Channel, d.Recipient)
}

// Message is what the notification announces: its Kind and Ref
// ("Stuck@1747044000") or, for a status message, the status.
func (d Due) Message() string {
	if d.Kind != "" {
		return d.Kind + "@" + d.Ref
	}
	return d.Status.String()
}

// NotificationKey is dispatcher.NotificationKey of a status.
func NotificationKey(s Status, c dispatcher.Channel, recipient string) string {
	return dispatcher.NotificationKey(s.String(), c, recipient)
}

// NormalizeNumber canonicalises a tracking number for keying: spaces and
// dashes removed, upper case.
func NormalizeNumber(n string) string {
	return strings.ToUpper(strings.Map(func(r rune) rune {
		if r == ' ' || r == '-' || r == '\t' {
			return -1
		}
		return r
	}, n))
}

var idEncoding = base32.NewEncoding("abcdefghijklmnopqrstuvwxyz234567").WithPadding(base32.NoPadding)

// ID is the tracking's id: 24 lower-case characters derived from the
// canonical slug and the normalised tracking number, so the same parcel
// reported by two senders, or created through the API, is one tracking.
func ID(slug, number string) string {
	sum := sha256.Sum256([]byte(strings.ToLower(slug) + "\x00" + NormalizeNumber(number)))
	return idEncoding.EncodeToString(sum[:15])
}

// ItemsShipped is the total quantity of the parcel's items.
func (t *Tracking) ItemsShipped() int {
	n := 0
	for _, it := range t.Items {
		n += it.Quantity
	}
	return n
}

// ParseDeliveryDate reads a sender's expected delivery date as the civil
// date it names: "2026-01-05", or a date and time with or without an
// offset ("2026-01-05T00:00:00", "2026-01-05T17:00:00Z",
// "2026-01-05T09:00:00-05:00", "2026-01-05 12:00:00"), whose date is taken
// as written (the carrier's local day, not converted to UTC). Anything
// else, or a year outside 2000–2100, is not a date (ok false).
func ParseDeliveryDate(v string) (string, bool) {
	v = strings.TrimSpace(v)
	if len(v) < len("2006-01-02") {
		return "", false
	}
	d := v[:10]
	if len(v) > 10 && v[10] != 'T' && v[10] != ' ' {
		return "", false
	}
	t, err := time.Parse(time.DateOnly, d)
	if err != nil || t.Year() < 2000 || t.Year() > 2100 {
		return "", false
	}
	return d, true
}
