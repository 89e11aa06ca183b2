package trackingmore

import (
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/trackhook/trackhook/receiver/tracking"
)

// listQuery is a list request, version-neutral.
type listQuery struct {
	page, limit            int
	statuses               []tracking.Status
	statusGiven            bool
	slugs                  []string
	createdMin, createdMax time.Time
	updatedMin, updatedMax time.Time
	numbers                []string // normalised (tracking.NormalizeNumber)
	orders                 []string
	none                   bool // a filter that matches nothing (archived trackings)
}

// maxListLimit bounds a page: "Items per page (max 2000)", default 100 (v2
// "List all trackings", trackingmore.com/docs/trackings/list-all-trackings.php).
// v4's items_amount limits are UNVERIFIED; the same are used.
const (
	maxListLimit   = 2000
	defaultLimit   = 100
	maxListNumbers = 200 // v2 4020 "Up to 200 at a time"
)

// The list parameters. v2: the "List all trackings" page (page, limit,
// status, created_at_min/max, update_time_min/max as Unix seconds) and
// TrackingMore's v2 samples (order_created_time_min/max, numbers, orders,
// lang: api-java-en, api-csharp-en and its api-go sample's query). v4: the
// SDK's GetTrackingResultsParams (trackingmore-sdk-go trackings.go).
var (
	v2ListParams = set("page", "limit", "status", "created_at_min", "created_at_max", "update_time_min", "update_time_max",
		"order_created_time_min", "order_created_time_max", "numbers", "orders", "lang")
	v4ListParams = set("archived_status", "courier_code", "created_date_max", "created_date_min", "delivery_status", "items_amount",
		"lang", "pages_amount", "tracking_numbers", "updated_date_max", "updated_date_min")
)

// params reads list parameters, from the query or (v2's PHP SDK) a JSON
// body, as text; "" is "not given".
func listParams(w http.ResponseWriter, r *http.Request, v version) (map[string]string, error) {
	allowedParams := v2ListParams
	if v == v4 {
		allowedParams = v4ListParams
	}
	out := map[string]string{}
	if r.Method == http.MethodPost {
		body, err := readBody(w, r, MaxBodyBytes)
		if err != nil {
			return nil, err
		}
		obj, err := decodeObject(body)
		if err != nil {
			return nil, err
		}
		if name := unknownField(obj, allowedParams); name != "" {
			return nil, errUnknownField("", name)
		}
		for name := range obj {
			s, err := obj.scalar("", name)
			if err != nil {
				return nil, err
			}
			if s != nil && strings.TrimSpace(*s) != "" {
				out[name] = strings.TrimSpace(*s)
			}
		}
		return out, nil
	}
	q, err := url.ParseQuery(r.URL.RawQuery)
	if err != nil {
		return nil, fail(kMalformed, "The request could not be understood: the query string is malformed.")
	}
	obj := object{}
	for name := range q {
		obj[name] = nil
	}
	if name := unknownField(obj, allowedParams); name != "" {
		return nil, fail(kField, fmt.Sprintf("The parameter `%s` is not a parameter of this request.", clip(strings.ToValidUTF8(name, "?"))))
	}
	for name, vals := range q {
		if s := strings.TrimSpace(vals[len(vals)-1]); s != "" {
			out[name] = s
		}
	}
	return out, nil
}

func badParam(name, value, why string) error {
	return fail(kField, fmt.Sprintf("The value of `%s` is invalid: %q (%s).", name, clip(value), why))
}

// parseList reads the list parameters of version v.
func (a *API) parseList(v version, p map[string]string) (listQuery, error) {
	q := listQuery{page: 1, limit: defaultLimit}
	pageName, limitName, statusName, numbersName := "page", "limit", "status", "numbers"
	if v == v4 {
		pageName, limitName, statusName, numbersName = "pages_amount", "items_amount", "delivery_status", "tracking_numbers"
	}
	if s, ok := p[pageName]; ok {
		n, ok := positive(s, 1<<20)
		if !ok {
			return q, badParam(pageName, s, "a page number from 1")
		}
		q.page = n
	}
	if s, ok := p[limitName]; ok {
		n, ok := positive(s, maxListLimit)
		if !ok {
			return q, badParam(limitName, s, fmt.Sprintf("a whole number from 1 to %d", maxListLimit))
		}
		q.limit = n
	}
	if s, ok := p[statusName]; ok {
		for _, word := range splitComma(s) {
			st, ok := statusesOf(v, word)
			if !ok {
				return q, fail(kStatus, fmt.Sprintf("The value of `%s` is invalid: %q is not a package status.", statusName, clip(word)))
			}
			q.statuses = append(q.statuses, st...)
			q.statusGiven = true
		}
	}
	if s, ok := p[numbersName]; ok {
		for _, n := range splitComma(s) {
			q.numbers = append(q.numbers, tracking.NormalizeNumber(n))
		}
		max := maxListNumbers
		if v == v4 {
			max = MaxBatch
		}
		if len(q.numbers) > max {
			return q, fail(kTooMany, fmt.Sprintf("Up to %d tracking numbers at a time: `%s` has %d.", max, numbersName, len(q.numbers)))
		}
	}
	if s, ok := p["orders"]; ok {
		q.orders = splitComma(s)
		if len(q.orders) > maxListNumbers {
			return q, fail(kTooMany, fmt.Sprintf("Up to %d orders at a time: `orders` has %d.", maxListNumbers, len(q.orders)))
		}
	}
	if s, ok := p["courier_code"]; ok {
		slug, err := a.parseCarrier("courier_code", s)
		if err != nil {
			return q, err
		}
		q.slugs = []string{slug}
	}
	if s, ok := p["lang"]; ok {
		if _, err := parseLanguage("lang", s); err != nil {
			return q, err
		}
	}
	if s, ok := p["archived_status"]; ok {
		switch strings.ToLower(s) {
		case "true":
			q.none = true // trackhook archives nothing
		case "false":
		default:
			return q, badParam("archived_status", s, "true or false")
		}
	}
	type tparam struct {
		name string
		dst  *time.Time
	}
	var times []tparam
	if v == v4 {
		times = []tparam{{"created_date_min", &q.createdMin}, {"created_date_max", &q.createdMax}, {"updated_date_min", &q.updatedMin}, {"updated_date_max", &q.updatedMax}}
	} else {
		times = []tparam{{"created_at_min", &q.createdMin}, {"created_at_max", &q.createdMax}, {"update_time_min", &q.updatedMin}, {"update_time_max", &q.updatedMax},
			{"order_created_time_min", nil}, {"order_created_time_max", nil}}
	}
	for _, tp := range times {
		s, ok := p[tp.name]
		if !ok {
			continue
		}
		t, err := parseListTime(v, s)
		if err != nil {
			return q, badParam(tp.name, s, err.Error())
		}
		if tp.dst != nil {
			*tp.dst = t
		}
	}
	return q, nil
}

// parseListTime reads a v2 time (Unix seconds, "1441314361") or a v4 time
// (ISO 8601, "2023-08-23T06:00:00+00:00"; a '+' a query string turned into
// a space is read back as '+').
func parseListTime(v version, s string) (time.Time, error) {
	if v == v2 {
		n, err := strconv.ParseInt(s, 10, 64)
		if err != nil || n < 0 || n > 1<<40 {
			return time.Time{}, fmt.Errorf("a Unix timestamp in seconds")
		}
		return time.Unix(n, 0), nil
	}
	t, err := time.Parse(time.RFC3339, strings.ReplaceAll(s, " ", "+"))
	if err != nil {
		return time.Time{}, fmt.Errorf("an ISO 8601 time like 2023-08-23T06:00:00+00:00")
	}
	return t, nil
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

// list runs q: one page of the matching trackings, newest first, and how
// many match in all.
func (a *API) list(r *http.Request, q listQuery) ([]tracking.Tracking, int, error) {
	if q.none || q.statusGiven && len(q.statuses) == 0 {
		return nil, 0, nil
	}
	lq := tracking.ListQuery{Page: q.page, Limit: q.limit, Tags: q.statuses, Slugs: q.slugs, CreatedAfter: q.createdMin, CreatedUntil: q.createdMax}
	if len(q.numbers) == 0 && len(q.orders) == 0 && q.updatedMin.IsZero() && q.updatedMax.IsZero() {
		return a.store.List(r.Context(), lq)
	}
	// Filters the store does not index: read every match, filter, page.
	lq.Page, lq.Limit = 1, 1<<30
	all, _, err := a.store.List(r.Context(), lq)
	if err != nil {
		return nil, 0, err
	}
	var match []tracking.Tracking
	for _, t := range all {
		if len(q.numbers) > 0 && !slices.Contains(q.numbers, tracking.NormalizeNumber(t.TrackingNumber)) ||
			len(q.orders) > 0 && !slices.Contains(q.orders, t.OrderID) ||
			!q.updatedMin.IsZero() && t.UpdatedAt.Before(q.updatedMin) ||
			!q.updatedMax.IsZero() && t.UpdatedAt.After(q.updatedMax) {
			continue
		}
		match = append(match, t)
	}
	start := min((q.page-1)*q.limit, len(match))
	end := min(start+q.limit, len(match))
	return match[start:end], len(match), nil
}

// v2List is GET (and, from the PHP SDK, POST) /v2/trackings/get: data
// {"page", "limit", "total", "count", "items"} as a recorded v2 answer has
// it (kuaidi's GetVo.java: total is a string there, "3", and count a
// number; count is taken to be the items on this page, UNVERIFIED).
func (a *API) v2List(w http.ResponseWriter, r *http.Request) {
	p, err := listParams(w, r, v2)
	if err != nil {
		writeError(w, v2, err)
		return
	}
	q, err := a.parseList(v2, p)
	if err != nil {
		writeError(w, v2, err)
		return
	}
	page, total, err := a.list(r, q)
	if err != nil {
		a.fail(w, r, v2, err)
		return
	}
	items := make([]v2Tracking, 0, len(page))
	for _, t := range page {
		items = append(items, a.v2Tracking(t))
	}
	writeOK(w, v2, http.StatusOK, map[string]any{"page": q.page, "limit": q.limit, "total": strconv.Itoa(total), "count": len(items), "items": items})
}

// v4List is GET /v4/trackings/get: data is the array of trackings (the
// SDK's GetTrackingResults decodes it into []Tracking).
func (a *API) v4List(w http.ResponseWriter, r *http.Request) {
	p, err := listParams(w, r, v4)
	if err != nil {
		writeError(w, v4, err)
		return
	}
	q, err := a.parseList(v4, p)
	if err != nil {
		writeError(w, v4, err)
		return
	}
	page, _, err := a.list(r, q)
	if err != nil {
		a.fail(w, r, v4, err)
		return
	}
	items := make([]v4Tracking, 0, len(page))
	for _, t := range page {
		items = append(items, a.v4Tracking(t))
	}
	writeOK(w, v4, http.StatusOK, items)
}
