package source

import (
	"encoding/json"
	"errors"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/trackhook/trackhook/receiver/carrier"
	"github.com/trackhook/trackhook/receiver/tracking"
	"github.com/trackhook/trackhook/signature"
)

func wcAdapter() WooCommerce { return WooCommerce{Carriers: carrier.Default()} }

func wcTopic(topic string) http.Header {
	h := http.Header{}
	if topic != "" {
		h.Set(HeaderWooCommerceTopic, topic)
	}
	return h
}

// The AST sample from shared/reference/webhook-sources.md F3.
const wcReferencePayload = `{"id":4711,"status":"completed","number":"4711","billing":{"email":"jane@example.com","phone":"+4915112345678"},
 "meta_data":[{"id":991,"key":"_wc_shipment_tracking_items","value":[{"tracking_provider":"dhl",
   "custom_tracking_provider":"","custom_tracking_link":"","tracking_number":"00340434161094042557",
   "date_shipped":1717200000,"status_shipped":"1","tracking_id":"6f1c2d3e4f5a6b7c8d9e0f1a2b3c4d5e","source":"REST_API"}]}]}`

func TestWooCommerceDecodeReference(t *testing.T) {
	for _, topic := range []string{"order.updated", "order.created", ""} {
		t.Run("topic "+topic, func(t *testing.T) {
			evs, err := wcAdapter().Decode([]byte(wcReferencePayload), wcTopic(topic))
			if err != nil {
				t.Fatal(err)
			}
			if len(evs) != 1 {
				t.Fatalf("%d events, want 1", len(evs))
			}
			shipped := time.Date(2024, 6, 1, 0, 0, 0, 0, time.UTC) // 1717200000
			want := tracking.Event{
				Source: "woocommerce", Slug: "dhl", TrackingNumber: "00340434161094042557",
				EventID: Fingerprint("woocommerce", "00340434161094042557", tracking.InfoReceived, "shipped", shipped),
				Status:  tracking.InfoReceived, Subtag: "InfoReceived_001", RawStatus: "shipped",
				OccurredAt: shipped, Emails: []string{"jane@example.com"}, SMSes: []string{"+4915112345678"},
				OrderID: "4711", OrderNumber: "4711", SourceRef: "6f1c2d3e4f5a6b7c8d9e0f1a2b3c4d5e",
			}
			if got := mustJSON(evs[0]); got != mustJSON(want) {
				t.Fatalf("decoded\n%s\nwant\n%s", got, mustJSON(want))
			}
		})
	}
}

func TestWooCommercePing(t *testing.T) {
	signed := http.Header{}
	signed.Set(signature.HeaderWooCommerce, "OMg9d/3EPXHhhkK5HEAZGhezT/PVVa/yAIiCREfaILs=")
	emptySig := http.Header{}
	emptySig.Set(signature.HeaderWooCommerce, "")
	form := http.Header{}
	form.Set("Content-Type", "application/x-www-form-urlencoded")
	tests := []struct {
		name string
		body string
		h    http.Header
		want bool
	}{
		{"ping", "webhook_id=7", form, true},
		{"ping without content type", "webhook_id=7", http.Header{}, true},
		{"nil headers", "webhook_id=123456789", nil, true},
		{"trailing newline", "webhook_id=7\n", form, true},
		{"trailing CRLF", "webhook_id=7\r\n", form, true},
		{"two newlines", "webhook_id=7\n\n", form, false},
		{"signed", "webhook_id=7", signed, false},
		{"empty signature header present", "webhook_id=7", emptySig, false},
		{"no digits", "webhook_id=", form, false},
		{"letters", "webhook_id=7a", form, false},
		{"negative", "webhook_id=-7", form, false},
		{"second parameter", "webhook_id=7&x=1", form, false},
		{"leading space", " webhook_id=7", form, false},
		{"other name", "webhook=7", form, false},
		{"upper case", "WEBHOOK_ID=7", form, false},
		{"20 digits", "webhook_id=" + strings.Repeat("9", 20), form, true},
		{"21 digits", "webhook_id=" + strings.Repeat("9", 21), form, false},
		{"unicode digit", "webhook_id=٧", form, false},
		{"JSON order", wcReferencePayload, form, false},
		{"empty", "", form, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := WooCommercePing([]byte(tc.body), tc.h); got != tc.want {
				t.Fatalf("WooCommercePing(%q) = %v, want %v", tc.body, got, tc.want)
			}
		})
	}
}

func TestWooCommerceTopics(t *testing.T) {
	tests := []struct {
		topic string
		body  string
		want  int
	}{
		{"order.updated", wcReferencePayload, 1},
		{"order.created", wcReferencePayload, 1},
		{"ORDER.UPDATED", wcReferencePayload, 1},
		{"order.deleted", `{"id":4711}`, 0},
		{"order.restored", wcReferencePayload, 0},
		{"product.updated", `{"id":1,"meta_data":[]}`, 0},
		{"customer.created", `{"id":1}`, 0},
		{"action.woocommerce_order_status_completed", `{"action":"woocommerce_order_status_completed","arg":4711}`, 0},
		{"shipment.updated", `[]`, 0},
		{"shipment.updated", `not even JSON`, 0}, // not ours: not parsed
		{"order.updated", `[]`, 0},               // WooCommerce could not build the payload
		{"order.updated", ``, 0},
		{"order.updated", `{"id":4711,"number":"4711","meta_data":[]}`, 0}, // no tracking yet
		{"", `{"id":4711}`, 0},                                             // no topic and not order-shaped
		{"", `{"action":"x","arg":1}`, 0},
		{"", `{"id":1,"shipments":[]}`, 0},
	}
	for _, tc := range tests {
		t.Run(tc.topic+" "+tc.body, func(t *testing.T) {
			evs, err := wcAdapter().Decode([]byte(tc.body), wcTopic(tc.topic))
			if err != nil {
				t.Fatal(err)
			}
			if len(evs) != tc.want {
				t.Fatalf("%d events, want %d", len(evs), tc.want)
			}
		})
	}
}

// wcASTOrder is an order.updated body whose tracking meta value and extra
// order fields are spliced in.
func wcASTOrder(value, extra string) []byte {
	return []byte(`{"id":4711,"number":"1001","status":"completed","date_created_gmt":"2026-11-18T20:04:11",
"date_modified_gmt":"2026-11-20T09:41:07","billing":{"first_name":"Kim","last_name":"Schmidt","email":"kim@example.com",
"phone":"0151 12345678","country":"DE"},"shipping":{"first_name":"Kim","last_name":"Schmidt","country":"DE"},
"line_items":[{"id":311,"name":"Parka","product_id":88,"variation_id":91,"quantity":1,"sku":"PARKA-M"},
{"id":312,"name":"Beanie","product_id":93,"variation_id":0,"quantity":2,"sku":"BEANIE"}],
"meta_data":[{"id":1,"key":"_wc_shipment_tracking_items","value":` + value + `}` + extra + `]}`)
}

const (
	wcItemDHL = `{"tracking_provider":"deutsche-post-dhl","tracking_number":"00340434161094042557","date_shipped":"1795132800","status_shipped":"1","tracking_id":"aa"}`
	wcItemUPS = `{"tracking_provider":"ups","tracking_number":"1Z999AA10123456784","date_shipped":1795046400,"status_shipped":"2","tracking_id":"bb"}`
)

func TestWooCommerceAST(t *testing.T) {
	nov20 := time.Date(2026, 11, 20, 0, 0, 0, 0, time.UTC) // 1795132800
	tests := []struct {
		name  string
		body  []byte
		check func(t *testing.T, evs []tracking.Event)
	}{
		{name: "one parcel holds the whole order", body: wcASTOrder(`[`+wcItemDHL+`]`, ""),
			check: func(t *testing.T, evs []tracking.Event) {
				e := wcOne(t, evs)
				if e.Slug != "dhl-germany" || e.TrackingNumber != "00340434161094042557" || !e.OccurredAt.Equal(nov20) {
					t.Fatalf("slug %q number %q at %v", e.Slug, e.TrackingNumber, e.OccurredAt)
				}
				if mustJSON(e.Items) != `[{"sku":"PARKA-M","name":"Parka","quantity":1},{"sku":"BEANIE","name":"Beanie","quantity":2}]` || e.ItemsTotal != 3 {
					t.Fatalf("items %s of %d", mustJSON(e.Items), e.ItemsTotal)
				}
				if e.CustomerName != "Kim Schmidt" || e.DestinationCountry != "DE" || mustJSON(e.SMSes) != `["+4915112345678"]` {
					t.Fatalf("name %q country %q smses %q", e.CustomerName, e.DestinationCountry, e.SMSes)
				}
				if !e.SentAt.Equal(time.Date(2026, 11, 20, 9, 41, 7, 0, time.UTC)) {
					t.Fatalf("sent %v", e.SentAt)
				}
			}},
		{name: "two parcels: one event each, no items, total kept", body: wcASTOrder(`[`+wcItemUPS+`,`+wcItemDHL+`]`, ""),
			check: func(t *testing.T, evs []tracking.Event) {
				if len(evs) != 2 || evs[0].Slug != "ups" || evs[1].Slug != "dhl-germany" {
					t.Fatalf("events %s", mustJSON(evs))
				}
				for _, e := range evs {
					if e.Items != nil || e.ItemsTotal != 3 || e.Status != tracking.InfoReceived {
						t.Fatalf("items %s total %d status %v", mustJSON(e.Items), e.ItemsTotal, e.Status)
					}
				}
				if evs[0].EventID == evs[1].EventID {
					t.Fatal("two parcels share an event id")
				}
			}},
		{name: "single parcel marked partially shipped: no items", body: wcASTOrder(`[`+wcItemUPS+`]`, ""),
			check: func(t *testing.T, evs []tracking.Event) {
				if e := wcOne(t, evs); e.Items != nil || e.ItemsTotal != 3 {
					t.Fatalf("items %s total %d", mustJSON(e.Items), e.ItemsTotal)
				}
			}},
		{name: "products_list maps the parcel's lines", body: wcASTOrder(`[{"tracking_provider":"ups","tracking_number":"1Z1","date_shipped":1795046400,
"products_list":[{"product":"93","qty":"1"},{"product":91,"item_id":"311","qty":1},{"product":999,"qty":2},{"product":93,"qty":0}]}]`, ""),
			check: func(t *testing.T, evs []tracking.Event) {
				want := `[{"sku":"BEANIE","name":"Beanie","quantity":1},{"sku":"PARKA-M","name":"Parka","quantity":1},{"quantity":2}]`
				if e := wcOne(t, evs); mustJSON(e.Items) != want {
					t.Fatalf("items %s, want %s", mustJSON(e.Items), want)
				}
			}},
		{name: "value JSON-encoded in a string", body: wcASTOrder(mustJSON(`[`+wcItemDHL+`]`), ""),
			check: func(t *testing.T, evs []tracking.Event) { wcOne(t, evs) }},
		{name: "value is one item", body: wcASTOrder(wcItemDHL, ""),
			check: func(t *testing.T, evs []tracking.Event) { wcOne(t, evs) }},
		{name: "value is an object with gaps (PHP array after a deletion)", body: wcASTOrder(`{"2":`+wcItemDHL+`,"10":`+wcItemUPS+`}`, ""),
			check: func(t *testing.T, evs []tracking.Event) {
				if len(evs) != 2 || evs[0].Slug != "dhl-germany" || evs[1].Slug != "ups" {
					t.Fatalf("events %s", mustJSON(evs))
				}
			}},
		{name: "PHP-serialized value is skipped", body: wcASTOrder(`"a:1:{i:0;a:2:{s:17:\"tracking_provider\";s:3:\"ups\";}}"`, ""),
			check: func(t *testing.T, evs []tracking.Event) { wcNone(t, evs) }},
		{name: "numbers, null and booleans are skipped", body: wcASTOrder(`null`, `,{"key":"_wc_shipment_tracking_items","value":true},{"key":"_wc_shipment_tracking_items","value":3}`),
			check: func(t *testing.T, evs []tracking.Event) { wcNone(t, evs) }},
		{name: "an unreadable item does not hide the others", body: wcASTOrder(`[{"tracking_number":{"x":1}},"str",7,`+wcItemDHL+`]`, ""),
			check: func(t *testing.T, evs []tracking.Event) { wcOne(t, evs) }},
		{name: "items without number or carrier are skipped", body: wcASTOrder(`[{"tracking_provider":"ups","tracking_number":" "},{"tracking_number":"1Z2"}]`, ""),
			check: func(t *testing.T, evs []tracking.Event) { wcNone(t, evs) }},
		{name: "the same number twice is one parcel", body: wcASTOrder(`[`+wcItemDHL+`,`+wcItemDHL+`]`, `,{"key":"_wc_shipment_tracking_items","value":[`+wcItemDHL+`]}`),
			check: func(t *testing.T, evs []tracking.Event) {
				if e := wcOne(t, evs); e.Items == nil {
					t.Fatal("one parcel lost its items")
				}
			}},
		{name: "custom provider: name normalised, link kept", body: wcASTOrder(`[{"tracking_provider":"","custom_tracking_provider":"Royal Mail",
"custom_tracking_link":"https://track.example/?n=%number%","tracking_number":"AB 123","date_shipped":"1795132800"}]`, ""),
			check: func(t *testing.T, evs []tracking.Event) {
				if e := wcOne(t, evs); e.Slug != "royal-mail" || e.TrackingURL != "https://track.example/?n=AB+123" {
					t.Fatalf("slug %q url %q", e.Slug, e.TrackingURL)
				}
			}},
		{name: "unknown custom provider keeps a stable key", body: wcASTOrder(`[{"custom_tracking_provider":"Bay  Courier","tracking_number":"BC1"}]`, ""),
			check: func(t *testing.T, evs []tracking.Event) {
				if e := wcOne(t, evs); e.Slug != "bay-courier" {
					t.Fatalf("slug %q", e.Slug)
				}
			}},
		{name: "unknown slug, known custom name", body: wcASTOrder(`[{"tracking_provider":"my-post","custom_tracking_provider":"UPS","tracking_number":"1Z3"}]`, ""),
			check: func(t *testing.T, evs []tracking.Event) {
				if e := wcOne(t, evs); e.Slug != "ups" {
					t.Fatalf("slug %q", e.Slug)
				}
			}},
		{name: "javascript link dropped", body: wcASTOrder(`[{"tracking_provider":"ups","custom_tracking_link":"javascript:alert(1)","tracking_number":"1Z4"}]`, ""),
			check: func(t *testing.T, evs []tracking.Event) {
				if e := wcOne(t, evs); e.TrackingURL != "" {
					t.Fatalf("kept %q", e.TrackingURL)
				}
			}},
		{name: "no ship date: order creation is the lower bound", body: wcASTOrder(`[{"tracking_provider":"ups","tracking_number":"1Z5"}]`, ""),
			check: func(t *testing.T, evs []tracking.Event) {
				created := time.Date(2026, 11, 18, 20, 4, 11, 0, time.UTC)
				e := wcOne(t, evs)
				if !e.OccurredAt.Equal(created) || e.EventID != Fingerprint("woocommerce", "1Z5", tracking.InfoReceived, "shipped", created) {
					t.Fatalf("at %v id %q", e.OccurredAt, e.EventID)
				}
			}},
		{name: "ship date after the order was saved is capped", body: wcASTOrder(`[{"tracking_provider":"ups","tracking_number":"1Z6","date_shipped":"1795219200"}]`, ""),
			check: func(t *testing.T, evs []tracking.Event) {
				saved := time.Date(2026, 11, 20, 9, 41, 7, 0, time.UTC)
				future := time.Date(2026, 11, 21, 0, 0, 0, 0, time.UTC)
				e := wcOne(t, evs)
				if !e.OccurredAt.Equal(saved) || e.EventID != Fingerprint("woocommerce", "1Z6", tracking.InfoReceived, "shipped", future) {
					t.Fatalf("at %v id %q", e.OccurredAt, e.EventID)
				}
			}},
		{name: "absurd ship date is ignored", body: wcASTOrder(`[{"tracking_provider":"ups","tracking_number":"1Z7","date_shipped":"99999999999999"}]`, ""),
			check: func(t *testing.T, evs []tracking.Event) {
				if e := wcOne(t, evs); !e.OccurredAt.Equal(time.Date(2026, 11, 18, 20, 4, 11, 0, time.UTC)) {
					t.Fatalf("at %v", e.OccurredAt)
				}
			}},
		{name: "WPML language", body: wcASTOrder(`[`+wcItemDHL+`]`, `,{"key":"wpml_language","value":"pt-br"}`),
			check: func(t *testing.T, evs []tracking.Event) { wcWantLanguage(t, evs, "pt-BR") }},
		{name: "WPML language, protected key", body: wcASTOrder(`[`+wcItemDHL+`]`, `,{"key":"_wpml_language","value":"fr"}`),
			check: func(t *testing.T, evs []tracking.Event) { wcWantLanguage(t, evs, "fr") }},
		{name: "Polylang language with underscore", body: wcASTOrder(`[`+wcItemDHL+`]`, `,{"key":"pll_language","value":"de_AT"}`),
			check: func(t *testing.T, evs []tracking.Event) { wcWantLanguage(t, evs, "de-AT") }},
		{name: "WPML wins over a generic language key", body: wcASTOrder(`[`+wcItemDHL+`]`, `,{"key":"language","value":"es"},{"key":"wpml_language","value":"de"}`),
			check: func(t *testing.T, evs []tracking.Event) { wcWantLanguage(t, evs, "de") }},
		{name: "garbage language ignored", body: wcASTOrder(`[`+wcItemDHL+`]`, `,{"key":"wpml_language","value":"not a language!"},{"key":"language","value":["x"]}`),
			check: func(t *testing.T, evs []tracking.Event) { wcWantLanguage(t, evs, "") }},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			evs, err := wcAdapter().Decode(tc.body, wcTopic("order.updated"))
			if err != nil {
				t.Fatal(err)
			}
			tc.check(t, evs)
		})
	}
}

func TestWooCommerceOrderFields(t *testing.T) {
	order := func(billing, shipping string) []byte {
		return []byte(`{"id":1,"number":"A-1","billing":` + billing + `,"shipping":` + shipping + `,
"meta_data":[{"key":"_wc_shipment_tracking_items","value":[` + wcItemUPS + `]}]}`)
	}
	tests := []struct {
		name              string
		billing, shipping string
		country, customer string
		emails, smses     string
	}{
		{"national number with billing country", `{"first_name":"Jane","last_name":"Doe","email":"Jane@Example.COM","phone":"(415) 555-2671","country":"US"}`, `{"country":"US"}`,
			"US", "Jane Doe", `["Jane@example.com"]`, `["+14155552671"]`},
		{"billing country resolves the phone, shipping country is the destination", `{"email":"kim@example.com","phone":"0151 12345678","country":"DE"}`, `{"first_name":"Kim","last_name":"S","country":"AT"}`,
			"AT", "Kim S", `["kim@example.com"]`, `["+4915112345678"]`},
		{"shipping country resolves the phone when billing has none", `{"phone":"0151 12345678"}`, `{"country":"de"}`,
			"DE", "", `null`, `["+4915112345678"]`},
		{"invalid contacts dropped", `{"email":"not-an-email","phone":"12","country":"XX"}`, `{"country":"ZZZZ"}`,
			"", "", `null`, `null`},
		{"empty addresses as PHP arrays", `[]`, `[]`, "", "", `null`, `null`},
		{"null addresses", `null`, `null`, "", "", `null`, `null`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			evs, err := wcAdapter().Decode(order(tc.billing, tc.shipping), wcTopic("order.updated"))
			if err != nil {
				t.Fatal(err)
			}
			e := wcOne(t, evs)
			if e.DestinationCountry != tc.country || e.CustomerName != tc.customer || mustJSON(e.Emails) != tc.emails || mustJSON(e.SMSes) != tc.smses {
				t.Fatalf("country %q customer %q emails %s smses %s", e.DestinationCountry, e.CustomerName, mustJSON(e.Emails), mustJSON(e.SMSes))
			}
			if e.OrderID != "1" || e.OrderNumber != "A-1" {
				t.Fatalf("order %q %q", e.OrderID, e.OrderNumber)
			}
		})
	}
}

// wcShipmentOrder is an order with one Germanized / Shiptastic shipment.
func wcShipmentOrder(shipment string) []byte {
	return []byte(`{"id":4802,"number":"1003","date_created_gmt":"2026-11-16T13:20:00","date_modified_gmt":"2026-11-20T10:05:33",
"billing":{"email":"lea@example.com","country":"DE"},"shipping":{"country":"DE"},"shipping_provider":"dhl",
"line_items":[{"id":501,"name":"Grinder","quantity":1,"sku":"GRIND-1"},{"id":502,"name":"Cup","quantity":4,"sku":"CUP"}],
"meta_data":[],"shipments":[` + shipment + `]}`)
}

func TestWooCommerceGermanizedStatuses(t *testing.T) {
	shipment := func(status, tracking, typ string) string {
		return `{"id":61,"status":"` + status + `","type":"` + typ + `","tracking_id":"` + tracking + `","shipping_provider":"dhl",
"date_sent_gmt":"2026-11-17T15:02:00","items":[{"name":"Cup","sku":"CUP","quantity":2}]}`
	}
	tests := []struct {
		status, tracking, typ string
		want                  tracking.Status
		subtag                string
		events                int
	}{
		{"gzd-draft", "", "simple", 0, "", 0},
		{"draft", "", "simple", 0, "", 0},
		{"processing", "", "simple", 0, "", 0},
		{"ready-for-shipping", "", "simple", 0, "", 0},
		{"gzd-draft", "JJD1", "simple", tracking.InfoReceived, "InfoReceived_001", 1},
		{"gzd-processing", "JJD1", "simple", tracking.InfoReceived, "InfoReceived_001", 1},
		{"ready-for-shipping", "JJD1", "simple", tracking.InfoReceived, "InfoReceived_001", 1},
		{"shipped", "JJD1", "simple", tracking.InfoReceived, "InfoReceived_001", 1},
		{"gzd-shipped", "JJD1", "", tracking.InfoReceived, "InfoReceived_001", 1},
		{"GZD-Shipped", "JJD1", "simple", tracking.InfoReceived, "InfoReceived_001", 1},
		{"delivered", "JJD1", "simple", tracking.Delivered, "Delivered_001", 1},
		{"gzd-delivered", "JJD1", "simple", tracking.Delivered, "Delivered_001", 1},
		{"gzd-requested", "JJD1", "simple", 0, "", 0},
		{"rejected", "JJD1", "simple", 0, "", 0},
		{"deleted", "JJD1", "simple", 0, "", 0},
		{"delivered", "JJD1", "return", 0, "", 0},                       // parcel to the shop
		{"in-transit", "JJD1", "simple", tracking.StatusInvalid, "", 1}, // added by a filter: unchanged, nobody notified
		{"", "JJD1", "simple", tracking.StatusInvalid, "", 1},
	}
	for _, tc := range tests {
		t.Run(tc.status+"/"+tc.tracking+"/"+tc.typ, func(t *testing.T) {
			evs, err := wcAdapter().Decode(wcShipmentOrder(shipment(tc.status, tc.tracking, tc.typ)), wcTopic("order.updated"))
			if err != nil {
				t.Fatal(err)
			}
			if len(evs) != tc.events {
				t.Fatalf("%d events, want %d", len(evs), tc.events)
			}
			if tc.events == 0 {
				return
			}
			e := evs[0]
			sent := time.Date(2026, 11, 17, 15, 2, 0, 0, time.UTC)
			at := sent
			if tc.want == tracking.Delivered {
				// A delivery is ordered by when the shop recorded it (the
				// order's date_modified), not by the send date.
				at = e.SentAt
			}
			if e.Status != tc.want || e.Subtag != tc.subtag || e.RawStatus != tc.status {
				t.Fatalf("status %v subtag %q raw %q", e.Status, e.Subtag, e.RawStatus)
			}
			if !e.OccurredAt.Equal(at) || e.EventID != Fingerprint("woocommerce", tc.tracking, tc.want, tc.status, sent) {
				t.Fatalf("at %v id %q", e.OccurredAt, e.EventID)
			}
			if e.Slug != "dhl-germany" || e.SourceRef != "61" || mustJSON(e.Items) != `[{"sku":"CUP","name":"Cup","quantity":2}]` || e.ItemsTotal != 5 {
				t.Fatalf("slug %q ref %q items %s of %d", e.Slug, e.SourceRef, mustJSON(e.Items), e.ItemsTotal)
			}
		})
	}
}

func TestWooCommerceGermanizedCarriers(t *testing.T) {
	tests := []struct {
		provider, title string
		want            string
	}{
		{"dhl", "DHL", "dhl-germany"}, // Germanized's DHL integration is DHL Paket
		{"DHL", "", "dhl-germany"},
		{"hermes", "Hermes", "hermes-de"}, // and its Hermes is Hermes Germany
		{"deutsche_post", "Deutsche Post", "deutsch-post"},
		{"ups", "UPS", "ups"},
		{"gls", "GLS", "gls"},
		{"dhl_express", "DHL Express", "dhl"},
		{"my-shop-courier", "DPD Germany", "dpd-de"}, // custom name, known title
		{"my-shop-courier", "Own Van", "my-shop-courier"},
		{"", "Own Van", "own-van"},
		{"", "", "dhl-germany"}, // the order's shipping_provider
	}
	for _, tc := range tests {
		t.Run(tc.provider+"/"+tc.title, func(t *testing.T) {
			body := wcShipmentOrder(`{"id":1,"status":"shipped","tracking_id":"X1","shipping_provider":"` + tc.provider + `","shipping_provider_title":"` + tc.title + `"}`)
			evs, err := wcAdapter().Decode(body, wcTopic("order.updated"))
			if err != nil {
				t.Fatal(err)
			}
			if e := wcOne(t, evs); e.Slug != tc.want {
				t.Fatalf("slug %q, want %q", e.Slug, tc.want)
			}
		})
	}
}

func TestWooCommerceGermanizedForms(t *testing.T) {
	tests := []struct {
		name  string
		body  []byte
		check func(t *testing.T, evs []tracking.Event)
	}{
		{name: "local date_sent when the GMT one is missing", body: wcShipmentOrder(`{"id":1,"status":"shipped","tracking_id":"X1","date_sent":"2026-11-17T16:02:00"}`),
			check: func(t *testing.T, evs []tracking.Event) {
				if e := wcOne(t, evs); !e.OccurredAt.Equal(time.Date(2026, 11, 17, 16, 2, 0, 0, time.UTC)) {
					t.Fatalf("at %v", e.OccurredAt)
				}
			}},
		{name: "no date sent: shipment creation", body: wcShipmentOrder(`{"id":1,"status":"ready-for-shipping","tracking_id":"X1","date_sent_gmt":null,"date_created_gmt":"2026-11-19T14:40:00"}`),
			check: func(t *testing.T, evs []tracking.Event) {
				if e := wcOne(t, evs); !e.OccurredAt.Equal(time.Date(2026, 11, 19, 14, 40, 0, 0, time.UTC)) {
					t.Fatalf("at %v", e.OccurredAt)
				}
			}},
		{name: "tracking link kept, relative dropped", body: wcShipmentOrder(`{"id":1,"status":"shipped","tracking_id":"X1","tracking_url":"https://www.dhl.de/x?piececode=X1"},
{"id":2,"status":"shipped","tracking_id":"X2","tracking_url":"/track/X2"}`),
			check: func(t *testing.T, evs []tracking.Event) {
				if len(evs) != 2 || evs[0].TrackingURL != "https://www.dhl.de/x?piececode=X1" || evs[1].TrackingURL != "" {
					t.Fatalf("events %s", mustJSON(evs))
				}
			}},
		{name: "unreadable shipments skipped, the rest kept", body: wcShipmentOrder(`{"id":1,"status":["x"],"tracking_id":"X1"},7,"s",null,
{"id":2,"status":"shipped","tracking_id":"X2","items":{"bad":true}}`),
			check: func(t *testing.T, evs []tracking.Event) {
				if e := wcOne(t, evs); e.TrackingNumber != "X2" || e.Items != nil {
					t.Fatalf("event %s", mustJSON(e))
				}
			}},
		{name: "AST and Germanized in one order, same parcel once", body: []byte(`{"id":1,"number":"1","meta_data":[{"key":"_wc_shipment_tracking_items","value":[
{"tracking_provider":"dhl-paket","tracking_number":"JJD 1","date_shipped":1795046400}]}],
"shipments":[{"id":5,"status":"shipped","tracking_id":"JJD1","shipping_provider":"dhl"},{"id":6,"status":"shipped","tracking_id":"H1","shipping_provider":"hermes"}]}`),
			check: func(t *testing.T, evs []tracking.Event) {
				if len(evs) != 2 || evs[0].Slug != "dhl-germany" || evs[0].TrackingNumber != "JJD 1" || evs[1].Slug != "hermes-de" {
					t.Fatalf("events %s", mustJSON(evs))
				}
			}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			evs, err := wcAdapter().Decode(tc.body, wcTopic("order.updated"))
			if err != nil {
				t.Fatal(err)
			}
			tc.check(t, evs)
		})
	}
}

// TestWooCommerceRetryDedupes: WooCommerce's delivery id changes on every
// attempt, and every save of the order changes date_modified; the event id
// depends only on the parcel, its status and its ship date.
func TestWooCommerceRetryDedupes(t *testing.T) {
	first, err := wcAdapter().Decode(wcASTOrder(`[`+wcItemDHL+`]`, ""), wcTopic("order.updated"))
	if err != nil {
		t.Fatal(err)
	}
	later := []byte(strings.Replace(string(wcASTOrder(`[`+wcItemDHL+`]`, "")), "2026-11-20T09:41:07", "2026-11-22T18:00:00", 1))
	again, err := wcAdapter().Decode(later, wcTopic("order.updated"))
	if err != nil {
		t.Fatal(err)
	}
	if first[0].EventID != again[0].EventID {
		t.Fatalf("event id changed with date_modified: %q, %q", first[0].EventID, again[0].EventID)
	}
	moved := []byte(strings.Replace(string(wcASTOrder(`[`+wcItemDHL+`]`, "")), "1795132800", "1795046400", 1))
	other, err := wcAdapter().Decode(moved, wcTopic("order.updated"))
	if err != nil {
		t.Fatal(err)
	}
	if other[0].EventID == first[0].EventID {
		t.Fatal("a new ship date kept the event id")
	}
}

func TestWooCommerceMalformed(t *testing.T) {
	tests := []struct {
		name, body, err string
	}{
		{"not JSON", `{"id":`, "invalid JSON"},
		{"trailing data", `{"id":1,"meta_data":[]} {}`, "trailing"},
		{"array", `[{"id":1}]`, "JSON object"},
		{"string", `"order"`, "JSON object"},
		{"id is an object", `{"id":{"n":1},"meta_data":[]}`, `"id"`},
		{"billing is a string", `{"id":1,"billing":"Kim"}`, "billing"},
		{"line_items is an object", `{"id":1,"line_items":{"a":1}}`, "line_items"},
		{"meta_data is a string", `{"id":1,"meta_data":"x"}`, "meta_data"},
		{"quantity is an object", `{"id":1,"line_items":[{"quantity":{}}],"meta_data":[]}`, "quantity"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := wcAdapter().Decode([]byte(tc.body), wcTopic("order.updated"))
			if !errors.Is(err, ErrMalformed) || !strings.Contains(err.Error(), tc.err) {
				t.Fatalf("err = %v, want ErrMalformed mentioning %q", err, tc.err)
			}
		})
	}
}

// TestWooCommerceExpectedDelivery: a Germanized / Shiptastic shipment's
// est_delivery_date (the shop's local time) is its expected delivery day,
// else est_delivery_date_gmt, the date as written; each shipment has its
// own. A value that is not a date gives none and never costs the shipment
// its event. AST items carry no date.
func TestWooCommerceExpectedDelivery(t *testing.T) {
	shipment := func(fields string) string {
		return `{"id":61,"status":"gzd-shipped","type":"simple","tracking_id":"00340434161094042557","shipping_provider":"dhl","date_sent_gmt":"2026-11-17T15:02:00"` + fields + `}`
	}
	for _, tc := range []struct{ name, fields, want string }{
		{"none", ``, ""},
		{"null, as Germanized sends it", `,"est_delivery_date":null,"est_delivery_date_gmt":null`, ""},
		{"the local date", `,"est_delivery_date":"2026-11-24T00:00:00","est_delivery_date_gmt":"2026-11-23T23:00:00"`, "2026-11-24"},
		{"GMT only", `,"est_delivery_date_gmt":"2026-11-23T23:00:00"`, "2026-11-23"},
		{"an unreadable local date: GMT", `,"est_delivery_date":"bald","est_delivery_date_gmt":"2026-11-24T09:00:00"`, "2026-11-24"},
		{"an offset, as written", `,"est_delivery_date":"2026-11-24T23:30:00-05:00"`, "2026-11-24"},
		{"a bare date", `,"est_delivery_date":"2026-11-24"`, "2026-11-24"},
		{"with a space", `,"est_delivery_date":"2026-11-24 00:00:00"`, "2026-11-24"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			evs, err := wcAdapter().Decode(wcShipmentOrder(shipment(tc.fields)), wcTopic("order.updated"))
			wantExpected(t, evs, err, tc.want)
		})
	}
	t.Run("each shipment its own day", func(t *testing.T) {
		evs, err := wcAdapter().Decode(wcShipmentOrder(`{"id":1,"status":"shipped","tracking_id":"X1","est_delivery_date":"2026-11-24T00:00:00"},
{"id":2,"status":"shipped","tracking_id":"X2","est_delivery_date":"2026-11-26T00:00:00"},{"id":3,"status":"shipped","tracking_id":"X3"}`), wcTopic("order.updated"))
		if err != nil || len(evs) != 3 {
			t.Fatalf("%v %s", err, mustJSON(evs))
		}
		for i, want := range []string{"2026-11-24", "2026-11-26", ""} {
			if evs[i].ExpectedDelivery != want {
				t.Fatalf("shipment %d: %q, want %q", i+1, evs[i].ExpectedDelivery, want)
			}
		}
	})
	for _, g := range garbageDates {
		t.Run("garbage "+g, func(t *testing.T) {
			evs, err := wcAdapter().Decode(wcShipmentOrder(shipment(`,"est_delivery_date":`+g+`,"est_delivery_date_gmt":`+g)), wcTopic("order.updated"))
			wantExpected(t, evs, err, "")
			if e := wcOne(t, evs); e.TrackingNumber != "00340434161094042557" || e.Status != tracking.InfoReceived {
				t.Fatalf("event %+v", e)
			}
		})
	}
	t.Run("AST", func(t *testing.T) {
		evs, err := wcAdapter().Decode([]byte(wcReferencePayload), wcTopic("order.updated"))
		wantExpected(t, evs, err, "")
	})
}

func FuzzWooCommerceDecode(f *testing.F) {
	f.Add([]byte(wcReferencePayload), true)
	files, _ := filepath.Glob(filepath.Join("..", "..", "testdata", "woocommerce", "*.json"))
	for _, p := range files {
		if b, err := os.ReadFile(p); err == nil {
			f.Add(b, true)
			f.Add(b, false)
		}
	}
	f.Add(wcASTOrder(`{"3":`+wcItemDHL+`}`, `,{"key":"wpml_language","value":"de"}`), false)
	f.Add(wcASTOrder(mustJSON(`[`+wcItemUPS+`]`), ""), true)
	f.Add(wcShipmentOrder(`{"id":1,"status":"gzd-shipped","tracking_id":"X","items":[{"quantity":"1.5"}]}`), true)
	f.Add([]byte(`{"meta_data":[{"key":"_wc_shipment_tracking_items","value":[{"tracking_number":1e999,"date_shipped":"-1"}]}]}`), false)
	f.Add([]byte(`[]`), true)
	f.Add(wcShipmentOrder(`{"id":1,"status":"gzd-shipped","tracking_id":"X","est_delivery_date":{},"est_delivery_date_gmt":"2026-11-24T23:30:00-05:00"},{"id":2,"status":"shipped","tracking_id":"Y","est_delivery_date":12345}`), true)
	f.Add(wcASTOrder(`[`+wcItemDHL+`,{"tracking_provider":"ups\n","tracking_number":"1Z\r\n2","tracking_id":"a\u0000b"}]`, `,{"key":"language","value":"de\n"}`), true)
	a := wcAdapter()
	f.Fuzz(func(t *testing.T, body []byte, withTopic bool) {
		h := http.Header{}
		if withTopic {
			h.Set(HeaderWooCommerceTopic, "order.updated")
		}
		evs, err := a.Decode(body, h)
		if err != nil {
			if !errors.Is(err, ErrMalformed) {
				t.Fatalf("error %v is not ErrMalformed", err)
			}
			return
		}
		if len(evs) > wcMaxEvents {
			t.Fatalf("%d events", len(evs))
		}
		for _, e := range evs {
			assertClean(t, e)
			if e.TrackingNumber == "" || e.Slug == "" || e.EventID == "" || e.Source != "woocommerce" {
				t.Fatalf("event without key: %+v", e)
			}
			if !e.SentAt.IsZero() && e.OccurredAt.After(e.SentAt) {
				t.Fatalf("occurred %v after sent %v", e.OccurredAt, e.SentAt)
			}
			if _, err := json.Marshal(e); err != nil {
				t.Fatalf("event does not marshal: %v", err)
			}
			for _, s := range e.SMSes {
				if !strings.HasPrefix(s, "+") {
					t.Fatalf("phone %q not E.164", s)
				}
			}
			for _, it := range e.Items {
				if it.Quantity <= 0 {
					t.Fatalf("item %+v", it)
				}
			}
			if e.TrackingURL != "" && !strings.HasPrefix(e.TrackingURL, "http") {
				t.Fatalf("link %q", e.TrackingURL)
			}
		}
	})
}

func wcOne(t *testing.T, evs []tracking.Event) tracking.Event {
	t.Helper()
	if len(evs) != 1 {
		t.Fatalf("%d events, want 1: %s", len(evs), mustJSON(evs))
	}
	return evs[0]
}

func wcNone(t *testing.T, evs []tracking.Event) {
	t.Helper()
	if len(evs) != 0 {
		t.Fatalf("%d events, want none: %s", len(evs), mustJSON(evs))
	}
}

func wcWantLanguage(t *testing.T, evs []tracking.Event, lang string) {
	t.Helper()
	if e := wcOne(t, evs); e.Language != lang {
		t.Fatalf("language %q, want %q", e.Language, lang)
	}
}
