package source_test

import (
	"os"
	"testing"

	"github.com/trackhook/trackhook/receiver/carrier"
	"github.com/trackhook/trackhook/receiver/source"
)

// BenchmarkAfterShipDecode is the adapter's share of every webhook on the
// ingest path: the recorded in-transit fixture, decoded and cleaned.
func BenchmarkAfterShipDecode(b *testing.B) {
	body, err := os.ReadFile("../../testdata/aftership/in_transit.json")
	if err != nil {
		b.Fatal(err)
	}
	a := source.AfterShip{Carriers: carrier.Default()}
	b.ReportAllocs()
	b.SetBytes(int64(len(body)))
	for b.Loop() {
		if _, err := a.Decode(body, nil); err != nil {
			b.Fatal(err)
		}
	}
}
