package trackingmore_test

import (
	"context"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/trackhook/trackhook/receiver/tracking"
)

// A v4 merchant's round trip with the Go SDK's requests: CreateTracking,
// GetTrackingResults, UpdateTrackingByID, DeleteTrackingByID.
func TestV4SDKRoundTrip(t *testing.T) {
	e := newEnv(t)

	var tr sdkTracking
	status, resp := e.v4.do(t, http.MethodPost, "/trackings/create", nil, sdkCreateTrackingParams{
		TrackingNumber: "9400111899562537683144", CourierCode: "usps", OrderNumber: "1001", OrderId: "A-1001",
		DestinationCountryIso2: "US", CustomerName: "Bo", CustomerEmail: "bo@example.com", CustomerSms: "6502530000",
		Title: "Socks", Language: "fr", Note: "gift", TrackingShipDate: "20240601", Label: "x",
	}, &tr)
	if status != 200 || resp.Meta.Code != 200 {
		t.Fatalf("create: %d %+v", status, resp.Meta)
	}
	if tr.TrackingNumber != "9400111899562537683144" || tr.CourierCode != "usps" || tr.DeliveryStatus != "pending" ||
		tr.CustomerEmail != "bo@example.com" || tr.CustomerSms != "+16502530000" || tr.OrderId != "A-1001" ||
		tr.OrderNumber != "1001" || tr.Title != "Socks" || tr.Note != "gift" || tr.DestinationCountry != "US" ||
		tr.Archived != "false" || !tr.Updating || len(tr.Id) != 24 {
		t.Fatalf("created = %+v", tr)
	}
	if _, err := time.Parse(time.RFC3339, tr.CreatedAt); err != nil {
		t.Fatalf("created_at %q: %v", tr.CreatedAt, err)
	}
	st := e.get(t, "usps", "9400111899562537683144")
	if !slices.Equal(st.Emails, []string{"bo@example.com"}) || !slices.Equal(st.SMSes, []string{"+16502530000"}) ||
		st.Language != "fr" || st.OrderNumber != "1001" || st.Note != "gift" || st.ID != tr.Id {
		t.Fatalf("stored = %+v", st)
	}

	var list []sdkTracking
	status, resp = e.v4.do(t, http.MethodGet, "/trackings/get", sdkGetTrackingResultsParams{TrackingNumbers: "9400111899562537683144", CourierCode: "usps"}, nil, &list)
	if status != 200 || resp.Meta.Code != 200 || len(list) != 1 || list[0].Id != tr.Id {
		t.Fatalf("get: %d %+v %+v", status, resp.Meta, list)
	}
	status, resp = e.v4.do(t, http.MethodGet, "/trackings/get", sdkGetTrackingResultsParams{
		CreatedDateMin: time.Now().Add(-time.Hour).UTC().Format("2006-01-02T15:04:05-07:00"),
		CreatedDateMax: time.Now().Add(time.Hour).UTC().Format("2006-01-02T15:04:05-07:00"),
		DeliveryStatus: "pending", PagesAmount: 1, ItemsAmount: 10,
	}, nil, &list)
	if status != 200 || len(list) != 1 {
		t.Fatalf("get by dates: %d %+v %+v", status, resp.Meta, list)
	}
	status, _ = e.v4.do(t, http.MethodGet, "/trackings/get", sdkGetTrackingResultsParams{DeliveryStatus: "delivered"}, nil, &list)
	if status != 200 || len(list) != 0 {
		t.Fatalf("get delivered: %d %+v", status, list)
	}

	// The SDK sends every field of UpdateTrackingParams; "" leaves a field
	// as it is, so the subscribers survive a name change.
	var upd sdkUpdateAfterResult
	status, resp = e.v4.do(t, http.MethodPut, "/trackings/update/"+tr.Id, nil, sdkUpdateTrackingParams{CustomerName: "New name", Note: "New tests order note"}, &upd)
	if status != 200 || resp.Meta.Code != 200 || upd.CustomerName != "New name" || upd.CustomerEmail != "bo@example.com" || upd.Id != tr.Id {
		t.Fatalf("update: %d %+v %+v", status, resp.Meta, upd)
	}
	st = e.get(t, "usps", "9400111899562537683144")
	if st.CustomerName != "New name" || st.Note != "New tests order note" || !slices.Equal(st.Emails, []string{"bo@example.com"}) ||
		!slices.Equal(st.SMSes, []string{"+16502530000"}) || st.Title != "Socks" {
		t.Fatalf("stored after update = %+v", st)
	}
	status, resp = e.v4.do(t, http.MethodPut, "/trackings/update/"+tr.Id, nil, sdkUpdateTrackingParams{CustomerEmail: "c@example.com,d@example.com", CustomerSms: "+16502530001"}, &upd)
	if status != 200 || upd.CustomerEmail != "c@example.com,d@example.com" || upd.CustomerSms != "+16502530001" {
		t.Fatalf("update subscribers: %d %+v %+v", status, resp.Meta, upd)
	}
	if st = e.get(t, "usps", "9400111899562537683144"); !slices.Equal(st.Emails, []string{"c@example.com", "d@example.com"}) {
		t.Fatalf("stored emails = %v", st.Emails)
	}
	// courier_code_new cannot move a tracking to another key.
	status, resp = e.v4.do(t, http.MethodPut, "/trackings/update/"+tr.Id, nil, sdkUpdateTrackingParams{CourierCodeNew: "fedex", Title: "changed"}, &upd)
	if status != 400 || resp.Meta.Code != 4120 {
		t.Fatalf("courier_code_new: %d %+v", status, resp.Meta)
	}
	if st = e.get(t, "usps", "9400111899562537683144"); st.Title != "Socks" {
		t.Fatalf("a refused update changed the title: %q", st.Title)
	}

	var del sdkTracking
	status, resp = e.v4.do(t, http.MethodDelete, "/trackings/delete/"+tr.Id, nil, nil, &del)
	if status != 200 || resp.Meta.Code != 200 || del.Id != tr.Id {
		t.Fatalf("delete: %d %+v %+v", status, resp.Meta, del)
	}
	e.absent(t, "usps", "9400111899562537683144")
	status, resp = e.v4.do(t, http.MethodDelete, "/trackings/delete/"+tr.Id, nil, nil, &del)
	if status != 400 || resp.Meta.Code != 4102 {
		t.Fatalf("delete twice: %d %+v", status, resp.Meta)
	}
}

// BatchCreateTrackings with good and bad items.
func TestV4BatchMixed(t *testing.T) {
	e := newEnv(t)
	if _, err := e.store.Create(context.Background(), tracking.Tracking{Slug: "ups", TrackingNumber: "1Z999AA10123456784"}); err != nil {
		t.Fatal(err)
	}
	items := []sdkCreateTrackingParams{
		{TrackingNumber: "92632903279511573030094832", CourierCode: "usps", CustomerEmail: "a@example.com"},
		{TrackingNumber: "1Z999AA10123456784", CourierCode: "UPS"},                                      // 4101
		{TrackingNumber: "92642903289511563030094932", CourierCode: "usps", CustomerSms: "12"},          // 4130
		{TrackingNumber: "92642903289511563030094933", CourierCode: ""},                                 // 4121
		{TrackingNumber: "", CourierCode: "usps"},                                                       // 4111
		{TrackingNumber: "9264/2903289511563030094934", CourierCode: "usps"},                            // 4110
		{TrackingNumber: "92642903289511563030094935", CourierCode: "us ps"},                            // 4120
		{TrackingNumber: "92642903289511563030094936", CourierCode: "usps", Language: "not a language"}, // 4130
	}
	var res sdkBatchResults
	status, resp := e.v4.do(t, http.MethodPost, "/trackings/batch", nil, items, &res)
	if status != 200 || resp.Meta.Code != 200 {
		t.Fatalf("batch: %d %+v", status, resp.Meta)
	}
	if len(res.Success) != 1 || res.Success[0].TrackingNumber != "92632903279511573030094832" || len(res.Success[0].Id) != 24 {
		t.Fatalf("success = %+v", res.Success)
	}
	var codes []int
	for _, er := range res.Error {
		codes = append(codes, er.ErrorCode)
	}
	if want := []int{4101, 4130, 4121, 4111, 4110, 4120, 4130}; !slices.Equal(codes, want) {
		t.Fatalf("error codes = %v, want %v (%+v)", codes, want, res.Error)
	}
	if n := e.count(t); n != 2 {
		t.Fatalf("store holds %d trackings, want 2", n)
	}
	if st := e.get(t, "usps", "92632903279511573030094832"); !slices.Equal(st.Emails, []string{"a@example.com"}) {
		t.Fatalf("stored = %+v", st)
	}

	// 41 items: 4103, nothing stored.
	many := make([]sdkCreateTrackingParams, 41)
	for i := range many {
		many[i] = sdkCreateTrackingParams{TrackingNumber: "9261290302951157303" + strings.Repeat("1", 1) + string(rune('A'+i%26)) + string(rune('A'+i/26)), CourierCode: "usps"}
	}
	status, resp = e.v4.do(t, http.MethodPost, "/trackings/batch", nil, many, &res)
	if status != 400 || resp.Meta.Code != 4103 {
		t.Fatalf("41 items: %d %+v", status, resp.Meta)
	}
	if n := e.count(t); n != 2 {
		t.Fatalf("store holds %d trackings after a refused batch, want 2", n)
	}
}

// The trackings are the AfterShip-compatible API's: one created through
// TrackingMore's API is read and changed through AfterShip's, and the
// other way round.
func TestSameTrackingsAsAfterShipAPI(t *testing.T) {
	e := newEnv(t)
	if status, m, _ := e.v2.do(t, http.MethodPost, "trackings/post", map[string]string{
		"tracking_number": "9400111899562537683144", "carrier_code": "usps", "customer_email": "a@example.com", "customer_phone": "+16502530000",
	}); status != 201 {
		t.Fatalf("create: %d %+v", status, m)
	}
	// AfterShip's legacy API (v4) reads it, by slug and number.
	req, _ := http.NewRequest(http.MethodGet, e.srv.URL+"/aftership/v4/trackings/usps/9400111899562537683144", nil)
	req.Header.Set("as-api-key", testKey)
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	var as struct {
		Data struct {
			Tracking struct {
				ID     string   `json:"id"`
				Emails []string `json:"emails"`
				Smses  []string `json:"smses"`
			} `json:"tracking"`
		} `json:"data"`
	}
	if err := decodeBody(res, &as); err != nil || res.StatusCode != 200 {
		t.Fatalf("AfterShip GET: %d %v", res.StatusCode, err)
	}
	if as.Data.Tracking.ID != tracking.ID("usps", "9400111899562537683144") || !slices.Equal(as.Data.Tracking.Emails, []string{"a@example.com"}) ||
		!slices.Equal(as.Data.Tracking.Smses, []string{"+16502530000"}) {
		t.Fatalf("AfterShip sees %+v", as.Data.Tracking)
	}

	// AfterShip's API adds a subscriber; TrackingMore's v2 and v4 see her.
	req, _ = http.NewRequest(http.MethodPut, e.srv.URL+"/aftership/v4/trackings/usps/9400111899562537683144",
		strings.NewReader(`{"tracking":{"emails":["a@example.com","b@example.com"]}}`))
	req.Header.Set("as-api-key", testKey)
	req.Header.Set("Content-Type", "application/json")
	if res, err = http.DefaultClient.Do(req); err != nil || res.StatusCode != 200 {
		t.Fatalf("AfterShip PUT: %v %v", res, err)
	}
	res.Body.Close()
	_, _, data := e.v2.do(t, http.MethodGet, "trackings/usps/9400111899562537683144", nil)
	if got := decode[v2Tracking](t, data); got.CustomerEmail != "a@example.com,b@example.com" {
		t.Fatalf("v2 sees customer_email %q", got.CustomerEmail)
	}
	var list []sdkTracking
	e.v4.do(t, http.MethodGet, "/trackings/get", sdkGetTrackingResultsParams{TrackingNumbers: "9400111899562537683144"}, nil, &list)
	if len(list) != 1 || list[0].CustomerEmail != "a@example.com,b@example.com" || list[0].CustomerSms != "+16502530000" {
		t.Fatalf("v4 sees %+v", list)
	}
}

// Statuses and checkpoints a carrier reported (folded into the store by
// the receiver) read in TrackingMore's words.
func TestStatusWords(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	now := time.Date(2026, 3, 1, 10, 0, 0, 0, time.UTC)
	for _, c := range []struct {
		number     string
		status     tracking.Status
		subtag     string
		v2, v4     string
		v2s, v4sub string
	}{
		{"N1", tracking.InfoReceived, "InfoReceived_001", "notfound", "inforeceived", "notfound001", "inforeceived001"},
		{"N2", tracking.InTransit, "InTransit_003", "transit", "transit", "transit002", "transit002"},
		{"N3", tracking.OutForDelivery, "", "pickup", "pickup", "", "pickup001"},
		{"N4", tracking.AvailableForPickup, "AvailableForPickup_001", "pickup", "pickup", "", "pickup002"},
		{"N5", tracking.AttemptFail, "AttemptFail_002", "undelivered", "undelivered", "", "undelivered002"},
		{"N6", tracking.Delivered, "Delivered_001", "delivered", "delivered", "delivered001", "delivered001"},
		{"N7", tracking.Exception, "Exception_011", "exception", "exception", "exception010", "exception010"},
		{"N8", tracking.Expired, "", "expired", "expired", "", ""},
		{"N9", tracking.Pending, "", "pending", "pending", "", ""},
	} {
		tr := tracking.Tracking{Slug: "dhl", TrackingNumber: c.number, Status: c.status, Subtag: c.subtag,
			Checkpoints: []tracking.Checkpoint{
				{Time: now.Add(-48 * time.Hour), Status: tracking.InTransit, Message: "Picked up", City: "Leipzig", CountryISO3: "DEU"},
				{Time: now, Status: c.status, Subtag: c.subtag, Message: "Latest", City: "Berlin", CountryISO3: "DEU"},
			}}
		if _, err := e.store.Create(ctx, tr); err != nil {
			t.Fatal(err)
		}
		_, _, data := e.v2.do(t, http.MethodGet, "trackings/dhl/"+c.number, nil)
		g2 := decode[v2Tracking](t, data)
		sub := ""
		if g2.Substatus != nil {
			sub = *g2.Substatus
		}
		if g2.Status != c.v2 || sub != c.v2s || len(g2.OriginInfo.Trackinfo) != 2 || g2.OriginInfo.Trackinfo[0].StatusDescription != "Latest" ||
			g2.OriginInfo.Trackinfo[0].Date != "2026-03-01 10:00:00" || g2.OriginInfo.Trackinfo[0].Details != "Berlin, DEU" ||
			g2.OriginInfo.Trackinfo[1].CheckpointStatus != "transit" || g2.LastUpdateTime != "2026-03-01 10:00:00" {
			t.Errorf("v2 %s: %+v", c.number, g2)
		}
		var list []sdkTracking
		e.v4.do(t, http.MethodGet, "/trackings/get", sdkGetTrackingResultsParams{TrackingNumbers: c.number}, nil, &list)
		if len(list) != 1 || list[0].DeliveryStatus != c.v4 || list[0].Substatus != c.v4sub ||
			list[0].OriginInfo.Trackinfo[0].CheckpointDate != "2026-03-01T10:00:00+00:00" || list[0].OriginInfo.Trackinfo[0].CountryIso2 != "DE" ||
			list[0].LatestEvent != "Latest, Berlin, DEU" || list[0].OriginInfo.MilestoneDate.PickupDate != "2026-02-27T10:00:00+00:00" {
			t.Errorf("v4 %s: %+v", c.number, list)
		}
	}
	// The v2 and v4 status filters select by these words.
	_, _, data := e.v2.do(t, http.MethodGet, "trackings/get?status=pickup", nil)
	if l := decode[v2ListData](t, data); l.Total != "2" {
		t.Errorf("v2 status=pickup: %+v", l)
	}
	var list []sdkTracking
	e.v4.do(t, http.MethodGet, "/trackings/get", sdkGetTrackingResultsParams{DeliveryStatus: "inforeceived"}, nil, &list)
	if len(list) != 1 || list[0].TrackingNumber != "N1" {
		t.Errorf("v4 inforeceived: %+v", list)
	}
}
