package redact

import "testing"

func TestMask(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"kim@example.com", "k***@example.com"},
		{"a@b.c", "a***@b.c"},
		{"+4915112345678", "+49******78"},
		{"0151123456", "01******56"},
		{"12345", "*****"},
	} {
		if got := Recipient(tc.in); got != tc.want {
			t.Errorf("Recipient(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
	for _, in := range []string{"no-at-sign", "@example.com"} {
		if got := Email(in); got != "********" {
			t.Errorf("Email(%q) = %q, want it fully masked", in, got)
		}
	}
}

// A malformed subscriber entry may hold a whole second address or number:
// none of it reaches the log.
func TestUnparsed(t *testing.T) {
	for in, want := range map[string]string{
		"kim@example.com (+4915112345678)": "k*** (32 bytes)",
		"Kim <kim@example.com>":            "K*** (21 bytes)",
		"bad\r\nBcc: x@evil.example":       "b*** (24 bytes)",
		"\r\nkim@example.com":              "*** (17 bytes)",
		"kim@example.com":                  "k***@example.com",
		"+4915112345678":                   "+49******78",
	} {
		if got := Unparsed(in); got != want {
			t.Errorf("Unparsed(%q) = %q, want %q", in, got, want)
		}
	}
}
