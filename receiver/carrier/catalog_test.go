package carrier

import (
	"errors"
	"net/url"
	"slices"
	"strings"
	"sync"
	"testing"
)

func TestLookupNormalize(t *testing.T) {
	c := Default()
	tests := []struct {
		sender string
		code   string
		want   string // canonical slug, or the cleaned code when unknown
		known  bool
	}{
		// AfterShip courier slugs are canonical.
		{"aftership", "usps", "usps", true},
		{"aftership", "dhl", "dhl", true},
		{"aftership", "dhl-germany", "dhl-germany", true},
		{"aftership", "dhl-global-mail", "dhl-global-mail", true},
		{"aftership", "deutsch-post", "deutsch-post", true},
		{"aftership", "canada-post", "canada-post", true},
		{"aftership", "royal-mail", "royal-mail", true},
		{"aftership", "myhermes-uk", "myhermes-uk", true},
		{"aftership", "hermes", "myhermes-uk", true},
		{"aftership", "colissimo", "la-poste-colissimo", true},
		{"aftership", "austrian-post-registered", "austrian-post", true},
		{"aftership", "bring", "posten-norge", true},
		{"aftership", "usps-webhook", "usps", true},
		// WooCommerce Advanced Shipment Tracking (AST) provider slugs.
		{"ast", "dhl-express", "dhl", true},
		{"ast", "deutsche-post-dhl", "dhl-germany", true},
		{"ast", "dhl-intraship-de", "dhl-germany", true},
		{"ast", "dhl-us", "dhl-global-mail", true},
		{"ast", "deutsche-post", "deutsch-post", true},
		{"ast", "belgium-post", "bpost", true},
		{"ast", "post-at", "austrian-post", true},
		{"ast", "jp-post", "japan-post", true},
		{"ast", "s-f-express", "sf-express", true},
		{"ast", "australia-ems", "australia-post", true},
		{"ast", "postnord-sverige-ab", "postnord", true},
		{"ast", "aliexpress-standard-shipping", "cainiao", true},
		{"ast", "dpd-co-uk", "dpd-uk", true},
		{"ast", "hermes-de", "hermes-de", true},
		// WooCommerce core fulfilment provider keys.
		{"woocommerce", "evri-hermes", "myhermes-uk", true},
		{"woocommerce", "bartolini-brt", "brt-it", true},
		{"woocommerce", "osterreichische-post", "austrian-post", true},
		{"woocommerce", "posten-norge-bring", "posten-norge", true},
		{"woocommerce", "startrack", "star-track", true},
		{"woocommerce", "parcelforce", "parcel-force", true},
		{"woocommerce", "amazon-logistics", "amazon", true},
		{"woocommerce", "la-poste-colissimo", "la-poste-colissimo", true},
		{"woocommerce", "chronopost", "chronopost-france", true},
		{"woocommerce", "correos", "spain-correos-es", true},
		{"woocommerce", "seur", "spanish-seur", true},
		{"woocommerce", "inpost", "inpost-paczkomaty", true},
		{"woocommerce", "lasership-ontrac", "lasership-ontrac", false}, // deliberately not merged
		// EasyPost carrier names.
		{"easypost", "USPS", "usps", true},
		{"easypost", "UPS", "ups", true},
		{"easypost", "FedEx", "fedex", true},
		{"easypost", "DHLExpress", "dhl", true},
		{"easypost", "DhlEcs", "dhl-global-mail", true},
		{"easypost", "DhlPaket", "dhl-germany", true},
		{"easypost", "DeutschePost", "deutsch-post", true},
		{"easypost", "CanadaPost", "canada-post", true},
		{"easypost", "RoyalMail", "royal-mail", true},
		{"easypost", "AustraliaPost", "australia-post", true},
		{"easypost", "UPSMailInnovations", "ups-mi", true},
		{"easypost", "FedexSmartPost", "fedex", true},
		{"easypost", "LaserShipV2", "lasership", true},
		{"easypost", "OnTracV3", "ontrac", true},
		{"easypost", "DPDUK", "dpd-uk", true},
		{"easypost", "StarTrack", "star-track", true},
		// ShipEngine carrier_code values.
		{"shipengine", "stamps_com", "usps", true},
		{"shipengine", "endicia", "usps", true},
		{"shipengine", "ups", "ups", true},
		{"shipengine", "fedex", "fedex", true},
		{"shipengine", "dhl_express", "dhl", true},
		{"shipengine", "dhl_express_uk", "dhl", true},
		{"shipengine", "dhl_ecommerce", "dhl-global-mail", true},
		{"shipengine", "canada_post", "canada-post", true},
		{"shipengine", "purolator_canada", "purolator", true},
		{"shipengine", "royal_mail", "royal-mail", true},
		{"shipengine", "on_trac", "ontrac", true},
		// TrackingMore courier_code values.
		{"trackingmore", "dhlglobalmail", "dhl-global-mail", true},
		{"trackingmore", "laposte", "la-poste-colissimo", true},
		{"trackingmore", "postnl-parcels", "postnl", true},
		{"trackingmore", "parcel-force", "parcel-force", true},
		{"trackingmore", "swiss-post", "swiss-post", true},
		{"trackingmore", "yunexpress", "yunexpress", true},
		{"trackingmore", "china-ems", "china-ems", true},
		// 17TRACK integer carrier keys, as strings.
		{"17track", "100003", "fedex", true},
		{"17track", "100001", "dhl", true},
		{"17track", "3011", "china-post", true},
		{"17track", "21051", "usps", true},
		{"17track", "7041", "dhl-germany", true},
		{"17track", "7044", "deutsch-post", true},
		{"17track", "11031", "royal-mail", true},
		// Free text and sloppy spellings.
		{"text", "DHL Express", "dhl", true},
		{"text", "DHL Paket", "dhl-germany", true},
		{"text", "Deutsche Post DHL", "dhl-germany", true},
		{"text", "DHL.de", "dhl-germany", true},
		{"text", "  Canada Post  ", "canada-post", true},
		{"text", "ROYAL-MAIL", "royal-mail", true},
		{"text", "Österreichische Post", "austrian-post", true},
		// Unknown carriers keep a stable, cleaned key.
		{"unknown", "Foo_Bar  baz", "foo-bar-baz", false},
		{"unknown", "  My Courier  ", "my-courier", false},
		{"unknown", "ACME__Express--Ltd", "acme-express-ltd", false},
		{"unknown", "-_ x _-", "x", false},
		{"unknown", "fedex-uk", "fedex-uk", false},
		{"unknown", "dhl-nl", "dhl-nl", false},
		{"unknown", "ems", "ems", false},
		{"unknown", "", "", false},
		{"unknown", " \t ", "", false},
	}
	for _, tt := range tests {
		cr, ok := c.Lookup(tt.code)
		if ok != tt.known {
			t.Errorf("%s: Lookup(%q) ok = %v, want %v", tt.sender, tt.code, ok, tt.known)
		}
		if ok && cr.Slug != tt.want {
			t.Errorf("%s: Lookup(%q).Slug = %q, want %q", tt.sender, tt.code, cr.Slug, tt.want)
		}
		if got := c.Normalize(tt.code); got != tt.want {
			t.Errorf("%s: Normalize(%q) = %q, want %q", tt.sender, tt.code, got, tt.want)
		}
	}
}

// TestDHLSplit pins the classic trap: the DHL networks have different
// tracking pages and must never share a canonical slug.
func TestDHLSplit(t *testing.T) {
	c := Default()
	groups := map[string][]string{
		"dhl":             {"dhl", "DHL", "dhl_express", "DHLExpress", "DhlExpress", "dhl-express", "DHL Express", "dhl_express_worldwide", "100001"},
		"dhl-germany":     {"dhl-germany", "DHL Germany", "dhl_germany", "DHL Paket", "DhlPaket", "deutsche-post-dhl", "Deutsche Post DHL", "dhl-intraship-de", "7041"},
		"deutsch-post":    {"deutsch-post", "deutsche-post", "Deutsche Post", "deutsche_post", "DeutschePost", "7044"},
		"dhl-global-mail": {"dhl-global-mail", "dhlglobalmail", "dhl_global_mail", "DHL eCommerce", "dhl_ecommerce", "DhlEcs", "dhl-us", "7047"},
		"dhlparcel-nl":    {"dhlparcel-nl", "DHL Parcel NL", "100047"},
	}
	slugs := make(map[string]string) // code -> slug
	for want, codes := range groups {
		for _, code := range codes {
			cr, ok := c.Lookup(code)
			if !ok {
				t.Errorf("Lookup(%q) not found, want %q", code, want)
				continue
			}
			if cr.Slug != want {
				t.Errorf("Lookup(%q) = %q, want %q", code, cr.Slug, want)
			}
			slugs[code] = cr.Slug
		}
	}
	for a, wa := range groups {
		for b, wb := range groups {
			if a != b && c.Normalize(wa[0]) == c.Normalize(wb[0]) {
				t.Errorf("%q and %q normalize to the same slug", a, b)
			}
		}
	}
	ex, _ := c.Lookup("dhl")
	de, _ := c.Lookup("dhl-germany")
	if ex.URLTemplate == de.URLTemplate {
		t.Errorf("DHL Express and DHL Paket share a tracking page %q", ex.URLTemplate)
	}
	// Separate DHL networks that are not in the catalogue stay separate keys.
	for _, code := range []string{"dhl-nl", "dhl-global-mail-asia", "dhlparcel-uk", "dhl-freight"} {
		if n := c.Normalize(code); n != code {
			t.Errorf("Normalize(%q) = %q; an unlisted DHL network must not be merged", code, n)
		}
	}
}

func TestTrackingURLEscaping(t *testing.T) {
	c := Default()
	exact := []struct{ slug, number, want string }{
		// query position: url.QueryEscape
		{"usps", "AB 12&3#4/5", "https://tools.usps.com/go/TrackConfirmAction?tLabels=AB+12%263%234%2F5"},
		// path position: strict percent-encoding
		{"dpd", "AB 12&3#4/5", "https://www.dpd.com/tracking/AB%2012%263%234%2F5"},
		// fragment position (a SPA route): strict percent-encoding
		{"canada-post", "AB 12&3#4/5", "https://www.canadapost-postescanada.ca/track-reperage/en#/search?searchFor=AB%2012%263%234%2F5"},
		// query followed by the template's own fragment
		{"dpd-uk", "AB 12&3#4/5", "https://www.dpd.co.uk/apps/tracking/?reference=AB+12%263%234%2F5#results"},
		// surrounding white space is trimmed; plain numbers pass unchanged
		{"ups", "  1Z999AA10123456784 \n", "https://www.ups.com/track?tracknum=1Z999AA10123456784"},
		// dot segments cannot climb the path
		{"dpd", "..", "https://www.dpd.com/tracking/%2E%2E"},
	}
	for _, tt := range exact {
		cr, ok := c.Lookup(tt.slug)
		if !ok {
			t.Fatalf("Lookup(%q) failed", tt.slug)
		}
		if got := cr.TrackingURL(tt.number); got != tt.want {
			t.Errorf("%s.TrackingURL(%q) =\n  %s\nwant\n  %s", tt.slug, tt.number, got, tt.want)
		}
	}

	numbers := []string{"AB 12&3#4/5", "a+b=c?d;e", "100%/../x", "ü ß\u00a0€", "..", ".", "<script>\"'", "1Z999AA10123456784"}
	for _, cr := range c.Carriers() {
		if cr.URLTemplate == "" {
			continue
		}
		i := strings.Index(cr.URLTemplate, Placeholder)
		prefix, suffix := cr.URLTemplate[:i], cr.URLTemplate[i+len(Placeholder):]
		inQuery := strings.Contains(prefix, "?") && !strings.Contains(prefix, "#")
		base, err := url.Parse(strings.Replace(cr.URLTemplate, Placeholder, "X", 1))
		if err != nil {
			t.Fatalf("%s: template does not parse: %v", cr.Slug, err)
		}
		for _, n := range numbers {
			got := cr.TrackingURL(n)
			if !strings.HasPrefix(got, prefix) || !strings.HasSuffix(got, suffix) || len(got) < len(prefix)+len(suffix) {
				t.Errorf("%s: TrackingURL(%q) = %q does not keep the template around the number", cr.Slug, n, got)
				continue
			}
			mid := got[len(prefix) : len(got)-len(suffix)]
			if strings.ContainsAny(mid, " &#/?=\"'<>") {
				t.Errorf("%s: TrackingURL(%q): number part %q has unescaped delimiters", cr.Slug, n, mid)
			}
			var back string
			if inQuery {
				back, err = url.QueryUnescape(mid)
			} else {
				back, err = url.PathUnescape(mid)
			}
			if err != nil || back != n {
				t.Errorf("%s: TrackingURL(%q): number part %q decodes to %q, %v", cr.Slug, n, mid, back, err)
			}
			u, err := url.Parse(got)
			if err != nil {
				t.Errorf("%s: TrackingURL(%q) = %q does not parse: %v", cr.Slug, n, got, err)
				continue
			}
			if u.Scheme != "https" || u.Host != base.Host {
				t.Errorf("%s: TrackingURL(%q) = %q changed scheme or host", cr.Slug, n, got)
			}
		}
		if got := cr.TrackingURL(""); got != "" {
			t.Errorf("%s: TrackingURL(\"\") = %q, want \"\"", cr.Slug, got)
		}
		if got := cr.TrackingURL("  \t"); got != "" {
			t.Errorf("%s: TrackingURL(blank) = %q, want \"\"", cr.Slug, got)
		}
	}

	amazon, _ := c.Lookup("amazon")
	if got := amazon.TrackingURL("TBA123456789000"); got != "" {
		t.Errorf("carrier without public page: TrackingURL = %q, want \"\"", got)
	}
	if got := (Carrier{}).TrackingURL("123"); got != "" {
		t.Errorf("zero Carrier: TrackingURL = %q, want \"\"", got)
	}
}

func TestDefaultCatalog(t *testing.T) {
	c := Default()
	if c == nil || c != Default() {
		t.Fatal("Default() must return the same non-nil catalogue every time")
	}
	if c.Len() < 40 {
		t.Errorf("embedded catalogue has %d carriers, want at least 40", c.Len())
	}

	// Carriers the product needs; the slugs are AfterShip's.
	required := []string{
		"usps", "ups", "ups-mi", "fedex", "dhl", "dhl-germany", "deutsch-post", "dhl-global-mail",
		"canada-post", "purolator", "australia-post", "star-track", "new-zealand-post",
		"royal-mail", "parcel-force", "myhermes-uk", "dpd", "dpd-de", "dpd-uk", "gls", "hermes-de",
		"postnl", "bpost", "la-poste-colissimo", "chronopost-france", "spain-correos-es",
		"spanish-seur", "poste-italiane", "brt-it", "swiss-post", "austrian-post", "postnord",
		"posti", "posten-norge", "inpost-paczkomaty", "poczta-polska", "japan-post", "taqbin-jp",
		"sagawa", "china-post", "china-ems", "sf-express", "yunexpress", "cainiao", "aramex", "tnt",
		"amazon", "ontrac", "lasership", "india-post", "brazil-correios", "estafeta",
	}
	for _, slug := range required {
		if cr, ok := c.Lookup(slug); !ok || cr.Slug != slug {
			t.Errorf("required carrier %q missing (got %q, %v)", slug, cr.Slug, ok)
		}
	}

	// Only carriers without a public tracking page may lack a template, and
	// each of them is documented in catalog.json and doc.go.
	noPage := []string{"amazon", "china-ems", "china-post", "india-post"}
	var gotNoPage []string
	owner := make(map[string]string) // folded code -> slug
	for _, cr := range c.Carriers() {
		if cr.Name == "" || strings.TrimSpace(cr.Name) != cr.Name {
			t.Errorf("%s: bad name %q", cr.Slug, cr.Name)
		}
		if !validCountry(cr.Country) {
			t.Errorf("%s: bad country %q", cr.Slug, cr.Country)
		}
		if cr.URLTemplate == "" {
			gotNoPage = append(gotNoPage, cr.Slug)
		} else {
			if strings.Count(cr.URLTemplate, Placeholder) != 1 {
				t.Errorf("%s: template %q must contain %s once", cr.Slug, cr.URLTemplate, Placeholder)
			}
			u, err := url.Parse(strings.Replace(cr.URLTemplate, Placeholder, "X", 1))
			if err != nil || u.Scheme != "https" || u.Host == "" {
				t.Errorf("%s: template %q is not an https URL (%v)", cr.Slug, cr.URLTemplate, err)
			}
		}
		for _, code := range append([]string{cr.Slug}, cr.Aliases...) {
			k := fold(code)
			if prev, ok := owner[k]; ok {
				t.Errorf("code %q of %q collides with a code of %q", code, cr.Slug, prev)
			}
			owner[k] = cr.Slug
			if got, ok := c.Lookup(code); !ok || got.Slug != cr.Slug {
				t.Errorf("Lookup(%q) = %q, %v; want %q", code, got.Slug, ok, cr.Slug)
			}
			if n := c.Normalize(code); n != cr.Slug {
				t.Errorf("Normalize(%q) = %q, want %q", code, n, cr.Slug)
			}
		}
	}
	if !slices.Equal(gotNoPage, noPage) {
		t.Errorf("carriers without a tracking page = %v, want %v", gotNoPage, noPage)
	}
	if !slices.IsSortedFunc(c.Carriers(), func(a, b Carrier) int { return strings.Compare(a.Slug, b.Slug) }) {
		t.Error("Carriers() is not sorted by slug")
	}
}

func TestLookupReturnsCopies(t *testing.T) {
	c := Default()
	a, _ := c.Lookup("usps")
	if len(a.Aliases) == 0 {
		t.Fatal("usps has no aliases")
	}
	a.Aliases[0] = "mutated"
	b, _ := c.Lookup("usps")
	if b.Aliases[0] == "mutated" {
		t.Error("Lookup shares the catalogue's alias slice")
	}
	all := c.Carriers()
	all[0].Aliases = nil
	all[0].Slug = "x"
	if c.Carriers()[0].Slug == "x" {
		t.Error("Carriers shares the catalogue's storage")
	}
}

func TestNilCatalog(t *testing.T) {
	var c *Catalog
	if _, ok := c.Lookup("dhl"); ok {
		t.Error("nil catalogue found a carrier")
	}
	if got := c.Normalize(" Foo Bar "); got != "foo-bar" {
		t.Errorf("nil catalogue Normalize = %q", got)
	}
	if c.Len() != 0 || c.Carriers() != nil {
		t.Error("nil catalogue is not empty")
	}
}

func TestConcurrentUse(t *testing.T) {
	var wg sync.WaitGroup
	for i := 0; i < 16; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			c := Default()
			for _, code := range []string{"dhl_express", "DHL Paket", "stamps_com", "unknown carrier"} {
				cr, _ := c.Lookup(code)
				_ = cr.TrackingURL("123 456")
				_ = c.Normalize(code)
			}
		}()
	}
	wg.Wait()
}

// valid is a minimal catalogue; the rejection cases below each break one rule.
const valid = `{"version": 1, "carriers": [
 {"slug": "zeta", "name": "Zeta", "country": "DE", "url_template": "https://zeta.example/t/{tracking_number}", "aliases": ["zeta_parcel", "Zeta Express"]},
 {"slug": "alpha", "name": "Alpha Post", "country": "", "url_template": "https://alpha.example/track?id={tracking_number}&lang=en", "aliases": ["ALP", "123"], "notes": "free text"},
 {"slug": "nopage", "name": "No Page", "url_template": "", "no_public_url": true}
]}`

func TestLoadValid(t *testing.T) {
	c, err := Load(strings.NewReader(valid))
	if err != nil {
		t.Fatalf("Load: %v", err)
	}
	if c.Len() != 3 {
		t.Fatalf("Len = %d, want 3", c.Len())
	}
	var slugs []string
	for _, cr := range c.Carriers() {
		slugs = append(slugs, cr.Slug)
	}
	if !slices.Equal(slugs, []string{"alpha", "nopage", "zeta"}) {
		t.Errorf("Carriers() slugs = %v, want sorted", slugs)
	}
	for code, want := range map[string]string{"ZETA-PARCEL": "zeta", "zeta express": "zeta", "alp": "alpha", "123": "alpha", "no_page": "nopage"} {
		if cr, ok := c.Lookup(code); !ok || cr.Slug != want {
			t.Errorf("Lookup(%q) = %q, %v; want %q", code, cr.Slug, ok, want)
		}
	}
	alpha, _ := c.Lookup("alpha")
	if got, want := alpha.TrackingURL("A&B"), "https://alpha.example/track?id=A%26B&lang=en"; got != want {
		t.Errorf("TrackingURL = %q, want %q", got, want)
	}
}

func TestLoadRejects(t *testing.T) {
	// one builds a catalogue from carrier objects.
	one := func(carriers ...string) string {
		return `{"version": 1, "carriers": [` + strings.Join(carriers, ",") + `]}`
	}
	const ok1 = `{"slug": "alpha", "name": "Alpha", "url_template": "https://alpha.example/{tracking_number}"}`
	tests := []struct {
		name, json, want string
	}{
		{"not JSON", `{"version": 1, "carriers": [`, "decoding JSON"},
		{"unknown field", one(`{"slug": "a", "name": "A", "url": "https://a.example/{tracking_number}"}`), "unknown field"},
		{"trailing data", valid + ` {}`, "trailing data"},
		{"missing version", `{"carriers": [` + ok1 + `]}`, "version is 0"},
		{"wrong version", `{"version": 2, "carriers": [` + ok1 + `]}`, "version is 2"},
		{"no carriers", `{"version": 1, "carriers": []}`, "no carriers"},
		{"duplicate slug", one(ok1, ok1), `slug "alpha" collides with "alpha"`},
		{"slug collides after folding", one(
			`{"slug": "dhl-express", "name": "A", "url_template": "https://a.example/{tracking_number}"}`,
			`{"slug": "dhlexpress", "name": "B", "url_template": "https://b.example/{tracking_number}"}`), `slug "dhlexpress" collides with "dhl-express"`},
		{"alias collides with another slug", one(ok1,
			`{"slug": "beta", "name": "Beta", "url_template": "https://b.example/{tracking_number}", "aliases": ["ALPHA"]}`), `alias "ALPHA" collides with "alpha" of carrier "alpha"`},
		{"alias collides with another alias", one(
			`{"slug": "dhl", "name": "DHL Express", "url_template": "https://a.example/{tracking_number}", "aliases": ["dhl_express"]}`,
			`{"slug": "dhl-germany", "name": "DHL Paket", "url_template": "https://b.example/{tracking_number}", "aliases": ["DHL Express"]}`), `alias "DHL Express" collides with "dhl_express" of carrier "dhl"`},
		{"duplicate alias in one carrier", one(
			`{"slug": "alpha", "name": "Alpha", "url_template": "https://a.example/{tracking_number}", "aliases": ["al-pha"]}`), `alias "al-pha" collides with "alpha"`},
		{"alias only separators", one(
			`{"slug": "alpha", "name": "Alpha", "url_template": "https://a.example/{tracking_number}", "aliases": ["-_."]}`), "empty once separators are removed"},
		{"empty alias", one(
			`{"slug": "alpha", "name": "Alpha", "url_template": "https://a.example/{tracking_number}", "aliases": ["  "]}`), "alias is empty"},
		{"empty name", one(`{"slug": "alpha", "name": "", "url_template": "https://a.example/{tracking_number}"}`), "name is empty"},
		{"blank name", one(`{"slug": "alpha", "name": "  \t", "url_template": "https://a.example/{tracking_number}"}`), "name is empty"},
		{"empty slug", one(`{"slug": "", "name": "A", "url_template": "https://a.example/{tracking_number}"}`), "slug must be"},
		{"upper-case slug", one(`{"slug": "DHL", "name": "A", "url_template": "https://a.example/{tracking_number}"}`), "slug must be"},
		{"slug with underscore", one(`{"slug": "dhl_express", "name": "A", "url_template": "https://a.example/{tracking_number}"}`), "slug must be"},
		{"bad country", one(`{"slug": "alpha", "name": "A", "country": "de", "url_template": "https://a.example/{tracking_number}"}`), `country "de"`},
		{"alpha-3 country", one(`{"slug": "alpha", "name": "A", "country": "DEU", "url_template": "https://a.example/{tracking_number}"}`), `country "DEU"`},
		{"missing placeholder", one(`{"slug": "alpha", "name": "A", "url_template": "https://a.example/track"}`), "exactly once, found 0"},
		{"placeholder twice", one(`{"slug": "alpha", "name": "A", "url_template": "https://a.example/{tracking_number}?n={tracking_number}"}`), "exactly once, found 2"},
		{"other placeholder", one(`{"slug": "alpha", "name": "A", "url_template": "https://a.example/{tracking_number}?zip={postcode}"}`), "placeholder other than"},
		{"printf placeholder", one(`{"slug": "alpha", "name": "A", "url_template": "https://a.example/track?n=%number%"}`), "exactly once, found 0"},
		{"http", one(`{"slug": "alpha", "name": "A", "url_template": "http://a.example/{tracking_number}"}`), `must use https, not "http"`},
		{"no scheme", one(`{"slug": "alpha", "name": "A", "url_template": "a.example/{tracking_number}"}`), "must use https"},
		{"placeholder in host", one(`{"slug": "alpha", "name": "A", "url_template": "https://{tracking_number}.a.example/"}`), "in the host"},
		{"user info", one(`{"slug": "alpha", "name": "A", "url_template": "https://u:p@a.example/{tracking_number}"}`), "no user info"},
		{"white space in template", one(`{"slug": "alpha", "name": "A", "url_template": "https://a.example/t {tracking_number}"}`), "white space"},
		{"empty template", one(`{"slug": "alpha", "name": "A", "url_template": ""}`), "url_template is empty"},
		{"template despite no_public_url", one(`{"slug": "alpha", "name": "A", "url_template": "https://a.example/{tracking_number}", "no_public_url": true}`), "although"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := Load(strings.NewReader(tt.json))
			if err == nil {
				t.Fatalf("Load accepted it (%d carriers)", c.Len())
			}
			if !errors.Is(err, ErrInvalidCatalog) {
				t.Errorf("error %q does not wrap ErrInvalidCatalog", err)
			}
			if !strings.Contains(err.Error(), tt.want) {
				t.Errorf("error %q does not mention %q", err, tt.want)
			}
		})
	}
}

func TestLoadReportsEveryProblem(t *testing.T) {
	_, err := Load(strings.NewReader(`{"version": 1, "carriers": [
		{"slug": "alpha", "name": "", "url_template": "http://a.example/{tracking_number}"},
		{"slug": "beta", "name": "Beta", "country": "xx", "url_template": "https://b.example/"}
	]}`))
	if err == nil {
		t.Fatal("Load accepted a broken catalogue")
	}
	for _, want := range []string{`carriers[0] (slug "alpha"): name is empty`, `carriers[0] (slug "alpha"): url_template must use https`,
		`carriers[1] (slug "beta"): country "xx"`, `carriers[1] (slug "beta"): url_template must contain`} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error does not report %q:\n%v", want, err)
		}
	}
}

func TestLoadTooLarge(t *testing.T) {
	big := strings.NewReader(`{"version": 1, "carriers": [], "pad": "` + strings.Repeat("x", maxCatalogBytes) + `"}`)
	if _, err := Load(big); err == nil || !errors.Is(err, ErrInvalidCatalog) || !strings.Contains(err.Error(), "larger than") {
		t.Errorf("Load(oversized) error = %v", err)
	}
}

type failingReader struct{}

func (failingReader) Read([]byte) (int, error) { return 0, errors.New("disk on fire") }

func TestLoadReadError(t *testing.T) {
	if _, err := Load(failingReader{}); err == nil || !strings.Contains(err.Error(), "disk on fire") {
		t.Errorf("Load(failing reader) error = %v", err)
	}
}

func TestLoadEmbeddedMatchesDefault(t *testing.T) {
	c, err := loadEmbedded()
	if err != nil {
		t.Fatalf("embedded catalog.json: %v", err)
	}
	if c.Len() != Default().Len() {
		t.Errorf("reloaded catalogue has %d carriers, Default has %d", c.Len(), Default().Len())
	}
}
