package api

import (
	"net/http"
	"strings"

	"github.com/gorilla/mux"
)

// Version is one AfterShip Tracking API version trackhook serves, with what
// sets its request and response shape apart. The shapes come from
// AfterShip's SDKs and changelogs:
//
//   - legacy /v4, 2023-10, 2024-01 and 2024-04: bodies wrapped in
//     {"tracking": …}, answers in data.tracking; emails and smses;
//     countries as ISO 3166-1 alpha-3 (*_country_iso3); routes by id and by
//     slug and tracking number; notifications and last_checkpoint
//     (github.com/aftership/tracking-sdk-go branch 2024-04; aftership-sdk-go
//     v3 defaults to 2023-10 with the same bodies).
//   - 2024-07: flat bodies and answers (data is the tracking); otherwise the
//     2024-04 fields; no notifications or last_checkpoint endpoints
//     (tracking-sdk-nodejs branch 2024-07: request_legacy_tag "").
//   - 2024-10: as 2024-07, but routes by id only (tracking-sdk-nodejs
//     branch 2024-10).
//   - 2025-01, 2025-04, 2025-07: customers[] (name, email, phone_number,
//     language, role) replace emails, smses and customer_name, and
//     countries are *_country_region (tracking-sdk-nodejs branch 2025-01;
//     aftership.com/docs/tracking/2025-01/changelog). GET /couriers/all is
//     gone from 2025-04 (docs/tracking/2025-04/migration-guide).
//   - 2026-01: checkpoint.zip is renamed checkpoint.postal_code, and
//     order_promised_delivery_date may be a time range
//     (docs/tracking/changelog, 2026-01-08).
//   - 2026-07: adds customers[].id and new sub-statuses
//     (docs/tracking/2026-07/changelog).
type Version struct {
	Name string
	// Wrapped: request bodies are {"tracking": …} and answers data.tracking.
	Wrapped bool
	// Customers: subscribers are customers[], countries *_country_region.
	Customers bool
	// BySlug: the /trackings/{slug}/{tracking_number} routes exist.
	BySlug bool
	// Notifications: the notifications and last_checkpoint endpoints exist.
	Notifications bool
	// CouriersAll: GET /couriers/all exists.
	CouriersAll bool
	// PostalCode: a checkpoint's postal code is "postal_code", not "zip".
	PostalCode bool
	// CustomerIDs: customers[] carry an "id".
	CustomerIDs bool
	// Cursor: GET /trackings pages by cursor (2024-10 on), not by page.
	Cursor bool
}

// Legacy is the shape of the legacy /v4 API (and of 2023-10 … 2024-04).
var Legacy = Version{Name: "v4", Wrapped: true, BySlug: true, Notifications: true, CouriersAll: true}

// Versions are the API versions trackhook serves, oldest first. The legacy
// API is served under /v4, the others under /tracking/{version}.
var Versions = func() []Version {
	legacy := func(name string) Version { v := Legacy; v.Name = name; return v }
	return []Version{
		Legacy,
		legacy("2023-10"),
		legacy("2024-01"),
		legacy("2024-04"),
		{Name: "2024-07", BySlug: true, CouriersAll: true},
		{Name: "2024-10", CouriersAll: true, Cursor: true},
		{Name: "2025-01", Customers: true, CouriersAll: true, Cursor: true},
		{Name: "2025-04", Customers: true, Cursor: true},
		{Name: "2025-07", Customers: true, Cursor: true},
		{Name: "2026-01", Customers: true, PostalCode: true, Cursor: true},
		{Name: "2026-07", Customers: true, PostalCode: true, CustomerIDs: true, Cursor: true},
	}
}()

// LookupVersion finds a served version by name ("v4", "2024-04", …).
func LookupVersion(name string) (Version, bool) {
	for _, v := range Versions {
		if v.Name == name {
			return v, true
		}
	}
	return Version{}, false
}

// VersionNames lists the served versions, comma-separated.
func VersionNames() string {
	names := make([]string, len(Versions))
	for i, v := range Versions {
		names[i] = v.Name
	}
	return strings.Join(names, ", ")
}

// version is the API version of a request: the {version} route variable,
// or the legacy API when there is none.
func version(r *http.Request) Version {
	name, ok := mux.Vars(r)["version"]
	if !ok {
		return Legacy
	}
	if v, ok := LookupVersion(name); ok {
		return v
	}
	return Legacy
}

// UnsupportedVersion answers a call to /tracking/{version}/… for a version
// trackhook does not serve, naming those it does.
func UnsupportedVersion(w http.ResponseWriter, name string) {
	writeError(w, &Error{404, 404, "NotFound", "API version " + clipValue(name) + " is not served here. Served versions: " + VersionNames() + "."})
}
