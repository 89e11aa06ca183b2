package tracking

import "testing"

func TestStatusRoundTrip(t *testing.T) {
	for _, s := range Statuses() {
		got, err := ParseStatus(s.String())
		if err != nil || got != s {
			t.Errorf("ParseStatus(%q) = %v, %v", s, got, err)
		}
	}
	for in, want := range map[string]Status{"out_for_delivery": OutForDelivery, "intransit": InTransit, "Available-For-Pickup": AvailableForPickup} {
		if got, err := ParseStatus(in); err != nil || got != want {
			t.Errorf("ParseStatus(%q) = %v, %v; want %v", in, got, err, want)
		}
	}
	for _, bad := range []string{"", "Shipped", "InTransit_001"} {
		if _, err := ParseStatus(bad); err == nil {
			t.Errorf("ParseStatus(%q) succeeded", bad)
		}
	}
}

func TestStatusSet(t *testing.T) {
	set, err := ParseStatusSet("InTransit, delivered")
	if err != nil {
		t.Fatal(err)
	}
	if !set.Has(InTransit) || !set.Has(Delivered) || set.Has(Exception) || set.Has(StatusInvalid) {
		t.Fatalf("set %v", set)
	}
	if got := DefaultTriggers.String(); got != "InTransit,OutForDelivery,AttemptFail,AvailableForPickup,Delivered,Exception" {
		t.Fatalf("DefaultTriggers = %s", got)
	}
	if _, err := ParseStatusSet("InTransit,Bogus"); err == nil {
		t.Fatal("bad status accepted")
	}
}

// Every stored tracking's JSON carries statuses, so ParseStatus runs several
// times per webhook (Store.read decodes the tracking).
func BenchmarkParseStatus(b *testing.B) {
	for _, v := range []string{"OutForDelivery", "out_for_delivery"} {
		b.Run(v, func(b *testing.B) {
			for b.Loop() {
				if _, err := ParseStatus(v); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
