package api

import (
	"fmt"
	"slices"
	"unicode/utf8"

	"github.com/trackhook/trackhook/receiver/contact"
)

// normalizeEmails validates every address; the first bad one is a 4008
// naming the field and the value, and nothing changes.
func normalizeEmails(field string, in []string) ([]string, error) {
	out := make([]string, 0, len(in))
	for _, v := range in {
		e, err := contact.Email(v)
		if err != nil {
			return nil, errInvalidValue(field, clipValue(v), "not an email address")
		}
		if !slices.Contains(out, e) {
			out = append(out, e)
		}
	}
	return out, nil
}

// normalizePhones brings every number to E.164; a national number needs the
// tracking's destination country.
func normalizePhones(field string, in []string, country string) ([]string, error) {
	out := make([]string, 0, len(in))
	for _, v := range in {
		p, err := contact.Phone(v, country)
		if err != nil {
			why := "not a phone number in E.164 (+ and country code)"
			if country != "" {
				why = "not a valid phone number for " + country
			}
			return nil, errInvalidValue(field, clipValue(v), why)
		}
		if !slices.Contains(out, p) {
			out = append(out, p)
		}
	}
	return out, nil
}

func (a *API) checkMax(field string, list []string) error {
	if len(list) > a.max {
		return &Error{400, 4008, "BadRequest", fmt.Sprintf("The value of `%s` is invalid: %d recipients, at most %d per tracking.", field, len(list), a.max)}
	}
	return nil
}

// clipValue keeps error messages bounded when the input is huge. It cuts
// on a rune boundary, so the message stays valid UTF-8.
func clipValue(s string) string {
	if len(s) <= 100 {
		return s
	}
	n := 100
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n] + "…"
}
