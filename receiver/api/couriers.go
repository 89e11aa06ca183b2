package api

import (
	"net/http"
	"strings"

	"golang.org/x/text/language"

	"github.com/trackhook/trackhook/receiver/carrier"
	"github.com/trackhook/trackhook/receiver/contact"
)

// courierJSON is AfterShip's Courier (tracking-sdk-go 2024-04
// model/courier.go; service_from_country_regions from 2025-01,
// tracking-sdk-nodejs src/model/Courier.ts).
type courierJSON struct {
	Slug                      string   `json:"slug"`
	Name                      string   `json:"name"`
	Phone                     string   `json:"phone,omitempty"`
	OtherName                 string   `json:"other_name,omitempty"`
	WebURL                    string   `json:"web_url,omitempty"`
	RequiredFields            []string `json:"required_fields"`
	OptionalFields            []string `json:"optional_fields"`
	DefaultLanguage           string   `json:"default_language"`
	SupportLanguages          []string `json:"support_languages"`
	ServiceFromCountryISO3    []string `json:"service_from_country_iso3,omitempty"`
	ServiceFromCountryRegions []string `json:"service_from_country_regions,omitempty"`
}

func courierOf(v Version, c carrier.Carrier) courierJSON {
	j := courierJSON{Slug: c.Slug, Name: c.Name, Phone: c.Phone, WebURL: c.WebURL,
		RequiredFields: []string{}, OptionalFields: []string{}, DefaultLanguage: "en", SupportLanguages: []string{"en"}}
	if len(c.Aliases) > 0 {
		j.OtherName = c.Aliases[0]
	}
	if c.Country != "" {
		if r, err := language.ParseRegion(c.Country); err == nil {
			iso3 := r.ISO3()
			if v.Customers {
				j.ServiceFromCountryRegions = []string{iso3}
			} else {
				j.ServiceFromCountryISO3 = []string{iso3}
			}
		}
	}
	return j
}

func (a *API) writeCouriers(w http.ResponseWriter, v Version, list []carrier.Carrier) {
	out := make([]courierJSON, 0, len(list))
	for _, c := range list {
		out = append(out, courierOf(v, c))
	}
	writeData(w, http.StatusOK, map[string]any{"total": len(out), "couriers": out})
}

// Couriers is GET /couriers: the couriers this account tracks with. trackhook
// has no per-account courier activation: every carrier of its catalogue is
// active, so this is GET /couriers/all.
func (a *API) Couriers(w http.ResponseWriter, r *http.Request) {
	a.writeCouriers(w, version(r), a.carriers.Carriers())
}

// detectInput is the body of POST /couriers/detect: {"tracking": {…}} up
// to 2024-04, flat from 2024-07 (tracking-sdk-go 2024-04
// model/detect_courier_request.go; tracking-sdk-nodejs 2024-07 and 2025-01
// src/api/Courier.ts and src/model/DetectCourierRequest.ts). Only tracking_number and slug drive
// detection; the other fields are accepted and ignored.
type detectInput struct {
	TrackingNumber *string       `json:"tracking_number"`
	Slug           *contact.List `json:"slug"`
}

var detectFields = fieldSet("tracking_number", "slug", "tracking_postal_code", "tracking_ship_date",
	"tracking_account_number", "tracking_key", "tracking_state", "slug_group")
var detectISO3 = fieldSet("tracking_origin_country", "tracking_destination_country", "origin_country_iso3", "destination_country_iso3")
var detectRegion = fieldSet("tracking_origin_country_region", "tracking_destination_country_region", "origin_country_region", "destination_country_region")

// DetectCouriers is POST /couriers/detect: the carriers whose tracking
// number format the number has, most specific first, among the slugs given
// (all carriers when none is). No match is an empty list, not an error.
func (a *API) DetectCouriers(w http.ResponseWriter, r *http.Request) {
	v := version(r)
	body, err := readBody(w, r)
	if err != nil {
		writeError(w, err)
		return
	}
	in, err := parseDetect(v, body)
	if err != nil {
		writeError(w, err)
		return
	}
	number := strings.TrimSpace(*in.TrackingNumber)
	var found []carrier.Carrier
	if in.Slug != nil && len(*in.Slug) > 0 {
		found = a.carriers.DetectIn(number, *in.Slug)
	} else {
		found = a.carriers.Detect(number)
	}
	a.writeCouriers(w, v, found)
}

func parseDetect(v Version, body []byte) (*detectInput, error) {
	obj, err := decodeObject(body)
	if err != nil {
		return nil, err
	}
	where := ""
	if v.Wrapped {
		raw, ok := obj["tracking"]
		if !ok || string(raw) == "null" {
			return nil, errTrackingRequired()
		}
		if err := unknownField(obj, fieldSet("tracking"), "", "the request", v); err != nil {
			return nil, err
		}
		if obj, err = wrappedObject("tracking", raw); err != nil {
			return nil, err
		}
		body, where = raw, "tracking."
	}
	allowed := map[string]bool{}
	for _, s := range []map[string]bool{detectFields, detectISO3} {
		for k := range s {
			allowed[k] = true
		}
	}
	if v.Customers {
		allowed = map[string]bool{}
		for _, s := range []map[string]bool{detectFields, detectRegion} {
			for k := range s {
				allowed[k] = true
			}
		}
	}
	if err := unknownField(obj, allowed, where, "a courier detection", v); err != nil {
		return nil, err
	}
	var in detectInput
	if err := decodeJSON(body, &in); err != nil {
		return nil, err
	}
	if in.TrackingNumber == nil || strings.TrimSpace(*in.TrackingNumber) == "" {
		return nil, errNumberRequired()
	}
	if n := strings.TrimSpace(*in.TrackingNumber); len(n) > 100 || strings.ContainsFunc(n, func(r rune) bool { return r < ' ' || r == 0x7f }) {
		return nil, &Error{400, 4005, "BadRequest", "The value of `tracking_number` is invalid."}
	}
	return &in, nil
}
