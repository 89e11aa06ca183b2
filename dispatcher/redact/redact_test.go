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
