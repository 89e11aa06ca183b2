package api

import (
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"golang.org/x/text/language"

	"github.com/trackhook/trackhook/dispatcher"
	"github.com/trackhook/trackhook/receiver/contact"
	"github.com/trackhook/trackhook/receiver/tracking"
)

// trackingInput is a tracking in a create or update request: the
// "tracking" object of the wrapped versions, the body of the others. Only
// the stored fields are decoded (fields.go lists the others). Pointers tell
// "absent" from "empty".
type trackingInput struct {
	TrackingNumber           *string           `json:"tracking_number"`
	Slug                     *string           `json:"slug"`
	Title                    *string           `json:"title"`
	OrderID                  *string           `json:"order_id"`
	OrderNumber              *string           `json:"order_number"`
	CustomerName             *string           `json:"customer_name"`
	Language                 *string           `json:"language"`
	DestinationCountryISO3   *string           `json:"destination_country_iso3"`
	DestinationCountryRegion *string           `json:"destination_country_region"`
	Emails                   *contact.List     `json:"emails"`
	Smses                    *contact.List     `json:"smses"`
	Customers                *[]customerInput  `json:"customers"`
	CustomFields             map[string]string `json:"custom_fields"`
	Note                     *string           `json:"note"`
}

// customerInput is one of customers[] (2025-01 on).
type customerInput struct {
	Role        *string `json:"role"`
	Name        *string `json:"name"`
	Email       *string `json:"email"`
	PhoneNumber *string `json:"phone_number"`
	Language    *string `json:"language"`
}

// parseTracking decodes the tracking of a create (or update) request of
// version v: wrapped or flat, every field one v defines (fields.go).
func parseTracking(v Version, body []byte, create bool) (*trackingInput, error) {
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
	if err := checkFields(v, create, obj, where); err != nil {
		return nil, err
	}
	var in trackingInput
	if err := decodeJSON(body, &in); err != nil {
		return nil, err
	}
	return &in, nil
}

var slugRe = regexp.MustCompile(`^[a-z0-9][a-z0-9-]{0,63}$`)

const maxText = 500

// apply validates in and writes it onto t. Nothing is written unless all of
// it is valid.
func (a *API) apply(t *tracking.Tracking, in *trackingInput) error {
	next := *t
	text := func(field string, src *string, dst *string) error {
		if src == nil {
			return nil
		}
		v := strings.TrimSpace(*src)
		if utf8.RuneCountInString(v) > maxText || strings.ContainsAny(v, "\x00\r\n") {
			return errInvalidValue(field, clipValue(v), "at most 500 characters on one line")
		}
		*dst = v
		return nil
	}
	for _, f := range []struct {
		name string
		src  *string
		dst  *string
	}{
		{"title", in.Title, &next.Title}, {"order_id", in.OrderID, &next.OrderID}, {"order_number", in.OrderNumber, &next.OrderNumber},
		{"customer_name", in.CustomerName, &next.CustomerName},
	} {
		if err := text(f.name, f.src, f.dst); err != nil {
			return err
		}
	}
	if in.Note != nil {
		if utf8.RuneCountInString(*in.Note) > 5000 || strings.ContainsRune(*in.Note, 0) {
			return errInvalidValue("note", clipValue(*in.Note), "at most 5000 characters, no NUL")
		}
		next.Note = *in.Note
	}
	if in.Language != nil {
		v, err := parseLanguage("language", *in.Language)
		if err != nil {
			return err
		}
		next.Language = v
	}
	if in.Slug != nil && a.carriers.Normalize(*in.Slug) != next.Slug {
		return errInvalidValue("slug", clipValue(*in.Slug), "a tracking's slug and number are its key and cannot change; delete it and create it again")
	}
	for _, c := range []struct {
		field string
		src   *string
	}{{"destination_country_iso3", in.DestinationCountryISO3}, {"destination_country_region", in.DestinationCountryRegion}} {
		if c.src == nil {
			continue
		}
		v := strings.ToUpper(strings.TrimSpace(*c.src))
		if v != "" && (len(v) != 3 || contact.Region(v) == "") {
			return errInvalidValue(c.field, clipValue(v), "not an ISO 3166-1 alpha-3 country code")
		}
		next.DestinationCountry = v
	}
	if in.CustomFields != nil {
		if len(in.CustomFields) > 50 {
			return &Error{400, 4008, "BadRequest", fmt.Sprintf("The value of `custom_fields` is invalid: %d fields, at most 50.", len(in.CustomFields))}
		}
		for k, v := range in.CustomFields {
			if utf8.RuneCountInString(k) > 100 || utf8.RuneCountInString(v) > maxText ||
				strings.ContainsFunc(k, unicode.IsControl) || strings.ContainsRune(v, 0) {
				return errInvalidValue("custom_fields."+clipValue(k), clipValue(v), "keys up to 100 characters on one line, values up to 500 characters without NUL")
			}
		}
		next.CustomFields = in.CustomFields
	}
	if in.Emails != nil {
		list, err := normalizeEmails("emails", *in.Emails)
		if err != nil {
			return err
		}
		if err := a.checkMax("emails", list); err != nil {
			return err
		}
		next.Emails = list
	}
	if in.Smses != nil {
		list, err := normalizePhones("smses", *in.Smses, next.DestinationCountry)
		if err != nil {
			return err
		}
		if err := a.checkMax("smses", list); err != nil {
			return err
		}
		next.SMSes = list
	}
	if in.Customers != nil {
		if err := a.applyCustomers(&next, *in.Customers); err != nil {
			return err
		}
	}
	next.OptedOut = readmitted(next.OptedOut, next.Emails, next.SMSes)
	*t = next
	return nil
}

// parseLanguage checks and canonicalises a language code ("" stays "").
func parseLanguage(field, v string) (string, error) {
	v = strings.TrimSpace(v)
	if v == "" {
		return "", nil
	}
	tag, err := language.Parse(v)
	if err != nil || len(v) > 35 {
		return "", errInvalidValue(field, clipValue(v), "not an ISO 639-1 or BCP 47 language code")
	}
	return tag.String(), nil
}

// applyCustomers replaces the subscribers with customers[]: their emails
// and phone numbers become the tracking's emails and smses (the two views
// of the same subscribers), and each keeps its name, role and language.
func (a *API) applyCustomers(t *tracking.Tracking, in []customerInput) error {
	var (
		emails, phones []string
		customers      []tracking.Customer
	)
	for i, c := range in {
		field := "customers[" + strconv.Itoa(i) + "]."
		var cu tracking.Customer
		for _, f := range []struct {
			name string
			src  *string
			dst  *string
			max  int
		}{{"role", c.Role, &cu.Role, 50}, {"name", c.Name, &cu.Name, maxText}} {
			if f.src == nil {
				continue
			}
			v := strings.TrimSpace(*f.src)
			if utf8.RuneCountInString(v) > f.max || strings.ContainsFunc(v, unicode.IsControl) {
				return errInvalidValue(field+f.name, clipValue(v), "at most "+strconv.Itoa(f.max)+" characters on one line")
			}
			*f.dst = v
		}
		if c.Email != nil && strings.TrimSpace(*c.Email) != "" {
			e, err := contact.Email(*c.Email)
			if err != nil {
				return errInvalidValue(field+"email", clipValue(*c.Email), "not an email address")
			}
			cu.Email = e
			if !slices.Contains(emails, e) {
				emails = append(emails, e)
			}
		}
		if c.PhoneNumber != nil && strings.TrimSpace(*c.PhoneNumber) != "" {
			list, err := normalizePhones(field+"phone_number", []string{*c.PhoneNumber}, t.DestinationCountry)
			if err != nil {
				return err
			}
			cu.Phone = list[0]
			if !slices.Contains(phones, cu.Phone) {
				phones = append(phones, cu.Phone)
			}
		}
		if c.Language != nil {
			l, err := parseLanguage(field+"language", *c.Language)
			if err != nil {
				return err
			}
			cu.Language = l
		}
		customers = append(customers, cu)
	}
	if err := a.checkMax("customers", emails); err != nil {
		return err
	}
	if err := a.checkMax("customers", phones); err != nil {
		return err
	}
	t.Emails, t.SMSes, t.Customers = emails, phones, customers
	t.CustomerName = ""
	for _, cu := range customers {
		if cu.Name != "" {
			t.CustomerName = cu.Name
			break
		}
	}
	return nil
}

// readmitted drops per-tracking opt-outs for recipients an admin put back on
// the tracking explicitly. The global suppression list still applies.
func readmitted(optedOut, emails, smses []string) []string {
	var out []string
	for _, k := range optedOut {
		keep := true
		for _, e := range emails {
			if k == dispatcher.RecipientKey(dispatcher.ChannelEmail, e) {
				keep = false
			}
		}
		for _, p := range smses {
			if k == dispatcher.RecipientKey(dispatcher.ChannelSMS, p) {
				keep = false
			}
		}
		if keep {
			out = append(out, k)
		}
	}
	return out
}

// CreateTracking is POST /trackings.
func (a *API) CreateTracking(w http.ResponseWriter, r *http.Request) {
	v := version(r)
	body, err := readBody(w, r)
	if err != nil {
		writeError(w, err)
		return
	}
	t, err := a.parseCreate(v, body)
	if err != nil {
		writeError(w, err)
		return
	}
	created, err := a.store.Create(r.Context(), t)
	if err != nil {
		a.fail(w, r, err)
		return
	}
	a.writeTracking(w, v, http.StatusCreated, created)
}

// parseCreate decodes and validates a create body of version v into the
// tracking to store. Every error is an *Error.
func (a *API) parseCreate(v Version, body []byte) (tracking.Tracking, error) {
	in, err := parseTracking(v, body, true)
	if err != nil {
		return tracking.Tracking{}, err
	}
	if in.TrackingNumber == nil || strings.TrimSpace(*in.TrackingNumber) == "" {
		return tracking.Tracking{}, errNumberRequired()
	}
	number := strings.TrimSpace(*in.TrackingNumber)
	if len(number) > 100 || strings.ContainsFunc(number, func(r rune) bool { return r < ' ' || r == 0x7f || r == '/' }) {
		return tracking.Tracking{}, &Error{400, 4005, "BadRequest", "The value of `tracking_number` is invalid."}
	}
	if in.Slug == nil || strings.TrimSpace(*in.Slug) == "" {
		return tracking.Tracking{}, &Error{400, 4012, "BadRequest", "Cannot detect courier: `slug` is required."}
	}
	slug := a.carriers.Normalize(*in.Slug)
	if !slugRe.MatchString(slug) {
		return tracking.Tracking{}, errInvalidSlug(clipValue(*in.Slug))
	}
	t := tracking.Tracking{Slug: slug, TrackingNumber: number, Source: "api"}
	if err := a.apply(&t, in); err != nil {
		return tracking.Tracking{}, err
	}
	return t, nil
}

// GetTracking is GET /trackings/{id} and /trackings/{slug}/{tracking_number}.
func (a *API) GetTracking(w http.ResponseWriter, r *http.Request) {
	id, err := a.lookup(r)
	if err != nil {
		writeError(w, err)
		return
	}
	t, err := a.store.Get(r.Context(), id)
	if err != nil {
		a.fail(w, r, err)
		return
	}
	a.writeTracking(w, version(r), http.StatusOK, t)
}

// UpdateTracking is PUT /trackings/{id} and /trackings/{slug}/{tracking_number}.
func (a *API) UpdateTracking(w http.ResponseWriter, r *http.Request) {
	v := version(r)
	id, err := a.lookup(r)
	if err != nil {
		writeError(w, err)
		return
	}
	body, err := readBody(w, r)
	if err != nil {
		writeError(w, err)
		return
	}
	in, err := parseUpdate(v, body)
	if err != nil {
		writeError(w, err)
		return
	}
	t, err := a.store.Update(r.Context(), id, func(t *tracking.Tracking) error { return a.apply(t, in) })
	if err != nil {
		a.fail(w, r, err)
		return
	}
	a.writeTracking(w, v, http.StatusOK, t)
}

// parseUpdate decodes an update body of version v. Its values are
// validated by apply, against the stored tracking (a national phone number
// needs the tracking's country; a slug must be the tracking's own). Every
// error is an *Error.
func parseUpdate(v Version, body []byte) (*trackingInput, error) {
	return parseTracking(v, body, false)
}

// DeleteTracking is DELETE /trackings/{id} and /trackings/{slug}/{tracking_number}.
func (a *API) DeleteTracking(w http.ResponseWriter, r *http.Request) {
	v := version(r)
	id, err := a.lookup(r)
	if err != nil {
		writeError(w, err)
		return
	}
	t, err := a.store.Get(r.Context(), id)
	if err != nil {
		a.fail(w, r, err)
		return
	}
	if err := a.store.Delete(r.Context(), id); err != nil {
		a.fail(w, r, err)
		return
	}
	if v.Wrapped {
		writeData(w, http.StatusOK, map[string]any{"tracking": map[string]string{"id": t.ID, "tracking_number": t.TrackingNumber, "slug": t.Slug}})
		return
	}
	a.writeTracking(w, v, http.StatusOK, t)
}

// writeTracking answers with one tracking in version v's shape: in
// data.tracking (wrapped versions) or as data.
func (a *API) writeTracking(w http.ResponseWriter, v Version, status int, t tracking.Tracking) {
	code := 200
	if status == http.StatusCreated {
		code = 201
	}
	if v.Wrapped {
		a.write(w, status, code, map[string]any{"tracking": a.toJSON(t)})
		return
	}
	a.write(w, status, code, a.render(v, t))
}

// ListTrackings is GET /trackings: newest first, with AfterShip's filters
// limit (≤ 200), keyword, slug, tag, tracking_numbers, created_at_min and
// created_at_max; paged by page (up to 2024-07) or by cursor (2024-10 on).
func (a *API) ListTrackings(w http.ResponseWriter, r *http.Request) {
	v := version(r)
	lq, numbers, err := a.parseListQuery(v, r.URL.Query())
	if err != nil {
		writeError(w, err)
		return
	}
	var (
		list  []tracking.Tracking
		total int
	)
	if len(numbers) > 0 {
		list, total, err = a.byNumbers(r, numbers, lq)
	} else {
		list, total, err = a.store.List(r.Context(), lq)
	}
	if err != nil {
		a.fail(w, r, err)
		return
	}
	out := make([]any, 0, len(list))
	for _, t := range list {
		if v.Wrapped {
			out = append(out, a.toJSON(t))
		} else {
			out = append(out, a.render(v, t))
		}
	}
	more := lq.Page*lq.Limit < total
	var data map[string]any
	switch {
	case v.Wrapped:
		data = map[string]any{"page": lq.Page, "limit": lq.Limit, "count": total, "trackings": out}
		if lq.Keyword != "" {
			data["keyword"] = lq.Keyword
		}
	case v.Cursor:
		next := ""
		if more {
			next = strconv.Itoa(lq.Page + 1)
		}
		data = map[string]any{"pagination": map[string]any{"total": total, "next_cursor": next, "has_next_page": more}, "trackings": out}
	default:
		data = map[string]any{"pagination": map[string]any{"total": total, "page": lq.Page, "limit": lq.Limit, "has_next_page": more}, "trackings": out}
	}
	writeData(w, http.StatusOK, data)
}

// maxKeyword bounds the keyword filter: no field it searches is longer.
const maxKeyword = maxText

// parseListQuery validates the filters of GET /trackings and returns the
// store query and the tracking_numbers filter. Every error is an *Error.
func (a *API) parseListQuery(v Version, q url.Values) (tracking.ListQuery, []string, error) {
	lq := tracking.ListQuery{Page: 1, Limit: 100, Keyword: q.Get("keyword")}
	if v.Cursor {
		// The cursor is the next page's number, as next_cursor gave it;
		// "page" is no parameter of these versions.
		if c := q.Get("cursor"); c != "" {
			n, err := strconv.Atoi(c)
			if err != nil || n < 1 || n > 1<<20 {
				return lq, nil, errInvalidValue("cursor", clipValue(c), "not a cursor this API gave")
			}
			lq.Page = n
		}
		q = cloneValues(q)
		q.Del("page")
	}
	if utf8.RuneCountInString(lq.Keyword) > maxKeyword || strings.ContainsFunc(lq.Keyword, unicode.IsControl) {
		return lq, nil, errInvalidValue("keyword", clipValue(lq.Keyword), "at most 500 characters on one line")
	}
	for _, p := range []struct {
		name string
		dst  *int
		max  int
	}{{"page", &lq.Page, 1 << 20}, {"limit", &lq.Limit, 200}} {
		if v := q.Get(p.name); v != "" {
			n, err := strconv.Atoi(v)
			if err != nil || n < 1 || n > p.max {
				return lq, nil, errInvalidValue(p.name, clipValue(v), "a whole number from 1 to "+strconv.Itoa(p.max))
			}
			*p.dst = n
		}
	}
	for _, s := range splitComma(q.Get("slug")) {
		lq.Slugs = append(lq.Slugs, a.carriers.Normalize(s))
	}
	for _, s := range splitComma(q.Get("tag")) {
		st, err := tracking.ParseStatus(s)
		if err != nil {
			return lq, nil, errInvalidValue("tag", clipValue(s), "not a delivery status")
		}
		lq.Tags = append(lq.Tags, st)
	}
	for _, p := range []struct {
		name string
		dst  *time.Time
	}{{"created_at_min", &lq.CreatedAfter}, {"created_at_max", &lq.CreatedUntil}} {
		if v := q.Get(p.name); v != "" {
			t, err := time.Parse(time.RFC3339, v)
			if err != nil {
				return lq, nil, errInvalidValue(p.name, clipValue(v), "an ISO 8601 date-time like 2026-11-01T00:00:00Z")
			}
			*p.dst = t
		}
	}
	numbers := splitComma(q.Get("tracking_numbers"))
	if len(numbers) > 50 {
		return lq, nil, &Error{400, 4008, "BadRequest", fmt.Sprintf("The value of `tracking_numbers` is invalid: %d tracking numbers, at most 50.", len(numbers))}
	}
	return lq, numbers, nil
}

// byNumbers lists the trackings with the given numbers (any carrier).
func (a *API) byNumbers(r *http.Request, numbers []string, lq tracking.ListQuery) ([]tracking.Tracking, int, error) {
	all, _, err := a.store.List(r.Context(), tracking.ListQuery{Limit: 1 << 30, Tags: lq.Tags, Slugs: lq.Slugs,
		CreatedAfter: lq.CreatedAfter, CreatedUntil: lq.CreatedUntil, Keyword: lq.Keyword})
	if err != nil {
		return nil, 0, err
	}
	want := map[string]bool{}
	for _, n := range numbers {
		want[tracking.NormalizeNumber(n)] = true
	}
	var match []tracking.Tracking
	for _, t := range all {
		if want[tracking.NormalizeNumber(t.TrackingNumber)] {
			match = append(match, t)
		}
	}
	start := min((lq.Page-1)*lq.Limit, len(match))
	end := min(start+lq.Limit, len(match))
	return match[start:end], len(match), nil
}

func cloneValues(q url.Values) url.Values {
	out := make(url.Values, len(q))
	for k, v := range q {
		out[k] = v
	}
	return out
}

func splitComma(s string) []string {
	var out []string
	for _, p := range strings.Split(s, ",") {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	return out
}

// write answers with a meta code other than 200 (201 on create).
func (a *API) write(w http.ResponseWriter, status, code int, data any) {
	write(w, status, envelope{Meta: Meta{Code: code}, Data: data})
}

// fail answers a store or validation error, logging the unexpected ones.
func (a *API) fail(w http.ResponseWriter, r *http.Request, err error) {
	mapped := storeError(err)
	var e *Error
	if !errors.As(mapped, &e) {
		a.log.Error("api: store unavailable", "method", r.Method, "path", r.URL.Path, "err", err)
	}
	writeError(w, mapped)
}
