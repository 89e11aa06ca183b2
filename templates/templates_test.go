package templates

import (
	"errors"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
	"unicode/utf8"
)

var update = flag.Bool("update", false, "rewrite the golden files under testdata/golden")

// newSet builds a Set or fails the test.
func newSet(tb testing.TB, opts Options) *Set {
	tb.Helper()
	s, err := New(opts)
	if err != nil {
		tb.Fatalf("New(%+v): %v", opts, err)
	}
	return s
}

// render renders one message or fails the test.
func render(tb testing.TB, s *Set, kind Kind, status, locale string, d Data) Message {
	tb.Helper()
	m, err := s.Render(kind, status, locale, d)
	if err != nil {
		tb.Fatalf("Render(%s, %s, %s): %v", kind, status, locale, err)
	}
	return m
}

// realData is a realistic shipment at the sizes the SMS budget is planned
// for: a 22-character tracking number and a 60-character tracking link.
func realData(locale string) Data {
	const tn = "JJD000390007880123456A"
	return Data{
		TrackingNumber:     tn,
		CarrierSlug:        "dhl",
		CarrierName:        "DHL Paket",
		TrackingURL:        "https://track.example.com/dhl/" + tn + "?lang=" + locale,
		OrderNumber:        "100234",
		Title:              "Winter parka, size M",
		CustomerName:       "Kim Müller",
		ShopName:           "Nordlicht Shop",
		CheckpointMessage:  checkpoints["InTransit"][locale],
		CheckpointLocation: "Leipzig, DE",
		// Given in CET: renders show 08:15 UTC.
		CheckpointTime:   time.Date(2026, 11, 20, 9, 15, 0, 0, time.FixedZone("CET", 3600)),
		UnsubscribeURL:   "https://notify.example.com/u/8f3a9c2e",
		ExpectedDelivery: "2026-11-24",
	}
}

// checkpoints are carrier messages fitting each golden case, in the
// language a local carrier would use.
var checkpoints = map[string]map[string]string{
	"InfoReceived": {"en": "Shipment information received", "de": "Sendungsdaten elektronisch übermittelt",
		"fr": "Informations d'expédition reçues", "es": "Información del envío recibida"},
	"InTransit": {"en": "Arrived at the parcel center", "de": "Ankunft im Paketzentrum",
		"fr": "Arrivé au centre de tri", "es": "Llegada al centro de clasificación"},
	"OutForDelivery": {"en": "Out for delivery", "de": "In Zustellung",
		"fr": "En cours de livraison", "es": "En reparto"},
	"AvailableForPickup": {"en": "Ready for pickup at the service point", "de": "Zur Abholung in der Filiale bereit",
		"fr": "Disponible au point relais", "es": "Disponible en el punto de recogida"},
	"AttemptFail": {"en": "Recipient not at home", "de": "Empfänger nicht angetroffen",
		"fr": "Destinataire absent", "es": "Destinatario ausente"},
	"Delivered": {"en": "Delivered", "de": "Zugestellt", "fr": "Livré", "es": "Entregado"},
	"Delivered_002": {"en": "Picked up by the recipient", "de": "Vom Empfänger abgeholt",
		"fr": "Retiré par le destinataire", "es": "Recogido por el destinatario"},
	"Exception": {"en": "Address incomplete", "de": "Adresse unvollständig",
		"fr": "Adresse incomplète", "es": "Dirección incompleta"},
	"Exception_010": {"en": "Returning to sender", "de": "Rücksendung an den Absender",
		"fr": "Retour à l'expéditeur en cours", "es": "Devolución al remitente"},
	"Exception_011": {"en": "Returned to sender", "de": "An den Absender zurückgesendet",
		"fr": "Retourné à l'expéditeur", "es": "Devuelto al remitente"},
}

// minimalData is the least a webhook gives: a number and a carrier slug.
func minimalData() Data {
	return Data{TrackingNumber: "9400111899223197428490", CarrierSlug: "usps"}
}

// goldenCase is one render reviewed by a person in testdata/golden.
type goldenCase struct {
	name   string
	status string
	data   func(locale string) Data
}

func goldenCases(s *Set) []goldenCase {
	var cases []goldenCase
	for _, st := range s.Statuses() {
		for _, sub := range s.subtags(st) {
			name := st
			if sub != "" {
				name = sub
			}
			cases = append(cases, goldenCase{name: name, status: st, data: func(l string) Data {
				d := realData(l)
				d.Status, d.Subtag = st, sub
				if msg, ok := checkpoints[name][l]; ok {
					d.CheckpointMessage = msg
				}
				if st == "OrderDelivered" {
					d.ParcelsDelivered, d.ParcelsTotal = 3, 3
				}
				return d
			}})
		}
	}
	return append(cases, goldenCase{name: "InTransit.minimal", status: "InTransit", data: func(string) Data {
		d := minimalData()
		d.Status = "InTransit"
		return d
	}}, goldenCase{name: "InTransit.partial", status: "InTransit", data: func(l string) Data {
		// A parcel holding part of the order (shop plugins send the items).
		d := realData(l)
		d.Status = "InTransit"
		d.ItemsShipped, d.ItemsTotal = 2, 5
		return d
	}}, goldenCase{name: "Delivered.split", status: "Delivered", data: func(l string) Data {
		// Two of the order's three parcels are delivered.
		d := realData(l)
		d.Status = "Delivered"
		d.ParcelsDelivered, d.ParcelsTotal = 2, 3
		return d
	}})
}

func TestGolden(t *testing.T) {
	s := newSet(t, Options{})
	for _, locale := range s.Locales() {
		for _, c := range goldenCases(s) {
			t.Run(locale+"/"+c.name, func(t *testing.T) {
				d := c.data(locale)
				email := render(t, s, KindEmail, c.status, locale, d)
				sms := render(t, s, KindSMS, c.status, locale, d)
				if email.Locale != locale || sms.Locale != locale {
					t.Errorf("Locale = %q, %q; want %q", email.Locale, sms.Locale, locale)
				}
				gsm, segs := SMSSegments(sms.Text)
				enc := "UCS-2"
				if gsm {
					enc = "GSM-7"
				}
				txt := fmt.Sprintf("Subject: %s\n\n%s\n==== SMS: %s, %d segment(s), %d characters ====\n%s\n",
					email.Subject, email.Text, enc, segs, utf8.RuneCountInString(sms.Text), sms.Text)
				dir := filepath.Join("testdata", "golden", locale)
				checkGolden(t, filepath.Join(dir, c.name+".txt"), txt)
				checkGolden(t, filepath.Join(dir, c.name+".html"), email.HTML)
			})
		}
	}
}

// checkGolden compares got with the golden file, or rewrites it with -update.
func checkGolden(tb testing.TB, path, got string) {
	tb.Helper()
	if *update {
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			tb.Fatal(err)
		}
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			tb.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		tb.Fatalf("%v (run go test -update to create it)", err)
	}
	if got != string(want) {
		tb.Errorf("%s differs from the render (run go test -update and review the diff):\n--- got\n%s\n--- want\n%s", path, got, want)
	}
}

func TestStatusesAndLocales(t *testing.T) {
	s := newSet(t, Options{})
	wantStatuses := []string{"AttemptFail", "AvailableForPickup", "Delivered", "Exception", "Expired", "InTransit", "InfoReceived", "Late", "NewDate", "OrderDelivered", "OutForDelivery", "Stuck"}
	if got := s.Statuses(); !slices.Equal(got, wantStatuses) {
		t.Errorf("Statuses() = %q, want %q", got, wantStatuses)
	}
	for _, l := range []string{"de", "en", "es", "fr"} {
		if !slices.Contains(s.Locales(), l) {
			t.Errorf("Locales() = %q, missing %q", s.Locales(), l)
		}
	}
	if !slices.IsSorted(s.Locales()) {
		t.Errorf("Locales() = %q, not sorted", s.Locales())
	}
	// The slices are copies: changing one does not change the Set.
	s.Locales()[0] = "xx"
	s.Statuses()[0] = "xx"
	if s.Locales()[0] == "xx" || s.Statuses()[0] == "xx" {
		t.Error("Locales or Statuses returned the Set's own slice")
	}
}

func TestRenderNoTemplate(t *testing.T) {
	s := newSet(t, Options{})
	tests := []struct {
		name   string
		kind   Kind
		status string
	}{
		{"pending has no template", KindEmail, "Pending"},
		{"unknown status", KindSMS, "Lost"},
		{"empty status", KindEmail, ""},
		{"status with subtag", KindEmail, "Exception_011"},
		{"status in lower case", KindEmail, "intransit"},
		{"unknown kind", Kind("push"), "InTransit"},
		{"empty kind", Kind(""), "InTransit"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := s.Render(tt.kind, tt.status, "en", realData("en"))
			if !errors.Is(err, ErrNoTemplate) {
				t.Fatalf("err = %v, want ErrNoTemplate", err)
			}
			if !strings.Contains(err.Error(), fmt.Sprintf("%q", tt.status)) && !strings.Contains(err.Error(), fmt.Sprintf("%q", tt.kind)) {
				t.Errorf("error %q names neither the status nor the kind", err)
			}
		})
	}
}

func TestRenderSubtags(t *testing.T) {
	s := newSet(t, Options{})
	tests := []struct {
		name           string
		status, subtag string
		wantSubject    string
	}{
		{"returning to sender", "Exception", "Exception_010", "Your parcel JJD000390007880123456A is being returned to the sender"},
		{"returned to sender", "Exception", "Exception_011", "Your parcel JJD000390007880123456A has been returned to the sender"},
		{"picked up", "Delivered", "Delivered_002", "Your parcel JJD000390007880123456A has been picked up"},
		{"subtag without own wording", "Exception", "Exception_004", "There is a problem with your parcel JJD000390007880123456A"},
		{"no subtag", "Delivered", "", "Your parcel JJD000390007880123456A has been delivered"},
		{"subtag of another status is ignored", "Delivered", "Exception_011", "Your parcel JJD000390007880123456A has been delivered"},
		{"subtag that only looks like one", "Exception", "Exception", "There is a problem with your parcel JJD000390007880123456A"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d := realData("en")
			d.Status, d.Subtag = tt.status, tt.subtag
			m := render(t, s, KindEmail, tt.status, "en", d)
			if m.Subject != tt.wantSubject {
				t.Errorf("Subject = %q, want %q", m.Subject, tt.wantSubject)
			}
		})
	}
}

func TestRenderOptionalFields(t *testing.T) {
	s := newSet(t, Options{})
	full := realData("en")
	tests := []struct {
		name    string
		mutate  func(*Data)
		kind    Kind
		want    []string // in Text (and HTML for email)
		notWant []string
	}{
		{"no tracking URL: no button, no link", func(d *Data) { d.TrackingURL = "" }, KindEmail,
			nil, []string{"Track your parcel", "track.example.com", "href=\"https://track"}},
		{"javascript URL is dropped", func(d *Data) { d.TrackingURL = "javascript:alert(1)" }, KindEmail,
			nil, []string{"javascript", "Track your parcel"}},
		{"relative URL is dropped", func(d *Data) { d.TrackingURL = "/track/123" }, KindSMS,
			nil, []string{"/track/123"}},
		{"no unsubscribe URL: no unsubscribe line", func(d *Data) { d.UnsubscribeURL = "" }, KindEmail,
			nil, []string{"Unsubscribe", "notify.example.com"}},
		{"unsubscribe URL is linked", func(d *Data) {}, KindEmail,
			[]string{"Unsubscribe from shipping notifications", "https://notify.example.com/u/8f3a9c2e"}, nil},
		{"no order number: not mentioned", func(d *Data) { d.OrderNumber = "" }, KindEmail,
			nil, []string{"Order", "100234"}},
		{"no customer name: neutral greeting", func(d *Data) { d.CustomerName = "" }, KindEmail,
			[]string{"Hello,"}, []string{"Hello ,", "Hello  "}},
		{"carrier name falls back to slug", func(d *Data) { d.CarrierName = "" }, KindEmail,
			[]string{"dhl"}, []string{"DHL Paket"}},
		{"carrier name falls back to slug in SMS", func(d *Data) { d.CarrierName = "" }, KindSMS,
			[]string{"(dhl)"}, nil},
		{"no carrier at all: no empty brackets", func(d *Data) { d.CarrierName, d.CarrierSlug, d.ExpectedDelivery = "", "", "" }, KindSMS,
			[]string{"Your parcel JJD000390007880123456A for order 100234 is on its way."}, []string{"()"}},
		// The day is worth more than the order number: it is kept when
		// only one of them fits.
		{"expected day in the SMS where it fits", func(d *Data) { d.CarrierName, d.CarrierSlug = "", "" }, KindSMS,
			[]string{"Your parcel JJD000390007880123456A is on its way. Expected November 24, 2026. https://"}, []string{"100234"}},
		{"no checkpoint: no latest update", func(d *Data) {
			d.CheckpointMessage, d.CheckpointLocation, d.CheckpointTime = "", "", time.Time{}
		}, KindEmail, nil, []string{"Latest update", "Leipzig", "20, 2026"}},
		{"no expected delivery: not mentioned", func(d *Data) { d.ExpectedDelivery = "" }, KindEmail, nil, []string{"Expected delivery"}},
		{"expected delivery shown", func(d *Data) {}, KindEmail, []string{"Expected delivery", "November 24, 2026"}, nil},
		{"checkpoint time only", func(d *Data) { d.CheckpointMessage, d.CheckpointLocation = "", "" }, KindEmail,
			[]string{"Latest update", "Nov 20, 2026, 9:15 am"}, []string{" · ", "(UTC)"}},
		{"checkpoint time is shown in the event's own time", func(d *Data) {
			d.CheckpointTime = time.Date(2026, 11, 20, 23, 30, 0, 0, time.FixedZone("EST", -5*3600))
		}, KindEmail, []string{"Nov 20, 2026, 11:30 pm"}, []string{"(UTC)", "4:30 AM"}},
		{"a time without an offset says UTC", func(d *Data) {
			d.CheckpointTime = time.Date(2026, 11, 20, 8, 15, 0, 0, time.UTC)
		}, KindEmail, []string{"Nov 20, 2026, 8:15 am (UTC)"}, nil},
		{"title equal to the tracking number is not repeated", func(d *Data) { d.Title = d.TrackingNumber }, KindEmail,
			nil, []string{"Description"}},
		{"no shop name: no sign-off", func(d *Data) { d.ShopName = "" }, KindEmail,
			[]string{"This is an automatic notification about your shipment."}, []string{"Kind regards", "from  "}},
		{"no shop name in SMS: no prefix", func(d *Data) { d.ShopName = "" }, KindSMS,
			[]string{"Your parcel JJD000390007880123456A"}, []string{": Your"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d := full
			tt.mutate(&d)
			m := render(t, s, tt.kind, "InTransit", "en", d)
			parts := map[string]string{"Text": m.Text}
			if tt.kind == KindEmail {
				parts["HTML"] = m.HTML
			}
			for part, got := range parts {
				for _, w := range tt.want {
					if !strings.Contains(got, w) {
						t.Errorf("%s lacks %q:\n%s", part, w, got)
					}
				}
				for _, w := range tt.notWant {
					if strings.Contains(got, w) {
						t.Errorf("%s contains %q:\n%s", part, w, got)
					}
				}
			}
		})
	}
}

// partialLines is the sentence each catalog adds for a parcel holding 2 of
// the order's 5 items.
var partialLines = map[string]string{
	"en": "This parcel contains 2 of 5 items from your order.",
	"de": "Diese Sendung enthält 2 von 5 Artikeln Ihrer Bestellung.",
	"fr": "Ce colis contient 2 des 5 articles de votre commande.",
	"es": "Este paquete contiene 2 de los 5 artículos de su pedido.",
}

func TestRenderPartialShipment(t *testing.T) {
	s := newSet(t, Options{})
	tests := []struct {
		name           string
		shipped, total int
		want           bool
	}{
		{"2 of 5 items", 2, 5, true},
		{"all items", 5, 5, false},
		{"one of one", 1, 1, false},
		{"unknown items", 0, 0, false},
		{"shipped unknown", 0, 5, false},
		{"total unknown", 2, 0, false},
		{"more than the order", 6, 5, false},
		{"negative", -1, 5, false},
	}
	for _, locale := range []string{"en", "de", "fr", "es"} {
		line := partialLines[locale]
		for _, tt := range tests {
			t.Run(locale+"/"+tt.name, func(t *testing.T) {
				d := realData(locale)
				d.ItemsShipped, d.ItemsTotal = tt.shipped, tt.total
				m := render(t, s, KindEmail, "InTransit", locale, d)
				want := strings.Replace(strings.Replace(line, "2", fmt.Sprint(tt.shipped), 1), "5", fmt.Sprint(tt.total), 1)
				htmlLine := strings.NewReplacer("'", "&#39;").Replace(want)
				if got := strings.Contains(m.Text, want); got != tt.want {
					t.Errorf("Text has %q: %v, want %v:\n%s", want, got, tt.want, m.Text)
				}
				if got := strings.Contains(m.HTML, htmlLine); got != tt.want {
					t.Errorf("HTML has %q: %v, want %v:\n%s", htmlLine, got, tt.want, m.HTML)
				}
				// SMS stays within its segment budget: the item count is
				// never added there.
				sms := render(t, s, KindSMS, "InTransit", locale, d)
				plain := realData(locale)
				if without := render(t, s, KindSMS, "InTransit", locale, plain); sms.Text != without.Text {
					t.Errorf("SMS changed with items:\n%s\n%s", sms.Text, without.Text)
				}
			})
		}
	}
	// Every status says it, not only InTransit.
	d := realData("de")
	d.ItemsShipped, d.ItemsTotal = 2, 5
	for _, st := range s.Statuses() {
		if m := render(t, s, KindEmail, st, "de", d); !strings.Contains(m.Text, partialLines["de"]) {
			t.Errorf("%s: no partial-shipment line:\n%s", st, m.Text)
		}
	}
}

func TestRenderUnsupportedLocaleFallsBack(t *testing.T) {
	s := newSet(t, Options{DefaultLanguage: "de"})
	tests := []struct{ locale, want string }{
		{"de", "de"},
		{"fr-CA", "fr"},
		{"pt-BR", "pt-BR"},
		{"ro-RO", "de"},
		{"", "de"},
		{"not a tag", "de"},
	}
	for _, tt := range tests {
		t.Run(tt.locale, func(t *testing.T) {
			m := render(t, s, KindSMS, "Delivered", tt.locale, realData("en"))
			if m.Locale != tt.want {
				t.Errorf("Locale = %q, want %q", m.Locale, tt.want)
			}
		})
	}
}

func TestRenderLongValuesAreCut(t *testing.T) {
	s := newSet(t, Options{})
	d := realData("en")
	d.TrackingNumber = strings.Repeat("9", 10_000)
	d.CheckpointMessage = strings.Repeat("long message ", 10_000)
	m := render(t, s, KindEmail, "InTransit", "en", d)
	if n := utf8.RuneCountInString(m.Subject); n > maxSubject {
		t.Errorf("subject has %d characters, want at most %d", n, maxSubject)
	}
	if len(m.HTML) > 20_000 || len(m.Text) > 10_000 {
		t.Errorf("HTML is %d bytes and text %d bytes: long values were not cut", len(m.HTML), len(m.Text))
	}
	if !strings.Contains(m.Text, strings.Repeat("9", maxShort-1)+"…") {
		t.Error("cut tracking number does not end in …")
	}
}

func TestOneLine(t *testing.T) {
	tests := []struct {
		name, in string
		max      int
		want     string
	}{
		{"plain", "Kim Müller", 80, "Kim Müller"},
		{"CRLF and tabs", "a\r\nBcc: x@evil\tz", 80, "a Bcc: x@evil z"},
		{"trimmed and collapsed", "  a   b  ", 80, "a b"},
		{"NUL and DEL", "a\x00b\x7fc", 80, "a b c"},
		{"unicode line separators", "a\u2028b\u2029c\u0085d", 80, "a b c d"},
		{"bidi override dropped", "abc\u202edcba", 80, "abcdcba"},
		{"invalid UTF-8", "a\xffb", 80, "a b"},
		{"cut", "abcdefgh", 5, "abcd…"},
		{"cut at a space", "abc defgh", 5, "abc…"},
		{"exactly max", "abcde", 5, "abcde"},
		{"empty", "", 5, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := oneLine(tt.in, tt.max); got != tt.want {
				t.Errorf("oneLine(%q, %d) = %q, want %q", tt.in, tt.max, got, tt.want)
			}
		})
	}
}

func TestWebURL(t *testing.T) {
	tests := []struct{ in, want string }{
		{"https://track.example.com/x?id=1", "https://track.example.com/x?id=1"},
		{"http://example.com", "http://example.com"},
		{"  https://example.com/a  ", "https://example.com/a"},
		{"javascript:alert(1)", ""},
		{"JAVASCRIPT:alert(1)", ""},
		{"data:text/html,<script>", ""},
		{"//example.com/x", ""},
		{"/relative", ""},
		{"https://", ""},
		{"https://example.com/a b", ""},
		{"https://example.com/\r\nBcc: x", ""},
		{"https://example.com/\"><img/src=x>", "https://example.com/%22%3E%3Cimg/src=x%3E"},
		{"https://example.com/?q=\"><img/src=x>", "https://example.com/?q=\"><img/src=x>"}, // html/template escapes it where it is used
		{"", ""},
		{"https://example.com/" + strings.Repeat("a", maxURL), ""},
	}
	for _, tt := range tests {
		if got := webURL(tt.in); got != tt.want {
			t.Errorf("webURL(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func TestTidyText(t *testing.T) {
	in := "\n\nHello  \n\n\n\nWorld\t\r\nfooter\n\n"
	want := "Hello\n\nWorld\nfooter\n"
	if got := tidyText(in); got != want {
		t.Errorf("tidyText(%q) = %q, want %q", in, got, want)
	}
}

func TestRenderConcurrent(t *testing.T) {
	s := newSet(t, Options{})
	done := make(chan error)
	for i := range 8 {
		go func() {
			locale := s.Locales()[i%len(s.Locales())]
			var err error
			for _, st := range s.Statuses() {
				if _, e := s.Render(KindEmail, st, locale, realData(locale)); e != nil {
					err = e
				}
			}
			done <- err
		}()
	}
	for range 8 {
		if err := <-done; err != nil {
			t.Error(err)
		}
	}
}

func BenchmarkRenderEmail(b *testing.B) {
	s := newSet(b, Options{})
	d := realData("de")
	b.ReportAllocs()
	for b.Loop() {
		if _, err := s.Render(KindEmail, "InTransit", "de", d); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkNew(b *testing.B) {
	b.ReportAllocs()
	for b.Loop() {
		if _, err := New(Options{}); err != nil {
			b.Fatal(err)
		}
	}
}

// The place of the latest scan names the country in the message's
// language; the carrier's own free text is kept as it is.
func TestCheckpointCountryInTheRecipientsLanguage(t *testing.T) {
	s := newSet(t, Options{})
	for locale, want := range map[string]string{"de": "Leipzig, Sachsen, Deutschland", "fr": "Leipzig, Sachsen, Allemagne", "es": "Leipzig, Sachsen, Alemania", "en": "Leipzig, Sachsen, Germany"} {
		d := realData(locale)
		d.CheckpointLocation, d.CheckpointCity, d.CheckpointState, d.CheckpointCountry = "", "Leipzig", "Sachsen", "DEU"
		if m := render(t, s, KindEmail, "InTransit", locale, d); !strings.Contains(m.Text, want) || !strings.Contains(m.HTML, want) {
			t.Errorf("%s: no %q in\n%s", locale, want, m.Text)
		}
	}
	d := realData("de")
	d.CheckpointLocation, d.CheckpointCountry = "Paketzentrum Radefeld", "DEU"
	if m := render(t, s, KindEmail, "InTransit", "de", d); !strings.Contains(m.Text, "Paketzentrum Radefeld ·") {
		t.Errorf("free text not kept:\n%s", m.Text)
	}
	d.CheckpointLocation, d.CheckpointCity, d.CheckpointCountry = "", "Narnia", "ZZ"
	if m := render(t, s, KindEmail, "InTransit", "de", d); !strings.Contains(m.Text, "Narnia, ZZ") {
		t.Errorf("an unknown country code is shown as it is:\n%s", m.Text)
	}
}
