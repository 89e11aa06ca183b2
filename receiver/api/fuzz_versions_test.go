package api

import (
	"encoding/json"
	"testing"
)

// FuzzCreateTrackingFlat: POST /tracking/2025-07/trackings, the flat body
// with customers[]. Whatever is accepted is a valid tracking whose
// customers[] view names exactly its subscribers, and the answer sent back
// as a create body gives the same tracking.
func FuzzCreateTrackingFlat(f *testing.F) {
	v, _ := LookupVersion("2025-07")
	for _, b := range []string{
		`{"tracking_number":"1Z999AA10123456784","slug":"ups","customers":[{"role":"buyer","name":"Ana García","email":"ana@Example.com","phone_number":"+34 612 345 678","language":"es"}],"destination_country_region":"ESP"}`,
		`{"tracking_number":"X1","slug":"usps","customers":[{"email":"a@x.com"},{"email":"a@x.com","language":"de"},{"phone_number":"0151 12345678"}]}`,
		`{"tracking_number":"X1","slug":"usps","customers":[{"mail":"a@x.com"}]}`,
		`{"tracking_number":"X1","slug":"usps","emails":["a@x.com"]}`,
		`{"tracking":{"tracking_number":"X1","slug":"usps"}}`,
		`{"tracking_number":"X1","slug":"usps","customers":{"email":"a@x.com"}}`,
		`{"tracking_number":"X1","slug":"usps","order_promised_delivery_date":"2026-12-24","last_mile":{"tracking_number":"Y"}}`,
		`{"tracking_number":"X1","slug":"usps","customers":[{"email":"a@x.com","language":"zz-!!"}]}`,
	} {
		f.Add([]byte(b))
	}
	a := fuzzAPI()
	f.Fuzz(func(t *testing.T, body []byte) {
		tr, err := a.parseCreate(v, body)
		if err != nil {
			checkError(t, err)
			return
		}
		checkTracking(t, a, tr)
		j := a.render(v, tr)
		seen := map[string]bool{}
		for _, c := range *j.Customers {
			if c.Email != "" {
				seen["e:"+c.Email] = true
			}
			if c.PhoneNumber != "" {
				seen["s:"+c.PhoneNumber] = true
			}
		}
		for _, e := range tr.Emails {
			if !seen["e:"+e] {
				t.Fatalf("subscriber %q missing from customers[] %+v", e, *j.Customers)
			}
		}
		for _, p := range tr.SMSes {
			if !seen["s:"+p] {
				t.Fatalf("subscriber %q missing from customers[] %+v", p, *j.Customers)
			}
		}
		if len(seen) != len(tr.Emails)+len(tr.SMSes) {
			t.Fatalf("customers[] %+v name others than %v %v", *j.Customers, tr.Emails, tr.SMSes)
		}
		again, _ := json.Marshal(map[string]any{
			"tracking_number": j.TrackingNumber, "slug": j.Slug, "title": j.Title, "order_id": j.OrderID,
			"order_number": j.OrderNumber, "language": j.Language, "destination_country_region": j.DestinationCountryRegion,
			"customers": j.Customers, "custom_fields": j.CustomFields, "note": j.Note,
		})
		tr2, err := a.parseCreate(v, again)
		if err != nil {
			t.Fatalf("the answer %s does not parse back: %v", again, err)
		}
		if len(tr.Customers) == len(*j.Customers) { // no subscriber was only in emails/smses
			if a1, a2 := mustJSON(t, tr), mustJSON(t, tr2); a1 != a2 {
				t.Fatalf("round trip changed the tracking:\n%s\n%s", a1, a2)
			}
		}
	})
}
