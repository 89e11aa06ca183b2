package templates

import (
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
)

// An operator's layout can be for one status, one language or both; the
// most specific one wins.
func TestLayoutVariants(t *testing.T) {
	dir := writeFiles(t, map[string]string{
		"layouts/sms.txt.Delivered.tmpl":    `{{.T "sms"}} Danke!`,
		"layouts/sms.txt.de.tmpl":           `DE {{.T "sms"}}`,
		"layouts/sms.txt.Delivered.fr.tmpl": `FR livré {{.TrackingNumber}}`,
		"layouts/email.txt.Exception.tmpl":  `{{.T "heading"}} -- {{or .CustomerName "chère cliente, cher client"}}`,
	})
	s := newSet(t, Options{OverrideDir: dir})
	d := realData("de")
	d.ShopName = ""
	for _, tc := range []struct{ status, locale, want string }{
		{"Delivered", "fr", "FR livré JJD000390007880123456A"},
		{"Delivered", "de", "Ihre Sendung JJD000390007880123456A (DHL Paket) zur Bestellung 100234 wurde zugestellt. Danke!"},
		{"InTransit", "de", "DE Ihre Sendung JJD000390007880123456A (DHL Paket) zur Bestellung 100234 ist unterwegs."},
		{"InTransit", "fr", "Votre colis JJD000390007880123456A (DHL Paket) est en route."}, // the general layout (the order number left out to fit one segment)
	} {
		if m := render(t, s, KindSMS, tc.status, tc.locale, d); !strings.HasPrefix(m.Text, tc.want) {
			t.Errorf("%s %s: %q, want it to start with %q", tc.status, tc.locale, m.Text, tc.want)
		}
	}
	// A merge field with a fallback: no name, a greeting without one.
	d.CustomerName = ""
	if m := render(t, s, KindEmail, "Exception", "fr", d); !strings.Contains(m.Text, "chère cliente, cher client") {
		t.Errorf("fallback not used:\n%s", m.Text)
	}

	for name, want := range map[string]string{
		"layouts/sms.txt.Delivred.tmpl": `"Delivred" is neither a status`,
		"layouts/sms.txt.xx.tmpl":       `"xx" is neither a status`,
		"layouts/sms.txt.de.fr.tmpl":    `"fr" is neither`,
		"layouts/sms.txt.a.b.c.tmpl":    "unknown layout",
	} {
		_, err := New(Options{OverrideDir: writeFiles(t, map[string]string{name: "x"})})
		if err == nil || !strings.Contains(err.Error(), want) || !strings.Contains(err.Error(), filepath.Base(name)) {
			t.Errorf("%s: err %v, want one naming the file and %q", name, err, want)
		}
	}
	// A broken variant is named with its file and line.
	_, err := New(Options{OverrideDir: writeFiles(t, map[string]string{"layouts/email.html.Delivered.de.tmpl": "<p>\n{{.T \"intro\"}\n</p>"})})
	if err == nil || !strings.Contains(err.Error(), "email.html.Delivered.de.tmpl") || !strings.Contains(err.Error(), ":2:") {
		t.Errorf("broken variant: %v", err)
	}
}

// Reload swaps in a new Set only when it is valid; renders going on at the
// same time see the old one or the new one, never an error.
func TestLiveReload(t *testing.T) {
	dir := writeFiles(t, map[string]string{"locales/de.json": `{"subject.InTransit": "Eins {{.TrackingNumber}}"}`})
	l, err := NewLive(Options{OverrideDir: dir})
	if err != nil {
		t.Fatal(err)
	}
	d := realData("de")
	subject := func() string {
		m, err := l.Render(KindEmail, "InTransit", "de", d)
		if err != nil {
			t.Error(err)
		}
		return m.Subject
	}
	if got := subject(); got != "Eins JJD000390007880123456A" {
		t.Fatalf("subject %q", got)
	}

	var wg sync.WaitGroup
	stop := make(chan struct{})
	for range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				select {
				case <-stop:
					return
				default:
				}
				if s := subject(); s != "Eins JJD000390007880123456A" && s != "Zwei JJD000390007880123456A" {
					t.Errorf("subject during reload %q", s)
					return
				}
			}
		}()
	}
	write := func(content string) {
		if err := os.WriteFile(filepath.Join(dir, "locales", "de.json"), []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write(`{"subject.InTransit": "Zwei {{.TrackingNumber}}"}`)
	if err := l.Reload(); err != nil {
		t.Fatal(err)
	}
	close(stop)
	wg.Wait()
	if got := subject(); got != "Zwei JJD000390007880123456A" {
		t.Errorf("after reload: %q", got)
	}

	write(`{"subject.InTransit": "Drei {{.TrackingNumbr}}"}`)
	if err := l.Reload(); err == nil || !strings.Contains(err.Error(), "de.json:1:") {
		t.Errorf("broken reload: %v", err)
	}
	if got := subject(); got != "Zwei JJD000390007880123456A" {
		t.Errorf("a broken reload replaced the templates: %q", got)
	}
}
