package templates

import (
	"fmt"
	htmltemplate "html/template"
	"net/url"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"golang.org/x/text/language"
)

// view is the dot of a catalog string: Data cleaned for display. Its fields
// are documented in the package documentation; keep the two in step.
type view struct {
	TrackingNumber     string
	Carrier            string // CarrierName, else CarrierSlug
	CarrierSlug        string
	OrderNumber        string
	Title              string // "" when it only repeats the tracking or order number
	CustomerName       string
	ShopName           string
	Status             string // the status being rendered
	Subtag             string // "" unless it belongs to Status
	SubtagMessage      string
	CheckpointMessage  string
	CheckpointLocation string
	CheckpointDate     string // CLDR medium date and short time joined by "format.datetime", in the event's own offset; " (UTC)" added when that is UTC
	ExpectedDate       string // Data.ExpectedDelivery as CLDR's long date ("5. Januar 2026"); "" when unknown
	TrackingURL        string // http(s) only
	UnsubscribeURL     string // http(s) only
	// ItemsShipped of ItemsTotal order items are in this parcel; both are 0
	// unless the parcel holds part of the order (0 < shipped < total).
	ItemsShipped int
	ItemsTotal   int
	// ParcelsDelivered of ParcelsTotal parcels of the order are delivered;
	// both 0 unless the order has several parcels.
	ParcelsDelivered int
	ParcelsTotal     int

	// What layouts need besides (catalog strings may use them too). One
	// flat struct, not a view embedded in a page: text/template looks a
	// field up by name on every use, and a field of an embedded struct
	// takes a slow search (a fifth of a render's time).
	Lang    string // BCP 47 tag, for <html lang>
	Dir     string // "ltr" or "rtl", for <html dir>
	Subject string // set for email before the layouts run
	Brand   Brand  // the shop's logo, colour and contact details, checked by New

	cat *catalog
}

// page is the dot of a layout; its T and H methods give layouts the
// catalog.
type page = view

// Longest value, in characters, kept for each kind of field; longer values
// are cut and end with "…". Generous for real data, small enough that a
// hostile webhook cannot turn a notification into a novel.
const (
	maxShort   = 80  // numbers, names, slugs
	maxShop    = 100 // TRACKHOOK_SHOP_NAME's limit
	maxMessage = 300 // free text from the carrier
	maxURL     = 2048
)

func newPage(c *catalog, status string, d Data) *page {
	v := view{
		TrackingNumber:     oneLine(d.TrackingNumber, maxShort),
		CarrierSlug:        oneLine(d.CarrierSlug, maxShort),
		OrderNumber:        oneLine(d.OrderNumber, maxShort),
		Title:              oneLine(d.Title, maxMessage),
		CustomerName:       oneLine(d.CustomerName, maxShort),
		ShopName:           oneLine(d.ShopName, maxShop),
		Status:             status,
		SubtagMessage:      oneLine(d.SubtagMessage, maxMessage),
		CheckpointMessage:  oneLine(d.CheckpointMessage, maxMessage),
		CheckpointLocation: oneLine(place(c, d), maxShort),
		TrackingURL:        webURL(d.TrackingURL),
		UnsubscribeURL:     webURL(d.UnsubscribeURL),
	}
	v.Carrier = oneLine(d.CarrierName, maxShort)
	if v.Carrier == "" {
		v.Carrier = v.CarrierSlug
	}
	if strings.HasPrefix(d.Subtag, status+"_") {
		v.Subtag = oneLine(d.Subtag, maxShort)
	}
	if strings.EqualFold(v.Title, v.TrackingNumber) || strings.EqualFold(v.Title, v.OrderNumber) {
		v.Title = ""
	}
	if !d.CheckpointTime.IsZero() {
		// The time where the scan happened, as the carrier reported it
		// (09:15 for an event at 09:15+01:00), in the catalog language's
		// CLDR formats; a time that came without an offset was read as
		// UTC, and says so.
		v.CheckpointDate = c.cal.DateTime(d.CheckpointTime)
		if _, off := d.CheckpointTime.Zone(); off == 0 {
			v.CheckpointDate += " (UTC)"
		}
	}
	if day, err := time.Parse(time.DateOnly, d.ExpectedDelivery); err == nil {
		v.ExpectedDate = c.cal.Day(day)
	}
	if d.ParcelsTotal > 1 && d.ParcelsDelivered >= 0 && d.ParcelsDelivered <= d.ParcelsTotal {
		v.ParcelsDelivered, v.ParcelsTotal = d.ParcelsDelivered, d.ParcelsTotal
	}
	if d.ItemsTotal > 0 && d.ItemsShipped > 0 && d.ItemsShipped < d.ItemsTotal {
		v.ItemsShipped, v.ItemsTotal = d.ItemsShipped, d.ItemsTotal
	}
	v.Lang, v.Dir, v.cat = c.locale, c.dir, c
	return &v
}

// place is where the latest scan was: the carrier's free text, else city,
// state and the country's name in the catalog's language.
func place(c *catalog, d Data) string {
	if strings.TrimSpace(d.CheckpointLocation) != "" {
		return d.CheckpointLocation
	}
	var parts []string
	for _, p := range []string{d.CheckpointCity, d.CheckpointState} {
		if p = strings.TrimSpace(p); p != "" {
			parts = append(parts, p)
		}
	}
	if cc := strings.TrimSpace(d.CheckpointCountry); cc != "" {
		name := cc
		if r, err := language.ParseRegion(cc); err == nil && r.IsCountry() && c.regions != nil {
			if n := c.regions.Name(r); n != "" {
				name = n
			}
		}
		parts = append(parts, name)
	}
	return strings.Join(parts, ", ")
}

// T renders the catalog entry for key, most specific first: key.Subtag,
// key.Status, key. Layouts call it as {{.T "intro"}} (or {{$.T "intro"}}
// inside {{with}}).
func (p *page) T(key string) (string, error) {
	e, err := p.entry(key)
	if err != nil {
		return "", err
	}
	return e.render(p)
}

// H is T for HTML: the text escaped, and every value that came with the
// shipment (a tracking number, a name, a date, a link) inside <bdi>, so
// that it keeps its own direction within a sentence of the other one: an
// Arabic sentence does not scramble "1Z999AA1 (UPS)", and an Arabic name
// does not turn an English greeting around. The HTML layout calls it as
// {{.H "intro"}}.
func (p *page) H(key string) (htmltemplate.HTML, error) {
	e, err := p.entry(key)
	if err != nil {
		return "", err
	}
	s, err := e.renderMarked(p)
	if err != nil {
		return "", err
	}
	return htmltemplate.HTML(bdi.Replace(htmltemplate.HTMLEscapeString(s))), nil
}

func (p *page) entry(key string) (entry, error) {
	if p.Subtag != "" {
		if e, ok := p.cat.entries[key+"."+p.Subtag]; ok {
			return e, nil
		}
	}
	if e, ok := p.cat.entries[key+"."+p.Status]; ok {
		return e, nil
	}
	if e, ok := p.cat.entries[key]; ok {
		return e, nil
	}
	return entry{}, fmt.Errorf("%s: no key %q (nor %q)", p.cat.file, key, key+"."+p.Status)
}

// While a catalog string renders for H, each value it prints is wrapped in
// these two private-use characters (entry.marked), which become <bdi> and
// </bdi> after escaping. oneLine and webURL keep them out of everything a
// webhook sends, and catalogs may not contain them.
const (
	markOpen  = '\ue000'
	markClose = '\ue001'
)

var bdi = strings.NewReplacer(string(markOpen), "<bdi>", string(markClose), "</bdi>")

// oneLine makes untrusted text safe to show on one line: invalid UTF-8 and
// control characters (CR, LF, tab, NUL, …) become spaces, bidirectional
// overrides and isolates (which can make text read differently from what it
// is) are dropped, runs of white space become one space, the ends are
// trimmed, and the result is cut to max characters.
func oneLine(s string, max int) string {
	s = strings.ToValidUTF8(s, " ")
	s = strings.Map(func(r rune) rune {
		switch {
		case isBidiControl(r), r == markOpen, r == markClose:
			return -1
		case unicode.IsControl(r):
			return ' '
		}
		return r
	}, s)
	s = strings.Join(strings.Fields(s), " ") // Fields also splits on U+2028, U+2029, NEL
	if utf8.RuneCountInString(s) <= max {
		return s
	}
	r := []rune(s)[:max-1]
	return strings.TrimRight(string(r), " ") + "…"
}

// isBidiControl reports the invisible characters that reorder text:
// embeddings, overrides and isolates.
func isBidiControl(r rune) bool {
	return (r >= '\u202a' && r <= '\u202e') || (r >= '\u2066' && r <= '\u2069')
}

// collapseSpace turns every run of white space into one space and trims the
// ends; for the one-line SMS body.
func collapseSpace(s string) string {
	return strings.Join(strings.Fields(s), " ")
}

// webURL returns u when it is an absolute http or https URL without white
// space or control characters, and "" otherwise (javascript:, data:,
// relative or garbled URLs are not shown at all).
func webURL(u string) string {
	u = strings.TrimSpace(u)
	if u == "" || len(u) > maxURL {
		return ""
	}
	for _, r := range u {
		if unicode.IsSpace(r) || unicode.IsControl(r) || isBidiControl(r) || r == utf8.RuneError || r == markOpen || r == markClose {
			return ""
		}
	}
	p, err := url.Parse(u)
	if err != nil || (p.Scheme != "http" && p.Scheme != "https") || p.Host == "" {
		return ""
	}
	return p.String()
}
