// Package source turns each sender's webhook payload into canonical
// tracking events. One file per sender; every adapter is pure (bytes in,
// events out) and never panics on hostile input.
package source

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"reflect"
	"regexp"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/trackhook/trackhook/receiver/contact"
	"github.com/trackhook/trackhook/receiver/tracking"
)

// ErrMalformed is wrapped by every decoding error; the receiver answers 400.
var ErrMalformed = errors.New("malformed payload")

// Adapter decodes one sender's webhook body into events. A body that is
// well-formed but carries nothing to track (a ping, an event type we do not
// use) yields no events and no error.
type Adapter interface {
	Decode(body []byte, h http.Header) ([]tracking.Event, error)
}

// Fingerprint is the dedupe key for senders that give no event id: the
// same source, parcel, status and event time is the same event.
func Fingerprint(source, number string, st tracking.Status, raw string, at time.Time) string {
	sum := sha256.Sum256([]byte(source + "\x00" + tracking.NormalizeNumber(number) + "\x00" + st.String() + "\x00" + raw + "\x00" + at.UTC().Format(time.RFC3339Nano)))
	return "fp-" + hex.EncodeToString(sum[:12])
}

func malformed(format string, args ...any) error {
	return fmt.Errorf("%w: %s", ErrMalformed, fmt.Sprintf(format, args...))
}

// jsonError describes a JSON decoding error without echoing the body: the
// byte offset and reason of a syntax error (including nesting deeper than
// encoding/json's limit), or the field path and the JSON kind it wants.
func jsonError(err error) error {
	var se *json.SyntaxError
	var te *json.UnmarshalTypeError
	switch {
	case errors.As(err, &se):
		return malformed("invalid JSON at byte %d: %s", se.Offset, se.Error())
	case errors.As(err, &te) && te.Field == "":
		return malformed("body must be a JSON object, got JSON %s", te.Value)
	case errors.As(err, &te):
		return malformed("field %q: want %s, got JSON %s", te.Field, wantKind(te.Type), te.Value)
	}
	return malformed("invalid JSON: %v", err)
}

// trailing reports whether anything but white space follows the value dec
// decoded from body. (dec.More is no test for that: it reports false when
// the next byte is '}' or ']', so a body ending in "}}" would pass.)
func trailing(dec *json.Decoder, body []byte) bool {
	off := dec.InputOffset()
	return off < int64(len(body)) && len(bytes.TrimSpace(body[off:])) > 0
}

// wantKind names the JSON kind a Go type decodes from.
func wantKind(t reflect.Type) string {
	if t == nil {
		return "another type"
	}
	switch t.Kind() {
	case reflect.Struct, reflect.Map, reflect.Pointer:
		return "an object"
	case reflect.Slice, reflect.Array:
		return "an array"
	case reflect.String:
		return "a string"
	case reflect.Bool:
		return "a boolean"
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Float32, reflect.Float64:
		return "a number"
	}
	return "another type"
}

// utf8Body refuses a body that is not UTF-8. JSON must be (RFC 8259 8.1),
// and encoding/json would quietly turn the bad bytes into U+FFFD, so a
// customer's name would reach their inbox garbled.
func utf8Body(body []byte) error {
	if utf8.Valid(body) {
		return nil
	}
	for i := 0; i < len(body); {
		r, n := utf8.DecodeRune(body[i:])
		if r == utf8.RuneError && n == 1 {
			return malformed("body is not valid UTF-8 (byte %d)", i)
		}
		i += n
	}
	return malformed("body is not valid UTF-8")
}

// Hard limits on what one payload may carry. Past them a payload is
// refused, not cut: such a value is broken or hostile, and a cut tracking
// number would name another parcel. Below them, adapters clip free text to
// what is worth showing.
const (
	maxNumberLen   = 100  // a tracking number, as the API allows
	maxSlugLen     = 64   // a carrier slug
	maxFieldLen    = 2000 // any other string, in bytes
	maxListLen     = 100  // entries in one subscriber list
	maxCheckpoints = 1000 // scans in one payload
)

// slugShape is a carrier slug, as the API accepts it.
var slugShape = regexp.MustCompile(`^[a-z0-9][a-z0-9-]{0,63}$`)

// oneLine checks a field that is shown on one line (a name, a number, a
// subject): no NUL, CR or LF, at most max bytes.
func oneLine(path, v string, max int) error {
	if len(v) > max {
		return malformed("%s is %d bytes long, at most %d", path, len(v), max)
	}
	if i := strings.IndexAny(v, "\x00\r\n"); i >= 0 {
		return malformed("%s contains %s", path, ctlName(v[i]))
	}
	return nil
}

// freeText checks a field that may span lines (a checkpoint message): no
// NUL, at most max bytes. Templates fold its line breaks.
func freeText(path, v string, max int) error {
	if len(v) > max {
		return malformed("%s is %d bytes long, at most %d", path, len(v), max)
	}
	if strings.IndexByte(v, 0) >= 0 {
		return malformed("%s contains a NUL byte", path)
	}
	return nil
}

func ctlName(c byte) string {
	if c == 0 {
		return "a NUL byte"
	}
	return "a line break"
}

// listLen refuses a subscriber list longer than any parcel's, and entries
// with line breaks (an address with a CRLF is an injection attempt, not a
// typo, so it fails the payload instead of being dropped).
func listLen(path string, l []string) error {
	if len(l) > maxListLen {
		return malformed("%s has %d entries, at most %d", path, len(l), maxListLen)
	}
	for i, v := range l {
		if err := oneLine(fmt.Sprintf("%s[%d]", path, i), v, maxFieldLen); err != nil {
			return err
		}
	}
	return nil
}

// checkEvents is every adapter's last step: whatever the sender's format,
// no one-line field of a canonical event carries a NUL or a line break,
// and no checkpoint text a NUL.
func checkEvents(evs []tracking.Event) ([]tracking.Event, error) {
	for _, e := range evs {
		for _, f := range []struct{ name, v string }{
			{"tracking number", e.TrackingNumber}, {"carrier slug", e.Slug}, {"event id", e.EventID},
			{"status", e.RawStatus}, {"subtag", e.Subtag}, {"title", e.Title}, {"customer name", e.CustomerName},
			{"order id", e.OrderID}, {"order number", e.OrderNumber}, {"language", e.Language},
			{"destination country", e.DestinationCountry}, {"source reference", e.SourceRef},
		} {
			if err := oneLine(f.name, f.v, len(f.v)); err != nil {
				return nil, err
			}
		}
		for _, c := range e.Checkpoints {
			for _, v := range []string{c.Message, c.SubtagMessage, c.Location, c.City, c.State, c.Zip, c.CountryISO3, c.Subtag} {
				if err := freeText("checkpoint", v, len(v)); err != nil {
					return nil, err
				}
			}
		}
	}
	return evs, nil
}

// flexString accepts a JSON string or number (senders disagree on ids) and null.
type flexString string

func (f *flexString) UnmarshalJSON(b []byte) error {
	if string(b) == "null" {
		return nil
	}
	if len(b) > 0 && b[0] == '"' {
		var s string
		if err := json.Unmarshal(b, &s); err != nil {
			return err
		}
		*f = flexString(s)
		return nil
	}
	var n json.Number
	if err := json.Unmarshal(b, &n); err != nil {
		// A type error lets encoding/json name the field.
		return &json.UnmarshalTypeError{Value: jsonKind(b), Type: reflect.TypeFor[string]()}
	}
	*f = flexString(n.String())
	return nil
}

// parseTime reads the timestamp forms senders use: RFC 3339 with or
// without fraction, and local date-times without offset (taken as UTC).
func parseTime(s string) time.Time {
	s = strings.TrimSpace(s)
	if s == "" {
		return time.Time{}
	}
	for _, layout := range []string{time.RFC3339Nano, "2006-01-02T15:04:05", "2006-01-02 15:04:05", "2006-01-02"} {
		if t, err := time.Parse(layout, s); err == nil {
			return t.UTC()
		}
	}
	if n, err := strconv.ParseInt(s, 10, 64); err == nil && n > 0 {
		return time.Unix(n, 0).UTC()
	}
	return time.Time{}
}

// recipients normalises subscriber lists, dropping what is not a valid
// address or number: a sender cannot fix those by retrying, so they must
// not fail the webhook.
func recipients(emails, phones []string, country string) (outE, outP []string) {
	for _, e := range emails {
		if v, err := contact.Email(e); err == nil {
			outE = append(outE, v)
		}
	}
	for _, p := range phones {
		if v, err := contact.Phone(p, country); err == nil {
			outP = append(outP, v)
		}
	}
	return outE, outP
}

// clip bounds a free-text field from a payload.
func clip(s string, n int) string {
	s = strings.TrimSpace(s)
	if len(s) <= n {
		return s
	}
	// Cut on a rune boundary.
	for n > 0 && n < len(s) && s[n]&0xC0 == 0x80 {
		n--
	}
	return s[:n]
}
