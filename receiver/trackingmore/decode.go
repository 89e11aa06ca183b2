package trackingmore

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"
)

// readBody reads at most limit bytes of the body; a larger body is kTooLarge.
func readBody(w http.ResponseWriter, r *http.Request, limit int64) ([]byte, error) {
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, limit))
	if err != nil {
		var tooLarge *http.MaxBytesError
		if errors.As(err, &tooLarge) {
			return nil, fail(kTooLarge, fmt.Sprintf("The request body is larger than %d bytes; nothing was stored.", limit))
		}
		return nil, fail(kMalformed, "The request body could not be read.")
	}
	return body, nil
}

// checkJSON rejects what encoding/json would accept silently or report
// vaguely: an empty body, bytes that are not UTF-8 (it would turn them into
// U+FFFD), a syntax error (reported with its offset).
func checkJSON(body []byte) error {
	if len(bytes.TrimSpace(body)) == 0 {
		return fail(kMalformed, "The request could not be understood: the body is empty; send a JSON object.")
	}
	if !utf8.Valid(body) {
		return fail(kMalformed, "The request could not be understood: the body is not valid UTF-8.")
	}
	if !json.Valid(body) {
		var v any
		err := json.Unmarshal(body, &v)
		var se *json.SyntaxError
		if errors.As(err, &se) {
			return fail(kMalformed, fmt.Sprintf("The request could not be understood: invalid JSON at byte %d: %s.", se.Offset, se.Error()))
		}
		return fail(kMalformed, "The request could not be understood: the body is not valid JSON.")
	}
	return nil
}

// object is a JSON object by field.
type object map[string]json.RawMessage

// decodeObject decodes a body that must be one JSON object.
func decodeObject(body []byte) (object, error) {
	if err := checkJSON(body); err != nil {
		return nil, err
	}
	var o object
	if err := json.Unmarshal(body, &o); err != nil || o == nil {
		return nil, fail(kMalformed, "The request could not be understood: the body must be a JSON object, not "+rawKind(bytes.TrimSpace(body))+".")
	}
	return o, nil
}

// decodeArray decodes a body that must be one JSON array.
func decodeArray(body []byte) ([]json.RawMessage, error) {
	if err := checkJSON(body); err != nil {
		return nil, err
	}
	var a []json.RawMessage
	if err := json.Unmarshal(body, &a); err != nil || a == nil {
		return nil, fail(kMalformed, "The request could not be understood: the body must be a JSON array of trackings, not "+rawKind(bytes.TrimSpace(body))+".")
	}
	return a, nil
}

// rawKind names the JSON kind of a raw value.
func rawKind(b []byte) string {
	switch {
	case len(b) == 0:
		return "nothing"
	case b[0] == '{':
		return "an object"
	case b[0] == '[':
		return "an array"
	case b[0] == '"':
		return "a string"
	case b[0] == 't' || b[0] == 'f':
		return "true or false"
	case b[0] == 'n':
		return "null"
	}
	return "a number"
}

// unknownField is the first field of o (in byte order, so the message is
// stable) that is not in allowed, or "".
func unknownField(o object, allowed map[string]bool) string {
	var unknown []string
	for k := range o {
		if !allowed[k] {
			unknown = append(unknown, k)
		}
	}
	if len(unknown) == 0 {
		return ""
	}
	slices.Sort(unknown)
	return unknown[0]
}

func errUnknownField(where, name string) error {
	return fail(kField, fmt.Sprintf("The field `%s%s` is not a field of this request; nothing was stored.", where, clip(strings.ToValidUTF8(name, "?"))))
}

func errType(where, name string, raw json.RawMessage, want string) error {
	return fail(kField, fmt.Sprintf("The value of `%s%s` is invalid: %s where %s is expected.", where, name, rawKind(bytes.TrimSpace(raw)), want))
}

// str reads a string field: nil when absent or null.
func (o object) str(where, name string) (*string, error) {
	raw, ok := o[name]
	if !ok || isNull(raw) {
		return nil, nil
	}
	var s string
	if err := json.Unmarshal(raw, &s); err != nil {
		return nil, errType(where, name, raw, "a string")
	}
	return &s, nil
}

// list reads a recipient field: one string (several comma-separated) or an
// array of strings. nil when absent or null.
func (o object) list(where, name string) (*[]string, error) {
	raw, ok := o[name]
	if !ok || isNull(raw) {
		return nil, nil
	}
	var s string
	if err := json.Unmarshal(raw, &s); err == nil {
		out := []string{}
		for _, p := range strings.Split(s, ",") {
			if p = strings.TrimSpace(p); p != "" {
				out = append(out, p)
			}
		}
		return &out, nil
	}
	var a []string
	if err := json.Unmarshal(raw, &a); err != nil {
		return nil, errType(where, name, raw, "a string (several comma-separated) or an array of strings")
	}
	out := []string{}
	for _, p := range a {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	return &out, nil
}

// scalar reads a field that may be a string, a number or a bool (the v2
// samples send flags and timestamps as strings, PHP's json_encode as
// numbers): its text, nil when absent or null.
func (o object) scalar(where, name string) (*string, error) {
	raw, ok := o[name]
	if !ok || isNull(raw) {
		return nil, nil
	}
	raw = bytes.TrimSpace(raw)
	switch raw[0] {
	case '"':
		var s string
		if err := json.Unmarshal(raw, &s); err != nil {
			return nil, errType(where, name, raw, "a string or a number")
		}
		return &s, nil
	case '{', '[':
		return nil, errType(where, name, raw, "a string or a number")
	}
	s := string(raw)
	return &s, nil
}

func isNull(raw json.RawMessage) bool { return string(bytes.TrimSpace(raw)) == "null" }

// positive parses a whole number from 1 to max given as text.
func positive(s string, max int) (int, bool) {
	n, err := strconv.Atoi(strings.TrimSpace(s))
	if err != nil || n < 1 || n > max {
		return 0, false
	}
	return n, true
}

// clip keeps error messages bounded when the input is huge, cutting on a
// rune boundary.
func clip(s string) string {
	if len(s) <= 100 {
		return s
	}
	n := 100
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n] + "…"
}
