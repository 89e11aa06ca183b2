// Package redact masks customer contact data before it reaches a log line or
// an error message: "kim@example.com" becomes "k***@example.com" and
// "+4915112345678" becomes "+49******78".
package redact

import "strings"

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
