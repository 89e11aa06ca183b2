package receiver_test

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/hibiken/asynq"

	"github.com/trackhook/trackhook/dispatcher"
	"github.com/trackhook/trackhook/receiver/api"
	"github.com/trackhook/trackhook/receiver/carrier"
	"github.com/trackhook/trackhook/receiver/tracking"
)

// The request and response types below mirror AfterShip's SDKs, field for
// field where trackhook reads them, with the SDK's Go types (a mismatch
// fails the SDK's decode).

// sdkLastCheckpoint mirrors tracking-sdk-go (branch 2024-04)
// model/get_checkpoint_by_tracking_id_response.go and model/checkpoint.go.
type sdkLastCheckpoint struct {
	ID             string `json:"id,omitempty"`
	TrackingNumber string `json:"tracking_number,omitempty"`
	Slug           string `json:"slug,omitempty"`
	Tag            string `json:"tag,omitempty"`
	Subtag         string `json:"subtag,omitempty"`
	SubtagMessage  string `json:"subtag_message,omitempty"`
	Checkpoint     struct {
		CreatedAt      string `json:"created_at,omitempty"`
		Slug           string `json:"slug,omitempty"`
		CheckpointTime string `json:"checkpoint_time,omitempty"`
		Location       string `json:"location,omitempty"`
		City           string `json:"city,omitempty"`
		Zip            string `json:"zip,omitempty"`
		CountryIso3    string `json:"country_iso3,omitempty"`
		Message        string `json:"message,omitempty"`
		Tag            string `json:"tag,omitempty"`
		Subtag         string `json:"subtag,omitempty"`
	} `json:"checkpoint,omitempty"`
}

// sdkMarkCompleted mirrors model/mark_tracking_completed_by_id_request.go.
type sdkMarkCompleted struct {
	Reason string `json:"reason"`
}

// sdkRetrack mirrors model/retrack_tracking_by_id_response.go
// (PartialUpdateTracking, model/partial_update_tracking.go).
type sdkRetrack struct {
	Tracking struct {
		ID             string `json:"id,omitempty"`
		TrackingNumber string `json:"tracking_number,omitempty"`
		Slug           string `json:"slug,omitempty"`
		Active         bool   `json:"active,omitempty"`
	} `json:"tracking,omitempty"`
}

// sdkCourier mirrors model/courier.go; the couriers answers mirror
// model/get_user_couriers_response.go, get_all_couriers_response.go and
// detect_courier_response.go (all three {total, couriers}).
type sdkCourier struct {
	Slug                      string   `json:"slug,omitempty"`
	Name                      string   `json:"name,omitempty"`
	Phone                     string   `json:"phone,omitempty"`
	OtherName                 string   `json:"other_name,omitempty"`
	WebURL                    string   `json:"web_url,omitempty"`
	RequiredFields            []string `json:"required_fields,omitempty"`
	OptionalFields            []string `json:"optional_fields,omitempty"`
	DefaultLanguage           string   `json:"default_language,omitempty"`
	SupportLanguages          []string `json:"support_languages,omitempty"`
	ServiceFromCountryIso3    []string `json:"service_from_country_iso3,omitempty"`
	ServiceFromCountryRegions []string `json:"service_from_country_regions,omitempty"` // nodejs 2025-01 src/model/Courier.ts
}

type sdkCouriers struct {
	Total    int          `json:"total,omitempty"`
	Couriers []sdkCourier `json:"couriers,omitempty"`
}

// sdkDetect mirrors model/detect_courier_request.go (2024-04, wrapped).
type sdkDetect struct {
	Tracking *struct {
		TrackingNumber string   `json:"tracking_number,omitempty"`
		Slug           []string `json:"slug,omitempty"`
	} `json:"tracking,omitempty"`
}

// sdkCustomer mirrors tracking-sdk-nodejs (branch 2025-01)
// src/model/CustomersCreateTrackingRequest.ts and CustomersTracking.ts.
type sdkCustomer struct {
	Role        string `json:"role,omitempty"`
	Name        string `json:"name,omitempty"`
	PhoneNumber string `json:"phone_number,omitempty"`
	Email       string `json:"email,omitempty"`
	Language    string `json:"language,omitempty"`
}

// sdkCreate2025 mirrors src/model/CreateTrackingRequest.ts (2025-01): a
// flat body.
type sdkCreate2025 struct {
	TrackingNumber             string            `json:"tracking_number"`
	Slug                       string            `json:"slug,omitempty"`
	Title                      string            `json:"title,omitempty"`
	OrderID                    string            `json:"order_id,omitempty"`
	CustomFields               map[string]string `json:"custom_fields,omitempty"`
	Language                   string            `json:"language,omitempty"`
	OrderPromisedDeliveryDate  string            `json:"order_promised_delivery_date,omitempty"`
	DestinationCountryRegion   string            `json:"destination_country_region,omitempty"`
	OrderNumber                string            `json:"order_number,omitempty"`
	Customers                  []sdkCustomer     `json:"customers,omitempty"`
	TrackingDestinationCountry string            `json:"tracking_destination_country_region,omitempty"`
}

// sdkTracking2025 mirrors src/model/Tracking.ts (2025-01), the fields read.
type sdkTracking2025 struct {
	ID                       string        `json:"id,omitempty"`
	TrackingNumber           string        `json:"tracking_number,omitempty"`
	Slug                     string        `json:"slug,omitempty"`
	Active                   bool          `json:"active,omitempty"`
	DestinationCountryRegion string        `json:"destination_country_region,omitempty"`
	Tag                      string        `json:"tag,omitempty"`
	Subtag                   string        `json:"subtag,omitempty"`
	Title                    string        `json:"title,omitempty"`
	OrderID                  string        `json:"order_id,omitempty"`
	Language                 string        `json:"language,omitempty"`
	Customers                []sdkCustomer `json:"customers,omitempty"`
	Checkpoints              []struct {
		CheckpointTime string `json:"checkpoint_time,omitempty"`
		CountryRegion  string `json:"country_region,omitempty"`
		Zip            string `json:"zip,omitempty"`
		PostalCode     string `json:"postal_code,omitempty"`
		Message        string `json:"message,omitempty"`
	} `json:"checkpoints,omitempty"`
}

// sdkList2025 mirrors src/model/GetTrackingsResponse.ts and Pagination.ts
// (2025-01: cursor pagination).
type sdkList2025 struct {
	Pagination struct {
		Total       int    `json:"total"`
		NextCursor  string `json:"next_cursor"`
		HasNextPage bool   `json:"has_next_page"`
	} `json:"pagination"`
	Trackings []sdkTracking2025 `json:"trackings"`
}

// pendingTasks lists the notify tasks waiting in asynq, by channel.
func pendingTasks(t *testing.T, ins *asynq.Inspector) []dispatcher.Notification {
	t.Helper()
	var out []dispatcher.Notification
	for _, q := range []string{dispatcher.QueueEmail, dispatcher.QueueSMS} {
		tasks, err := ins.ListPendingTasks(q)
		if err != nil && !strings.Contains(err.Error(), "not found") {
			t.Fatal(err)
		}
		for _, ti := range tasks {
			var n dispatcher.Notification
			if err := json.Unmarshal(ti.Payload, &n); err != nil {
				t.Fatal(err)
			}
			out = append(out, n)
		}
	}
	return out
}

// TestSDK2024_04Surface: the calls of AfterShip's Go SDK (2024-04) that
// used to answer 405 or 404: last checkpoint, mark as completed, retrack
// and the couriers endpoints.
func TestSDK2024_04Surface(t *testing.T) {
	hs, store, rs := newAPIServer(t, apiKey)
	s := sdk{t: t, base: hs.URL, key: apiKey}
	ins := asynq.NewInspectorFromRedisClient(rs.Client())
	const base = "/tracking/2024-04"
	ctx := t.Context()

	created := call[trackingData](s, "POST", base+"/trackings", "", map[string]any{"tracking": createTracking{
		TrackingNumber: "1Z999AA10123456784", Slug: "ups", Emails: []string{"ana@example.com"}, Smses: []string{"+34612345678"}}})
	if !created.ok() {
		t.Fatalf("create: %+v", created.Meta)
	}
	id := created.Data.Tracking.ID

	// Last checkpoint: none yet, then the newest one a sender reported.
	lc := call[sdkLastCheckpoint](s, "GET", base+"/last_checkpoint/"+id, "", nil)
	if !lc.ok() || lc.Data.ID != id || lc.Data.Tag != "Pending" || lc.Data.Checkpoint.Message != "" {
		t.Fatalf("last checkpoint of a new tracking: %+v %+v", lc.Meta, lc.Data)
	}
	at := time.Date(2026, 3, 2, 9, 30, 0, 0, time.UTC)
	if _, err := store.Apply(ctx, tracking.Event{Source: "aftership", Slug: "ups", TrackingNumber: "1Z999AA10123456784",
		Status: tracking.InTransit, OccurredAt: at.Add(time.Hour), Checkpoints: []tracking.Checkpoint{
			{Time: at, Status: tracking.InTransit, Message: "Departed", City: "Madrid", CountryISO3: "ESP", Zip: "28001"},
			{Time: at.Add(time.Hour), Status: tracking.InTransit, Message: "Arrived at facility", City: "Zaragoza", CountryISO3: "ESP", Zip: "50001"},
		}}, noPlan); err != nil {
		t.Fatal(err)
	}
	for _, path := range []string{"/last_checkpoint/" + id, "/last_checkpoint/ups/1Z999AA10123456784"} {
		lc := call[sdkLastCheckpoint](s, "GET", base+path, "", nil)
		cp := lc.Data.Checkpoint
		if !lc.ok() || lc.Data.Tag != "InTransit" || cp.Message != "Arrived at facility" || cp.City != "Zaragoza" ||
			cp.Zip != "50001" || cp.CountryIso3 != "ESP" || cp.CheckpointTime != "2026-03-02T10:30:00Z" {
			t.Fatalf("GET %s: %+v %+v", path, lc.Meta, lc.Data)
		}
	}
	if f := call[sdkLastCheckpoint](s, "GET", base+"/last_checkpoint/"+id, "fields=message,city", nil); f.Data.Checkpoint.Message == "" ||
		f.Data.Checkpoint.Zip != "" || f.Data.Checkpoint.CheckpointTime != "" {
		t.Fatalf("fields=message,city kept %+v", f.Data.Checkpoint)
	}
	if bad := call[struct{}](s, "GET", base+"/last_checkpoint/"+id, "fields=password", nil); bad.status != 400 || bad.Meta.Code != 4008 {
		t.Fatalf("fields=password: %d %+v", bad.status, bad.Meta)
	}
	before := len(pendingTasks(t, ins))

	// Retrack: only an expired, inactive tracking.
	if r := call[struct{}](s, "POST", base+"/trackings/"+id+"/retrack", "", nil); r.status != 400 || r.Meta.Code != 4013 {
		t.Fatalf("retrack of an active tracking: %d %+v", r.status, r.Meta)
	}

	// Mark as completed: the status change notifies like a carrier's.
	for _, tc := range []struct{ body, want string }{
		{`{}`, "4009"}, {`{"reason":"STOLEN"}`, "4008"}, {`{"reason":"DELIVERED","why":"x"}`, "4008"},
	} {
		r := call[struct{}](s, "POST", base+"/trackings/"+id+"/mark-as-completed", "", json.RawMessage(tc.body))
		if r.status != 400 || itoa(r.Meta.Code) != tc.want {
			t.Errorf("mark-as-completed %s: %d %+v, want %s", tc.body, r.status, r.Meta, tc.want)
		}
	}
	if n := len(pendingTasks(t, ins)); n != before {
		t.Fatalf("refused calls queued %d notifications", n-before)
	}
	done := call[trackingData](s, "POST", base+"/trackings/"+id+"/mark-as-completed", "", sdkMarkCompleted{Reason: "DELIVERED"})
	if !done.ok() || done.Data.Tracking.Tag != "Delivered" || done.Data.Tracking.Subtag != "Delivered_001" || done.Data.Tracking.Active {
		t.Fatalf("mark as delivered: %+v %+v", done.Meta, done.Data.Tracking)
	}
	queued := pendingTasks(t, ins)
	if len(queued) != before+2 {
		t.Fatalf("marking delivered queued %d notifications, want 2 (an email and an SMS)", len(queued)-before)
	}
	for _, n := range queued {
		if n.Status != "Delivered" || n.TrackingID != id {
			t.Errorf("queued %+v", n)
		}
	}
	again := call[trackingData](s, "POST", base+"/trackings/ups/1Z999AA10123456784/mark-as-completed", "", sdkMarkCompleted{Reason: "delivered"})
	if !again.ok() || len(pendingTasks(t, ins)) != len(queued) {
		t.Fatalf("marking again: %+v, %d queued (want none new)", again.Meta, len(pendingTasks(t, ins))-len(queued))
	}
	lost := call[trackingData](s, "POST", base+"/trackings/ups/1Z999AA10123456784/mark-as-completed", "", sdkMarkCompleted{Reason: "LOST"})
	if !lost.ok() || lost.Data.Tracking.Tag != "Exception" || lost.Data.Tracking.Subtag != "Exception_013" {
		t.Fatalf("mark as lost: %+v %+v", lost.Meta, lost.Data.Tracking)
	}
	if r := call[struct{}](s, "POST", base+"/trackings/bbbbbbbbbbbbbbbbbbbbbbbb/mark-as-completed", "", sdkMarkCompleted{Reason: "LOST"}); r.status != 404 || r.Meta.Code != 4004 {
		t.Fatalf("mark an unknown tracking: %d %+v", r.status, r.Meta)
	}

	// Retrack an expired tracking: active again, at most three times.
	for i := 1; i <= api.MaxRetracks+1; i++ {
		if _, err := store.Apply(ctx, tracking.Event{Source: "aftership", Slug: "ups", TrackingNumber: "1Z999AA10123456784",
			Status: tracking.Expired, OccurredAt: time.Now().Add(time.Duration(i) * time.Hour)}, noPlan); err != nil {
			t.Fatal(err)
		}
		r := call[sdkRetrack](s, "POST", base+"/trackings/"+id+"/retrack", "", nil)
		if i > api.MaxRetracks {
			if r.status != 400 || r.Meta.Code != 4016 {
				t.Fatalf("retrack %d: %d %+v, want 4016", i, r.status, r.Meta)
			}
			break
		}
		if !r.ok() || !r.Data.Tracking.Active || r.Data.Tracking.ID != id {
			t.Fatalf("retrack %d: %+v %+v", i, r.Meta, r.Data)
		}
		if r := call[struct{}](s, "POST", base+"/trackings/ups/1Z999AA10123456784/retrack", "", nil); r.Meta.Code != 4013 {
			t.Fatalf("retrack of a retracked (active) tracking: %+v", r.Meta)
		}
	}

	// Couriers: the catalogue, and detection by number.
	cat := carrier.Default()
	for _, path := range []string{"/couriers", "/couriers/all"} {
		c := call[sdkCouriers](s, "GET", base+path, "", nil)
		if !c.ok() || c.Data.Total != cat.Len() || len(c.Data.Couriers) != cat.Len() {
			t.Fatalf("GET %s: %+v total %d, catalogue %d", path, c.Meta, c.Data.Total, cat.Len())
		}
	}
	det := call[sdkCouriers](s, "POST", base+"/couriers/detect", "", map[string]any{"tracking": map[string]any{"tracking_number": "1Z999AA10123456784"}})
	if !det.ok() || det.Data.Total == 0 || det.Data.Couriers[0].Slug != "ups" || det.Data.Couriers[0].WebURL == "" {
		t.Fatalf("detect a UPS number: %+v %+v", det.Meta, det.Data)
	}
	var body sdkDetect
	body.Tracking = &struct {
		TrackingNumber string   `json:"tracking_number,omitempty"`
		Slug           []string `json:"slug,omitempty"`
	}{TrackingNumber: "1Z999AA10123456784", Slug: []string{"fedex", "usps"}}
	if none := call[sdkCouriers](s, "POST", base+"/couriers/detect", "", body); !none.ok() || none.Data.Total != 0 {
		t.Fatalf("detect among fedex, usps: %+v %+v", none.Meta, none.Data)
	}
	if r := call[struct{}](s, "POST", base+"/couriers/detect", "", map[string]any{"tracking": map[string]any{}}); r.status != 400 || r.Meta.Code != 4007 {
		t.Fatalf("detect without a number: %d %+v", r.status, r.Meta)
	}
}

// noPlan plans no notifications (the test's own carrier updates).
func noPlan(*tracking.Tracking, []tracking.Due) ([]tracking.Job, error) { return nil, nil }

func itoa(n int) string { b, _ := json.Marshal(n); return string(b) }

// TestAPIVersions: each version in its own shape; customers[] and
// emails/smses are two views of the same subscribers; a field no version
// defines is refused by name and nothing is stored; an unserved version is
// refused naming the served ones.
func TestAPIVersions(t *testing.T) {
	hs, store, rs := newAPIServer(t, apiKey)
	s := sdk{t: t, base: hs.URL, key: apiKey}
	ins := asynq.NewInspectorFromRedisClient(rs.Client())
	ctx := t.Context()

	// 2025-07: the flat body with customers[] (this was "tracking object is
	// required").
	c := call[sdkTracking2025](s, "POST", "/tracking/2025-07/trackings", "", sdkCreate2025{
		TrackingNumber: "00340434161094042557", Slug: "dhl-germany", Title: "Bestellung 77", Language: "de",
		DestinationCountryRegion: "DEU", OrderPromisedDeliveryDate: "2026-12-24",
		Customers: []sdkCustomer{
			{Role: "buyer", Name: "Kim Meyer", Email: "kim@example.com", PhoneNumber: "0151 12345678", Language: "de"},
			{Role: "receiver", Name: "Ana García", Email: "ana@example.com", Language: "es"},
		}})
	if c.status != 201 || c.Data.ID == "" || c.Data.DestinationCountryRegion != "DEU" || len(c.Data.Customers) != 2 ||
		c.Data.Customers[0] != (sdkCustomer{Role: "buyer", Name: "Kim Meyer", Email: "kim@example.com", PhoneNumber: "+4915112345678", Language: "de"}) ||
		c.Data.Customers[1].Language != "es" {
		t.Fatalf("2025-07 create: %d %+v %+v", c.status, c.Meta, c.Data)
	}
	id := c.Data.ID
	stored, err := store.Get(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	if strings.Join(stored.Emails, ",") != "kim@example.com,ana@example.com" || strings.Join(stored.SMSes, ",") != "+4915112345678" {
		t.Fatalf("stored subscribers %v %v", stored.Emails, stored.SMSes)
	}
	// The same subscribers through the 2024-04 view.
	legacy := call[trackingData](s, "GET", "/tracking/2024-04/trackings/"+id, "", nil)
	if strings.Join(legacy.Data.Tracking.Emails, ",") != "kim@example.com,ana@example.com" || legacy.Data.Tracking.CustomerName != "Kim Meyer" ||
		legacy.Data.Tracking.DestinationCountryIso3 != "DEU" {
		t.Fatalf("2024-04 view: %+v", legacy.Data.Tracking)
	}
	call[notificationData](s, "POST", "/v4/notifications/"+id+"/remove", "", map[string]any{"notification": map[string]any{"emails": []string{"ana@example.com"}}})
	if g := call[sdkTracking2025](s, "GET", "/tracking/2026-01/trackings/"+id, "", nil); len(g.Data.Customers) != 1 || g.Data.Customers[0].Email != "kim@example.com" {
		t.Fatalf("after removing ana through notifications: customers %+v", g.Data.Customers)
	}
	call[notificationData](s, "POST", "/v4/notifications/"+id+"/add", "", map[string]any{"notification": map[string]any{"emails": []string{"lee@example.com", "ana@example.com"}}})

	// Each subscriber is written to in their own language.
	call[sdkTracking2025](s, "POST", "/tracking/2025-07/trackings/"+id+"/mark-as-completed", "", sdkMarkCompleted{Reason: "DELIVERED"})
	langs := map[string]string{}
	for _, n := range pendingTasks(t, ins) {
		langs[n.Recipient] = n.Language
	}
	// ana came back through the legacy view; her language is still hers.
	if langs["kim@example.com"] != "de" || langs["+4915112345678"] != "de" || langs["lee@example.com"] != "de" ||
		langs["ana@example.com"] != "es" || len(langs) != 4 {
		t.Fatalf("notification languages %v", langs)
	}

	// Update through customers[] replaces the subscribers.
	u := call[sdkTracking2025](s, "PUT", "/tracking/2025-07/trackings/"+id, "", map[string]any{"customers": []sdkCustomer{{Email: "zoe@example.com", Language: "fr"}}})
	if !u.ok() || len(u.Data.Customers) != 1 || u.Data.Customers[0].Email != "zoe@example.com" {
		t.Fatalf("update customers: %+v %+v", u.Meta, u.Data.Customers)
	}
	if g, _ := store.Get(ctx, id); strings.Join(g.Emails, ",") != "zoe@example.com" || len(g.SMSes) != 0 || g.LanguageFor(dispatcher.ChannelEmail, "zoe@example.com") != "fr" {
		t.Fatalf("stored after update: %v %v", g.Emails, g.SMSes)
	}

	// No silent drops: a field no version defines, or one of another
	// version, is a 4008 naming it, and nothing is stored.
	for _, tc := range []struct{ path, body, field string }{
		{"/tracking/2024-04/trackings", `{"tracking":{"tracking_number":"X1","slug":"usps","emial":["a@example.com"]}}`, "`tracking.emial`"},
		{"/tracking/2024-04/trackings", `{"tracking":{"tracking_number":"X1","slug":"usps"},"notify":true}`, "`notify`"},
		{"/tracking/2024-04/trackings", `{"tracking":{"tracking_number":"X1","slug":"usps","customers":[{"email":"a@example.com"}]}}`, "`tracking.customers`"},
		{"/tracking/2025-07/trackings", `{"tracking_number":"X1","slug":"usps","emails":["a@example.com"]}`, "`emails`"},
		{"/tracking/2025-07/trackings", `{"tracking_number":"X1","slug":"usps","customers":[{"mail":"a@example.com"}]}`, "`customers[0].mail`"},
		{"/tracking/2025-07/trackings", `{"tracking":{"tracking_number":"X1","slug":"usps"}}`, "`tracking`"},
		{"/v4/trackings", `{"tracking":{"tracking_number":"X1","slug":"usps","smss":"+4915112345678"}}`, "`tracking.smss`"},
	} {
		r := call[struct{}](s, "POST", tc.path, "", json.RawMessage(tc.body))
		if r.status != 400 || r.Meta.Code != 4008 || !strings.Contains(r.Meta.Message, tc.field) {
			t.Errorf("POST %s %s: %d %+v, want 4008 naming %s", tc.path, tc.body, r.status, r.Meta, tc.field)
		}
	}
	if _, err := store.Get(ctx, tracking.ID("usps", "X1")); err == nil {
		t.Fatal("a refused create stored a tracking")
	}
	// A field the version defines but trackhook does not use is accepted.
	if r := call[trackingData](s, "POST", "/tracking/2024-04/trackings", "", json.RawMessage(`{"tracking":{"tracking_number":"X2","slug":"usps","order_promised_delivery_date":"2026-12-24","pickup_note":"door"}}`)); r.status != 201 {
		t.Fatalf("ignored fields: %d %+v", r.status, r.Meta)
	}
	// An update may name the tracking's own slug, not another.
	if r := call[trackingData](s, "PUT", "/tracking/2024-04/trackings/ups/X2", "", json.RawMessage(`{"tracking":{"slug":"fedex"}}`)); r.status != 404 {
		t.Fatalf("update of an absent tracking: %d", r.status)
	}
	x2 := tracking.ID("usps", "X2")
	if r := call[struct{}](s, "PUT", "/tracking/2024-04/trackings/"+x2, "", json.RawMessage(`{"tracking":{"slug":"fedex"}}`)); r.status != 400 || r.Meta.Code != 4008 {
		t.Fatalf("update to another slug: %d %+v", r.status, r.Meta)
	}
	if r := call[trackingData](s, "PUT", "/tracking/2024-04/trackings/"+x2, "", json.RawMessage(`{"tracking":{"slug":"USPS","title":"t"}}`)); !r.ok() {
		t.Fatalf("update naming its own slug: %+v", r.Meta)
	}

	// Routes a version does not have, and versions not served.
	for _, tc := range []struct {
		method, path string
		status       int
		msg          string
	}{
		{"GET", "/tracking/2024-10/trackings/usps/X2", 404, ""},
		{"GET", "/tracking/2025-04/couriers/all", 404, ""},
		{"GET", "/tracking/2025-01/notifications/" + x2, 404, ""},
		{"GET", "/tracking/2024-07/trackings/usps/X2", 200, ""},
		{"GET", "/tracking/2025-01/couriers/all", 200, ""},
		{"GET", "/tracking/2023-13/trackings", 404, "Served versions: v4, 2023-10"},
		{"GET", "/tracking/1999-01/couriers", 404, "2026-07"},
	} {
		r := call[json.RawMessage](s, tc.method, tc.path, "", nil)
		if r.status != tc.status || !strings.Contains(r.Meta.Message, tc.msg) {
			t.Errorf("%s %s: %d %+v, want %d %q", tc.method, tc.path, r.status, r.Meta, tc.status, tc.msg)
		}
	}

	// Paging: by page up to 2024-07, by cursor from 2024-10.
	for _, n := range []string{"X3", "X4"} {
		call[trackingData](s, "POST", "/v4/trackings", "", map[string]any{"tracking": createTracking{TrackingNumber: n, Slug: "usps"}})
	}
	seen := map[string]bool{}
	cursor := ""
	for page := 0; page < 5; page++ {
		q := "limit=2"
		if cursor != "" {
			q += "&cursor=" + cursor
		}
		l := call[sdkList2025](s, "GET", "/tracking/2025-07/trackings", q, nil)
		if !l.ok() || l.Data.Pagination.Total != 4 {
			t.Fatalf("list: %+v %+v", l.Meta, l.Data.Pagination)
		}
		for _, tr := range l.Data.Trackings {
			seen[tr.ID] = true
		}
		if !l.Data.Pagination.HasNextPage {
			break
		}
		cursor = l.Data.Pagination.NextCursor
	}
	if len(seen) != 4 {
		t.Fatalf("cursor paging saw %d of 4 trackings", len(seen))
	}
	var p2024 struct {
		Pagination struct {
			Total, Page, Limit int
			HasNextPage        bool `json:"has_next_page"`
		} `json:"pagination"`
	}
	l := call[json.RawMessage](s, "GET", "/tracking/2024-07/trackings", "limit=3&page=1", nil)
	if err := json.Unmarshal(l.Data, &p2024); err != nil || p2024.Pagination.Total != 4 || !p2024.Pagination.HasNextPage || p2024.Pagination.Limit != 3 {
		t.Fatalf("2024-07 list: %s", l.Data)
	}
}
