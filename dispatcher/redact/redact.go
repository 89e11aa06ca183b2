// Package redact masks customer contact data before it reaches a log line or
// an error message: "kim@example.com" becomes "k***@example.com" and
// "+4915112345678" becomes "+49******78".
package redact

import (
	"fmt"
	"strings"
	"unicode"
	"unicode/utf8"
)

// Email keeps the first character of the local part and the whole domain.
func Email(addr string) string {
	at := strings.LastIndexByte(addr, '@')
	if at <= 0 {
		return strings.Repeat("*", min(len(addr), 8))
	}
	local, domain := addr[:at], addr[at:]
	r := []rune(local)
	return string(r[0]) + "***" + domain
}

// Phone keeps a leading "+", the first two digits and the last two, with a
// fixed run of six "*" between them so the length is not given away either.
// Numbers of six characters or fewer are fully masked.
func Phone(num string) string {
	r := []rune(num)
	if len(r) <= 6 {
		return strings.Repeat("*", len(r))
	}
	head := 2
	if r[0] == '+' {
		head = 3
	}
	var b strings.Builder
	b.WriteString(string(r[:head]))
	b.WriteString("******")
	b.WriteString(string(r[len(r)-2:]))
	return b.String()
}

// Recipient masks an email address or a phone number, whichever it is.
func Recipient(s string) string {
	if strings.Contains(s, "@") {
		return Email(s)
	}
	return Phone(s)
}

// Unparsed masks a value that was meant to be an address or a number but is
// not one (a sender's malformed subscriber entry): it may hold anything, a
// whole second address or number beside the first, so nothing of it is kept
// but its first character and its length. A value that is exactly an
// address or an E.164 number is masked as Recipient does.
func Unparsed(s string) string {
	if isPlainAddress(s) || isE164(s) {
		return Recipient(s)
	}
	r, _ := utf8.DecodeRuneInString(s)
	if r == utf8.RuneError || !unicode.IsPrint(r) || unicode.IsSpace(r) {
		return fmt.Sprintf("*** (%d bytes)", len(s))
	}
	return fmt.Sprintf("%c*** (%d bytes)", r, len(s))
}

// isPlainAddress reports whether s is local@domain with nothing around it:
// one @, a local part without spaces, angle brackets or parentheses, and a
// domain of letters, digits, dots and dashes.
func isPlainAddress(s string) bool {
	local, domain, ok := strings.Cut(s, "@")
	if !ok || local == "" || domain == "" || strings.ContainsAny(local, " \t\r\n<>()[],;:\"@") {
		return false
	}
	for _, c := range domain {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '.' || c == '-') {
			return false
		}
	}
	return true
}

// isE164 reports whether s is "+" and 7 to 15 digits.
func isE164(s string) bool {
	if len(s) < 8 || len(s) > 16 || s[0] != '+' {
		return false
	}
	for _, c := range s[1:] {
		if c < '0' || c > '9' {
			return false
		}
	}
	return true
}
