package api

import (
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"regexp"
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

// trackingInput is the "tracking" object of create and update requests.
// Pointers tell "absent" from "empty".
type trackingInput struct {
	TrackingNumber         *string           `json:"tracking_number"`
	Slug                   *string           `json:"slug"`
	Title                  *string           `json:"title"`
	OrderID                *string           `json:"order_id"`
	OrderNumber            *string           `json:"order_number"`
	CustomerName           *string           `json:"customer_name"`
	Language               *string           `json:"language"`
	DestinationCountryISO3 *string           `json:"destination_country_iso3"`
	Emails                 *contact.List     `json:"emails"`
	Smses                  *contact.List     `json:"smses"`
	CustomFields           map[string]string `json:"custom_fields"`
	Note                   *string           `json:"note"`
}

type trackingBody struct {
	Tracking *trackingInput `json:"tracking"`
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
		v := strings.TrimSpace(*in.Language)
		if v != "" {
			tag, err := language.Parse(v)
			if err != nil || len(v) > 35 {
				return errInvalidValue("language", clipValue(v), "not an ISO 639-1 or BCP 47 language code")
			}
			v = tag.String()
		}
		next.Language = v
	}
	if in.DestinationCountryISO3 != nil {
		v := strings.ToUpper(strings.TrimSpace(*in.DestinationCountryISO3))
		if v != "" && (len(v) != 3 || contact.Region(v) == "") {
			return errInvalidValue("destination_country_iso3", clipValue(v), "not an ISO 3166-1 alpha-3 country code")
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
	next.OptedOut = readmitted(next.OptedOut, next.Emails, next.SMSes)
	*t = next
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
	body, err := readBody(w, r)
	if err != nil {
		writeError(w, err)
		return
	}
	t, err := a.parseCreate(body)
	if err != nil {
		writeError(w, err)
		return
	}
	created, err := a.store.Create(r.Context(), t)
	if err != nil {
		a.fail(w, r, err)
		return
	}
	a.write(w, http.StatusCreated, 201, map[string]any{"tracking": a.toJSON(created)})
}

// parseCreate decodes and validates a create body into the tracking to
// store. Every error is an *Error.
func (a *API) parseCreate(body []byte) (tracking.Tracking, error) {
	var b trackingBody
	if err := decodeJSON(body, &b); err != nil {
		return tracking.Tracking{}, err
	}
	in := b.Tracking
	if in == nil {
		return tracking.Tracking{}, errTrackingRequired()
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
	writeData(w, http.StatusOK, map[string]any{"tracking": a.toJSON(t)})
}

// UpdateTracking is PUT /trackings/{id} and /trackings/{slug}/{tracking_number}.
func (a *API) UpdateTracking(w http.ResponseWriter, r *http.Request) {
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
	in, err := parseUpdate(body)
	if err != nil {
		writeError(w, err)
		return
	}
	t, err := a.store.Update(r.Context(), id, func(t *tracking.Tracking) error { return a.apply(t, in) })
	if err != nil {
		a.fail(w, r, err)
		return
	}
	writeData(w, http.StatusOK, map[string]any{"tracking": a.toJSON(t)})
}

// parseUpdate decodes an update body. Its values are validated by apply,
// against the stored tracking (a national phone number needs the
// tracking's country). Every error is an *Error.
func parseUpdate(body []byte) (*trackingInput, error) {
	var b trackingBody
	if err := decodeJSON(body, &b); err != nil {
		return nil, err
	}
	if b.Tracking == nil {
		return nil, errTrackingRequired()
	}
	in := b.Tracking
	in.TrackingNumber, in.Slug = nil, nil // the key of a tracking never changes
	return in, nil
}

// DeleteTracking is DELETE /trackings/{id} and /trackings/{slug}/{tracking_number}.
func (a *API) DeleteTracking(w http.ResponseWriter, r *http.Request) {
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
	writeData(w, http.StatusOK, map[string]any{"tracking": map[string]string{"id": t.ID, "tracking_number": t.TrackingNumber, "slug": t.Slug}})
}

// ListTrackings is GET /trackings: page-based, newest first, with AfterShip's
// filters page, limit (≤ 200), keyword, slug, tag, tracking_numbers,
// created_at_min and created_at_max.
func (a *API) ListTrackings(w http.ResponseWriter, r *http.Request) {
	lq, numbers, err := a.parseListQuery(r.URL.Query())
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
	out := make([]trackingJSON, 0, len(list))
	for _, t := range list {
		out = append(out, a.toJSON(t))
	}
	data := map[string]any{"page": lq.Page, "limit": lq.Limit, "count": total, "trackings": out}
	if lq.Keyword != "" {
		data["keyword"] = lq.Keyword
	}
	writeData(w, http.StatusOK, data)
}

// maxKeyword bounds the keyword filter: no field it searches is longer.
const maxKeyword = maxText

// parseListQuery validates the filters of GET /trackings and returns the
// store query and the tracking_numbers filter. Every error is an *Error.
func (a *API) parseListQuery(q url.Values) (tracking.ListQuery, []string, error) {
	lq := tracking.ListQuery{Page: 1, Limit: 100, Keyword: q.Get("keyword")}
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
