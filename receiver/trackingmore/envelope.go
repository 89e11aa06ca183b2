package trackingmore

import (
	"encoding/json"
	"errors"
	"net/http"
	"strconv"
	"strings"
)

// version is the TrackingMore API version a request speaks.
type version int

const (
	v2 version = 2
	v4 version = 4
)

// versionOf tells the version of a request by its path (…/v4/…).
func versionOf(r *http.Request) version {
	if r != nil && strings.Contains(r.URL.Path+"/", "/v4/") {
		return v4
	}
	return v2
}

// meta is TrackingMore's response meta block. v2 answers
// {"meta":{"code","type","message"},"data"} (trackingmore.com/api-status_code.html
// names Meta.code and Meta.type; a recorded v2 batch answer is
// {"meta":{"code":201,"type":"Created","message":"The request was successful
// and a resource was created."},…}, in kuaidi's org/kuaidi/bean/trackingmore/BatchVo.java).
// v4 answers {"meta":{"code","message"},"data"} (trackingmore-sdk-go
// response.go); its README's code table also gives a TYPE, which is sent
// too (UNVERIFIED whether v4 sends it; the SDK ignores it either way).
type meta struct {
	Code    int    `json:"code"`
	Type    string `json:"type"`
	Message string `json:"message"`
}

type envelope struct {
	Meta meta `json:"meta"`
	Data any  `json:"data"`
}

// kind is what went wrong, independent of the version; each version has its
// own code for it (codes below).
type kind int

const (
	kMalformed       kind = iota // the body is no JSON of the right shape
	kField                       // a field is unknown, of the wrong type or has a bad value
	kNumberRequired              // tracking_number is missing
	kNumberInvalid               // tracking_number is invalid
	kCarrierRequired             // carrier_code / courier_code is missing
	kCarrierInvalid              // carrier_code / courier_code is invalid
	kExists                      // the tracking exists already
	kNotFound                    // the tracking does not exist
	kTooMany                     // too many trackings in one call
	kInvalidID                   // not a tracking id (v4 update/delete)
	kStatus                      // a status change (v2 PUT "status")
	kTooLarge                    // the body is over the size limit
	kUnauthorized                // bad API key (the caller decides)
	kRoute                       // no such endpoint
	kMethod                      // no such method on the endpoint
	kRateLimited                 // too many requests (the caller decides)
	kUnavailable                 // the store failed: retry
)

// apiError is an error a handler answers with: its kind and a message that
// names the field and value at fault.
type apiError struct {
	kind kind
	msg  string
}

func (e *apiError) Error() string { return e.msg }

func fail(k kind, msg string) *apiError { return &apiError{kind: k, msg: msg} }

// code is one row of a version's code table.
type code struct {
	http int
	code int
	typ  string
}

// v2Codes are API v2's meta codes, VERIFIED on
// trackingmore.com/api-status_code.html (and the v2 PHP SDK's README table):
// 4001 invalid API key, 4012 request not understood or missing parameters,
// 4013 tracking_number required, 4014 tracking_number invalid, 4015
// carrier_code invalid, 4016 tracking already exists, 4017 tracking does
// not exist, 4020 "Up to 200 at a time", 4033 invalid package status, 404,
// 405, 429, 503. The HTTP statuses are UNVERIFIED: the page gives meta codes
// only; "Bad Request" codes are sent as HTTP 400, like v4's (below). 413 is
// trackhook's own (the docs name no size limit). 4020 for a batch of more
// than 40 is an UNVERIFIED choice: the docs give the 40 limit but no code
// for passing it.
var v2Codes = map[kind]code{
	kMalformed:       {400, 4012, "Bad Request"},
	kField:           {400, 4012, "Bad Request"},
	kNumberRequired:  {400, 4013, "Bad Request"},
	kNumberInvalid:   {400, 4014, "Bad Request"},
	kCarrierRequired: {400, 4015, "Bad Request"},
	kCarrierInvalid:  {400, 4015, "Bad Request"},
	kExists:          {400, 4016, "Bad Request"},
	kNotFound:        {400, 4017, "Bad Request"},
	kTooMany:         {400, 4020, "Bad Request"},
	kInvalidID:       {400, 4012, "Bad Request"},
	kStatus:          {400, 4033, "No Content"},
	kTooLarge:        {413, 413, "Payload Too Large"},
	kUnauthorized:    {401, 4001, "Unauthorized"},
	kRoute:           {404, 404, "Not Found"},
	kMethod:          {405, 405, "Method Not Allowed"},
	kRateLimited:     {429, 429, "Too Many Requests"},
	kUnavailable:     {503, 503, "Service Unavailable"},
}

// v4Codes are API v4's codes with their HTTP statuses, VERIFIED in the
// "Response Code" table of TrackingMore-API/trackingmore-sdk-go README.md:
// 400 request type error, 4101 tracking exists, 4102 tracking does not
// exist, 4103 more than 40 per call, 4110 tracking_number invalid, 4111
// tracking_number required, 4112 invalid tracking id, 4120 courier_code
// invalid, 4121 cannot detect courier (trackhook detects none, so a missing
// courier_code is this), 4130 "The format of Field name is invalid", 401,
// 404, 429. 405, 413 and 503 are not in that table (its server errors are
// HTTP 500 with 511–513): trackhook answers a store failure 503 so clients
// retry, and uses 405 and 413 as plain HTTP does.
var v4Codes = map[kind]code{
	kMalformed:       {400, 400, "BadRequest"},
	kField:           {400, 4130, "BadRequest"},
	kNumberRequired:  {400, 4111, "BadRequest"},
	kNumberInvalid:   {400, 4110, "BadRequest"},
	kCarrierRequired: {400, 4121, "BadRequest"},
	kCarrierInvalid:  {400, 4120, "BadRequest"},
	kExists:          {400, 4101, "BadRequest"},
	kNotFound:        {400, 4102, "BadRequest"},
	kTooMany:         {400, 4103, "BadRequest"},
	kInvalidID:       {400, 4112, "BadRequest"},
	kStatus:          {400, 4130, "BadRequest"},
	kTooLarge:        {413, 413, "PayloadTooLarge"},
	kUnauthorized:    {401, 401, "Unauthorized"},
	kRoute:           {404, 404, "NotFound"},
	kMethod:          {405, 405, "MethodNotAllowed"},
	kRateLimited:     {429, 429, "TooManyRequests"},
	kUnavailable:     {503, 503, "ServiceUnavailable"},
}

func codeOf(v version, k kind) code {
	if v == v4 {
		return v4Codes[k]
	}
	return v2Codes[k]
}

// errorData is the data of an error answer: [] in v2 (what the v2 PHP SDK's
// own errorResponse sends, lib/Api.class.php), null in v4, which the Go SDK
// decodes into any of its result types.
func errorData(v version) any {
	if v == v4 {
		return nil
	}
	return []any{}
}

// writeError answers err in version v's envelope. Anything that is not an
// *apiError is a store failure: 503, so clients retry.
func writeError(w http.ResponseWriter, v version, err error) {
	var e *apiError
	if !errors.As(err, &e) {
		e = fail(kUnavailable, "The tracking store is unavailable; nothing was changed by this call. Retry later.")
	}
	c := codeOf(v, e.kind)
	write(w, c.http, envelope{Meta: meta{Code: c.code, Type: c.typ, Message: e.msg}, Data: errorData(v)})
}

// writeOK answers data with meta code 200 (or 201 with status 201).
func writeOK(w http.ResponseWriter, v version, status int, data any) {
	m := meta{Code: 200, Type: "Success", Message: "Success"}
	switch {
	case status == http.StatusCreated:
		m = meta{Code: 201, Type: "Created", Message: "The request was successful and a resource was created."}
	case v == v4:
		// trackingmore-sdk-go README: 200 Success "Request response is successful".
		m.Message = "Request response is successful"
	}
	write(w, status, envelope{Meta: m, Data: data})
}

func write(w http.ResponseWriter, status int, v envelope) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(status)
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	_ = enc.Encode(v)
}

// Unauthorized answers a request whose API key is missing or wrong: v2's
// 4001 "Invalid API key" (HTTP 401) or v4's 401, by the request's path.
func Unauthorized(w http.ResponseWriter, r *http.Request) {
	writeError(w, versionOf(r), fail(kUnauthorized, "Invalid API key. Send it in the "+keyHeaderOf(versionOf(r))+" header."))
}

func keyHeaderOf(v version) string {
	if v == v4 {
		return "Tracking-Api-Key"
	}
	return "Trackingmore-Api-Key"
}

// NotFound answers a path that is no endpoint (404 in the request's
// version's envelope).
func NotFound(w http.ResponseWriter, r *http.Request) {
	writeError(w, versionOf(r), fail(kRoute, "Resource was not found: "+clip(r.URL.Path)+" is no endpoint of this API."))
}

// MethodNotAllowed answers a method the endpoint does not have (405).
func MethodNotAllowed(w http.ResponseWriter, r *http.Request) {
	writeError(w, versionOf(r), fail(kMethod, "Requested method "+clip(r.Method)+" is not supported for the specified resource."))
}

// TooManyRequests answers a rate-limited call: 429, meta code 429 (the same
// in v2 and v4) and a Retry-After header. It has no request, so its meta
// type is v4's spelling and its data null, which every client reads.
func TooManyRequests(w http.ResponseWriter, retryAfterSeconds int) {
	if retryAfterSeconds < 1 {
		retryAfterSeconds = 1
	}
	w.Header().Set("Retry-After", strconv.Itoa(retryAfterSeconds))
	write(w, http.StatusTooManyRequests, envelope{
		Meta: meta{Code: 429, Type: "TooManyRequests", Message: "Exceeded API request limits. Retry after " + strconv.Itoa(retryAfterSeconds) + "s."},
		Data: nil,
	})
}
