package tracking

import (
	"testing"
	"time"
)

// A sender's expected delivery date is untrusted text: whatever it is,
// ParseDeliveryDate either refuses it or returns a real calendar day in
// "2006-01-02" form, the date the text starts with.
func FuzzParseDeliveryDate(f *testing.F) {
	for _, s := range []string{"2026-01-05", "2026-01-05T17:00:00Z", "2026-01-05T09:00:00-05:00", "2026-01-05 12:00",
		"", "soon", "2026-13-01", "2026-02-30", " 2026-01-05 ", "2026-01-05X", "0000-00-00", "99999-01-01"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		d, ok := ParseDeliveryDate(s)
		if !ok {
			if d != "" {
				t.Fatalf("refused %q but returned %q", s, d)
			}
			return
		}
		day, err := time.Parse(time.DateOnly, d)
		if err != nil || day.Format(time.DateOnly) != d || day.Year() < 2000 || day.Year() > 2100 {
			t.Fatalf("%q read as %q, not a day from 2000 to 2100", s, d)
		}
		if end := EndOfDay(d, time.UTC); !end.Equal(day.AddDate(0, 0, 1)) {
			t.Fatalf("EndOfDay(%q) = %v", d, end)
		}
	})
}
