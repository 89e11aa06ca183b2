package carrier

import (
	"errors"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"testing"
	"unicode/utf8"
)

// detectSamples are real-format tracking numbers, made up for these tests
// (none is a known parcel), with the slug Detect must return first. Check
// digits are computed with each format's algorithm where it has one, and
// TestSampleCheckDigits recomputes them. carrier is the carrier the sample
// was written for; first differs from it where the format is shared and the
// ordering rule puts another carrier first.
var detectSamples = []struct {
	carrier, number, first string
}{
	// Patterns.
	{"ups", "1Z4E7V210358291643", "ups"},                               // 1Z, mod 10 check digit
	{"ups", "T4817263508", "ups"},                                      // waybill, mod 10 check digit
	{"fedex", "729518360410", "fedex"},                                 // FedEx Express 12 (3-1-7 mod 11); GLS also matches
	{"fedex", "612999988208210", "fedex"},                              // FedEx Ground 15 (mod 10)
	{"fedex", "9611020472615839027147", "fedex"},                       // Ground 96 (22)
	{"fedex", "1002471838250001000300483920571630", "fedex"},           // 34 digits (1-7-3 mod 11)
	{"usps", "9400109374650283119275", "usps"},                         // IMpb 22 (mod 10)
	{"usps", "420902109205511083756291047162", "usps"},                 // IMpb after a 420+ZIP routing prefix
	{"usps", "21047639581028475611", "usps"},                           // USPS 20 (mod 10)
	{"dhl", "4829173650", "dhl"},                                       // Express AWB 10 (mod 7)
	{"dhl", "JJD0048271935", "dhl"},                                    // Express piece ID
	{"dhl-germany", "00340434829163705818", "dhl-germany"},             // 20 digits (mod 10 3-1); USPS 20 also matches
	{"dhl-germany", "JJD1503928476124", "dhl-germany"},                 // JJD + 13
	{"dhl-global-mail", "GM6043218570913627", "dhl-global-mail"},       // GM + 16
	{"dhlparcel-nl", "3SXPL000471128", "dhlparcel-nl"},                 // 3S + 12
	{"postnl", "3SKLMN482910375", "postnl"},                            // 3S + customer code + serial
	{"canada-post", "7012984371652034", "canada-post"},                 // 16 digits (mod 10)
	{"purolator", "TRZ004512876", "purolator"},                         // alpha + 9
	{"purolator", "358291640730", "fedex"},                             // numeric 12 (Luhn): same shape as FedEx 12, which sorts first by slug
	{"dpd", "05432101234567", "dpd"},                                   // 14 digits; Hermes Germany also matches
	{"dpd", "05432101234567S", "dpd"},                                  // 14 + MOD 37,36 check character
	{"dpd", "008712099800000200471328276K", "dpd"},                     // 28 characters
	{"gls", "71402938475", "gls"},                                      // 11 digits
	{"hermes-de", "04467218349011", "dpd"},                             // 14 digits: shared with DPD, which sorts first by slug
	{"amazon", "TBA304918275000", "amazon"},                            // TBA + 12
	{"sf-express", "SF1403872915026", "sf-express"},                    // SF + 13
	{"yunexpress", "YT2405521234567890", "yunexpress"},                 // YT + 16
	{"cainiao", "LP00612345678912", "cainiao"},                         // LP + 14
	{"ontrac", "D10020048572614", "ontrac"},                            // D + 14
	{"lasership", "LX29384756", "lasership"},                           // LX
	{"lasership", "1LS724130586271", "lasership"},                      // 1LS7
	{"lasership", "1LSCXAB4K7Q2ZP9", "lasership"},                      // 1LSCX
	{"dhl-global-mail", " gm 6043-2185-7091-3627 ", "dhl-global-mail"}, // normalized first

	// S10 (check digits computed with the UPU rule).
	{"usps", "LZ526018152US", "usps"},
	{"deutsch-post", "RR908301669DE", "deutsch-post"},
	{"royal-mail", "RR131860912GB", "royal-mail"},
	{"japan-post", "EE390996032JP", "japan-post"},
	{"postnl", "LA082462815NL", "postnl"},
	{"canada-post", "CP948219934CA", "canada-post"},
	{"australia-post", "RA518190935AU", "australia-post"},
	{"la-poste-colissimo", "CB786579756FR", "la-poste-colissimo"},
	{"spain-correos-es", "PQ432319485ES", "spain-correos-es"},
	{"poste-italiane", "RR757491181IT", "poste-italiane"},
	{"poczta-polska", "RR625276011PL", "poczta-polska"},
	{"new-zealand-post", "EE895559797NZ", "new-zealand-post"},
	{"bpost", "CD711471044BE", "bpost"},
	{"swiss-post", "RR974650759CH", "swiss-post"},
	{"austrian-post", "RR291703421AT", "austrian-post"},
	{"postnord", "UA366712764SE", "postnord"},
	{"posti", "LS842684651FI", "posti"},
	{"posten-norge", "LA632122333NO", "posten-norge"},
	{"india-post", "EE079244024IN", "india-post"},
	{"brazil-correios", "LB685995284BR", "brazil-correios"},
	{"china-post", "LT907866664CN", "china-post"},
	{"korea-post", "EM176031371KR", "korea-post"},
	{"singapore-post", "RB215901094SG", "singapore-post"},
	{"hong-kong-post", "LK281590138HK", "hong-kong-post"},
	{"thailand-post", "EB962459578TH", "thailand-post"},
	{"malaysia-post", "ER117777410MY", "malaysia-post"},
	{"pos-indonesia", "RR215472801ID", "pos-indonesia"},
	{"vnpost", "EE385280845VN", "vnpost"},
	{"sapo", "RD148525380ZA", "sapo"},
	{"emirates-post", "RR885393364AE", "emirates-post"},
	{"saudi-post", "RR338750041SA", "saudi-post"},
	{"ptt-posta", "RR743957552TR", "ptt-posta"},
	{"israel-post", "RR131373535IL", "israel-post"},
	{"an-post", "CE799075111IE", "an-post"},
	{"portugal-ctt", "RR637265166PT", "portugal-ctt"},
	{"ceska-posta", "RR761222022CZ", "ceska-posta"},
	{"magyar-posta", "RB972997523HU", "magyar-posta"},
	{"posta-romana", "RR882001829RO", "posta-romana"},
	{"elta-courier", "RE633043481GR", "elta-courier"},
	{"correo-argentino", "RR395486209AR", "correo-argentino"},
	{"correos-chile", "RR579868289CL", "correos-chile"},
	{"russian-post", "RA288072901RU", "russian-post"},
	{"ukrposhta", "RB222791805UA", "ukrposhta"},
	{"hrvatska-posta", "RR588871808HR", "hrvatska-posta"},
	{"bgpost", "RR334018785BG", "bgpost"},
	{"post-serbia", "RA017598985RS", "post-serbia"},
	{"postur-is", "RR347887839IS", "postur-is"},
	{"cyprus-post", "RR848372612CY", "cyprus-post"},
	{"royal-mail", "rr 131 860 912 gb", "royal-mail"}, // normalized first
}

func slugsOf(list []Carrier) []string {
	out := make([]string, len(list))
	for i, cr := range list {
		out[i] = cr.Slug
	}
	return out
}

func TestDetectSamples(t *testing.T) {
	c := Default()
	covered := make(map[string]bool)
	for _, tt := range detectSamples {
		got := c.Detect(tt.number)
		if len(got) == 0 {
			t.Errorf("Detect(%q) found nothing, want %q first", tt.number, tt.first)
			continue
		}
		if got[0].Slug != tt.first {
			t.Errorf("Detect(%q) = %v, want %q first", tt.number, slugsOf(got), tt.first)
		}
		if !slices.Contains(slugsOf(got), tt.carrier) {
			t.Errorf("Detect(%q) = %v does not contain %q, the carrier the sample is for", tt.number, slugsOf(got), tt.carrier)
			continue
		}
		covered[tt.carrier] = true
	}
	// Every carrier that can be detected has a sample.
	for _, cr := range c.Carriers() {
		if (len(cr.Patterns) > 0 || cr.S10) && !covered[cr.Slug] {
			t.Errorf("carrier %q has patterns or s10 but no sample in detectSamples", cr.Slug)
		}
	}
}

// TestSampleCheckDigits recomputes the check digits of the samples whose
// format has one, so the table stays made of real-format numbers.
func TestSampleCheckDigits(t *testing.T) {
	digits := func(s string) []int {
		d := make([]int, len(s))
		for i := range s {
			d[i] = int(s[i] - '0')
		}
		return d
	}
	// mod10 weights the digits 3, 1, 3, ... from the right (USPS, FedEx
	// Ground, Canada Post, DHL Paket 20, Hermes).
	mod10 := func(s string) int {
		sum := 0
		ds := digits(s)
		for i := 0; i < len(ds); i++ {
			w := 1
			if (len(ds)-1-i)%2 == 0 {
				w = 3
			}
			sum += ds[i] * w
		}
		return (10 - sum%10) % 10
	}
	// ups weights 1, 2, 1, ... from the left; letters count (c-'A'+2) mod 10.
	ups := func(s string) int {
		sum := 0
		for i := 0; i < len(s); i++ {
			v := int(s[i] - '0')
			if s[i] >= 'A' {
				v = int(s[i]-'A'+2) % 10
			}
			if i%2 == 1 {
				v *= 2
			}
			sum += v
		}
		return (10 - sum%10) % 10
	}
	weighted := func(s string, w []int) int { // sum of products, mod 11, mod 10 (FedEx)
		sum := 0
		for i, d := range digits(s) {
			sum += d * w[i%len(w)]
		}
		return sum % 11 % 10
	}
	luhn := func(s string) int {
		sum := 0
		ds := digits(s)
		for i := len(ds) - 1; i >= 0; i-- {
			d := ds[i]
			if (len(ds)-1-i)%2 == 0 {
				if d *= 2; d > 9 {
					d -= 9
				}
			}
			sum += d
		}
		return (10 - sum%10) % 10
	}
	mod3736 := func(s string) byte { // ISO/IEC 7064 MOD 37,36 (DPD)
		const alphabet = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ"
		p := 36
		for i := 0; i < len(s); i++ {
			p = (p + strings.IndexByte(alphabet, s[i])) % 36
			if p == 0 {
				p = 36
			}
			p = p * 2 % 37
		}
		return alphabet[(37-p)%36]
	}
	last := func(s string) int { return int(s[len(s)-1] - '0') }
	check := func(name, number string, want, got int) {
		t.Helper()
		if want != got {
			t.Errorf("%s sample %q: check digit %d, computed %d", name, number, got, want)
		}
	}
	n := "1Z4E7V210358291643"
	check("UPS", n, ups(n[2:17]), last(n))
	n = "T4817263508"
	check("UPS waybill", n, ups(n[1:10]), last(n))
	n = "729518360410"
	check("FedEx 12", n, weighted(n[:11], []int{3, 1, 7}), last(n))
	n = "612999988208210"
	check("FedEx Ground", n, mod10(n[:14]), last(n))
	n = "9611020472615839027147"
	check("FedEx 96", n, mod10(n[7:21]), last(n))
	n = "1002471838250001000300483920571630"
	check("FedEx 34", n, weighted(n[20:33], []int{1, 7, 3}), last(n))
	for _, n := range []string{"9400109374650283119275", "21047639581028475611", "7012984371652034", "00340434829163705818", "04467218349011"} {
		check("mod 10", n, mod10(n[:len(n)-1]), last(n))
	}
	n = "420902109205511083756291047162"
	check("USPS routed IMpb", n, mod10(n[8:29]), last(n))
	n = "4829173650"
	if d := digits(n); (d[0]*100000000+d[1]*10000000+d[2]*1000000+d[3]*100000+d[4]*10000+d[5]*1000+d[6]*100+d[7]*10+d[8])%7 != d[9] {
		t.Errorf("DHL sample %q: bad mod 7 check digit", n)
	}
	n = "358291640730"
	check("Purolator", n, luhn(n[:11]), last(n))
	for _, n := range []string{"05432101234567S", "008712099800000200471328276K"} {
		if got := mod3736(n[:len(n)-1]); got != n[len(n)-1] {
			t.Errorf("DPD sample %q: check character %c, computed %c", n, n[len(n)-1], got)
		}
	}
	for _, tt := range detectSamples {
		if n := NormalizeNumber(tt.number); len(n) == 13 && n[0] >= 'A' && n[12] >= 'A' {
			if _, ok := s10Country(n); !ok {
				t.Errorf("S10 sample %q has a wrong check digit", tt.number)
			}
		}
	}
}

func TestNormalizeNumber(t *testing.T) {
	for in, want := range map[string]string{
		"":                      "",
		" \t\n":                 "",
		"1z999aa10123456784":    "1Z999AA10123456784",
		" 1Z 999-AA1 0123 ":     "1Z999AA10123",
		"rr-131 860\u00a0912gb": "RR131860912GB",
		"--":                    "",
		"ab\u2009cd":            "ABCD",
		"straße":                "STRAßE",
	} {
		got := NormalizeNumber(in)
		if got != want {
			t.Errorf("NormalizeNumber(%q) = %q, want %q", in, got, want)
		}
		if again := NormalizeNumber(got); again != got {
			t.Errorf("NormalizeNumber is not idempotent on %q: %q", got, again)
		}
	}
}

func TestS10CheckDigit(t *testing.T) {
	c := Default()
	valid := "RR131860912GB" // 1*8+3*6+1*4+8*2+6*3+0*5+9*9+1*7 = 152; 152 mod 11 = 9; 11-9 = 2
	if country, ok := s10Country(valid); !ok || country != "GB" {
		t.Fatalf("s10Country(%q) = %q, %v", valid, country, ok)
	}
	if got := slugsOf(c.Detect(valid)); !slices.Equal(got, []string{"royal-mail"}) {
		t.Errorf("Detect(%q) = %v, want [royal-mail]", valid, got)
	}
	wrong := "RR131860913GB" // same number, check digit 3 instead of 2
	if _, ok := s10Country(wrong); ok {
		t.Errorf("s10Country(%q) accepted a wrong check digit", wrong)
	}
	if got := c.Detect(wrong); got != nil {
		t.Errorf("Detect(%q) = %v, want nil", wrong, slugsOf(got))
	}

	// 11 - sum mod 11: 11 becomes 5, 10 becomes 0.
	for serial, want := range map[string]byte{"00000000": 5, "00000008": 0, "13186091": 2, "00000001": 4} {
		if got := s10CheckDigit(serial); got != want {
			t.Errorf("s10CheckDigit(%q) = %d, want %d", serial, got, want)
		}
	}
	if got := slugsOf(c.Detect("RR000000005GB")); !slices.Equal(got, []string{"royal-mail"}) {
		t.Errorf("check digit 5 (sum mod 11 = 0): Detect = %v", got)
	}
	if got := slugsOf(c.Detect("RR000000080GB")); !slices.Equal(got, []string{"royal-mail"}) {
		t.Errorf("check digit 0 (sum mod 11 = 1): Detect = %v", got)
	}

	for _, n := range []string{
		"RR131860912G",   // too short
		"RR1318609122GB", // too long
		"R1131860912GB",  // digit in the service indicator
		"RR13186O912GB",  // letter O in the serial
		"RR131860912G8",  // digit in the country code
	} {
		if _, ok := s10Country(n); ok {
			t.Errorf("s10Country(%q) accepted a malformed number", n)
		}
	}
	// Valid S10, but no catalogue carrier claims the country: PostNord is
	// SE only, and XX is no country.
	for _, n := range []string{"RR131860912DK", "RR131860912XX"} {
		if got := c.Detect(n); got != nil {
			t.Errorf("Detect(%q) = %v, want nil", n, slugsOf(got))
		}
	}
}

// TestDetectOrdering pins the ordering rule on a catalogue built for it and
// on the shared formats of the embedded one.
func TestDetectOrdering(t *testing.T) {
	cat, err := Load(strings.NewReader(`{"version": 1, "carriers": [
	 {"slug": "digits12", "name": "A", "url_template": "https://a.example/{tracking_number}", "patterns": ["^\\d{12}$"]},
	 {"slug": "digits11to12", "name": "B", "url_template": "https://b.example/{tracking_number}", "patterns": ["^\\d{11,12}$"]},
	 {"slug": "aa-digits12", "name": "C", "url_template": "https://c.example/{tracking_number}", "patterns": ["^\\d{12}$"]},
	 {"slug": "prefix", "name": "D", "url_template": "https://d.example/{tracking_number}", "patterns": ["^12\\d{10}$", "^\\d{12}$"]},
	 {"slug": "letters", "name": "E", "url_template": "https://e.example/{tracking_number}", "patterns": ["^[A-Z]{2}\\d{9}GB$"]},
	 {"slug": "zz-post", "name": "F", "country": "GB", "url_template": "https://f.example/{tracking_number}", "s10": true},
	 {"slug": "other-post", "name": "G", "country": "DE", "url_template": "https://g.example/{tracking_number}", "s10": true}
	]}`))
	if err != nil {
		t.Fatal(err)
	}
	for number, want := range map[string][]string{
		// literal prefix 12 first, then exact length, then slug, then range
		"123456789012": {"prefix", "aa-digits12", "digits12", "digits11to12"},
		"923456789012": {"aa-digits12", "digits12", "prefix", "digits11to12"},
		"12345678901":  {"digits11to12"},
		// the S10 match comes before a more literal pattern
		"RR131860912GB": {"zz-post", "letters"},
		// a wrong check digit leaves the pattern only
		"RR131860913GB": {"letters"},
		"RR131860912DE": {"other-post"},
	} {
		if got := slugsOf(cat.Detect(number)); !slices.Equal(got, want) {
			t.Errorf("Detect(%q) = %v, want %v", number, got, want)
		}
	}

	def := Default()
	for number, want := range map[string][]string{
		"729518360410":         {"fedex", "gls"},              // exact length before 11-12
		"358291640730":         {"fedex", "purolator", "gls"}, // ties by slug
		"05432101234567":       {"dpd", "hermes-de"},
		"00340434829163705818": {"dhl-germany", "usps"}, // literal prefix 003404 first
	} {
		if got := slugsOf(def.Detect(number)); !slices.Equal(got, want) {
			t.Errorf("Default().Detect(%q) = %v, want %v", number, got, want)
		}
	}
}

func TestDetectGarbage(t *testing.T) {
	c := Default()
	for _, n := range []string{"", " ", "\t\n", "---", "hello", "日本郵便", "\xff\xfe", "1Z", "^$", ".*", strings.Repeat("1", 65), strings.Repeat("9", 10000),
		"1Z4E7V210358291643X", "X1Z4E7V210358291643", "RR131860912GB1"} {
		if got := c.Detect(n); got != nil {
			t.Errorf("Detect(%q) = %v, want nil", n, slugsOf(got))
		}
		if got := c.DetectIn(n, []string{"ups", "royal-mail"}); got != nil {
			t.Errorf("DetectIn(%q) = %v, want nil", n, slugsOf(got))
		}
	}
	var nilCat *Catalog
	if nilCat.Detect("1Z4E7V210358291643") != nil || nilCat.DetectIn("1Z4E7V210358291643", []string{"ups"}) != nil {
		t.Error("nil catalogue detected something")
	}
}

func TestDetectIn(t *testing.T) {
	c := Default()
	const ups, twelve, s10 = "1Z4E7V210358291643", "729518360410", "RR131860912GB"
	tests := []struct {
		number string
		slugs  []string
		want   []string
	}{
		{ups, []string{"ups"}, []string{"ups"}},
		{ups, []string{"UPS", "fedex"}, []string{"ups"}},
		{ups, []string{"ups_walleted"}, []string{"ups"}}, // alias
		{ups, []string{"100002"}, []string{"ups"}},       // 17TRACK key
		{ups, []string{"fedex", "usps"}, nil},
		{ups, []string{"no-such-carrier"}, nil},
		{ups, []string{"", "  "}, nil},
		{ups, nil, nil},
		{twelve, []string{"gls", "fedex"}, []string{"fedex", "gls"}}, // order is Detect's, not the request's
		{twelve, []string{"gls"}, []string{"gls"}},
		{s10, []string{"royal-mail", "usps"}, []string{"royal-mail"}},
		{s10, []string{"usps"}, nil},
		{s10, []string{"royalmail-v3"}, []string{"royal-mail"}},
	}
	for _, tt := range tests {
		if got := c.DetectIn(tt.number, tt.slugs); !slices.Equal(slugsOf(got), tt.want) || (tt.want == nil) != (got == nil) {
			t.Errorf("DetectIn(%q, %q) = %v, want %v", tt.number, tt.slugs, slugsOf(got), tt.want)
		}
	}
}

func TestDetectReturnsCopies(t *testing.T) {
	c := Default()
	got := c.Detect("1Z4E7V210358291643")
	if len(got) == 0 || len(got[0].Patterns) == 0 || len(got[0].Aliases) == 0 {
		t.Fatalf("Detect(UPS) = %+v", got)
	}
	got[0].Patterns[0] = "mutated"
	got[0].Aliases[0] = "mutated"
	again, _ := c.Lookup("ups")
	if again.Patterns[0] == "mutated" || again.Aliases[0] == "mutated" {
		t.Error("Detect shares the catalogue's slices")
	}
	if got := c.Detect("1Z4E7V210358291643"); len(got) == 0 || got[0].Slug != "ups" {
		t.Error("mutating a result changed detection")
	}
	cr, _ := c.Lookup("ups")
	cr.Patterns[0] = "mutated"
	if again, _ := c.Lookup("ups"); again.Patterns[0] == "mutated" {
		t.Error("Lookup shares the catalogue's Patterns slice")
	}
}

// TestDefaultCoverage checks the catalogue's reach and the new fields of
// every embedded carrier.
func TestDefaultCoverage(t *testing.T) {
	c := Default()
	countries := make(map[string]bool)
	s10 := make(map[string]string)
	for _, cr := range c.Carriers() {
		if cr.Country != "" {
			countries[cr.Country] = true
		}
		u, err := url.Parse(cr.WebURL)
		if err != nil || u.Scheme != "https" || u.Host == "" {
			t.Errorf("%s: web_url %q is not an https URL", cr.Slug, cr.WebURL)
		}
		if cr.Phone != strings.TrimSpace(cr.Phone) || utf8.RuneCountInString(cr.Phone) > maxPhoneLen {
			t.Errorf("%s: bad phone %q", cr.Slug, cr.Phone)
		}
		for _, p := range cr.Patterns {
			if _, msg := compilePattern(p); msg != "" {
				t.Errorf("%s: pattern %q: %s", cr.Slug, p, msg)
			}
		}
		if cr.S10 {
			if prev, ok := s10[cr.Country]; ok || cr.Country == "" {
				t.Errorf("%s: s10 for country %q, already set by %q", cr.Slug, cr.Country, prev)
			}
			s10[cr.Country] = cr.Slug
		}
	}
	if len(countries) < 30 {
		t.Errorf("catalogue covers %d countries, want at least 30", len(countries))
	}
	if len(s10) < 30 {
		t.Errorf("%d national posts set s10, want at least 30", len(s10))
	}

	// Codes of other senders for the added carriers (AfterShip, TrackingMore,
	// 17TRACK, AST, WooCommerce core).
	for code, want := range map[string]string{
		"korea-post": "korea-post", "kpost": "korea-post", "11051": "korea-post",
		"singapore-post": "singapore-post", "19131": "singapore-post",
		"hong-kong-post": "hong-kong-post", "thailand-post": "thailand-post",
		"malaysia-post-posdaftar": "malaysia-post", "poslaju": "malaysia-post",
		"indonesia-post": "pos-indonesia", "vietnam-post": "vnpost",
		"south-africa-post": "sapo", "turkey-post": "ptt-posta", "ptt-kargo": "ptt-posta",
		"israel-post-domestic": "israel-post", "ctt": "portugal-ctt", "czech-post": "ceska-posta",
		"greece-post": "elta-courier", "elta": "elta-courier", "acs-courier": "acscourier",
		"ukraine-post": "ukrposhta", "croatia-post": "hrvatska-posta", "bulgaria-post": "bgpost",
		"serbia-post": "post-serbia", "iceland-post": "postur-is", "100035": "nova-poshta",
		"austria-post": "austrian-post", "correos-spain": "spain-correos-es", "finland-posti": "posti",
		"ninja-van": "ninjavan", "lbc-express": "lbcexpress", "kerry-express-th": "kerry-logistics",
	} {
		if cr, ok := c.Lookup(code); !ok || cr.Slug != want {
			t.Errorf("Lookup(%q) = %q, %v; want %q", code, cr.Slug, ok, want)
		}
	}
}

// TestLoadOptionalFields reads the new fields and hands out copies.
func TestLoadOptionalFields(t *testing.T) {
	c, err := Load(strings.NewReader(`{"version": 1, "carriers": [
	 {"slug": "alpha", "name": "Alpha", "country": "GB", "url_template": "https://a.example/{tracking_number}",
	  "web_url": "https://www.a.example/", "phone": " +44 20 7946 0000 ", "patterns": ["^AL\\d{8}$", "^(?:X|Y)\\d{4}$", "^(?i:ab)\\d{3}$"], "s10": true},
	 {"slug": "beta", "name": "Beta", "url_template": "https://b.example/{tracking_number}"}
	]}`))
	if err != nil {
		t.Fatalf("Load: %v", err)
	}
	a, _ := c.Lookup("alpha")
	if a.WebURL != "https://www.a.example/" || a.Phone != "+44 20 7946 0000" || !a.S10 || len(a.Patterns) != 3 {
		t.Errorf("alpha = %+v", a)
	}
	b, _ := c.Lookup("beta")
	if b.WebURL != "" || b.Phone != "" || b.S10 || b.Patterns != nil {
		t.Errorf("beta = %+v, want no optional fields", b)
	}
	for number, want := range map[string][]string{
		"al12345678": {"alpha"}, "Y1234": {"alpha"}, "ab123": {"alpha"}, "RR131860912GB": {"alpha"}, "Z1234": nil,
	} {
		if got := slugsOf(c.Detect(number)); !slices.Equal(got, want) {
			t.Errorf("Detect(%q) = %v, want %v", number, got, want)
		}
	}
}

// TestLoadRejectsOptionalFields breaks one rule of the optional fields per
// case; each error must wrap ErrInvalidCatalog and say what is wrong.
func TestLoadRejectsOptionalFields(t *testing.T) {
	one := func(fields string) string {
		return `{"version": 1, "carriers": [{"slug": "alpha", "name": "Alpha", "url_template": "https://a.example/{tracking_number}", ` + fields + `}]}`
	}
	long := `^` + strings.Repeat(`A`, 199) + `$`
	tests := []struct {
		name, json, want string
	}{
		{"bad regexp", one(`"patterns": ["^1Z[0-9A-Z{16}$"]`), "does not compile"},
		{"bad repeat", one(`"patterns": ["^\\d{2000}$"]`), "does not compile"},
		{"no caret", one(`"patterns": ["1Z[0-9A-Z]{16}$"]`), "must start with ^ and end with $"},
		{"no dollar", one(`"patterns": ["^1Z[0-9A-Z]{16}"]`), "must start with ^ and end with $"},
		{"escaped dollar", one(`"patterns": ["^1Z\\$"]`), "must be anchored as a whole"},
		{"unanchored alternative", one(`"patterns": ["^1Z\\d{16}|\\d{12}$"]`), "must be anchored as a whole"},
		{"multi-line flag", one(`"patterns": ["^(?m)\\d{12}$"]`), "must be anchored as a whole"},
		{"matches empty", one(`"patterns": ["^\\d*$"]`), "matches the empty string"},
		{"too long", one(`"patterns": ["` + long + `"]`), "longer than 200 characters"},
		{"empty pattern", one(`"patterns": [""]`), "pattern is empty"},
		{"lower-case literal", one(`"patterns": ["^tba\\d{12}$"]`), `requires "t"`},
		{"lower-case class", one(`"patterns": ["^[a-z]{2}\\d{9}$"]`), "can never match a normalized number"},
		{"dash literal", one(`"patterns": ["^\\d{4}-\\d{4}$"]`), `requires "-"`},
		{"duplicate pattern", one(`"patterns": ["^\\d{12}$", "^\\d{12}$"]`), "listed twice"},
		{"control character", one(`"patterns": ["^\\d{12}\u0000$"]`), "control characters"},
		{"s10 without country", one(`"s10": true`), "s10 needs a country"},
		{"two s10 in a country", `{"version": 1, "carriers": [
			{"slug": "alpha", "name": "A", "country": "GB", "url_template": "https://a.example/{tracking_number}", "s10": true},
			{"slug": "beta", "name": "B", "country": "GB", "url_template": "https://b.example/{tracking_number}", "s10": true}]}`,
			`s10 is also set by carrier "alpha" for country "GB"`},
		{"web_url http", one(`"web_url": "http://a.example/"`), `web_url must use https, not "http"`},
		{"web_url relative", one(`"web_url": "a.example"`), "web_url must use https"},
		{"web_url placeholder", one(`"web_url": "https://a.example/{tracking_number}"`), "must not contain a placeholder"},
		{"web_url white space", one(`"web_url": "https://a.example/a b"`), "white space"},
		{"web_url without host", one(`"web_url": "https:///path"`), "must have a host"},
		{"web_url user info", one(`"web_url": "https://u:p@a.example/"`), "no user info"},
		{"phone control characters", one(`"phone": "+44 20\n7946 0000"`), "phone \"+44 20\\n7946 0000\" contains control characters"},
		{"phone too long", one(`"phone": "` + strings.Repeat("1", 41) + `"`), "longer than 40 characters"},
		{"phone blank", one(`"phone": "   "`), "phone is blank"},
		{"patterns not a list", one(`"patterns": "^\\d{12}$"`), "decoding JSON"},
		{"s10 not a bool", one(`"s10": "yes"`), "decoding JSON"},
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

	// Several problems of one entry are all reported.
	_, err := Load(strings.NewReader(one(`"web_url": "http://a.example/", "phone": "\u0007", "patterns": ["\\d+", "^(a$"], "s10": true`)))
	if err == nil {
		t.Fatal("Load accepted a broken catalogue")
	}
	for _, want := range []string{"web_url must use https", "phone", `patterns[0] "\\d+"`, `patterns[1] "^(a$"`, "s10 needs a country"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error does not report %q:\n%v", want, err)
		}
	}
}

// matchesNumber reports whether cr really matches the normalized number n:
// by S10 or by one of its patterns. It is independent of Detect's compiled
// patterns.
func matchesNumber(t testing.TB, cr Carrier, n string) bool {
	t.Helper()
	if cr.S10 {
		if country, ok := s10Country(n); ok && country == cr.Country {
			return true
		}
	}
	for _, p := range cr.Patterns {
		if regexp.MustCompile(p).MatchString(n) {
			return true
		}
	}
	return false
}
