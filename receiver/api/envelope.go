// Package api implements trackhook's admin API, wire-compatible with
// AfterShip's Tracking API (trackings and notifications), so AfterShip's own
// SDKs work when pointed at trackhook's base URL.
package api

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strconv"
)

// Meta is AfterShip's response meta block.
type Meta struct {
	Code    int    `json:"code"`
	Message string `json:"message,omitempty"`
	Type    string `json:"type,omitempty"`
}

type envelope struct {
	Meta Meta `json:"meta"`
	Data any  `json:"data"`
}

// Error is an API error: an HTTP status plus AfterShip's meta code and type.
type Error struct {
	HTTP    int
	Code    int
	Type    string
	Message string
}

func (e *Error) Error() string { return fmt.Sprintf("%d %s: %s", e.Code, e.Type, e.Message) }

// AfterShip's error codes (shared/reference/webhook-sources.md A7.3).
func errBadRequest(msg string) *Error { return &Error{400, 400, "BadRequest", msg} }
func errInvalidJSON(msg string) *Error {
	return &Error{400, 4001, "BadRequest", "Invalid JSON data. " + msg}
}
func errTrackingExists() *Error {
	return &Error{400, 4003, "BadRequest", "Tracking already exists."}
}
func errTrackingNotFound() *Error {
	return &Error{404, 4004, "BadRequest", "Tracking does not exist."}
}
func errTrackingRequired() *Error {
	return &Error{400, 4006, "BadRequest", "`tracking` object is required."}
}
func errNumberRequired() *Error {
	return &Error{400, 4007, "BadRequest", "`tracking_number` is required."}
}
func errInvalidValue(field, value, why string) *Error {
	msg := fmt.Sprintf("The value of `%s` is invalid: %q", field, value)
	if why != "" {
		msg += " (" + why + ")"
	}
	return &Error{400, 4008, "BadRequest", msg + "."}
}
func errFieldRequired(field string) *Error {
	return &Error{400, 4009, "BadRequest", fmt.Sprintf("`%s` is required.", field)}
}
func errInvalidSlug(slug string) *Error {
	return &Error{400, 4010, "BadRequest", fmt.Sprintf("The value of `slug` is invalid: %q.", slug)}
}
func errNotificationRequired() *Error {
	return &Error{400, 4014, "BadRequest", "`notification` object is required."}
}
func errUnauthorized() *Error {
	return &Error{401, 401, "Unauthorized", "Invalid API key."}
}
func errNotFound() *Error {
	return &Error{404, 404, "NotFound", "The URI requested is invalid or the resource requested does not exist."}
}
func errMethod() *Error {
	return &Error{405, 405, "MethodNotAllowed", "The HTTP method is not allowed on this resource."}
}
func errTooLarge() *Error {
	return &Error{413, 413, "PayloadTooLarge", "The request body is too large."}
}

// TooManyRequests answers a rate-limited call: 429 with Retry-After and
// AfterShip's envelope (and none of the x-ratelimit-* headers, which make
// AfterShip's SDK refuse calls locally).
func TooManyRequests(w http.ResponseWriter, retryAfterSeconds int) {
	w.Header().Set("Retry-After", strconv.Itoa(retryAfterSeconds))
	writeError(w, &Error{429, 429, "TooManyRequests", "You have exceeded the API call rate limit. Retry after " + strconv.Itoa(retryAfterSeconds) + "s."})
}

func errUnavailable() *Error {
	return &Error{503, 503, "ServiceUnavailable", "The store is unavailable; retry later."}
}

func writeData(w http.ResponseWriter, status int, data any) {
	write(w, status, envelope{Meta: Meta{Code: 200}, Data: data})
}

func write(w http.ResponseWriter, status int, v envelope) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(status)
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false) // "&" in tracking links stays readable
	_ = enc.Encode(v)
}

// writeError writes err in the envelope. Anything that is not an *Error is a
// store failure: 503, so clients retry.
func writeError(w http.ResponseWriter, err error) {
	var e *Error
	if !errors.As(err, &e) {
		e = errUnavailable()
	}
	write(w, e.HTTP, envelope{Meta: Meta{Code: e.Code, Message: e.Message, Type: e.Type}, Data: struct{}{}})
}

// NotFound and MethodNotAllowed answer unknown API routes in the envelope.
func NotFound(w http.ResponseWriter, _ *http.Request)         { writeError(w, errNotFound()) }
func MethodNotAllowed(w http.ResponseWriter, _ *http.Request) { writeError(w, errMethod()) }
