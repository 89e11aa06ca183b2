package carrier

import (
	"bytes"
	"embed"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/url"
	"slices"
	"strings"
	"sync"
	"unicode"
	"unicode/utf8"
)

// Placeholder is the token a URLTemplate must contain exactly once; TrackingURL
// replaces it with the escaped tracking number.
const Placeholder = "{tracking_number}"

// catalogVersion is the only "version" Load accepts.
const catalogVersion = 1

// maxCatalogBytes bounds what Load reads, so a wrong file cannot exhaust memory.
const maxCatalogBytes = 4 << 20

// ErrInvalidCatalog is wrapped by every error Load returns except failures
// of the reader itself: malformed JSON, oversized input and rule violations.
var ErrInvalidCatalog = errors.New("carrier: invalid catalogue")

// Carrier is one entry of the catalogue.
type Carrier struct {
	Slug        string   // canonical slug, AfterShip's courier slug where AfterShip has one
	Name        string   // display name, e.g. "DHL Express"
	Aliases     []string // other senders' codes for the same carrier
	URLTemplate string   // https tracking page containing Placeholder; "" only for carriers without a public page
	Country     string   // ISO 3166-1 alpha-2 home country, "" for global carriers
	WebURL      string   // the carrier's https home page; "" when unknown
	Phone       string   // customer-service phone number as printed by the source, free text; "" when unknown
	Patterns    []string // RE2 patterns a normalized tracking number (see NormalizeNumber) of this carrier matches
	S10         bool     // the carrier issues UPU S10 numbers ending in Country (one national post per country)
}

// TrackingURL returns the carrier's tracking page for number, with the number
// escaped for its position in the template:
//
//   - in the query (after '?'), url.QueryEscape;
//   - in the path or the fragment (after '#'), percent-encoding of every byte
//     except RFC 3986 unreserved characters. That is stricter than
//     url.PathEscape, which leaves '&', '=', '+', ';', ':' and '@' alone:
//     harmless in a path, but carriers' single-page apps read path-like
//     fragments with decodeURIComponent and split on those characters. A
//     number of "." or ".." is encoded as %2E so it cannot become a dot
//     segment.
//
// Surrounding white space is trimmed. It returns "" when the carrier has no
// template or the number is empty.
func (c Carrier) TrackingURL(number string) string {
	number = strings.TrimSpace(number)
	if c.URLTemplate == "" || number == "" {
		return ""
	}
	i := strings.Index(c.URLTemplate, Placeholder)
	if i < 0 {
		return ""
	}
	prefix, suffix := c.URLTemplate[:i], c.URLTemplate[i+len(Placeholder):]
	var escaped string
	if strings.Contains(prefix, "?") && !strings.Contains(prefix, "#") {
		escaped = url.QueryEscape(number)
	} else {
		escaped = escapeStrict(number)
		if escaped == "." || escaped == ".." {
			escaped = strings.ReplaceAll(escaped, ".", "%2E")
		}
	}
	return prefix + escaped + suffix
}

// escapeStrict percent-encodes every byte except RFC 3986 unreserved
// characters (A-Z a-z 0-9 - . _ ~).
func escapeStrict(s string) string {
	const hex = "0123456789ABCDEF"
	var b strings.Builder
	b.Grow(len(s) * 3)
	for i := 0; i < len(s); i++ {
		ch := s[i]
		if 'A' <= ch && ch <= 'Z' || 'a' <= ch && ch <= 'z' || '0' <= ch && ch <= '9' ||
			ch == '-' || ch == '.' || ch == '_' || ch == '~' {
			b.WriteByte(ch)
			continue
		}
		b.WriteByte('%')
		b.WriteByte(hex[ch>>4])
		b.WriteByte(hex[ch&0x0f])
	}
	return b.String()
}

// Catalog is an immutable, validated set of carriers. It is safe for
// concurrent use.
type Catalog struct {
	carriers []Carrier      // sorted by slug
	byKey    map[string]int // folded slug or alias -> index in carriers
	patterns [][]pattern    // compiled Patterns, parallel to carriers
	s10      map[string]int // country -> index of the carrier with S10 set
}

//go:embed catalog.json
var embedded embed.FS

var defaultCatalog = sync.OnceValue(func() *Catalog {
	c, err := loadEmbedded()
	if err != nil {
		// The embedded file is covered by tests; failing here means the
		// binary was built from a broken catalogue.
		panic("carrier: embedded catalog.json is invalid: " + err.Error())
	}
	return c
})

func loadEmbedded() (*Catalog, error) {
	data, err := embedded.ReadFile("catalog.json")
	if err != nil {
		return nil, err
	}
	return Load(bytes.NewReader(data))
}

// Default returns the catalogue embedded in the binary. It is loaded and
// validated once; every call returns the same *Catalog.
func Default() *Catalog { return defaultCatalog() }

// file is the on-disk format of catalog.json.
type file struct {
	Version  int     `json:"version"`
	Carriers []entry `json:"carriers"`
}

type entry struct {
	Slug        string   `json:"slug"`
	Name        string   `json:"name"`
	Country     string   `json:"country"`
	URLTemplate string   `json:"url_template"`
	NoPublicURL bool     `json:"no_public_url"`
	WebURL      string   `json:"web_url"`
	Phone       string   `json:"phone"`
	Aliases     []string `json:"aliases"`
	Patterns    []string `json:"patterns"`
	S10         bool     `json:"s10"`
	Notes       string   `json:"notes"`
}

// maxPhoneLen is the longest "phone" Load accepts, in characters.
const maxPhoneLen = 40

// Load reads a catalogue in the catalog.json format and validates it. It
// rejects unknown fields, a missing or unknown version, duplicate slugs or
// aliases (compared as Lookup compares them, so "dhl_express" and
// "DHL Express" collide), empty names, malformed slugs and country codes,
// and URL templates that are not https or do not contain Placeholder exactly
// once. An empty template is allowed only with "no_public_url": true.
//
// The optional fields are checked too: "web_url" must be an https URL
// without a placeholder; "phone" must be at most 40 characters without
// control characters; each of "patterns" must be an RE2 expression of at
// most 200 characters that starts with ^, ends with $, is anchored as a
// whole (alternatives grouped: ^(?:A|B)$), cannot match the empty string and
// has no literal that a normalized number never contains (a lower-case
// letter, white space or '-'); "s10": true needs a country, and only one
// carrier per country may set it. All rule violations are reported
// together, joined, and wrap ErrInvalidCatalog.
func Load(r io.Reader) (*Catalog, error) {
	data, err := io.ReadAll(io.LimitReader(r, maxCatalogBytes+1))
	if err != nil {
		return nil, fmt.Errorf("carrier: reading catalogue: %w", err)
	}
	if len(data) > maxCatalogBytes {
		return nil, fmt.Errorf("%w: larger than %d bytes", ErrInvalidCatalog, maxCatalogBytes)
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	var f file
	if err := dec.Decode(&f); err != nil {
		return nil, fmt.Errorf("%w: decoding JSON: %v", ErrInvalidCatalog, err)
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, fmt.Errorf("%w: trailing data after the catalogue object", ErrInvalidCatalog)
	}
	if f.Version != catalogVersion {
		return nil, fmt.Errorf("%w: version is %d, want %d", ErrInvalidCatalog, f.Version, catalogVersion)
	}
	if len(f.Carriers) == 0 {
		return nil, fmt.Errorf("%w: no carriers", ErrInvalidCatalog)
	}

	var errs []error
	bad := func(i int, e entry, format string, args ...any) {
		errs = append(errs, fmt.Errorf("%w: carriers[%d] (slug %q): %s", ErrInvalidCatalog, i, e.Slug, fmt.Sprintf(format, args...)))
	}

	type owner struct {
		index int
		code  string // the slug or alias as written
	}
	seen := make(map[string]owner)
	claim := func(i int, e entry, code, what string) {
		key := fold(code)
		if key == "" {
			bad(i, e, "%s %q is empty once separators are removed", what, code)
			return
		}
		if prev, ok := seen[key]; ok {
			bad(i, e, "%s %q collides with %q of carrier %q (codes are compared case-insensitively, ignoring '-', '_', '.' and spaces)",
				what, code, prev.code, f.Carriers[prev.index].Slug)
			return
		}
		seen[key] = owner{index: i, code: code}
	}

	carriers := make([]Carrier, 0, len(f.Carriers))
	compiled := make(map[string][]pattern, len(f.Carriers)) // slug -> patterns
	s10Owner := make(map[string]int)                        // country -> index in f.Carriers
	for i, e := range f.Carriers {
		if !validSlug(e.Slug) {
			bad(i, e, "slug must be lower-case letters and digits separated by single '-'")
		} else {
			claim(i, e, e.Slug, "slug")
		}
		if strings.TrimSpace(e.Name) == "" {
			bad(i, e, "name is empty")
		} else if hasControl(e.Name) {
			bad(i, e, "name contains control characters")
		}
		if !validCountry(e.Country) {
			bad(i, e, "country %q is not an upper-case ISO 3166-1 alpha-2 code or empty", e.Country)
		}
		if msg := checkTemplate(e.URLTemplate, e.NoPublicURL); msg != "" {
			bad(i, e, "%s", msg)
		}
		if msg := checkWebURL(e.WebURL); msg != "" {
			bad(i, e, "%s", msg)
		}
		phone := strings.TrimSpace(e.Phone)
		switch {
		case e.Phone == "":
		case phone == "":
			bad(i, e, "phone is blank")
		case hasControl(e.Phone):
			bad(i, e, "phone %q contains control characters", e.Phone)
		case utf8.RuneCountInString(phone) > maxPhoneLen:
			bad(i, e, "phone %q is longer than %d characters", phone, maxPhoneLen)
		}
		if e.S10 {
			if e.Country == "" {
				bad(i, e, "s10 needs a country: an S10 number matches the carrier whose country is its last two letters")
			} else if prev, ok := s10Owner[e.Country]; ok {
				bad(i, e, "s10 is also set by carrier %q for country %q; only one carrier per country (its national post) may set s10",
					f.Carriers[prev].Slug, e.Country)
			} else {
				s10Owner[e.Country] = i
			}
		}
		var pats []pattern
		for j, p := range e.Patterns {
			cp, msg := compilePattern(p)
			if msg != "" {
				bad(i, e, "patterns[%d] %q: %s", j, p, msg)
				continue
			}
			if slices.ContainsFunc(pats, func(q pattern) bool { return q.re.String() == p }) {
				bad(i, e, "patterns[%d] %q is listed twice", j, p)
				continue
			}
			pats = append(pats, cp)
		}
		compiled[e.Slug] = pats
		aliases := make([]string, 0, len(e.Aliases))
		for _, a := range e.Aliases {
			a = strings.TrimSpace(a)
			if a == "" {
				bad(i, e, "alias is empty")
				continue
			}
			if hasControl(a) {
				bad(i, e, "alias %q contains control characters", a)
				continue
			}
			claim(i, e, a, "alias")
			aliases = append(aliases, a)
		}
		carriers = append(carriers, Carrier{
			Slug:        e.Slug,
			Name:        strings.TrimSpace(e.Name),
			Aliases:     aliases,
			URLTemplate: e.URLTemplate,
			Country:     e.Country,
			WebURL:      e.WebURL,
			Phone:       phone,
			Patterns:    slices.Clone(e.Patterns),
			S10:         e.S10,
		})
	}
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}

	slices.SortFunc(carriers, func(a, b Carrier) int { return strings.Compare(a.Slug, b.Slug) })
	c := &Catalog{
		carriers: carriers,
		byKey:    make(map[string]int, len(seen)),
		patterns: make([][]pattern, len(carriers)),
		s10:      make(map[string]int, len(s10Owner)),
	}
	for i, cr := range carriers {
		c.byKey[fold(cr.Slug)] = i
		for _, a := range cr.Aliases {
			c.byKey[fold(a)] = i
		}
		c.patterns[i] = compiled[cr.Slug]
		if cr.S10 {
			c.s10[cr.Country] = i
		}
	}
	return c, nil
}

// checkWebURL returns "" if u is an acceptable "web_url" (empty, or an https
// URL with a host), else what is wrong with it.
func checkWebURL(u string) string {
	if u == "" {
		return ""
	}
	if strings.ContainsFunc(u, func(r rune) bool { return unicode.IsSpace(r) || unicode.IsControl(r) }) || !utf8.ValidString(u) {
		return "web_url contains white space or control characters"
	}
	if strings.ContainsAny(u, "{}") {
		return "web_url must not contain a placeholder; it is the carrier's home page"
	}
	p, err := url.Parse(u)
	if err != nil {
		return fmt.Sprintf("web_url does not parse as a URL: %v", err)
	}
	if p.Scheme != "https" {
		return fmt.Sprintf("web_url must use https, not %q", p.Scheme)
	}
	if p.Host == "" || p.User != nil {
		return "web_url must have a host and no user info"
	}
	return ""
}

// checkTemplate returns "" if tmpl is acceptable, else what is wrong with it.
func checkTemplate(tmpl string, noPublicURL bool) string {
	if tmpl == "" {
		if noPublicURL {
			return ""
		}
		return "url_template is empty (allowed only with \"no_public_url\": true)"
	}
	if noPublicURL {
		return "url_template is set although \"no_public_url\" is true"
	}
	if n := strings.Count(tmpl, Placeholder); n != 1 {
		return fmt.Sprintf("url_template must contain %s exactly once, found %d", Placeholder, n)
	}
	rest := strings.Replace(tmpl, Placeholder, "", 1)
	if strings.ContainsAny(rest, "{}") {
		return "url_template contains a placeholder other than " + Placeholder
	}
	for _, r := range tmpl {
		if unicode.IsSpace(r) || unicode.IsControl(r) {
			return "url_template contains white space or control characters"
		}
	}
	a, errA := url.Parse(strings.Replace(tmpl, Placeholder, "A1", 1))
	b, errB := url.Parse(strings.Replace(tmpl, Placeholder, "B2", 1))
	if errA != nil || errB != nil {
		return fmt.Sprintf("url_template does not parse as a URL: %v", errors.Join(errA, errB))
	}
	if a.Scheme != "https" {
		return fmt.Sprintf("url_template must use https, not %q", a.Scheme)
	}
	if a.Host == "" || a.User != nil {
		return "url_template must have a host and no user info"
	}
	if a.Host != b.Host {
		return "url_template must not put " + Placeholder + " in the host"
	}
	return ""
}

// Lookup finds the carrier whose slug or alias matches code. Matching is
// case-insensitive and ignores '-', '_', '.' and white space, so
// "dhl_express", "DHLExpress", "dhl-express" and "DHL Express" all find DHL
// Express. The returned Carrier's Aliases and Patterns slices are copies.
func (c *Catalog) Lookup(code string) (Carrier, bool) {
	if c == nil {
		return Carrier{}, false
	}
	key := fold(code)
	if key == "" {
		return Carrier{}, false
	}
	i, ok := c.byKey[key]
	if !ok {
		return Carrier{}, false
	}
	return c.carriers[i].clone(), true
}

// clone returns cr with its slices copied, so callers cannot change the
// catalogue.
func (cr Carrier) clone() Carrier {
	cr.Aliases = slices.Clone(cr.Aliases)
	cr.Patterns = slices.Clone(cr.Patterns)
	return cr
}

// Normalize returns the canonical slug for code if the catalogue knows it.
// Otherwise it returns a cleaned form of code, so that unknown carriers still
// get a stable key: trimmed, lower-cased, with runs of white space, '_' and
// '-' turned into a single '-' and no leading or trailing '-'. It is
// idempotent: Normalize(Normalize(x)) == Normalize(x).
func (c *Catalog) Normalize(code string) string {
	if cr, ok := c.Lookup(code); ok {
		return cr.Slug
	}
	return clean(code)
}

// Carriers returns a copy of every carrier, sorted by slug.
func (c *Catalog) Carriers() []Carrier {
	if c == nil {
		return nil
	}
	out := make([]Carrier, len(c.carriers))
	for i, cr := range c.carriers {
		out[i] = cr.clone()
	}
	return out
}

// Len returns the number of carriers.
func (c *Catalog) Len() int {
	if c == nil {
		return 0
	}
	return len(c.carriers)
}

// isSeparator reports the runes Lookup ignores. clean turns the same runes
// (except '.') into '-', which fold also ignores; that shared set is what
// makes Normalize idempotent.
func isSeparator(r rune) bool {
	return r == '-' || r == '_' || r == '.' || unicode.IsSpace(r)
}

// fold is the comparison key of a code: lower-cased, separators removed.
func fold(s string) string {
	s = strings.ToLower(s)
	return strings.Map(func(r rune) rune {
		if isSeparator(r) {
			return -1
		}
		return r
	}, s)
}

// clean is Normalize's fallback for unknown codes.
func clean(s string) string {
	s = strings.ToLower(strings.TrimSpace(s))
	var b strings.Builder
	b.Grow(len(s))
	dash := false
	for _, r := range s {
		if r == '-' || r == '_' || unicode.IsSpace(r) {
			dash = true
			continue
		}
		if dash && b.Len() > 0 {
			b.WriteByte('-')
		}
		dash = false
		b.WriteRune(r)
	}
	return b.String()
}

func validSlug(s string) bool {
	if s == "" || s[0] == '-' || s[len(s)-1] == '-' || strings.Contains(s, "--") {
		return false
	}
	for i := 0; i < len(s); i++ {
		ch := s[i]
		if !('a' <= ch && ch <= 'z' || '0' <= ch && ch <= '9' || ch == '-') {
			return false
		}
	}
	return true
}

func validCountry(s string) bool {
	if s == "" {
		return true
	}
	return len(s) == 2 && 'A' <= s[0] && s[0] <= 'Z' && 'A' <= s[1] && s[1] <= 'Z'
}

func hasControl(s string) bool {
	if !utf8.ValidString(s) {
		return true
	}
	return strings.IndexFunc(s, unicode.IsControl) >= 0
}
