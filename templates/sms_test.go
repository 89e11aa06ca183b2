package templates

import (
	"strings"
	"testing"
	"unicode"
	"unicode/utf8"
)

func TestSMSSegments(t *testing.T) {
	a := func(n int) string { return strings.Repeat("a", n) }
	tests := []struct {
		name     string
		body     string
		wantGSM  bool
		wantSegs int
	}{
		{"empty", "", true, 0},
		{"short", "Your parcel is on its way.", true, 1},
		{"160 septets", a(160), true, 1},
		{"161 septets", a(161), true, 2},
		{"two full parts", a(306), true, 2},
		{"one more", a(307), true, 3},
		{"extension chars count twice", strings.Repeat("€", 80), true, 1},
		{"extension chars over one segment", strings.Repeat("€", 81), true, 2},
		{"brackets and braces", "[{~}]|^\\", true, 1},
		{"extension char is not split across parts", a(152) + "€" + a(152), true, 3},
		{"GSM-7 accents", "éèàùìòñüäößÉÑÜÄÖÇÅåØøÆæ¿¡£¥§¤ΔΦΓΛΩΠΨΣΘΞ", true, 1},
		{"line breaks are GSM-7", "a\nb\r\nc", true, 1},
		{"French c cedilla is not GSM-7", "Nous avons reçu votre colis", false, 1},
		{"French circumflex is not GSM-7", "prêt", false, 1},
		{"Spanish acute accents are not GSM-7", "está", false, 1},
		{"backtick is not GSM-7", "a`b", false, 1},
		{"curly quote is not GSM-7", "l’expéditeur", false, 1},
		{"70 UCS-2 units", strings.Repeat("ç", 70), false, 1},
		{"71 UCS-2 units", strings.Repeat("ç", 71), false, 2},
		{"two full UCS-2 parts", strings.Repeat("ç", 134), false, 2},
		{"one more UCS-2", strings.Repeat("ç", 135), false, 3},
		{"emoji take two units", strings.Repeat("😀", 35), false, 1},
		{"emoji over one segment", strings.Repeat("😀", 36), false, 2},
		{"surrogate pair is not split across parts", strings.Repeat("ç", 66) + "😀" + strings.Repeat("ç", 66), false, 3},
		{"one non-GSM char turns a long text into UCS-2", a(100) + "ç", false, 2},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			gsm, segs := SMSSegments(tt.body)
			if gsm != tt.wantGSM || segs != tt.wantSegs {
				t.Errorf("SMSSegments(%q) = %v, %d; want %v, %d", tt.body, gsm, segs, tt.wantGSM, tt.wantSegs)
			}
		})
	}
}

func TestGSMPrintableASCII(t *testing.T) {
	for r := rune(' '); r <= '~'; r++ {
		got := gsmSeptets(r)
		want := 1
		switch {
		case r == '`':
			want = 0
		case strings.ContainsRune("[\\]^{|}~", r):
			want = 2
		}
		if got != want {
			t.Errorf("gsmSeptets(%q) = %d, want %d", r, got, want)
		}
	}
}

func FuzzSMSSegments(f *testing.F) {
	for _, s := range []string{"", "hello", strings.Repeat("€", 81), "ç😀", "a\xffb"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, body string) {
		gsm, segs := SMSSegments(body)
		if body == "" {
			if segs != 0 {
				t.Errorf("empty body: %d segments", segs)
			}
			return
		}
		// A segment holds at least 76 characters (153 septets of
		// two-septet characters, or 67 UTF-16 units of surrogate pairs).
		n := utf8.RuneCountInString(body)
		if segs < 1 || segs > n/33+1 {
			t.Errorf("SMSSegments(%q) = %v, %d: out of range for %d characters", body, gsm, segs, n)
		}
		if gsm && segs == 1 && n > gsmSingle {
			t.Errorf("%d GSM-7 characters in one segment", n)
		}
	})
}

func FuzzOneLine(f *testing.F) {
	for _, s := range []string{"", "a\r\nBcc: x", "\u202eabc", strings.Repeat("x ", 100), "a\xffb"} {
		f.Add(s, 10)
	}
	f.Fuzz(func(t *testing.T, s string, max int) {
		if max < 1 || max > 1000 {
			return
		}
		got := oneLine(s, max)
		if !utf8.ValidString(got) {
			t.Errorf("oneLine(%q) = %q: invalid UTF-8", s, got)
		}
		if n := utf8.RuneCountInString(got); n > max {
			t.Errorf("oneLine(%q, %d) has %d characters", s, max, n)
		}
		if got != strings.TrimSpace(got) || strings.Contains(got, "  ") {
			t.Errorf("oneLine(%q) = %q: untrimmed or doubled space", s, got)
		}
		for _, r := range got {
			if unicode.IsControl(r) || isBidiControl(r) || r == '\u2028' || r == '\u2029' {
				t.Errorf("oneLine(%q) = %q: contains %U", s, got, r)
			}
		}
	})
}
