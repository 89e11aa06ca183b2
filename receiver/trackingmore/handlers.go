package trackingmore

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"regexp"
	"strconv"
	"strings"

	"github.com/gorilla/mux"

	"github.com/trackhook/trackhook/receiver/tracking"
)

// fail answers a store or validation error, logging the unexpected ones.
func (a *API) fail(w http.ResponseWriter, r *http.Request, v version, err error) {
	var e *apiError
	switch {
	case errors.As(err, &e):
	case errors.Is(err, tracking.ErrNotFound):
		e = fail(kNotFound, "Tracking does not exist. Create it first (POST "+createPath(v)+").")
	case errors.Is(err, tracking.ErrExists):
		e = fail(kExists, "Tracking already exists.")
	default:
		a.log.Error("trackingmore: store unavailable", "method", r.Method, "path", r.URL.Path, "err", err)
	}
	if e == nil {
		writeError(w, v, err)
		return
	}
	writeError(w, v, e)
}

func createPath(v version) string {
	if v == v4 {
		return "/v4/trackings/create"
	}
	return "/v2/trackings/post"
}

var langRe = regexp.MustCompile(`^[A-Za-z]{2}$`)

// v2Key is the tracking id a v2 path names by {carrier_code} and
// {tracking_number} (and checks the optional {lang}: two letters, the v2
// PHP SDK's $patternLang).
func (a *API) v2Key(r *http.Request) (string, error) {
	vars := mux.Vars(r)
	slug, err := a.parseCarrier("carrier_code", vars["carrier_code"])
	if err != nil {
		return "", err
	}
	number, err := parseNumber("tracking_number", vars["tracking_number"])
	if err != nil {
		return "", err
	}
	if lang, ok := vars["lang"]; ok && !langRe.MatchString(lang) {
		return "", fail(kField, fmt.Sprintf("The value of `lang` is invalid: %q (a two-letter language code such as en or cn).", clip(lang)))
	}
	return tracking.ID(slug, number), nil
}

// v2Create is POST /v2/trackings/post: 201 with the tracking (meta 201
// "Created", trackingmore.com/api-status_code.html).
func (a *API) v2Create(w http.ResponseWriter, r *http.Request) { a.create(w, r, v2) }

// v4Create is POST /v4/trackings/create: 200 with the tracking
// (trackingmore-sdk-go: CreateTracking decodes data into a Tracking).
func (a *API) v4Create(w http.ResponseWriter, r *http.Request) { a.create(w, r, v4) }

func (a *API) create(w http.ResponseWriter, r *http.Request, v version) {
	body, err := readBody(w, r, MaxBodyBytes)
	if err != nil {
		writeError(w, v, err)
		return
	}
	t, err := a.parseCreate(v, body)
	if err != nil {
		writeError(w, v, err)
		return
	}
	created, err := a.store.Create(r.Context(), t)
	if err != nil {
		a.fail(w, r, v, err)
		return
	}
	if v == v4 {
		writeOK(w, v, http.StatusOK, a.v4Tracking(created))
		return
	}
	writeOK(w, v, http.StatusCreated, a.v2Tracking(created))
}

// parseCreate decodes and validates a create body of version v into the
// tracking to store. Every error is an *apiError.
func (a *API) parseCreate(v version, body []byte) (tracking.Tracking, error) {
	obj, err := decodeObject(body)
	if err != nil {
		return tracking.Tracking{}, err
	}
	in, err := parseInput(v, opCreate, obj, "")
	if err != nil {
		return tracking.Tracking{}, err
	}
	return a.newTracking(v, in, "")
}

// v2Get is GET /v2/trackings/{carrier_code}/{tracking_number}[/{lang}].
// {lang} asks TrackingMore for the carrier's text in that language;
// trackhook keeps the text as the carrier sent it, so it only checks it.
func (a *API) v2Get(w http.ResponseWriter, r *http.Request) {
	id, err := a.v2Key(r)
	if err != nil {
		writeError(w, v2, err)
		return
	}
	t, err := a.store.Get(r.Context(), id)
	if err != nil {
		a.fail(w, r, v2, err)
		return
	}
	writeOK(w, v2, http.StatusOK, a.v2Tracking(t))
}

// v2Update is PUT /v2/trackings/{carrier_code}/{tracking_number}: the
// tracking's fields; "" clears a field. It answers the tracking.
func (a *API) v2Update(w http.ResponseWriter, r *http.Request) {
	id, err := a.v2Key(r)
	if err != nil {
		writeError(w, v2, err)
		return
	}
	body, err := readBody(w, r, MaxBodyBytes)
	if err != nil {
		writeError(w, v2, err)
		return
	}
	in, err := parseUpdate(v2, body)
	if err != nil {
		writeError(w, v2, err)
		return
	}
	t, err := a.store.Update(r.Context(), id, func(t *tracking.Tracking) error { return a.applyUpdate(v2, t, in) })
	if err != nil {
		a.fail(w, r, v2, err)
		return
	}
	writeOK(w, v2, http.StatusOK, a.v2Tracking(t))
}

// parseUpdate decodes an update body of version v. Its values are checked
// by applyUpdate against the stored tracking (a national phone number is
// read with the tracking's country). Every error is an *apiError.
func parseUpdate(v version, body []byte) (*input, error) {
	obj, err := decodeObject(body)
	if err != nil {
		return nil, err
	}
	in, err := parseInput(v, opUpdate, obj, "")
	if err != nil {
		return nil, err
	}
	if in.status != nil {
		// "You can only change the state value to 4, 7 or 8. 4 means
		// delivered, 7 means exception, 8 means return to the original
		// status" (v2 update docs). trackhook takes statuses from carriers
		// and senders only, so there is no manual status to return from.
		if s := strings.TrimSpace(*in.status); s != "" && s != "8" {
			return nil, fail(kStatus, fmt.Sprintf("The value of `status` is invalid: %q. trackhook sets a tracking's status from its carrier's updates only; 8 (keep the carrier's status) is the one value accepted.", clip(s)))
		}
	}
	return in, nil
}

// applyUpdate applies an update to the stored tracking: the key fields, if
// given, must be the tracking's own.
func (a *API) applyUpdate(v version, t *tracking.Tracking, in *input) error {
	n := names[v]
	if in.number != nil && tracking.NormalizeNumber(strings.TrimSpace(*in.number)) != tracking.NormalizeNumber(t.TrackingNumber) {
		return fail(kNumberInvalid, fmt.Sprintf("The value of `tracking_number` is invalid: %q is not this tracking's number; a tracking's number and courier are its key and cannot change.", clip(*in.number)))
	}
	if in.carrier != nil && a.carriers.Normalize(strings.TrimSpace(*in.carrier)) != t.Slug {
		return fail(kCarrierInvalid, fmt.Sprintf("The value of `%s` is invalid: %q is not this tracking's courier; a tracking's number and courier are its key and cannot change (delete it and create it again).", n.carrier, clip(*in.carrier)))
	}
	if in.carrierNew != nil && a.carriers.Normalize(strings.TrimSpace(*in.carrierNew)) != t.Slug {
		return fail(kCarrierInvalid, fmt.Sprintf("The value of `courier_code_new` is invalid: %q. A tracking's number and courier are its key and cannot change; delete it and create it again with the new courier.", clip(*in.carrierNew)))
	}
	return a.apply(v, t, in, "")
}

// v2Delete is DELETE /v2/trackings/{carrier_code}/{tracking_number}; it
// answers data [] (a third-party v2 client's live test expects []:
// marcoesposito1988/trackingmore-python test_trackingmore.py).
func (a *API) v2Delete(w http.ResponseWriter, r *http.Request) {
	id, err := a.v2Key(r)
	if err != nil {
		writeError(w, v2, err)
		return
	}
	if err := a.store.Delete(r.Context(), id); err != nil {
		a.fail(w, r, v2, err)
		return
	}
	writeOK(w, v2, http.StatusOK, []any{})
}

// v4ID is the {id} of a v4 path: a tracking id as trackhook makes them (24
// lower-case base32 characters, tracking.ID), which is what create answered.
func v4ID(r *http.Request) (string, error) {
	id := mux.Vars(r)["id"]
	if len(id) != 24 || strings.ContainsFunc(id, func(c rune) bool { return !(c >= 'a' && c <= 'z' || c >= '2' && c <= '7') }) {
		return "", fail(kInvalidID, fmt.Sprintf("Invalid Tracking ID: %q is not the id of a tracking (use the id create answered).", clip(id)))
	}
	return id, nil
}

// v4Update is PUT /v4/trackings/update/{id}. The SDK sends every field of
// UpdateTrackingParams, "" when unset, so "" leaves a field as it is.
func (a *API) v4Update(w http.ResponseWriter, r *http.Request) {
	id, err := v4ID(r)
	if err != nil {
		writeError(w, v4, err)
		return
	}
	body, err := readBody(w, r, MaxBodyBytes)
	if err != nil {
		writeError(w, v4, err)
		return
	}
	in, err := parseUpdate(v4, body)
	if err != nil {
		writeError(w, v4, err)
		return
	}
	t, err := a.store.Update(r.Context(), id, func(t *tracking.Tracking) error { return a.applyUpdate(v4, t, in) })
	if err != nil {
		a.fail(w, r, v4, err)
		return
	}
	writeOK(w, v4, http.StatusOK, v4Update(t))
}

// v4Delete is DELETE /v4/trackings/delete/{id}; it answers the deleted
// tracking (the SDK decodes data into a Tracking).
func (a *API) v4Delete(w http.ResponseWriter, r *http.Request) {
	id, err := v4ID(r)
	if err != nil {
		writeError(w, v4, err)
		return
	}
	t, err := a.store.Get(r.Context(), id)
	if err != nil {
		a.fail(w, r, v4, err)
		return
	}
	if err := a.store.Delete(r.Context(), id); err != nil {
		a.fail(w, r, v4, err)
		return
	}
	writeOK(w, v4, http.StatusOK, a.v4Tracking(t))
}

// itemError is one batch item that was not stored.
type itemError struct {
	index   int
	number  string
	carrier string
	err     *apiError
}

// batch stores the valid items of a batch create body of version v. A body
// that is no array, has no item or more than MaxBatch, or names a field
// that is not one of a tracking's in any item is refused whole, and
// nothing is stored. Otherwise each item is checked alone: the valid ones
// are stored and the others reported. A store failure stops the batch and
// is returned as such (503).
func (a *API) batch(w http.ResponseWriter, r *http.Request, v version) (created []tracking.Tracking, bad []itemError, submitted int, err error) {
	body, err := readBody(w, r, MaxBatchBodyBytes)
	if err != nil {
		return nil, nil, 0, err
	}
	items, objs, err := parseBatch(v, body)
	if err != nil {
		return nil, nil, 0, err
	}
	n := names[v]
	type todo struct {
		index int
		t     tracking.Tracking
	}
	var valid []todo
	for i, obj := range objs {
		where := "[" + strconv.Itoa(i) + "]."
		num, car := echo(obj, "tracking_number"), echo(obj, n.carrier)
		if obj == nil {
			bad = append(bad, itemError{i, "", "", fail(kMalformed, fmt.Sprintf("Item %d is %s, not a tracking object.", i, rawKind(trimRaw(items[i]))))})
			continue
		}
		in, err := parseInput(v, opCreate, obj, where)
		if err == nil {
			var t tracking.Tracking
			if t, err = a.newTracking(v, in, where); err == nil {
				valid = append(valid, todo{i, t})
				continue
			}
		}
		var e *apiError
		if !errors.As(err, &e) {
			e = fail(kField, err.Error())
		}
		bad = append(bad, itemError{i, num, car, e})
	}
	for k, item := range valid {
		t, err := a.store.Create(r.Context(), item.t)
		switch {
		case err == nil:
			created = append(created, t)
		case errors.Is(err, tracking.ErrExists):
			bad = append(bad, itemError{item.index, item.t.TrackingNumber, echo(objs[item.index], n.carrier), fail(kExists, "Tracking already exists.")})
		default:
			a.log.Error("trackingmore: store unavailable in batch", "path", r.URL.Path, "stored", k, "err", err)
			return nil, nil, 0, fail(kUnavailable, fmt.Sprintf("The tracking store is unavailable: %d of the %d valid trackings were stored before it failed. Retry the batch; the ones stored are then reported as already existing.", k, len(valid)))
		}
	}
	sortItemErrors(bad)
	return created, bad, len(items), nil
}

// parseBatch decodes a batch body: the raw items and each as an object
// (nil for an item that is not one). Every error is an *apiError.
func parseBatch(v version, body []byte) ([]json.RawMessage, []object, error) {
	items, err := decodeArray(body)
	if err != nil {
		return nil, nil, err
	}
	if len(items) == 0 {
		return nil, nil, fail(kMalformed, "The request could not be understood: the batch has no trackings.")
	}
	if len(items) > MaxBatch {
		return nil, nil, fail(kTooMany, fmt.Sprintf("Up to %d trackings at a time: this batch has %d; nothing was stored.", MaxBatch, len(items)))
	}
	objs := make([]object, len(items))
	for i, raw := range items {
		var o object
		if json.Unmarshal(raw, &o) != nil {
			continue
		}
		if name := unknownField(o, allowed[v][opCreate]); name != "" {
			return nil, nil, errUnknownField("["+strconv.Itoa(i)+"].", name)
		}
		objs[i] = o
	}
	return items, objs, nil
}

func trimRaw(b json.RawMessage) []byte { return []byte(strings.TrimSpace(string(b))) }

// echo is an item's field as sent, for its error report ("" unless a string).
func echo(o object, name string) string {
	if o == nil {
		return ""
	}
	s, err := o.str("", name)
	if err != nil || s == nil {
		return ""
	}
	return clip(strings.TrimSpace(*s))
}

func sortItemErrors(bad []itemError) {
	for i := 1; i < len(bad); i++ {
		for j := i; j > 0 && bad[j].index < bad[j-1].index; j-- {
			bad[j], bad[j-1] = bad[j-1], bad[j]
		}
	}
}

// v2Batch is POST /v2/trackings/batch. Its answer is the one TrackingMore
// gives (a recorded v2 answer, kuaidi's BatchVo.java): meta 201 "Created"
// and data {"submitted", "added", "trackings": [the created], "errors":
// [{"tracking_number", "carrier_code", "code", "message"}]}, each error with
// the v2 code of the single create. With nothing added it is meta 200
// (UNVERIFIED).
func (a *API) v2Batch(w http.ResponseWriter, r *http.Request) {
	created, bad, submitted, err := a.batch(w, r, v2)
	if err != nil {
		writeError(w, v2, err)
		return
	}
	type itemErr struct {
		TrackingNumber string `json:"tracking_number"`
		CarrierCode    string `json:"carrier_code"`
		Code           int    `json:"code"`
		Message        string `json:"message"`
	}
	data := struct {
		Submitted int          `json:"submitted"`
		Added     int          `json:"added"`
		Trackings []v2Tracking `json:"trackings"`
		Errors    []itemErr    `json:"errors"`
	}{Submitted: submitted, Added: len(created), Trackings: []v2Tracking{}, Errors: []itemErr{}}
	for _, t := range created {
		data.Trackings = append(data.Trackings, a.v2Tracking(t))
	}
	for _, b := range bad {
		data.Errors = append(data.Errors, itemErr{b.number, b.carrier, codeOf(v2, b.err.kind).code, b.err.msg})
	}
	status := http.StatusOK
	if len(created) > 0 {
		status = http.StatusCreated
	}
	writeOK(w, v2, status, data)
}

// v4Batch is POST /v4/trackings/batch: data {"success": [{"id",
// "tracking_number", "courier_code"}], "error": [{…, "errorCode",
// "errorMessage"}]}, the SDK's BatchResults and BatchItem
// (trackingmore-sdk-go trackings.go), each error with the v4 code of the
// single create.
func (a *API) v4Batch(w http.ResponseWriter, r *http.Request) {
	created, bad, _, err := a.batch(w, r, v4)
	if err != nil {
		writeError(w, v4, err)
		return
	}
	type item struct {
		ID             string `json:"id"`
		TrackingNumber string `json:"tracking_number"`
		CourierCode    string `json:"courier_code"`
		ErrorCode      int    `json:"errorCode,omitempty"`
		ErrorMessage   string `json:"errorMessage,omitempty"`
	}
	data := struct {
		Success []item `json:"success"`
		Error   []item `json:"error"`
	}{Success: []item{}, Error: []item{}}
	for _, t := range created {
		data.Success = append(data.Success, item{ID: t.ID, TrackingNumber: t.TrackingNumber, CourierCode: t.Slug})
	}
	for _, b := range bad {
		data.Error = append(data.Error, item{TrackingNumber: b.number, CourierCode: b.carrier, ErrorCode: codeOf(v4, b.err.kind).code, ErrorMessage: b.err.msg})
	}
	writeOK(w, v4, http.StatusOK, data)
}
