package contact

import (
	"errors"
	"testing"
)

func TestEmail(t *testing.T) {
	for in, want := range map[string]string{
		"kim@Example.COM":     "kim@example.com",
		" Kim.Lee@example.de": "Kim.Lee@example.de",
	} {
		if got, err := Email(in); err != nil || got != want {
			t.Errorf("Email(%q) = %q, %v; want %q", in, got, err, want)
		}
	}
	for _, bad := range []string{"", "kim", "kim@", "@example.com", "Kim <kim@example.com>", "a@b", "kim@example.com\r\nBcc: x@evil.com", "a,b@example.com"} {
		if _, err := Email(bad); !errors.Is(err, ErrInvalid) {
			t.Errorf("Email(%q) accepted", bad)
		}
	}
}

func TestPhone(t *testing.T) {
	for _, tc := range []struct{ in, country, want string }{
		{"+4915112345678", "", "+4915112345678"},
		{"+49 151 1234 5678", "", "+4915112345678"},
		{"0151 12345678", "DEU", "+4915112345678"},
		{"0151 12345678", "DE", "+4915112345678"},
		{"(415) 555-2671", "USA", "+14155552671"},
		{"+85291239123", "", "+85291239123"},
	} {
		if got, err := Phone(tc.in, tc.country); err != nil || got != tc.want {
			t.Errorf("Phone(%q, %q) = %q, %v; want %q", tc.in, tc.country, got, err, tc.want)
		}
	}
	for _, bad := range []struct{ in, country string }{{"0151 12345678", ""}, {"12", "DE"}, {"+49abc", ""}, {"+1\r\n555", ""}, {"", "DE"}} {
		if _, err := Phone(bad.in, bad.country); !errors.Is(err, ErrInvalid) {
			t.Errorf("Phone(%q, %q) accepted", bad.in, bad.country)
		}
	}
}

func FuzzPhone(f *testing.F) {
	f.Add("+4915112345678", "DE")
	f.Add("0151 12345678", "DEU")
	f.Fuzz(func(t *testing.T, num, country string) {
		got, err := Phone(num, country)
		if err == nil {
			if again, err := Phone(got, ""); err != nil || again != got {
				t.Fatalf("Phone(%q) = %q is not stable: %q, %v", num, got, again, err)
			}
		}
	})
}
