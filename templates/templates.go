package templates

import (
	"cmp"
	"errors"
	"fmt"
	"net/mail"
	"regexp"
	"slices"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"golang.org/x/text/language"
)

// Kind is the channel a message is rendered for.
type Kind string

// The kinds of message Render produces.
const (
	KindEmail Kind = "email"
	KindSMS   Kind = "sms"
)

// Data is everything a template may show. Every string may come from an
// untrusted webhook: Render strips control characters, cuts overlong values
// and drops URLs that are not http or https before any template sees them.
type Data struct {
	TrackingNumber     string
	CarrierSlug        string // "dhl", "usps"
	CarrierName        string // display name, e.g. "DHL Express"; templates fall back to CarrierSlug when empty
	TrackingURL        string // carrier's tracking page; may be empty (then no button/link)
	OrderNumber        string // may be empty (then not mentioned)
	Title              string // may be empty
	CustomerName       string // may be empty (then a neutral greeting)
	ShopName           string // may be empty
	Status             string // canonical tag, e.g. "InTransit"
	Subtag             string // e.g. "Exception_011"; may be empty
	SubtagMessage      string // the aggregator's wording of Subtag, in English; may be empty
	CheckpointMessage  string // latest checkpoint text, may be empty
	CheckpointLocation string // free text as the carrier gave it; may be empty
	// CheckpointCity, CheckpointState and CheckpointCountry (ISO 3166-1
	// alpha-2 or alpha-3) are the place in parts, used when
	// CheckpointLocation is empty: the country is shown by its name in the
	// message's language ("Leipzig, Deutschland").
	CheckpointCity, CheckpointState, CheckpointCountry string
	CheckpointTime                                     time.Time // zero when unknown
	UnsubscribeURL                                     string    // may be empty (then no unsubscribe line)
	ItemsShipped                                       int       // items in this parcel; 0 when unknown
	ItemsTotal                                         int       // items in the whole order; 0 when unknown
	// ExpectedDelivery is the day the carrier expects to deliver,
	// "2006-01-02"; "" when unknown (then not mentioned).
	ExpectedDelivery string
	// ParcelsDelivered of ParcelsTotal parcels of the order are delivered
	// (a split shipment); both 0 unless the order has several parcels.
	ParcelsDelivered int
	ParcelsTotal     int
}

// Message is one rendered notification. For KindSMS only Text, Segments
// and GSM7 are set.
type Message struct {
	Locale   string // the BCP 47 tag actually used, e.g. "de"
	Subject  string // single line: never contains CR or LF
	Text     string
	HTML     string
	Segments int  // SMS: the segments Text costs (see SMSSegments)
	GSM7     bool // SMS: Text is sent in the GSM-7 alphabet (else UCS-2)
}

// Options configures New.
type Options struct {
	// DefaultLanguage is TRACKHOOK_DEFAULT_LANGUAGE; "" means "en". It must
	// be a supported locale (or a regional variant of one, like "de-AT"),
	// or New fails.
	DefaultLanguage string
	// Brand is how the shop looks and can be reached, shown in every email.
	Brand Brand
	// SMSMaxSegments is the most segments an SMS may cost (0 means 2); see
	// Render for how a longer text is shortened.
	SMSMaxSegments int
	// OverrideDir is an optional operator directory with the same layout as
	// the embedded files (layouts/*.tmpl, locales/*.json); see the package
	// documentation for how its files combine with the embedded ones.
	OverrideDir string
}

// Brand is the shop's look and contact details, the same in every message.
// Every field is optional; New refuses values it cannot show safely.
type Brand struct {
	LogoURL       string // https or http URL of a logo image, shown above the heading (with the shop's name as its alt text)
	AccentColor   string // #rgb or #rrggbb for the button, the links and the heading rule; "" is #1d4ed8
	SupportEmail  string // shown in the footer as a mailto: link
	SupportURL    string // a help or contact page, shown in the footer
	PostalAddress string // the sender's postal address, one line, shown in the footer (a legal requirement in many countries)
}

var accentColor = regexp.MustCompile(`^#([0-9a-fA-F]{3}|[0-9a-fA-F]{6})$`)

// BrandError is a Brand value that an email cannot show safely.
type BrandError struct {
	Field string // the Brand field, e.g. "AccentColor"
	Want  string // what it should be
}

func (e *BrandError) Error() string { return "templates: brand " + e.Field + ": want " + e.Want }

// CheckBrand reports a Brand value New would refuse, as a *BrandError.
func CheckBrand(b Brand) error {
	_, err := checkBrand(b)
	return err
}

// checkBrand refuses what an email cannot show safely and returns b cleaned.
func checkBrand(b Brand) (Brand, error) {
	bad := func(field, want string) (Brand, error) {
		return Brand{}, &BrandError{Field: field, Want: want}
	}
	if b.LogoURL != "" && webURL(b.LogoURL) == "" {
		return bad("LogoURL", "an absolute https or http URL of an image")
	}
	b.LogoURL = webURL(b.LogoURL)
	if b.AccentColor == "" {
		b.AccentColor = "#1d4ed8"
	}
	if !accentColor.MatchString(b.AccentColor) {
		return bad("AccentColor", "#rgb or #rrggbb, like #1d4ed8")
	}
	if b.SupportEmail != "" {
		a, err := mail.ParseAddress(b.SupportEmail)
		if err != nil || a.Name != "" || strings.ContainsAny(a.Address, "?&") {
			return bad("SupportEmail", "one address, like help@shop.example")
		}
		b.SupportEmail = a.Address
	}
	if b.SupportURL != "" && webURL(b.SupportURL) == "" {
		return bad("SupportURL", "an absolute https or http URL")
	}
	b.SupportURL = webURL(b.SupportURL)
	if len(b.PostalAddress) > 300 || strings.ContainsFunc(b.PostalAddress, unicode.IsControl) {
		return bad("PostalAddress", "one line of at most 300 bytes")
	}
	b.PostalAddress = oneLine(b.PostalAddress, 300)
	return b, nil
}

// ErrNoTemplate is returned, wrapped, by Render for a status or kind that
// has no template.
var ErrNoTemplate = errors.New("templates: no template")

// maxSubject is the longest subject Render returns, in characters.
const maxSubject = 200

// Set is a parsed, validated set of layouts and catalogs. It is immutable
// and safe for concurrent use.
type Set struct {
	layouts map[layoutKey]layout // html/template for email.html, else text/template
	folded  map[foldKey]layout   // the layouts for each language, catalog calls folded (fold)

	catalogs map[string]*catalog // by locale tag, e.g. "de", "pt-BR"
	locales  []string            // sorted
	tags     []language.Tag      // supported tags, in matcher order
	matcher  language.Matcher
	fallback string // resolved Options.DefaultLanguage

	statuses  []string // sorted
	hasStatus map[string]bool

	brand  Brand // checked
	smsMax int   // most segments an SMS may cost
}

// New loads and parses the embedded layouts and catalogs and those in
// opts.OverrideDir, checks that every catalog has the reference catalog's
// keys, and renders every status in every language once, so that any broken
// template fails here rather than on a send.
func New(opts Options) (*Set, error) {
	files, err := loadFiles(opts.OverrideDir)
	if err != nil {
		return nil, err
	}
	s := &Set{smsMax: cmp.Or(opts.SMSMaxSegments, 2)}
	if s.smsMax < 1 || s.smsMax > 10 {
		return nil, fmt.Errorf("templates: SMS segment limit %d: want 1 to 10", opts.SMSMaxSegments)
	}
	if s.brand, err = checkBrand(opts.Brand); err != nil {
		return nil, err
	}
	if err := s.parseCatalogs(files.locales); err != nil {
		return nil, err
	}
	if err := s.parseLayouts(files.layouts); err != nil {
		return nil, err
	}
	s.matcher = language.NewMatcher(s.tags)

	def := opts.DefaultLanguage
	if def == "" {
		def = referenceLocale
	}
	fallback, ok := s.match(def)
	if !ok {
		return nil, fmt.Errorf("templates: default language %q is not supported (supported: %s)",
			def, strings.Join(s.locales, ", "))
	}
	s.fallback = fallback

	if err := s.check(); err != nil {
		return nil, err
	}
	return s, nil
}

// Locales returns the supported locale tags, sorted.
func (s *Set) Locales() []string { return slices.Clone(s.locales) }

// Statuses returns the statuses that have templates, sorted.
func (s *Set) Statuses() []string { return slices.Clone(s.statuses) }

// Render renders one message of the given kind for status in locale. locale
// should come from Locale; an unsupported one falls back the way Locale
// does. The status argument, not d.Status, chooses the wording; d.Subtag
// refines it when it belongs to that status (e.g. "Exception_011" for
// "Exception"). A status or kind without a template gives an error wrapping
// ErrNoTemplate.
func (s *Set) Render(kind Kind, status, locale string, d Data) (Message, error) {
	if kind != KindEmail && kind != KindSMS {
		return Message{}, fmt.Errorf("%w for kind %q", ErrNoTemplate, kind)
	}
	if !s.hasStatus[status] {
		return Message{}, fmt.Errorf("%w for %s in status %q", ErrNoTemplate, kind, status)
	}
	c, ok := s.catalogs[locale]
	if !ok {
		c = s.catalogs[s.Locale(locale, "")]
	}
	p := newPage(c, status, d)
	p.Brand = s.brand
	if kind == KindSMS {
		return s.renderSMS(p)
	}
	return s.renderEmail(p)
}

func (s *Set) renderEmail(p *page) (Message, error) {
	subject, err := p.T("subject")
	if err != nil {
		return Message{}, err
	}
	p.Subject = oneLine(subject, maxSubject)

	text, err := s.layout(layoutEmailText, p.Status, p.cat.locale).execute(p)
	if err != nil {
		return Message{}, err
	}
	html, err := s.layout(layoutEmailHTML, p.Status, p.cat.locale).execute(p)
	if err != nil {
		return Message{}, err
	}
	return Message{Locale: p.cat.locale, Subject: p.Subject, Text: tidyText(text), HTML: html}, nil
}

// renderSMS renders the SMS body within the segment limit. The full text
// comes first; when it takes more than one segment, shorter ones are tried
// in this order: without the order number (the tracking number and the link
// already identify the parcel), without the expected delivery day, without
// both, and without the carrier too. The first that fits one segment is
// taken, else the fullest within the limit. When none of those is within
// the limit, the compact "<shop>: <heading>: <tracking number> <link>";
// only then does the shop's name go (a text with a link and no sender reads
// like the parcel scams everyone has seen): the full text without it, and
// last the compact form without it. The tracking number and the link are in
// every one (a link longer than the limit allows is still sent whole); the
// delivery day stays in messages about it (NewDate, Late).
func (s *Set) renderSMS(p *page) (Message, error) {
	keepDate := p.Status == "NewDate" || p.Status == "Late"
	drop := func(order, date, carrier, shop bool) func(*page) {
		return func(v *page) {
			if order {
				v.OrderNumber = ""
			}
			if date && !keepDate {
				v.ExpectedDate = ""
			}
			if carrier {
				v.Carrier = ""
			}
			if shop {
				v.ShopName = ""
			}
		}
	}
	withShop := []func(*page){
		drop(false, false, false, false),
		drop(true, false, false, false),
		drop(false, true, false, false),
		drop(true, true, false, false),
		drop(true, true, true, false),
	}
	var rendered []Message
	seen := map[string]bool{}
	render := func(shorten func(*page)) (Message, error) {
		v := *p
		shorten(&v)
		body, err := s.execSMS(&v)
		if err != nil {
			return Message{}, err
		}
		gsm7, n := SMSSegments(body)
		return Message{Locale: p.cat.locale, Text: body, Segments: n, GSM7: gsm7}, nil
	}
	for _, shorten := range withShop {
		m, err := render(shorten)
		if err != nil {
			return Message{}, err
		}
		if seen[m.Text] {
			continue
		}
		seen[m.Text] = true
		if m.Segments <= 1 {
			return m, nil
		}
		rendered = append(rendered, m)
	}
	for _, m := range rendered {
		if m.Segments <= s.smsMax {
			return m, nil
		}
	}
	heading, err := p.T("heading")
	if err != nil {
		return Message{}, err
	}
	parts := []string{heading + ":", p.TrackingNumber}
	if keepDate && p.ExpectedDate != "" {
		parts = append(parts, p.ExpectedDate)
	}
	if p.TrackingURL != "" {
		parts = append(parts, p.TrackingURL)
	}
	compact := func(prefix string) Message {
		body := collapseSpace(prefix + strings.Join(parts, " "))
		if p.Dir == "rtl" {
			body = rlm + body
		}
		gsm7, n := SMSSegments(body)
		return Message{Locale: p.cat.locale, Text: body, Segments: n, GSM7: gsm7}
	}
	if p.ShopName != "" {
		if m := compact(p.ShopName + ": "); m.Segments <= s.smsMax {
			return m, nil
		}
	}
	if m, err := render(drop(true, true, true, true)); err != nil || m.Segments <= s.smsMax {
		return m, err
	}
	return compact(""), nil
}

func (s *Set) execSMS(p *page) (string, error) {
	body, err := s.layout(layoutSMS, p.Status, p.cat.locale).execute(p)
	body = closeUpAfterFullStops(collapseSpace(body))
	if body != "" && p.Dir == "rtl" {
		// A right-to-left mark first: phones lay out a text by its first
		// strong character, and a shop's Latin name in front would make an
		// Arabic or Hebrew text run left to right.
		body = rlm + body
	}
	return body, err
}

// rlm is U+200F RIGHT-TO-LEFT MARK: invisible, it only has a direction.
const rlm = "\u200f"

// closeUpAfterFullStops drops the space the layout puts between sentences
// after an ideographic full stop or a full-width ! or ?, which Chinese and
// Japanese write without one; the space before a link stays, so that
// phones still find where the link starts.
func closeUpAfterFullStops(s string) string {
	if !strings.ContainsAny(s, "。！？") {
		return s
	}
	var b strings.Builder
	prev := rune(0)
	for i, r := range s {
		if r == ' ' && strings.ContainsRune("。！？", prev) {
			if next, _ := utf8.DecodeRuneInString(s[i+1:]); next >= utf8.RuneSelf {
				prev = r
				continue
			}
		}
		b.WriteRune(r)
		prev = r
	}
	return b.String()
}

// tidyText trims trailing blanks from every line, drops blank lines at both
// ends, keeps at most one blank line in a row and ends the text with a
// newline, so layouts can be written for readability instead of counting
// newlines.
func tidyText(s string) string {
	lines := strings.Split(s, "\n")
	out := make([]string, 0, len(lines))
	blank := true // drop leading blank lines
	for _, l := range lines {
		l = strings.TrimRight(l, " \t\r")
		if l == "" {
			if blank {
				continue
			}
			blank = true
		} else {
			blank = false
		}
		out = append(out, l)
	}
	for len(out) > 0 && out[len(out)-1] == "" {
		out = out[:len(out)-1]
	}
	return strings.Join(out, "\n") + "\n"
}
