package trackingmore_test

import (
	"context"
	"net/http"
	"slices"
	"strings"
	"testing"

	"github.com/trackhook/trackhook/dispatcher"
	"github.com/trackhook/trackhook/receiver/tracking"
)

// A v2 merchant's round trip, with the requests the v2 PHP SDK sends:
// Single::create, Single::get (with and without lang), Single::update,
// Single::del.
func TestV2CreateGetUpdateDelete(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()

	// Single::create($data): json_encode of the caller's array.
	status, m, data := e.v2.do(t, http.MethodPost, "trackings/post", map[string]string{
		"tracking_number": "RP325552475CN", "carrier_code": "china-post",
		"title": "Blue mug", "customer_name": "Ana", "customer_email": "Ana@Example.COM",
		"customer_phone": "+1 650-253-0000", "order_id": "#1234", "lang": "en",
		"destination_code": "us", "logistics_channel": "4PX page", "order_create_time": "2018-05-20 12:00",
	})
	if status != http.StatusCreated || m.Code != 201 || m.Type != "Created" {
		t.Fatalf("create: %d %+v %s", status, m, data)
	}
	created := decode[v2Tracking](t, data)
	if created.TrackingNumber != "RP325552475CN" || created.CarrierCode != "china-post" || created.Status != "pending" ||
		created.CustomerEmail != "Ana@example.com" || created.CustomerPhone != "+16502530000" || created.Lang != "en" ||
		created.OrderID != "#1234" || created.Title != "Blue mug" || created.Destination != "US" || created.ID == "" ||
		!strings.HasSuffix(created.CreatedAt, "+00:00") || created.OrderCreateTime != nil {
		t.Fatalf("created = %+v", created)
	}

	// The subscribers are the tracking's, in the store.
	st := e.get(t, "china-post", "RP325552475CN")
	if !slices.Equal(st.Emails, []string{"Ana@example.com"}) || !slices.Equal(st.SMSes, []string{"+16502530000"}) ||
		st.Language != "en" || st.OrderID != "#1234" || st.Title != "Blue mug" || st.CustomerName != "Ana" ||
		st.DestinationCountry != "USA" || st.ID != created.ID {
		t.Fatalf("stored = %+v", st)
	}

	// Single::get("RP325552475CN", "china-post") and with a language.
	for _, path := range []string{"trackings/china-post/RP325552475CN", "trackings/china-post/RP325552475CN/cn", "trackings/CHINA-POST/rp325552475cn"} {
		status, m, data = e.v2.do(t, http.MethodGet, path, nil)
		got := decode[v2Tracking](t, data)
		if status != 200 || m.Code != 200 || m.Type != "Success" || got.ID != created.ID || got.CustomerEmail != "Ana@example.com" {
			t.Fatalf("GET %s: %d %+v %+v", path, status, m, got)
		}
	}

	// Single::update("RP325552475CN", "china-post", $data): several
	// emails, a national phone number read with the destination country.
	status, m, data = e.v2.do(t, http.MethodPut, "trackings/china-post/RP325552475CN", map[string]string{
		"order_id": "#5678", "customer_email": "a@example.com, b@example.org", "customer_phone": "(650) 253-0001",
		"title": "", "archived": "false", "status": "8",
	})
	updated := decode[v2Tracking](t, data)
	if status != 200 || m.Code != 200 || updated.OrderID != "#5678" || updated.CustomerEmail != "a@example.com,b@example.org" ||
		updated.CustomerPhone != "+16502530001" || updated.Title != "" {
		t.Fatalf("update: %d %+v %+v", status, m, updated)
	}
	st = e.get(t, "china-post", "RP325552475CN")
	if !slices.Equal(st.Emails, []string{"a@example.com", "b@example.org"}) || !slices.Equal(st.SMSes, []string{"+16502530001"}) ||
		st.OrderID != "#5678" || st.Title != "" || st.Language != "en" {
		t.Fatalf("stored after update = %+v", st)
	}

	// "" clears a channel.
	if status, m, _ = e.v2.do(t, http.MethodPut, "trackings/china-post/RP325552475CN", map[string]string{"customer_phone": ""}); status != 200 {
		t.Fatalf("clear phone: %d %+v", status, m)
	}
	if st = e.get(t, "china-post", "RP325552475CN"); len(st.SMSes) != 0 || len(st.Emails) != 2 {
		t.Fatalf("after clearing the phone: %+v", st)
	}

	// Single::del: data [].
	status, m, data = e.v2.do(t, http.MethodDelete, "trackings/china-post/RP325552475CN", nil)
	if status != 200 || m.Code != 200 || string(data) != "[]" {
		t.Fatalf("delete: %d %+v %s", status, m, data)
	}
	e.absent(t, "china-post", "RP325552475CN")
	status, m, _ = e.v2.do(t, http.MethodGet, "trackings/china-post/RP325552475CN", nil)
	if status != 400 || m.Code != 4017 {
		t.Fatalf("get after delete: %d %+v", status, m)
	}
	if status, m, _ = e.v2.do(t, http.MethodDelete, "trackings/china-post/RP325552475CN", nil); m.Code != 4017 {
		t.Fatalf("delete twice: %d %+v", status, m)
	}
	_ = ctx
}

// Batch::create with good and bad items: the good ones are stored, each
// bad one is reported with its code, in TrackingMore's batch answer.
func TestV2BatchMixed(t *testing.T) {
	e := newEnv(t)
	if _, err := e.store.Create(context.Background(), tracking.Tracking{Slug: "china-ems", TrackingNumber: "LZ448865302CN"}); err != nil {
		t.Fatal(err)
	}
	items := []any{
		map[string]string{"tracking_number": "RP325552475CN", "carrier_code": "china-post", "customer_email": "x@example.com", "lang": "de"},
		map[string]string{"tracking_number": "LZ448865302CN", "carrier_code": "china-ems"},                                   // exists: 4016
		map[string]string{"tracking_number": "EA152563254CN", "carrier_code": "china-ems", "customer_email": "not-an-email"}, // 4012
		map[string]string{"carrier_code": "china-ems"},                                                                       // 4013
		map[string]string{"tracking_number": "EA1525/63254CN", "carrier_code": "china-ems"},                                  // 4014
		map[string]string{"tracking_number": "EA152563255CN", "carrier_code": "china ems!"},                                  // 4015
		"not a tracking", // 4012
		map[string]any{"tracking_number": "EA152563256CN", "carrier_code": "china-ems", "title": 7}, // 4012: wrong type
		map[string]string{"tracking_number": "RP325552475CN", "carrier_code": "china-post"},         // duplicate in the batch: 4016
		map[string]string{"tracking_number": "EA152563257CN", "carrier_code": "china-ems", "customer_phone": "+16502530000", "comment": "fragile"},
	}
	status, m, data := e.v2.do(t, http.MethodPost, "trackings/batch", items)
	if status != http.StatusCreated || m.Code != 201 {
		t.Fatalf("batch: %d %+v %s", status, m, data)
	}
	got := decode[v2BatchData](t, data)
	if got.Submitted != 10 || got.Added != 2 || len(got.Trackings) != 2 {
		t.Fatalf("batch = %+v", got)
	}
	var codes []int
	for _, er := range got.Errors {
		codes = append(codes, er.Code)
	}
	if want := []int{4016, 4012, 4013, 4014, 4015, 4012, 4012, 4016}; !slices.Equal(codes, want) {
		t.Fatalf("error codes = %v, want %v (%+v)", codes, want, got.Errors)
	}
	if got.Errors[0].TrackingNumber != "LZ448865302CN" || got.Errors[0].CarrierCode != "china-ems" || got.Errors[0].Message != "Tracking already exists." {
		t.Fatalf("first error = %+v", got.Errors[0])
	}
	if !strings.Contains(got.Errors[1].Message, "[2].customer_email") || !strings.Contains(got.Errors[5].Message, "Item 6 is a string") {
		t.Fatalf("messages do not name the item and field: %+v", got.Errors)
	}
	if st := e.get(t, "china-post", "RP325552475CN"); !slices.Equal(st.Emails, []string{"x@example.com"}) || st.Language != "de" {
		t.Fatalf("stored = %+v", st)
	}
	if st := e.get(t, "china-ems", "EA152563257CN"); !slices.Equal(st.SMSes, []string{"+16502530000"}) || st.Note != "fragile" {
		t.Fatalf("stored = %+v", st)
	}
	for _, n := range []string{"EA152563254CN", "EA152563255CN", "EA152563256CN"} {
		e.absent(t, "china-ems", n)
	}
	if n := e.count(t); n != 3 {
		t.Fatalf("store holds %d trackings, want 3", n)
	}
}

// A batch refused whole stores nothing: more than 40 items, or an unknown
// field in any item.
func TestV2BatchRefusedWhole(t *testing.T) {
	e := newEnv(t)
	var many []map[string]string
	for i := 0; i < 41; i++ {
		many = append(many, map[string]string{"tracking_number": "RP3255524" + string(rune('a'+i%26)) + "CN" + string(rune('a'+i/26)), "carrier_code": "china-post"})
	}
	status, m, _ := e.v2.do(t, http.MethodPost, "trackings/batch", many)
	if status != 400 || m.Code != 4020 {
		t.Fatalf("41 items: %d %+v", status, m)
	}
	items := []map[string]string{
		{"tracking_number": "RP325552475CN", "carrier_code": "china-post"},
		{"tracking_number": "RP325552476CN", "carrier_code": "china-post", "customer_emial": "x@example.com"},
	}
	status, m, _ = e.v2.do(t, http.MethodPost, "trackings/batch", items)
	if status != 400 || m.Code != 4012 || !strings.Contains(m.Message, "[1].customer_emial") {
		t.Fatalf("unknown field: %d %+v", status, m)
	}
	if status, m, _ = e.v2.do(t, http.MethodPost, "trackings/batch", []any{}); status != 400 || m.Code != 4012 {
		t.Fatalf("empty batch: %d %+v", status, m)
	}
	if n := e.count(t); n != 0 {
		t.Fatalf("store holds %d trackings, want 0", n)
	}
}

// Batch::get sends POST /trackings/get with a JSON body; curl users send
// GET with a query. Both list the same trackings.
func TestV2List(t *testing.T) {
	e := newEnv(t)
	for _, n := range []string{"RP325552475CN", "RP325552476CN", "RP325552477CN"} {
		if status, m, _ := e.v2.do(t, http.MethodPost, "trackings/post", map[string]string{"tracking_number": n, "carrier_code": "china-post", "order_id": "o-" + n}); status != 201 {
			t.Fatalf("create %s: %d %+v", n, status, m)
		}
	}
	// Batch::get(["numbers" => "…"]): page and limit as numbers, lang "".
	status, m, data := e.v2.do(t, http.MethodPost, "trackings/get", map[string]any{"page": 1, "limit": 50, "lang": "", "numbers": "RP325552475CN,RP325552477CN"})
	list := decode[v2ListData](t, data)
	if status != 200 || m.Code != 200 || list.Total != "2" || list.Count != 2 || len(list.Items) != 2 || list.Limit != 50 {
		t.Fatalf("POST get: %d %+v %+v", status, m, list)
	}
	status, m, data = e.v2.do(t, http.MethodGet, "trackings/get?page=1&limit=2&status=pending&orders=&created_at_min=1441314361", nil)
	list = decode[v2ListData](t, data)
	if status != 200 || list.Total != "3" || len(list.Items) != 2 || list.Count != 2 {
		t.Fatalf("GET get: %d %+v %+v", status, m, list)
	}
	if status, m, _ = e.v2.do(t, http.MethodGet, "trackings/get?status=lost", nil); status != 400 || m.Code != 4033 {
		t.Fatalf("bad status: %d %+v", status, m)
	}
	if status, m, _ = e.v2.do(t, http.MethodGet, "trackings/get?pagesize=3", nil); status != 400 || m.Code != 4012 || !strings.Contains(m.Message, "pagesize") {
		t.Fatalf("unknown parameter: %d %+v", status, m)
	}
}

// An address put back explicitly is readmitted after an opt-out.
func TestV2UpdateReadmitsOptedOut(t *testing.T) {
	e := newEnv(t)
	if status, m, _ := e.v2.do(t, http.MethodPost, "trackings/post", map[string]string{"tracking_number": "RP325552475CN", "carrier_code": "china-post", "customer_email": "a@example.com"}); status != 201 {
		t.Fatalf("create: %d %+v", status, m)
	}
	id := tracking.ID("china-post", "RP325552475CN")
	if err := e.store.OptOut(context.Background(), id, dispatcher.ChannelEmail, "a@example.com"); err != nil {
		t.Fatal(err)
	}
	// A title change does not readmit her.
	e.v2.do(t, http.MethodPut, "trackings/china-post/RP325552475CN", map[string]string{"title": "x"})
	if st := e.get(t, "china-post", "RP325552475CN"); len(st.Emails) != 0 || len(st.OptedOut) != 1 {
		t.Fatalf("after title change: %+v", st)
	}
	e.v2.do(t, http.MethodPut, "trackings/china-post/RP325552475CN", map[string]string{"customer_email": "a@example.com"})
	if st := e.get(t, "china-post", "RP325552475CN"); !slices.Equal(st.Emails, []string{"a@example.com"}) || len(st.OptedOut) != 0 {
		t.Fatalf("after putting her back: %+v", st)
	}
}
