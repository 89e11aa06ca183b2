package trackingmore

import (
	"fmt"
	"regexp"
	"slices"
	"strings"
	"unicode/utf8"

	"golang.org/x/text/language"

	"github.com/trackhook/trackhook/dispatcher"
	"github.com/trackhook/trackhook/receiver/contact"
	"github.com/trackhook/trackhook/receiver/tracking"
)

// op is what a request body is for.
type op int

const (
	opCreate op = iota // create, and each item of a batch
	opUpdate
)

func set(names ...string) map[string]bool {
	m := make(map[string]bool, len(names))
	for _, n := range names {
		m[n] = true
	}
	return m
}

func union(sets ...map[string]bool) map[string]bool {
	out := map[string]bool{}
	for _, s := range sets {
		for k := range s {
			out[k] = true
		}
	}
	return out
}

// The fields each request may carry. Every one is either stored or
// accepted and ignored (it drives TrackingMore's own carrier polling, which
// trackhook does not do); any other is refused naming it, and nothing is
// stored.
//
// v2 create and batch items: the parameter table of "Create a tracking" /
// "Create multiple trackings" (trackingmore.com/api-track-create-a-tracking-item.html,
// api-track-create-multiple-track.html): tracking_number, carrier_code,
// destination_code, title, logistics_channel, customer_name,
// customer_email, customer_phone, order_id, order_create_time,
// tracking_ship_date, tracking_postal_code, tracking_account_number; lang
// from TrackingMore's own v2 samples (api-go, api-java-en, api-csharp-en
// pages; the v2 PHP SDK reads params["lang"]). comment, auto_correct,
// tracking_destination_country and specialNumberDestination are in the
// same table of Tracktry, a clone of the v2 API, and in TrackingMore's
// samples (SECONDARY; UNVERIFIED on TrackingMore's own page, whose stored
// copy is cut after tracking_account_number).
//
// v2 update: "Update a tracking" (api-track-update-tracking-item.html):
// title, logistics_channel, customer_name, customer_email, customer_phone,
// order_id, destination_code, archived, status; lang and comment as on
// create; tracking_number and carrier_code, if sent, must name the tracking
// of the path (a third-party client sends them).
//
// v4: the SDK's CreateTrackingParams and UpdateTrackingParams
// (TrackingMore-API/trackingmore-sdk-go trackings.go), which it always sends
// whole, every field, "" when unset.
var (
	v2Stored        = set("tracking_number", "carrier_code", "title", "customer_name", "customer_email", "customer_phone", "order_id", "lang", "destination_code", "comment")
	v2CreateIgnored = set("logistics_channel", "order_create_time", "tracking_ship_date", "tracking_postal_code", "tracking_account_number",
		"tracking_destination_country", "specialNumberDestination", "auto_correct")
	v2UpdateIgnored = set("logistics_channel", "archived", "status")

	v4Stored = set("tracking_number", "courier_code", "order_number", "destination_country_iso2", "customer_name", "customer_email",
		"customer_sms", "title", "order_id", "language", "note")
	v4Ignored = set("origin_country_iso2", "recipient_postcode", "logistics_channel", "order_date", "tracking_courier_account",
		"tracking_postal_code", "tracking_origin_country", "tracking_destination_country", "tracking_ship_date", "tracking_key", "label")
	v4CreateOnly = set("auto_correct")
	v4UpdateOnly = set("courier_code_new", "archived_status")

	allowed = map[version]map[op]map[string]bool{
		v2: {opCreate: union(v2Stored, v2CreateIgnored), opUpdate: union(v2Stored, v2UpdateIgnored)},
		v4: {opCreate: union(v4Stored, v4Ignored, v4CreateOnly), opUpdate: union(minus(v4Stored, "tracking_number", "courier_code"), v4Ignored, v4UpdateOnly)},
	}
)

func minus(s map[string]bool, names ...string) map[string]bool {
	out := union(s)
	for _, n := range names {
		delete(out, n)
	}
	return out
}

// IgnoredFields lists, for the README, the request fields of API version
// ver (2 or 4) that are accepted and not stored.
func IgnoredFields(ver int, update bool) []string {
	o := opCreate
	if update {
		o = opUpdate
	}
	stored := v2Stored
	if version(ver) == v4 {
		stored = v4Stored
	}
	var out []string
	for k := range allowed[version(ver)][o] {
		if !stored[k] {
			out = append(out, k)
		}
	}
	slices.Sort(out)
	return out
}

// input is a tracking as a request gives it, version-neutral. nil means
// "not given" (unchanged on update); a pointer to "" clears.
type input struct {
	number, carrier *string

	title, orderID, orderNumber, customerName, note, language, country *string
	emails, phones                                                     *[]string

	// v2 PUT "status": trackhook takes statuses only from carriers.
	status *string
	// v4 PUT "courier_code_new": a tracking's carrier is part of its key.
	carrierNew *string
}

// fieldNames maps the neutral fields to each version's names.
type fieldNames struct {
	carrier, country, phones, language, note string
}

var names = map[version]fieldNames{
	v2: {carrier: "carrier_code", country: "destination_code", phones: "customer_phone", language: "lang", note: "comment"},
	v4: {carrier: "courier_code", country: "destination_country_iso2", phones: "customer_sms", language: "language", note: "note"},
}

// parseInput reads a tracking object of version v for o. where prefixes
// field names in messages ("[3]." for a batch item). It checks types and
// field names only; apply and parseKey check the values.
func parseInput(v version, o op, obj object, where string) (*input, error) {
	if name := unknownField(obj, allowed[v][o]); name != "" {
		return nil, errUnknownField(where, name)
	}
	n := names[v]
	in := &input{}
	var err error
	str := func(name string, dst **string) {
		if err == nil && name != "" {
			*dst, err = obj.str(where, name)
		}
	}
	str("tracking_number", &in.number)
	str(n.carrier, &in.carrier)
	str("title", &in.title)
	str("order_id", &in.orderID)
	str("customer_name", &in.customerName)
	str(n.note, &in.note)
	str(n.language, &in.language)
	str(n.country, &in.country)
	if v == v4 {
		str("order_number", &in.orderNumber)
		str("courier_code_new", &in.carrierNew)
	}
	if err != nil {
		return nil, err
	}
	if in.emails, err = obj.list(where, "customer_email"); err != nil {
		return nil, err
	}
	if in.phones, err = obj.list(where, n.phones); err != nil {
		return nil, err
	}
	// Ignored fields may be strings, numbers or flags (the samples send
	// timestamps as strings, PHP may send numbers), never objects.
	for name := range obj {
		if allowed[v][o][name] && !v2Stored[name] && !v4Stored[name] && name != "courier_code_new" {
			var s *string
			if s, err = obj.scalar(where, name); err != nil {
				return nil, err
			}
			if name == "status" {
				in.status = s
			}
			if name == "archived" && s != nil && !slices.Contains([]string{"true", "false", "1", "0", ""}, strings.ToLower(*s)) {
				return nil, fail(kField, fmt.Sprintf("The value of `%sarchived` is invalid: %q (want \"true\" or \"false\").", where, clip(*s)))
			}
		}
	}
	if v == v4 {
		// The v4 SDK sends every field of its params, "" when unset (its
		// structs have no omitempty), so "" means "not given" there.
		for _, p := range []**string{&in.number, &in.carrier, &in.title, &in.orderID, &in.orderNumber, &in.customerName,
			&in.note, &in.language, &in.country, &in.carrierNew} {
			if *p != nil && strings.TrimSpace(**p) == "" {
				*p = nil
			}
		}
		for _, p := range []**[]string{&in.emails, &in.phones} {
			if *p != nil && len(**p) == 0 {
				*p = nil
			}
		}
	}
	return in, nil
}

var (
	carrierRe = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$`)
	slugRe    = regexp.MustCompile(`^[a-z0-9][a-z0-9-]{0,63}$`)
)

// parseNumber checks a tracking number: trimmed, at most 100 bytes, no
// control characters, no '/'.
func parseNumber(field, raw string) (string, error) {
	n := strings.TrimSpace(raw)
	if n == "" {
		return "", fail(kNumberRequired, "Tracking_number is required: `"+field+"` is empty.")
	}
	if len(n) > 100 || strings.ContainsFunc(n, func(r rune) bool { return r < ' ' || r == 0x7f || r == '/' || (r >= 0x80 && r < 0xa0) }) {
		return "", fail(kNumberInvalid, fmt.Sprintf("The value of `%s` is invalid: %q (at most 100 bytes, no control characters or '/').", field, clip(n)))
	}
	return n, nil
}

// parseCarrier checks a carrier code and returns trackhook's slug for it.
func (a *API) parseCarrier(field, raw string) (string, error) {
	c := strings.TrimSpace(raw)
	if c == "" {
		return "", fail(kCarrierRequired, "Cannot detect courier: `"+field+"` is required.")
	}
	slug := a.carriers.Normalize(c)
	if !carrierRe.MatchString(c) || !slugRe.MatchString(slug) {
		return "", fail(kCarrierInvalid, fmt.Sprintf("The value of `%s` is invalid: %q (a courier code: letters, digits, '-' and '_').", field, clip(c)))
	}
	return slug, nil
}

// newTracking builds the tracking a create (or batch item) of version v
// stores. Every error is an *apiError.
func (a *API) newTracking(v version, in *input, where string) (tracking.Tracking, error) {
	n := names[v]
	if in.number == nil {
		return tracking.Tracking{}, fail(kNumberRequired, "Tracking_number is required: `"+where+"tracking_number` is missing.")
	}
	number, err := parseNumber(where+"tracking_number", *in.number)
	if err != nil {
		return tracking.Tracking{}, err
	}
	if in.carrier == nil {
		return tracking.Tracking{}, fail(kCarrierRequired, "Cannot detect courier: `"+where+n.carrier+"` is required.")
	}
	slug, err := a.parseCarrier(where+n.carrier, *in.carrier)
	if err != nil {
		return tracking.Tracking{}, err
	}
	t := tracking.Tracking{Slug: slug, TrackingNumber: number, Source: "api"}
	if err := a.apply(v, &t, in, where); err != nil {
		return tracking.Tracking{}, err
	}
	return t, nil
}

const (
	maxText = 500
	maxNote = 5000
)

// apply validates in and writes it onto t, with the rules of the
// AfterShip-compatible API (receiver/api trackings.go apply): text trimmed,
// at most 500 characters on one line; a note at most 5000 characters
// without NUL; a language a BCP 47 tag; emails and phones validated and
// normalised (contact.Email, contact.Phone to E.164, a national number read
// with the destination country), deduplicated, at most a.max per channel;
// a recipient put back explicitly is readmitted if they had opted out.
// Nothing is written unless all of in is valid.
func (a *API) apply(v version, t *tracking.Tracking, in *input, where string) error {
	n := names[v]
	next := *t
	for _, f := range []struct {
		name string
		src  *string
		dst  *string
	}{
		{"title", in.title, &next.Title}, {"order_id", in.orderID, &next.OrderID}, {"order_number", in.orderNumber, &next.OrderNumber},
		{"customer_name", in.customerName, &next.CustomerName},
	} {
		if f.src == nil {
			continue
		}
		s := strings.TrimSpace(*f.src)
		if utf8.RuneCountInString(s) > maxText || strings.ContainsAny(s, "\x00\r\n") {
			return fail(kField, fmt.Sprintf("The value of `%s%s` is invalid: %q (at most %d characters on one line).", where, f.name, clip(s), maxText))
		}
		*f.dst = s
	}
	if in.note != nil {
		if utf8.RuneCountInString(*in.note) > maxNote || strings.ContainsRune(*in.note, 0) {
			return fail(kField, fmt.Sprintf("The value of `%s%s` is invalid: %q (at most %d characters, no NUL).", where, n.note, clip(*in.note), maxNote))
		}
		next.Note = *in.note
	}
	if in.language != nil {
		l, err := parseLanguage(where+n.language, *in.language)
		if err != nil {
			return err
		}
		next.Language = l
	}
	if in.country != nil {
		c, err := parseCountry(where+n.country, *in.country)
		if err != nil {
			return err
		}
		next.DestinationCountry = c
	}
	if in.emails != nil {
		var list []string
		for _, e := range *in.emails {
			addr, err := contact.Email(e)
			if err != nil {
				return fail(kField, fmt.Sprintf("The value of `%scustomer_email` is invalid: %q is not an email address.", where, clip(e)))
			}
			if !slices.Contains(list, addr) {
				list = append(list, addr)
			}
		}
		if len(list) > a.max {
			return fail(kField, fmt.Sprintf("The value of `%scustomer_email` is invalid: %d addresses, at most %d per tracking.", where, len(list), a.max))
		}
		next.Emails = list
	}
	if in.phones != nil {
		var list []string
		for _, p := range *in.phones {
			e164, err := contact.Phone(p, next.DestinationCountry)
			if err != nil {
				why := "not a phone number in E.164 (+ and country code)"
				if next.DestinationCountry != "" {
					why = "not a valid phone number for " + next.DestinationCountry
				}
				return fail(kField, fmt.Sprintf("The value of `%s%s` is invalid: %q is %s.", where, n.phones, clip(p), why))
			}
			if !slices.Contains(list, e164) {
				list = append(list, e164)
			}
		}
		if len(list) > a.max {
			return fail(kField, fmt.Sprintf("The value of `%s%s` is invalid: %d phone numbers, at most %d per tracking.", where, n.phones, len(list), a.max))
		}
		next.SMSes = list
	}
	next.OptedOut = readmitted(next.OptedOut, in, next.Emails, next.SMSes)
	*t = next
	return nil
}

// readmitted drops the per-tracking opt-outs of the recipients this request
// names explicitly (as receiver/api does: an admin putting a recipient back
// overrides their unsubscribe from this shipment; the global suppression
// list still applies).
func readmitted(optedOut []string, in *input, emails, smses []string) []string {
	var out []string
	for _, k := range optedOut {
		back := in.emails != nil && slices.ContainsFunc(emails, func(e string) bool { return k == dispatcher.RecipientKey(dispatcher.ChannelEmail, e) }) ||
			in.phones != nil && slices.ContainsFunc(smses, func(p string) bool { return k == dispatcher.RecipientKey(dispatcher.ChannelSMS, p) })
		if !back {
			out = append(out, k)
		}
	}
	return out
}

// parseLanguage checks and canonicalises a language ("" clears). "cn" is
// TrackingMore's code for Chinese (lang=cn in its v2 samples and the path
// /trackings/yanwen/BYS006086078/cn of its api-go sample) and is read as
// "zh".
func parseLanguage(field, raw string) (string, error) {
	s := strings.TrimSpace(raw)
	if s == "" {
		return "", nil
	}
	if strings.EqualFold(s, "cn") {
		s = "zh"
	}
	tag, err := language.Parse(s)
	if err != nil || len(s) > 35 {
		return "", fail(kField, fmt.Sprintf("The value of `%s` is invalid: %q (a language code such as en, de or cn).", field, clip(s)))
	}
	return tag.String(), nil
}

// parseCountry reads a country (TrackingMore sends ISO 3166-1 alpha-2,
// "us"; alpha-3 is accepted too) as the alpha-3 code trackhook stores.
func parseCountry(field, raw string) (string, error) {
	s := strings.ToUpper(strings.TrimSpace(raw))
	if s == "" {
		return "", nil
	}
	if (len(s) != 2 && len(s) != 3) || contact.Region(s) == "" {
		return "", fail(kField, fmt.Sprintf("The value of `%s` is invalid: %q (a two-letter country code such as us or de).", field, clip(s)))
	}
	r, err := language.ParseRegion(s)
	if err != nil {
		return "", fail(kField, fmt.Sprintf("The value of `%s` is invalid: %q.", field, clip(s)))
	}
	return r.ISO3(), nil
}

// iso2 is the alpha-2 code of a stored country ("" when none).
func iso2(country string) string {
	if country == "" {
		return ""
	}
	return contact.Region(country)
}
