// Package contact validates and normalises notification recipients: email
// addresses and phone numbers (to E.164, with nyaruka/phonenumbers).
package contact

import (
	"errors"
	"fmt"
	"net/mail"
	"strings"

	lru "github.com/hashicorp/golang-lru/v2"
	"github.com/nyaruka/phonenumbers"
	"golang.org/x/text/language"
)

// ErrInvalid is wrapped by every validation error.
var ErrInvalid = errors.New("invalid recipient")

const maxLen = 254

// Email returns addr as a bare address with a lower-case domain.
func Email(addr string) (string, error) {
	addr = strings.TrimSpace(addr)
	if addr == "" || len(addr) > maxLen || strings.ContainsAny(addr, "\r\n<>\",; \t") {
		return "", fmt.Errorf("%w: not an email address", ErrInvalid)
	}
	a, err := mail.ParseAddress(addr)
	if err != nil || a.Name != "" || a.Address != addr {
		return "", fmt.Errorf("%w: not an email address", ErrInvalid)
	}
	at := strings.LastIndexByte(addr, '@')
	local, domain := addr[:at], strings.ToLower(addr[at+1:])
	if !strings.Contains(domain, ".") || strings.HasPrefix(domain, ".") || strings.HasSuffix(domain, ".") {
		return "", fmt.Errorf("%w: email domain %q has no dot", ErrInvalid, domain)
	}
	return local + "@" + domain, nil
}

// Phone returns num in E.164 ("+4915112345678"). A number without "+" and
// country code is accepted when country (ISO 3166-1 alpha-2 or alpha-3) says
// where it is national; otherwise it is an error.
func Phone(num, country string) (string, error) {
	num = strings.TrimSpace(num)
	if num == "" || len(num) > 32 || strings.ContainsAny(num, "\r\n") {
		return "", fmt.Errorf("%w: not a phone number", ErrInvalid)
	}
	region := ""
	if !strings.HasPrefix(num, "+") {
		region = Region(country)
		if region == "" {
			return "", fmt.Errorf("%w: phone number needs a + and country code", ErrInvalid)
		}
	}
	key := region + " " + num
	e164, ok := phones.Get(key)
	if !ok {
		e164 = parsePhone(num, region)
		phones.Add(key, e164)
	}
	if e164 == "" {
		return "", fmt.Errorf("%w: not a valid phone number", ErrInvalid)
	}
	return e164, nil
}

// parsePhone returns num, national to region when region is set, in E.164,
// or "" when it is not a valid number.
func parsePhone(num, region string) string {
	p, err := phonenumbers.Parse(num, region)
	if err != nil || !phonenumbers.IsValidNumber(p) {
		return ""
	}
	return phonenumbers.Format(p, phonenumbers.E164)
}

// phones remembers parsePhone's answers for the numbers seen last. Every
// webhook of a shipment names its subscribers again, and phonenumbers'
// parse and validation (regular expressions over the region's metadata)
// was a third of decoding an AfterShip webhook. The answer depends only on
// the number and its region, so it never goes stale; the least recently
// used go first.
var phones = mustLRU[string, string](phoneCacheSize)

// phoneCacheSize bounds phones: ~100 bytes a number.
const phoneCacheSize = 4096

func mustLRU[K comparable, V any](size int) *lru.Cache[K, V] {
	c, err := lru.New[K, V](size)
	if err != nil {
		panic(err) // only for a size below 1
	}
	return c
}

// Region returns the ISO 3166-1 alpha-2 code for an alpha-2 or alpha-3
// country code, or "" when it is not one.
func Region(country string) string {
	if country == "" {
		return ""
	}
	r, err := language.ParseRegion(country)
	if err != nil || !r.IsCountry() {
		return ""
	}
	return r.String()
}
