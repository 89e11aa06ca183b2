package templates

import (
	"fmt"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"
	"unicode"
)

// TestEveryMessage renders every language × status (and subtag) × channel,
// with every field filled and with only a tracking number, and checks what
// a customer would see: well-formed HTML, no value left out or misprinted,
// every link absolute, and no word in another script than the language's.
func TestEveryMessage(t *testing.T) {
	s := newSet(t, Options{Brand: Brand{LogoURL: "https://shop.example/logo.png", SupportEmail: "help@shop.example",
		SupportURL: "https://shop.example/help", PostalAddress: "Hafenstraße 1, 20457 Hamburg"}})
	full := SampleData()
	full.CheckpointTime = time.Date(2026, 11, 20, 9, 15, 0, 0, time.FixedZone("", 3600))
	minimal := Data{TrackingNumber: "1Z999AA10123456784"}
	plain := newSet(t, Options{})
	n := 0
	for _, l := range s.Locales() {
		for _, st := range s.Statuses() {
			for _, sub := range s.subtags(st) {
				for _, d := range []Data{full, minimal} {
					d.Subtag = sub
					where := fmt.Sprintf("%s %s %s", l, st, sub)
					email := render(t, s, KindEmail, st, l, d)
					sms := render(t, s, KindSMS, st, l, d)
					n += 2
					if err := wellFormed(email.HTML); err != nil {
						t.Errorf("%s: HTML: %v", where, err)
					}
					for _, part := range []string{email.Subject, email.Text, email.HTML, sms.Text} {
						for _, bad := range []string{"<no value>", "{{", "}}", "%!", "{date}", "{time}", "\ue000", "\ue001"} {
							if strings.Contains(part, bad) {
								t.Errorf("%s: %q in %.300q", where, bad, part)
							}
						}
					}
					for _, m := range hrefAny.FindAllStringSubmatch(email.HTML, -1) {
						if !strings.HasPrefix(m[1], "https://") && !strings.HasPrefix(m[1], "http://") && !strings.HasPrefix(m[1], "mailto:") {
							t.Errorf("%s: link %q is not absolute", where, m[1])
						}
					}
					if !strings.Contains(email.HTML, `lang="`+l+`"`) {
						t.Errorf("%s: no lang=%q", where, l)
					}
				}
				// Letters a catalog wrote: render with no text data, so
				// what is left after links and numbers is the catalog's.
				bare := Data{TrackingNumber: "123456789", ExpectedDelivery: "2026-11-24", OrderNumber: "1001",
					CheckpointTime: time.Date(2026, 11, 20, 9, 15, 0, 0, time.FixedZone("", 3600)),
					ItemsShipped:   2, ItemsTotal: 5, ParcelsDelivered: 2, ParcelsTotal: 3, Subtag: sub}
				for _, part := range []string{render(t, plain, KindEmail, st, l, bare).Text, render(t, plain, KindSMS, st, l, bare).Text} {
					if r, ok := wrongScript(l, part); ok {
						t.Errorf("%s %s %s: %q is not in the script of %s: %q", l, st, sub, r, l, part)
					}
				}
			}
		}
	}
	t.Logf("%d messages in %d languages", n, len(s.Locales()))
}

var hrefAny = regexp.MustCompile(`\b(?:href|src)="([^"]*)"`)

// scripts are the scripts each embedded language is written in; every
// other language is written in Latin.
var scripts = map[string][]*unicode.RangeTable{
	"ar":      {unicode.Arabic},
	"he":      {unicode.Hebrew},
	"ja":      {unicode.Han, unicode.Hiragana, unicode.Katakana},
	"ko":      {unicode.Hangul, unicode.Han},
	"zh-Hans": {unicode.Han},
}

var urlRE = regexp.MustCompile(`(https?://|mailto:)\S+`)

// wrongScript returns the first letter in text that is not in l's scripts.
func wrongScript(l, text string) (rune, bool) {
	want, ok := scripts[l]
	if !ok {
		want = []*unicode.RangeTable{unicode.Latin}
	}
	text = urlRE.ReplaceAllString(text, "")
	// CLDR's own abbreviations of the day periods: Korean writes "AM 9:15".
	text = strings.NewReplacer("AM", "", "PM", "").Replace(text)
	for _, r := range text {
		if !unicode.IsLetter(r) || unicode.Is(unicode.Common, r) || unicode.Is(unicode.Inherited, r) {
			continue
		}
		if !slices.ContainsFunc(want, func(t *unicode.RangeTable) bool { return unicode.Is(t, r) }) {
			return r, true
		}
	}
	return 0, false
}

var tagRE = regexp.MustCompile(`<(/?)([a-zA-Z][a-zA-Z0-9]*)([^<>]*)>|<!--.*?-->|<!DOCTYPE html>`)

var voidElements = []string{"br", "img", "meta", "hr", "link", "input"}

// wellFormed checks that every element that is opened is closed, in order,
// and that every attribute's quotes are closed: the HTML a client gets is
// the HTML the layout meant.
func wellFormed(html string) error {
	var open []string
	for _, m := range tagRE.FindAllStringSubmatch(html, -1) {
		if m[2] == "" {
			continue // comment or doctype
		}
		name := strings.ToLower(m[2])
		if strings.Count(m[3], `"`)%2 != 0 {
			return fmt.Errorf("unbalanced quotes in <%s%s>", m[2], m[3])
		}
		switch {
		case m[1] == "/":
			if len(open) == 0 || open[len(open)-1] != name {
				return fmt.Errorf("</%s> closes %v", name, open)
			}
			open = open[:len(open)-1]
		case slices.Contains(voidElements, name):
		default:
			open = append(open, name)
		}
	}
	if len(open) > 0 {
		return fmt.Errorf("never closed: %v", open)
	}
	if strings.Count(html, "<") != len(tagRE.FindAllString(html, -1)) {
		return fmt.Errorf("a '<' that starts no tag (unescaped text)")
	}
	return nil
}
