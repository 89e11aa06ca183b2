package source

import (
	"bytes"
	"cmp"
	"encoding/json"
	"net/http"
	"net/url"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"time"

	"golang.org/x/text/language"

	"github.com/trackhook/trackhook/receiver/carrier"
	"github.com/trackhook/trackhook/receiver/contact"
	"github.com/trackhook/trackhook/receiver/tracking"
	"github.com/trackhook/trackhook/signature"
)

// Headers WooCommerce sends with every webhook delivery besides the
// signature (class-wc-webhook.php, deliver(); shared/reference/
// webhook-sources.md F1). Only the topic is read; the delivery id changes on
// every attempt, so it is no idempotency key.
const (
	HeaderWooCommerceTopic      = "X-WC-Webhook-Topic"       // "order.updated"
	HeaderWooCommerceResource   = "X-WC-Webhook-Resource"    // "order"
	HeaderWooCommerceEvent      = "X-WC-Webhook-Event"       // "updated"
	HeaderWooCommerceSource     = "X-WC-Webhook-Source"      // the shop's home URL
	HeaderWooCommerceWebhookID  = "X-WC-Webhook-ID"          // numeric webhook id
	HeaderWooCommerceDeliveryID = "X-WC-Webhook-Delivery-ID" // new on every attempt
)

// The WooCommerce meta key under which both Advanced Shipment Tracking and
// the official Shipment Tracking extension keep their tracking items.
const wcTrackingItemsKey = "_wc_shipment_tracking_items"

// Bounds for one order: more is not a real order and would only make the
// receiver do more work per request.
const (
	wcMaxEvents = 50
	wcMaxItems  = 100
	wcMaxQty    = 1_000_000
)

// WooCommercePing reports whether a request is the unsigned handshake
// WooCommerce sends when a webhook is created or activated (deliver_ping):
// no X-WC-Webhook-Signature header at all and a body of exactly
// "webhook_id=<digits>", optionally followed by one newline. The receiver
// must answer it with exactly 200 before verification, or WooCommerce shows
// the webhook as failing. It is pure, and matches nothing a signed event
// could be: events always carry the signature header.
func WooCommercePing(body []byte, h http.Header) bool {
	if len(h.Values(signature.HeaderWooCommerce)) > 0 {
		return false
	}
	b := bytes.TrimSuffix(body, []byte("\n"))
	b = bytes.TrimSuffix(b, []byte("\r"))
	const prefix = "webhook_id="
	const maxDigits = 20 // a WordPress post id is a 64-bit integer
	digits, ok := bytes.CutPrefix(b, []byte(prefix))
	if !ok || len(digits) == 0 || len(digits) > maxDigits {
		return false
	}
	for _, c := range digits {
		if c < '0' || c > '9' {
			return false
		}
	}
	return true
}

// WooCommerce decodes WooCommerce order webhooks (order.created and
// order.updated, REST API v3 order JSON) into one event per tracking number
// the order carries:
//
//   - Advanced Shipment Tracking and the official Shipment Tracking
//     extension: meta_data[] entry "_wc_shipment_tracking_items", an array of
//     tracking items (shared/reference/webhook-sources.md F3);
//   - Germanized Shipments and Shiptastic: the order's shipments[] (F4).
//
// Other topics, and orders without tracking, give no events. A tracking
// number that disappears from an order gives no event either: trackhook
// never deletes a tracking because a shop edited an order.
//
// WooCommerce does not retry a failed delivery and disables a webhook after
// five failures in a row, so only a body that is not a WooCommerce order at
// all is refused (ErrMalformed); plugin data that cannot be read (a tracking
// item or shipment of an unexpected shape, a PHP-serialized meta value, a
// tracking number that is not one line of at most 100 bytes) is skipped, and
// the rest of the order is still used. Display fields are cleaned and a
// malformed billing email or phone dropped, as for every source
// (source.go); the order's dropped subscribers ride on its first event.
type WooCommerce struct {
	Carriers *carrier.Catalog
}

type wcOrder struct {
	ID              wcString          `json:"id"`
	Number          wcString          `json:"number"`
	Status          string            `json:"status"`
	DateCreatedGMT  string            `json:"date_created_gmt"`
	DateModifiedGMT string            `json:"date_modified_gmt"`
	Billing         wcAddress         `json:"billing"`
	Shipping        wcAddress         `json:"shipping"`
	LineItems       []wcLineItem      `json:"line_items"`
	MetaData        []wcMeta          `json:"meta_data"`
	Shipments       []json.RawMessage `json:"shipments"`
	// ShippingProvider is the order's provider as Shiptastic adds it; used
	// when a shipment names none.
	ShippingProvider wcString `json:"shipping_provider"`
}

type wcAddress struct {
	FirstName wcString `json:"first_name"`
	LastName  wcString `json:"last_name"`
	Email     wcString `json:"email"`
	Phone     wcString `json:"phone"`
	Country   wcString `json:"country"`
}

// UnmarshalJSON accepts the address object, and the empty JSON array PHP
// writes for an empty associative array.
func (a *wcAddress) UnmarshalJSON(b []byte) error {
	if t := bytes.TrimSpace(b); string(t) == "[]" || string(t) == "null" {
		*a = wcAddress{}
		return nil
	}
	type plain wcAddress
	return json.Unmarshal(b, (*plain)(a))
}

type wcLineItem struct {
	ID          wcString `json:"id"`
	Name        string   `json:"name"`
	ProductID   wcString `json:"product_id"`
	VariationID wcString `json:"variation_id"`
	Quantity    wcQty    `json:"quantity"`
	SKU         wcString `json:"sku"`
}

type wcMeta struct {
	Key   wcString        `json:"key"`
	Value json.RawMessage `json:"value"`
}

// wcString is a string or a number (ids), like flexString, but a wrong type
// is reported as a *json.UnmarshalTypeError, so the error names the field.
type wcString string

func (s *wcString) UnmarshalJSON(b []byte) error {
	var f flexString
	if err := f.UnmarshalJSON(b); err != nil {
		return &json.UnmarshalTypeError{Value: jsonKind(b), Type: reflect.TypeFor[string]()}
	}
	*s = wcString(f)
	return nil
}

// jsonKind names the kind of a JSON value for error messages.
func jsonKind(b []byte) string {
	b = bytes.TrimSpace(b)
	if len(b) == 0 {
		return "value"
	}
	switch b[0] {
	case '{':
		return "object"
	case '[':
		return "array"
	case '"':
		return "string"
	case 't', 'f':
		return "bool"
	}
	return "number"
}

// wcQty is a quantity: a JSON number or numeric string (plugins for goods
// sold by weight send fractions, counted as at least one item). Anything
// unreadable counts as 0.
type wcQty int

func (q *wcQty) UnmarshalJSON(b []byte) error {
	*q = 0
	var s string
	switch {
	case string(b) == "null":
		return nil
	case len(b) > 0 && b[0] == '"':
		if err := json.Unmarshal(b, &s); err != nil {
			return err
		}
	default:
		var n json.Number
		if err := json.Unmarshal(b, &n); err != nil {
			return &json.UnmarshalTypeError{Value: jsonKind(b), Type: reflect.TypeFor[int]()}
		}
		s = n.String()
	}
	f, err := strconv.ParseFloat(strings.TrimSpace(s), 64)
	if err != nil || !(f > 0) {
		return nil
	}
	switch {
	case f >= wcMaxQty:
		*q = wcMaxQty
	case f < 1:
		*q = 1
	default:
		*q = wcQty(f)
	}
	return nil
}

// astItem is one tracking item of Advanced Shipment Tracking or the official
// Shipment Tracking extension. AST stores date_shipped as a string of unix
// seconds (wc_clean(strtotime(...))); other versions as a number. An item
// carries no expected delivery date (AST's add_tracking_item stores none,
// zorem/woo-advanced-shipment-tracking 2026-05), so AST events leave
// ExpectedDelivery empty.
type astItem struct {
	TrackingProvider       wcString        `json:"tracking_provider"`
	CustomTrackingProvider wcString        `json:"custom_tracking_provider"`
	CustomTrackingLink     wcString        `json:"custom_tracking_link"`
	TrackingNumber         wcString        `json:"tracking_number"`
	DateShipped            wcString        `json:"date_shipped"`
	StatusShipped          wcString        `json:"status_shipped"`
	TrackingID             wcString        `json:"tracking_id"`
	ProductsList           json.RawMessage `json:"products_list"`
}

// astProduct is one entry of an AST tracking item's products_list ("tracking
// per item"): which order line, and how many of it, the parcel holds.
// SECONDARY: seen in AST-derived code, not in AST's own stored source.
type astProduct struct {
	Product wcString `json:"product"` // product or variation id
	ItemID  wcString `json:"item_id"` // order line id, when present
	Qty     wcQty    `json:"qty"`
}

// gzdShipment is one shipment from Germanized Shipments or Shiptastic
// (ShipmentsController::prepare_shipment). tracking_id is the carrier's
// tracking number there, not an internal id.
type gzdShipment struct {
	ID                    wcString        `json:"id"`
	Status                wcString        `json:"status"`
	Type                  wcString        `json:"type"`
	TrackingID            wcString        `json:"tracking_id"`
	TrackingURL           wcString        `json:"tracking_url"`
	ShippingProvider      wcString        `json:"shipping_provider"`
	ShippingProviderTitle wcString        `json:"shipping_provider_title"`
	DateSentGMT           wcString        `json:"date_sent_gmt"`
	DateSent              wcString        `json:"date_sent"`
	DateCreatedGMT        wcString        `json:"date_created_gmt"`
	Items                 json.RawMessage `json:"items"`
	// The expected delivery: est_delivery_date "in the site's timezone",
	// est_delivery_date_gmt "as GMT", both wc_rest_prepare_date_response
	// date-times ("2026-11-24T00:00:00") or null (VERIFIED: Germanized
	// Shipments' ShipmentsController::prepare_shipment and its schema;
	// Shiptastic the same). Raw, so a value of a wrong type cannot make the
	// shipment unreadable; see gzdExpected.
	EstDeliveryDate    json.RawMessage `json:"est_delivery_date"`
	EstDeliveryDateGMT json.RawMessage `json:"est_delivery_date_gmt"`
}

type gzdItem struct {
	Name     wcString `json:"name"`
	SKU      wcString `json:"sku"`
	Quantity wcQty    `json:"quantity"`
}

// Decode implements Adapter.
func (w WooCommerce) Decode(body []byte, h http.Header) ([]tracking.Event, error) {
	topic := strings.ToLower(strings.TrimSpace(h.Get(HeaderWooCommerceTopic)))
	switch topic {
	case "order.created", "order.updated", "":
	default:
		// order.deleted ({"id":N}), products, customers, coupons, action.*
		// and Shiptastic's shipment.* topics carry nothing to track.
		return nil, nil
	}
	if t := bytes.TrimSpace(body); len(t) == 0 || string(t) == "[]" {
		// WooCommerce sends "[]" when it cannot build the payload (the
		// order was deleted before the delivery ran).
		return nil, nil
	}
	var o wcOrder
	if err := decodeJSON(body, &o); err != nil {
		return nil, err
	}
	if topic == "" && o.MetaData == nil && o.Shipments == nil {
		// Without the topic header (a body signed by hand), only an object
		// that looks like an order is one.
		return nil, nil
	}

	base := w.orderEvent(&o)
	var evs []tracking.Event
	seen := map[string]bool{}
	add := func(ev tracking.Event) {
		key := ev.Slug + "\x00" + tracking.NormalizeNumber(ev.TrackingNumber)
		if len(evs) < wcMaxEvents && !seen[key] {
			seen[key] = true
			evs = append(evs, ev)
		}
	}
	for _, ev := range w.astEvents(&o, base) {
		add(ev)
	}
	for _, ev := range w.gzdEvents(&o, base) {
		add(ev)
	}
	if len(evs) > 0 {
		evs[0].Dropped = base.Dropped
	}
	return checkEvents(evs)
}

// orderEvent is what every event of the order shares: the order, the
// customer and the subscribers.
func (w WooCommerce) orderEvent(o *wcOrder) tracking.Event {
	b, s := &o.Billing, &o.Shipping
	dest := wcCountry(string(s.Country), string(b.Country))
	// The phone is the billing contact's, so its country resolves national
	// numbers first.
	phoneRegion := wcCountry(string(b.Country), string(s.Country))
	emails, smses, dropped := recipients(phoneRegion, [][]string{{string(b.Email)}}, [][]string{{string(b.Phone)}})

	name := strings.Join(strings.Fields(string(b.FirstName)+" "+string(b.LastName)), " ")
	if name == "" {
		name = strings.Join(strings.Fields(string(s.FirstName)+" "+string(s.LastName)), " ")
	}
	total := 0
	for _, li := range o.LineItems {
		total = min(total+int(li.Quantity), wcMaxQty)
	}
	return tracking.Event{
		Source:             "woocommerce",
		SentAt:             wcTime(o.DateModifiedGMT),
		Emails:             emails,
		SMSes:              smses,
		Language:           wcLanguage(o.MetaData),
		OrderID:            line(string(o.ID), 200),
		OrderNumber:        line(string(o.Number), 200),
		CustomerName:       line(name, 200),
		DestinationCountry: dest,
		ItemsTotal:         total,
		Dropped:            dropped,
	}
}

// wcCopy copies the order's shared event, so that no two events share the
// backing arrays of their subscriber lists. The copy reports no dropped
// subscriber: Decode reports the order's once, on its first event.
func wcCopy(base tracking.Event) tracking.Event {
	ev := base
	ev.Emails = slices.Clone(base.Emails)
	ev.SMSes = slices.Clone(base.SMSes)
	ev.Dropped = nil
	return ev
}

// astEvents turns the AST / Shipment Tracking items into events. Every item
// is a parcel handed to the carrier: InfoReceived ("InfoReceived_001", raw
// status "shipped"), at its date_shipped.
func (w WooCommerce) astEvents(o *wcOrder, base tracking.Event) []tracking.Event {
	var items []astItem
	for _, m := range o.MetaData {
		if string(m.Key) == wcTrackingItemsKey {
			items = append(items, astItems(m.Value)...)
		}
	}
	type parcel struct {
		item   astItem
		number string
		slug   string
	}
	var parcels []parcel
	seen := map[string]bool{}
	for _, it := range items {
		number, err := trackingNumber("tracking_number", string(it.TrackingNumber))
		p := parcel{item: it, number: number, slug: w.astSlug(it)}
		key := tracking.NormalizeNumber(p.number)
		if err == nil && p.slug != "" && !seen[key] && len(parcels) < wcMaxEvents {
			seen[key] = true
			parcels = append(parcels, p)
		}
	}
	const raw = "shipped"
	var evs []tracking.Event
	for _, p := range parcels {
		at := wcTime(string(p.item.DateShipped))
		if at.IsZero() {
			// No ship date: the order's creation is a safe lower bound, so
			// this event never outranks a carrier's later scans.
			at = wcTime(o.DateCreatedGMT)
		}
		ev := wcCopy(base)
		ev.Slug = p.slug
		ev.TrackingNumber = p.number
		ev.Status = tracking.InfoReceived
		ev.Subtag = "InfoReceived_001"
		ev.RawStatus = raw
		ev.EventID = Fingerprint(ev.Source, p.number, ev.Status, raw, at)
		ev.OccurredAt = notAfter(at, base.SentAt)
		ev.TrackingURL = httpsURL(strings.ReplaceAll(string(p.item.CustomTrackingLink), "%number%", url.QueryEscape(p.number)))
		ev.SourceRef = line(string(p.item.TrackingID), 100)
		switch {
		case len(p.item.ProductsList) > 0 && string(p.item.ProductsList) != "null":
			ev.Items = astProducts(p.item.ProductsList, o.LineItems)
		case len(parcels) == 1 && strings.TrimSpace(string(p.item.StatusShipped)) != "2":
			// The only parcel of an order not marked partially shipped
			// holds the whole order.
			ev.Items = lineItems(o.LineItems)
		}
		evs = append(evs, ev)
	}
	return evs
}

// astItems reads the meta value: a list of items (see phpList), a single
// item, or either JSON-encoded in a string. Other values (PHP-serialized
// strings, numbers) and unreadable items are skipped.
func astItems(raw json.RawMessage) []astItem {
	raw = bytes.TrimSpace(raw)
	if len(raw) > 0 && raw[0] == '"' {
		var s string
		if json.Unmarshal(raw, &s) != nil {
			return nil
		}
		raw = bytes.TrimSpace([]byte(s))
	}
	elems := phpList(raw)
	if len(raw) > 0 && raw[0] == '{' && bytes.Contains(raw, []byte(`"tracking_number"`)) {
		var probe map[string]json.RawMessage
		if json.Unmarshal(raw, &probe) == nil {
			if _, single := probe["tracking_number"]; single {
				elems = []json.RawMessage{raw}
			}
		}
	}
	var out []astItem
	for _, e := range elems {
		var it astItem
		if e = bytes.TrimSpace(e); len(e) > 0 && e[0] == '{' && json.Unmarshal(e, &it) == nil {
			out = append(out, it)
		}
	}
	return out
}

// phpList reads a PHP list as JSON: an array, or an object when the PHP
// array had gaps in its keys (left after an element was removed), in which
// case the elements are ordered by key as PHP kept them. Anything else
// gives nil.
func phpList(raw json.RawMessage) []json.RawMessage {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 {
		return nil
	}
	var elems []json.RawMessage
	switch raw[0] {
	case '[':
		if json.Unmarshal(raw, &elems) != nil {
			return nil
		}
	case '{':
		var m map[string]json.RawMessage
		if json.Unmarshal(raw, &m) != nil {
			return nil
		}
		keys := make([]string, 0, len(m))
		for k := range m {
			keys = append(keys, k)
		}
		slices.SortFunc(keys, comparePHPKeys)
		for _, k := range keys {
			elems = append(elems, m[k])
		}
	}
	return elems
}

// comparePHPKeys orders numeric keys numerically, before the others, which
// are in byte order.
func comparePHPKeys(a, b string) int {
	na, ea := strconv.Atoi(a)
	nb, eb := strconv.Atoi(b)
	switch {
	case ea == nil && eb == nil:
		return cmp.Compare(na, nb)
	case ea == nil:
		return -1
	case eb == nil:
		return 1
	}
	return strings.Compare(a, b)
}

// astSlug is the canonical carrier of a tracking item: the provider slug
// ("dhl", "deutsche-post-dhl", "usps"), else the free-text name of a custom
// provider. A slug the catalogue does not know falls back to the custom
// name when that one is known.
func (w WooCommerce) astSlug(it astItem) string {
	slug := strings.TrimSpace(string(it.TrackingProvider))
	custom := strings.TrimSpace(string(it.CustomTrackingProvider))
	if _, ok := w.Carriers.Lookup(slug); !ok && custom != "" {
		if _, ok := w.Carriers.Lookup(custom); ok || slug == "" {
			slug = custom
		}
	}
	return line(w.Carriers.Normalize(line(slug, 100)), 64)
}

// astProducts maps a products_list to the order's lines: by order line id
// when the entry has one, else by product or variation id. An entry that
// matches no line still counts its quantity.
func astProducts(raw json.RawMessage, lines []wcLineItem) []tracking.Item {
	var out []tracking.Item
	for _, e := range phpList(raw) {
		var p astProduct
		if json.Unmarshal(e, &p) != nil || p.Qty <= 0 || len(out) == wcMaxItems {
			continue
		}
		it := tracking.Item{Quantity: int(p.Qty)}
		for _, li := range lines {
			byLine := p.ItemID != "" && li.ID == p.ItemID
			byProduct := p.ItemID == "" && p.Product != "" && (li.ProductID == p.Product || li.VariationID == p.Product)
			if byLine || byProduct {
				it.SKU, it.Name = line(string(li.SKU), 100), line(li.Name, 200)
				break
			}
		}
		out = append(out, it)
	}
	return out
}

// lineItems are the order's lines as parcel items.
func lineItems(lines []wcLineItem) []tracking.Item {
	var out []tracking.Item
	for _, li := range lines {
		if li.Quantity > 0 && len(out) < wcMaxItems {
			out = append(out, tracking.Item{SKU: line(string(li.SKU), 100), Name: line(li.Name, 200), Quantity: int(li.Quantity)})
		}
	}
	return out
}

// gzdEvents turns Germanized / Shiptastic shipments into events. Statuses,
// with or without Germanized's "gzd-" prefix:
//
//	draft, processing, ready-for-shipping  no event until a tracking number is
//	                                       set; then InfoReceived (label made)
//	shipped                                InfoReceived ("InfoReceived_001")
//	delivered                              Delivered ("Delivered_001")
//	requested, rejected, deleted           no event (returns; never a delete)
//	anything else (added by a filter)      StatusInvalid: subscribers and
//	                                       link are kept, the status is not
//	                                       changed and nobody is notified
//
// Return shipments (type "return") travel to the shop and give no event.
func (w WooCommerce) gzdEvents(o *wcOrder, base tracking.Event) []tracking.Event {
	var evs []tracking.Event
	for _, raw := range o.Shipments {
		var s gzdShipment
		if raw = bytes.TrimSpace(raw); len(raw) == 0 || raw[0] != '{' || json.Unmarshal(raw, &s) != nil {
			continue
		}
		if strings.EqualFold(strings.TrimSpace(string(s.Type)), "return") {
			continue
		}
		number, err := trackingNumber("tracking_id", string(s.TrackingID))
		if err != nil {
			continue // none yet, or none that names one parcel
		}
		st, subtag, ok := gzdStatus(string(s.Status))
		if !ok {
			continue
		}
		slug := w.gzdSlug(string(s.ShippingProvider), string(s.ShippingProviderTitle))
		if slug == "" {
			slug = w.gzdSlug(string(o.ShippingProvider), "")
		}
		if slug == "" {
			continue
		}
		// date_sent_gmt is UTC without an offset; date_sent is the shop's
		// local time, used only when the GMT form is missing.
		at := wcTime(firstNonEmpty(string(s.DateSentGMT), string(s.DateSent)))
		if at.IsZero() {
			at = wcTime(firstNonEmpty(string(s.DateCreatedGMT), o.DateCreatedGMT))
		}
		rawStatus := line(string(s.Status), 64)
		ev := wcCopy(base)
		ev.Slug = slug
		ev.TrackingNumber = number
		ev.Status = st
		ev.Subtag = subtag
		ev.RawStatus = rawStatus
		ev.EventID = Fingerprint(ev.Source, number, st, rawStatus, at)
		ev.OccurredAt = notAfter(at, base.SentAt)
		if st == tracking.Delivered && !base.SentAt.IsZero() {
			// The shop learned of the delivery when it modified the order,
			// not when it sent the parcel: ordered by the send date, the
			// delivery would look older than the carrier's last scans.
			ev.OccurredAt = base.SentAt
		}
		ev.TrackingURL = httpsURL(string(s.TrackingURL))
		ev.SourceRef = line(string(s.ID), 100)
		ev.Items = gzdItems(s.Items)
		ev.ExpectedDelivery = gzdExpected(&s)
		evs = append(evs, ev)
		if len(evs) == wcMaxEvents {
			break
		}
	}
	return evs
}

// gzdExpected is a shipment's expected delivery day: the date of
// est_delivery_date, the shop's local time, which is the civil day the shop
// set; else of est_delivery_date_gmt (a midnight in Berlin is the day before
// in GMT, so it is only the fallback). Null, a wrong type or a date that
// does not read is left out, never a reason to skip the shipment.
func gzdExpected(s *gzdShipment) string {
	return deliveryDate(s.EstDeliveryDate, s.EstDeliveryDateGMT)
}

// gzdStatus maps a shipment status of a shipment that has a tracking
// number; ok is false when the shipment gives no event.
func gzdStatus(raw string) (st tracking.Status, subtag string, ok bool) {
	s := strings.TrimPrefix(strings.ToLower(strings.TrimSpace(raw)), "gzd-")
	switch s {
	case "shipped", "draft", "processing", "ready-for-shipping":
		return tracking.InfoReceived, "InfoReceived_001", true
	case "delivered":
		return tracking.Delivered, "Delivered_001", true
	case "requested", "rejected", "deleted":
		return tracking.StatusInvalid, "", false
	}
	return tracking.StatusInvalid, "", true
}

// gzdSlug maps a Germanized / Shiptastic provider. Their "dhl" is DHL Paket
// and "hermes" is Hermes Germany, unlike the same codes from aggregators
// (see receiver/carrier's documentation), so those two are mapped before
// the catalogue. A provider name the catalogue does not know falls back to
// its title when that one is known.
func (w WooCommerce) gzdSlug(name, title string) string {
	name, title = strings.TrimSpace(name), strings.TrimSpace(title)
	switch strings.ToLower(name) {
	case "dhl":
		name = "dhl-germany"
	case "hermes":
		name = "hermes-de"
	}
	if _, ok := w.Carriers.Lookup(name); !ok && title != "" {
		if _, ok := w.Carriers.Lookup(title); ok || name == "" {
			name = title
		}
	}
	return line(w.Carriers.Normalize(line(name, 100)), 64)
}

// gzdItems reads a shipment's items; unreadable ones give none.
func gzdItems(raw json.RawMessage) []tracking.Item {
	var items []gzdItem
	if len(raw) == 0 || json.Unmarshal(raw, &items) != nil {
		return nil
	}
	var out []tracking.Item
	for _, it := range items {
		if it.Quantity > 0 && len(out) < wcMaxItems {
			out = append(out, tracking.Item{SKU: line(string(it.SKU), 100), Name: line(string(it.Name), 200), Quantity: int(it.Quantity)})
		}
	}
	return out
}

// wcLanguage is the order language set by WPML or Polylang, as a BCP 47
// tag ("de", "pt-BR"), or "".
func wcLanguage(meta []wcMeta) string {
	for _, key := range []string{"wpml_language", "_wpml_language", "pll_language", "language"} {
		for _, m := range meta {
			if string(m.Key) != key {
				continue
			}
			var v string
			if json.Unmarshal(m.Value, &v) != nil {
				continue
			}
			if v = strings.TrimSpace(v); v == "" || len(v) > 35 {
				continue
			}
			if tag, err := language.Parse(v); err == nil && tag != language.Und {
				return tag.String()
			}
		}
	}
	return ""
}

// wcCountry returns the first of the codes that is a country, upper-cased
// as sent (WooCommerce sends ISO 3166-1 alpha-2), or "".
func wcCountry(codes ...string) string {
	for _, c := range codes {
		c = strings.ToUpper(strings.TrimSpace(c))
		if len(c) <= 3 && contact.Region(c) != "" {
			return c
		}
	}
	return ""
}

// wcTime reads WooCommerce times: "2026-11-20T09:15:00" (the _gmt fields,
// UTC without an offset) or unix seconds. Implausible years give the zero
// time, so a garbled value cannot pin a tracking's order forever.
func wcTime(s string) time.Time {
	t := parseTime(s)
	if t.Year() < 1971 || t.Year() > 2200 {
		return time.Time{}
	}
	return t
}

// notAfter caps t at limit (when both are known). A ship date set in the
// future cannot have been observed after the order was saved, and must not
// make a carrier's earlier scans look stale.
func notAfter(t, limit time.Time) time.Time {
	if !t.IsZero() && !limit.IsZero() && t.After(limit) {
		return limit
	}
	return t
}
