package templates

import (
	"encoding/json"
	"errors"
	"slices"
	"strings"
	"testing"
	"time"
)

func TestBrandInEveryEmail(t *testing.T) {
	s := newSet(t, Options{Brand: Brand{
		LogoURL:       "https://shop.example/logo.png",
		AccentColor:   "#0a7",
		SupportEmail:  "help@shop.example",
		SupportURL:    "https://shop.example/help",
		PostalAddress: "Nordlicht GmbH, Hafenstraße 1, 20457 Hamburg",
	}})
	d := realData("de")
	d.ShopName = "Nordlicht"
	m := render(t, s, KindEmail, "InTransit", "de", d)
	for _, want := range []string{
		`<img src="https://shop.example/logo.png" alt="Nordlicht"`,
		`background-color:#0a7;`, // the button
		`<a href="mailto:help@shop.example"`,
		`<a href="https://shop.example/help"`,
		`Fragen zu Ihrer Bestellung?`,
		`<bdi>Nordlicht GmbH, Hafenstraße 1, 20457 Hamburg</bdi>`,
		// the preheader: what inboxes show after the subject
		`<div style="display:none;max-height:0;overflow:hidden;mso-hide:all;">Gute Nachrichten`,
		`<meta name="color-scheme" content="light dark">`,
	} {
		if !strings.Contains(m.HTML, want) {
			t.Errorf("HTML lacks %q", want)
		}
	}
	for _, want := range []string{"help@shop.example", "https://shop.example/help", "Nordlicht GmbH, Hafenstraße 1, 20457 Hamburg"} {
		if !strings.Contains(m.Text, want) {
			t.Errorf("text lacks %q:\n%s", want, m.Text)
		}
	}

	// Without brand settings: no logo, no support line, no address, the
	// default colour.
	m = render(t, newSet(t, Options{}), KindEmail, "InTransit", "de", d)
	for _, absent := range []string{"<img", "mailto:", "Fragen zu Ihrer Bestellung"} {
		if strings.Contains(m.HTML, absent) {
			t.Errorf("HTML without brand settings has %q", absent)
		}
	}
	if !strings.Contains(m.HTML, "#1d4ed8") {
		t.Error("HTML without brand settings lacks the default accent colour")
	}
}

func TestBrandIsChecked(t *testing.T) {
	for _, tc := range []struct {
		b     Brand
		field string
	}{
		{Brand{LogoURL: "javascript:alert(1)"}, "LogoURL"},
		{Brand{LogoURL: "/logo.png"}, "LogoURL"},
		{Brand{AccentColor: "red; background:url(x)"}, "AccentColor"},
		{Brand{AccentColor: "#12345"}, "AccentColor"},
		{Brand{SupportEmail: "Help <help@shop.example>"}, "SupportEmail"},
		{Brand{SupportEmail: "help@shop.example?bcc=x@evil.example"}, "SupportEmail"},
		{Brand{SupportURL: "ftp://shop.example"}, "SupportURL"},
		{Brand{PostalAddress: "Street 1\nBcc: x@evil.example"}, "PostalAddress"},
	} {
		_, err := New(Options{Brand: tc.b})
		var be *BrandError
		if !errors.As(err, &be) || be.Field != tc.field {
			t.Errorf("%+v: err %v, want a BrandError for %s", tc.b, err, tc.field)
		}
	}
}

// In right-to-left messages each value keeps its own direction: the HTML
// isolates it in <bdi> (or dir="ltr" for numbers and links), the plain text
// and the SMS hold the characters in logical order with no control
// characters added.
func TestRightToLeftIsolation(t *testing.T) {
	c := embeddedCatalog(t, "en")
	c["parcels.progress"] = "{{.ParcelsDelivered}}/{{.ParcelsTotal}}"
	c["subject.InTransit"] = "الطرد {{.TrackingNumber}} في الطريق"
	c["intro.InTransit"] = "طردك {{.TrackingNumber}}{{with .Carrier}} ({{.}}){{end}} في الطريق."
	c["sms.InTransit"] = "طردك {{.TrackingNumber}}{{with .Carrier}} ({{.}}){{end}} في الطريق."
	data, err := json.Marshal(c)
	if err != nil {
		t.Fatal(err)
	}
	s := newSet(t, Options{OverrideDir: writeFiles(t, map[string]string{"locales/ar.json": string(data)})})
	d := realData("ar")
	m := render(t, s, KindEmail, "InTransit", "ar", d)
	for _, want := range []string{
		`<html lang="ar" dir="rtl">`,
		`طردك <bdi>JJD000390007880123456A</bdi> (<bdi>DHL Paket</bdi>) في الطريق.`,
		`<span dir="ltr">JJD000390007880123456A</span>`,
		`dir="ltr" style="color:#1d4ed8;word-break:break-all;">https://`,
	} {
		if !strings.Contains(m.HTML, want) {
			t.Errorf("HTML lacks %q", want)
		}
	}
	sms := render(t, s, KindSMS, "InTransit", "ar", d)
	if !strings.HasPrefix(sms.Text, "\u200f") {
		t.Errorf("an Arabic text does not start with a right-to-left mark: %q", sms.Text)
	}
	for _, part := range []string{m.Subject, m.Text, sms.Text} {
		if strings.ContainsFunc(part, func(r rune) bool { return isBidiControl(r) || r == markOpen || r == markClose }) {
			t.Errorf("bidi controls or marks in %q", part)
		}
	}
	if !strings.Contains(sms.Text, "طردك JJD000390007880123456A (DHL Paket) في الطريق.") {
		t.Errorf("SMS not in logical order: %q", sms.Text)
	}
}

// A webhook cannot smuggle in the marks that become <bdi>.
func TestMarksFromDataAreDropped(t *testing.T) {
	d := realData("en")
	d.CustomerName = "Kim" + string(markClose) + "<b>" + string(markOpen)
	m := render(t, newSet(t, Options{}), KindEmail, "InTransit", "en", d)
	if !strings.Contains(m.HTML, "Hello <bdi>Kim&lt;b&gt;</bdi>,") {
		t.Errorf("greeting: %s", excerpt(m.HTML, "Hello"))
	}
}

// A text stays within the segment limit by losing prose, never the
// tracking number or the link.
func TestSMSSegmentLimit(t *testing.T) {
	d := realData("de")
	d.ShopName = "Nordlicht Outdoor & Bergsport"
	d.CarrierName = "DHL Paket International Premium"
	d.OrderNumber = "ORDER-2026-000123456789"
	d.ExpectedDelivery = "2026-11-24"
	d.ParcelsDelivered, d.ParcelsTotal = 3, 3
	d.TrackingURL = "https://nolp.dhl.de/nextt-online-public/set_identcodes.do?lang=de&idc=" + d.TrackingNumber + "&extendedSearch=true"
	long := d.TrackingURL
	for _, limit := range []int{1, 2, 3} {
		d.TrackingURL = long
		if limit == 1 {
			// A 130-character link and the number leave no room for a
			// word in one segment; a link of 60 does.
			d.TrackingURL = "https://www.dhl.de/de/privatkunden.html?piececode=" + d.TrackingNumber[:10]
		}
		s := newSet(t, Options{SMSMaxSegments: limit})
		for _, st := range s.Statuses() {
			m := render(t, s, KindSMS, st, "de", d)
			if m.Segments > limit {
				t.Errorf("limit %d, %s: %d segments: %q", limit, st, m.Segments, m.Text)
			}
			if gsm, n := SMSSegments(m.Text); gsm != m.GSM7 || n != m.Segments {
				t.Errorf("%s: Message says %v/%d, the text is %v/%d", st, m.GSM7, m.Segments, gsm, n)
			}
			// OrderDelivered is about the order: it names no parcel.
			if (st != "OrderDelivered" && !strings.Contains(m.Text, d.TrackingNumber)) || !strings.Contains(m.Text, d.TrackingURL) {
				t.Errorf("limit %d, %s: tracking number or link lost: %q", limit, st, m.Text)
			}
			if (st == "NewDate" || st == "Late") && !strings.Contains(m.Text, "24. November 2026") {
				t.Errorf("limit %d, %s: the date is what the message is about: %q", limit, st, m.Text)
			}
		}
	}
	// What fits one segment is sent whole; what cannot fit one however
	// short keeps its details within the limit.
	s := newSet(t, Options{SMSMaxSegments: 3})
	short := realData("de")
	short.ShopName, short.TrackingURL = "", "https://t.example/x"
	if m := render(t, s, KindSMS, "InTransit", "de", short); !strings.Contains(m.Text, short.OrderNumber) || !strings.Contains(m.Text, short.CarrierName) || m.Segments != 1 {
		t.Errorf("a text that fits one segment should keep its details: %q", m.Text)
	}
	d.TrackingURL = long + "&" + strings.Repeat("x", 40)
	if m := render(t, s, KindSMS, "InTransit", "de", d); !strings.Contains(m.Text, d.OrderNumber) || m.Segments != 3 {
		t.Errorf("a text that needs 3 segments anyway should keep its details: %d %q", m.Segments, m.Text)
	}
	if _, err := New(Options{SMSMaxSegments: 11}); err == nil {
		t.Error("a limit of 11 segments was accepted")
	}
}

// A text names its sender: the shop's name is dropped only when no text
// that keeps it fits the segment limit (a link from nobody reads like the
// parcel scams everyone has seen). With a 22-character number and a
// 60-character link, a GSM-7 text keeps a 21-character name, and a UCS-2
// one (70 characters a segment) a 9-character one, but for a few long
// sentences of Polish, Czech, Turkish and Hebrew.
func TestSMSKeepsTheShopName(t *testing.T) {
	s := newSet(t, Options{})
	for _, l := range s.Locales() {
		d := realData(l)
		d.ShopName = "Nordic Outdoor Supply"
		if !slices.Contains(gsm7Languages, l) {
			d.ShopName = "Nordlicht"
		}
		for _, st := range s.Statuses() {
			m := render(t, s, KindSMS, st, l, d)
			if strings.Contains(m.Text, d.ShopName) {
				continue
			}
			// Dropped: only right if even the compact form with it is
			// over the limit.
			email := render(t, s, KindEmail, st, l, d)
			heading := email.Text[:strings.Index(email.Text, "\n")]
			compact := d.ShopName + ": " + heading + ": " + d.TrackingNumber + " "
			if st == "NewDate" || st == "Late" {
				day, _ := time.Parse(time.DateOnly, d.ExpectedDelivery)
				compact += s.catalogs[l].cal.Day(day) + " "
			}
			compact += d.TrackingURL
			if _, n := SMSSegments(compact); n <= 2 {
				t.Errorf("%s %s: no shop name in %d segments, though %q takes %d: %s", l, st, m.Segments, compact, n, m.Text)
			}
		}
	}
}
