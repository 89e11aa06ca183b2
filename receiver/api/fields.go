package api

import (
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
)

// The request fields of a tracking, per shape, from AfterShip's SDK models
// (tracking-sdk-go 2024-04 model/create_tracking_request.go and
// model/update_tracking_by_id_request.go; tracking-sdk-nodejs 2025-01
// src/model/CreateTrackingRequest.ts, UpdateTrackingByIdRequest.ts and
// CustomersCreateTrackingRequest.ts). Every field is either stored or
// accepted and ignored (README, "No silent drops"); any other
// is refused with 4008 naming it, and nothing is stored.
var (
	// storedFields are the fields trackhook keeps.
	storedFields = fieldSet("tracking_number", "slug", "title", "order_id", "order_number", "language",
		"custom_fields", "note",
		"emails", "smses", "customer_name", "destination_country_iso3", // up to 2024-10
		"customers", "destination_country_region") // 2025-01 on

	// sharedIgnored are fields of every version that trackhook accepts and
	// ignores: they drive AfterShip's own carrier polling, delivery
	// estimates and analytics, which trackhook does not do.
	sharedIgnored = fieldSet("order_id_path", "order_promised_delivery_date", "delivery_type", "pickup_location",
		"pickup_note", "tracking_account_number", "tracking_key", "tracking_ship_date", "origin_state", "origin_city",
		"origin_postal_code", "origin_raw_location", "destination_state", "destination_city",
		"destination_postal_code", "destination_raw_location", "order_date", "shipment_type", "tracking_postal_code",
		"tracking_state", "location_id", "shipping_method")
	// createOnlyIgnored are accepted on create only.
	createOnlyIgnored = fieldSet("slug_group", "shipment_tags", "courier_connection_id")

	iso3Only      = fieldSet("emails", "smses", "customer_name", "destination_country_iso3")
	iso3Ignored   = fieldSet("origin_country_iso3", "tracking_origin_country", "tracking_destination_country")
	iso3CreateIgn = fieldSet("next_couriers")

	regionOnly      = fieldSet("customers", "destination_country_region")
	regionIgnored   = fieldSet("origin_country_region", "tracking_origin_country_region", "tracking_destination_country_region")
	regionCreateIgn = fieldSet("last_mile")

	customerFields = fieldSet("role", "name", "email", "phone_number", "language")
)

func fieldSet(names ...string) map[string]bool {
	m := make(map[string]bool, len(names))
	for _, n := range names {
		m[n] = true
	}
	return m
}

// IgnoredFields lists, for the README and its test, the request fields of
// version v that trackhook accepts and does not store.
func IgnoredFields(v Version, create bool) []string {
	var out []string
	for name := range allowedFields(v, create) {
		if !storedFields[name] {
			out = append(out, name)
		}
	}
	slices.Sort(out)
	return out
}

// allowedFields is every field a tracking may carry in a create (or
// update) request of version v.
func allowedFields(v Version, create bool) map[string]bool {
	out := map[string]bool{}
	add := func(sets ...map[string]bool) {
		for _, s := range sets {
			for k := range s {
				out[k] = true
			}
		}
	}
	add(sharedIgnored)
	for k := range storedFields {
		if !iso3Only[k] && !regionOnly[k] {
			out[k] = true
		}
	}
	if v.Customers {
		add(regionOnly, regionIgnored)
		if create {
			add(regionCreateIgn)
		}
	} else {
		add(iso3Only, iso3Ignored)
		if create {
			add(iso3CreateIgn)
		}
	}
	if create {
		add(createOnlyIgnored)
	} else {
		delete(out, "tracking_number") // the key of a tracking never changes
	}
	return out
}

// checkFields refuses a field that version v does not define for a
// tracking (in a create request when create), naming it as where.field.
func checkFields(v Version, create bool, obj map[string]json.RawMessage, where string) error {
	allowed := allowedFields(v, create)
	if err := unknownField(obj, allowed, where, "a tracking", v); err != nil {
		return err
	}
	raw, ok := obj["customers"]
	if !ok || !v.Customers {
		return nil
	}
	var list []map[string]json.RawMessage
	if json.Unmarshal(raw, &list) != nil {
		return nil // the typed decode names the wrong type
	}
	cf := customerFields
	if v.CustomerIDs {
		cf = fieldSet("id", "role", "name", "email", "phone_number", "language")
	}
	for i, c := range list {
		if err := unknownField(c, cf, fmt.Sprintf("%scustomers[%d].", where, i), "a customer", v); err != nil {
			return err
		}
	}
	return nil
}

func unknownField(obj map[string]json.RawMessage, allowed map[string]bool, where, what string, v Version) error {
	var unknown []string
	for k := range obj {
		if !allowed[k] {
			unknown = append(unknown, k)
		}
	}
	if len(unknown) == 0 {
		return nil
	}
	slices.Sort(unknown)
	return &Error{400, 4008, "BadRequest", fmt.Sprintf("The field `%s%s` is not a field of %s in API version %s; nothing was stored.",
		where, clipValue(strings.ToValidUTF8(unknown[0], "?")), what, v.Name)}
}

// decodeObject decodes a JSON object into its fields (4001 if it is not
// one).
func decodeObject(body []byte) (map[string]json.RawMessage, error) {
	var obj map[string]json.RawMessage
	if err := decodeJSON(body, &obj); err != nil {
		var e *Error
		if errors.As(err, &e) && e.Code == 4008 {
			return nil, errInvalidJSON("The body must be a JSON object.")
		}
		return nil, err
	}
	if obj == nil {
		return nil, errInvalidJSON("The body must be a JSON object.")
	}
	return obj, nil
}

// wrappedObject decodes the object a wrapped request holds under name.
func wrappedObject(name string, raw json.RawMessage) (map[string]json.RawMessage, error) {
	var obj map[string]json.RawMessage
	if err := json.Unmarshal(raw, &obj); err != nil || obj == nil {
		return nil, &Error{400, 4008, "BadRequest", fmt.Sprintf("The value of `%s` is invalid: a JSON %s where an object is expected.", name, rawKind(raw))}
	}
	return obj, nil
}

// rawKind names the JSON kind of a raw value.
func rawKind(b json.RawMessage) string {
	switch {
	case len(b) == 0:
		return "value"
	case b[0] == '[':
		return "array"
	case b[0] == '"':
		return "string"
	case b[0] == 't' || b[0] == 'f':
		return "bool"
	case b[0] == '{':
		return "object"
	}
	return "number"
}
