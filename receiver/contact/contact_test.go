package contact

import (
	"encoding/json"
	"errors"
	"net/mail"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"unicode/utf8"
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
	f.Add("+1\r\n555", "")
	_, values := testdataRecipients(f)
	for _, v := range values {
		f.Add(v, "DEU")
	}
	f.Fuzz(func(t *testing.T, num, country string) {
		got, err := Phone(num, country)
		if err == nil && (!strings.HasPrefix(got, "+") || strings.ContainsAny(got, "\x00\r\n ")) {
			t.Fatalf("Phone(%q, %q) = %q is not E.164", num, country, got)
		}
		if err == nil {
			if again, err := Phone(got, ""); err != nil || again != got {
				t.Fatalf("Phone(%q) = %q is not stable: %q, %v", num, got, again, err)
			}
		}
	})
}

// testdataRecipients returns the raw JSON of every recipient field in the
// repository's webhook testdata ("emails", "smses", "customer_email", …),
// and the strings inside them.
func testdataRecipients(tb testing.TB) (raws [][]byte, values []string) {
	tb.Helper()
	files, _ := filepath.Glob(filepath.Join("..", "..", "testdata", "*", "*.json"))
	var walk func(v any)
	walk = func(v any) {
		switch v := v.(type) {
		case map[string]any:
			for k, x := range v {
				if strings.Contains(k, "email") || strings.Contains(k, "sms") || k == "phone" {
					raw, _ := json.Marshal(x)
					raws = append(raws, raw)
					if s, ok := x.(string); ok {
						values = append(values, s)
					}
					if l, ok := x.([]any); ok {
						for _, e := range l {
							if s, ok := e.(string); ok {
								values = append(values, s)
							}
						}
					}
				}
				walk(x)
			}
		case []any:
			for _, x := range v {
				walk(x)
			}
		}
	}
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			tb.Fatal(err)
		}
		var v any
		if json.Unmarshal(b, &v) == nil {
			walk(v)
		}
	}
	if len(values) < 5 {
		tb.Fatalf("%d recipients in testdata, want at least 5", len(values))
	}
	return raws, values
}

// FuzzEmail: an accepted address is bare (no name, no line break, nothing a
// header could be split at), normalising it again changes nothing, and
// net/mail reads it back as itself.
func FuzzEmail(f *testing.F) {
	_, values := testdataRecipients(f)
	for _, v := range append(values, "kim@Example.COM", " Kim.Lee@example.de", "Kim <kim@example.com>",
		"kim@example.com\r\nBcc: x@evil.com", "a,b@example.com", `"a b"@example.com`, "kim@exa mple.com", "kim@[127.0.0.1]",
		"kim@example.com.", "k\u00e9@ex\u00e4mple.de", "=?utf-8?q?kim?=@example.com", strings.Repeat("a", 250)+"@b.cc") {
		f.Add(v)
	}
	f.Fuzz(func(t *testing.T, in string) {
		got, err := Email(in)
		if err != nil {
			if !errors.Is(err, ErrInvalid) {
				t.Fatalf("Email(%q) error %v does not wrap ErrInvalid", in, err)
			}
			return
		}
		if got == "" || len(got) > maxLen || strings.ContainsAny(got, "\x00\r\n<>,; \t") || !utf8.ValidString(got) {
			t.Fatalf("Email(%q) = %q", in, got)
		}
		if again, err := Email(got); err != nil || again != got {
			t.Fatalf("Email(%q) = %q is not stable: %q, %v", in, got, again, err)
		}
		a, err := mail.ParseAddress(got)
		if err != nil || a.Name != "" || !strings.EqualFold(a.Address, got) {
			t.Fatalf("net/mail reads %q as %+v, %v", got, a, err)
		}
	})
}

// FuzzList: any JSON value decodes to a List or to an error that names
// its kind (so encoding/json can name the field); a decoded list re-encodes
// to an array that decodes to the same list.
func FuzzList(f *testing.F) {
	raws, _ := testdataRecipients(f)
	for _, r := range raws {
		f.Add(r)
	}
	for _, s := range []string{`null`, `"a@example.com, b@example.com"`, `["+4915112345678"]`, `" , ,"`, `5`, `{}`, `[1]`, `[[1]]`,
		`true`, `"\u0000,\r\n"`, `"` + "\xff" + `"`, `[` + strings.Repeat(`"a@b.cc",`, 100) + `"x"]`, `[null]`, `""`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		var l List
		err := json.Unmarshal(b, &l)
		if err != nil {
			return // encoding/json's own error, or our type error
		}
		for _, v := range l {
			if v == "" && json.Valid(b) && len(b) > 0 && b[0] == '"' {
				t.Fatalf("comma-separated %s gave an empty entry: %q", b, l)
			}
			if len(b) > 0 && b[0] == '"' && v != strings.TrimSpace(v) {
				t.Fatalf("comma-separated %s gave an untrimmed entry %q", b, v)
			}
		}
		again, err := json.Marshal([]string(l))
		if err != nil {
			t.Fatal(err)
		}
		var l2 List
		if err := json.Unmarshal(again, &l2); err != nil || len(l2) != len(l) {
			t.Fatalf("%s → %q → %s → %q, %v", b, l, again, l2, err)
		}
		for i := range l {
			if l[i] != l2[i] && utf8.ValidString(l[i]) {
				t.Fatalf("%s → %q → %s → %q", b, l, again, l2)
			}
		}
	})
}

// Phone remembers its answers by number and region: the same national
// number is valid in one country and not in another, however often and in
// whatever order it is asked, and an invalid answer is remembered as one.
func TestPhoneRemembersByNumberAndRegion(t *testing.T) {
	for range 3 {
		if got, err := Phone("030 901820", "DE"); err != nil || got != "+4930901820" {
			t.Fatalf("Phone(030 901820, DE) = %q, %v", got, err)
		}
		if got, err := Phone("030 901820", "US"); !errors.Is(err, ErrInvalid) {
			t.Fatalf("Phone(030 901820, US) = %q, %v; want invalid", got, err)
		}
		if got, err := Phone("030 901820", "DEU"); err != nil || got != "+4930901820" {
			t.Fatalf("Phone(030 901820, DEU) = %q, %v", got, err)
		}
	}
}

// BenchmarkPhone is a subscriber's number as every webhook of its shipment
// names it again.
func BenchmarkPhone(b *testing.B) {
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Phone("+49 151 12345678", ""); err != nil {
			b.Fatal(err)
		}
	}
}
