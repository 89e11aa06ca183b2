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
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/trackhook/trackhook/dispatcher"
	"github.com/trackhook/trackhook/receiver/carrier"
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

// decodeJSON decodes body, a whole webhook, into v: the first step of
// every adapter. body must be UTF-8 (utf8Body) and exactly one JSON value
// (trailing); an error wraps ErrMalformed and describes the body without
// echoing it (fieldError).
func decodeJSON(body []byte, v any) error {
	if err := utf8Body(body); err != nil {
		return err
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	if err := dec.Decode(v); err != nil {
		return fieldError("", err)
	}
	if trailing(dec, body) {
		return malformed("trailing data after the JSON object")
	}
	return nil
}

// fieldError describes a JSON decoding error inside field (a path such as
// "data", or "" for the whole body) without echoing the body or naming Go
// types: the byte offset and reason of a syntax error (including nesting
// deeper than encoding/json's limit), or the path of the offending field
// and the JSON kind it wants.
func fieldError(field string, err error) error {
	var se *json.SyntaxError
	var te *json.UnmarshalTypeError
	switch {
	case errors.As(err, &se):
		return malformed("invalid JSON at byte %d: %s", se.Offset, se.Error())
	case !errors.As(err, &te):
		return malformed("invalid JSON: %v", err)
	}
	// encoding/json puts an embedded struct's Go name in the path; the
	// sender knows only the JSON names (TrackingMore's tmBody embeds
	// tmTracking, the bare form of its body).
	path := strings.TrimPrefix(te.Field, "tmTracking.")
	switch {
	case field != "" && path != "":
		path = field + "." + path
	case path == "":
		path = field
	}
	if path == "" {
		return malformed("body must be a JSON object, got JSON %s", te.Value)
	}
	return malformed("field %q: want %s, got JSON %s", path, wantKind(te.Type), te.Value)
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

// The one rule every adapter follows: a correctly signed update is refused
// (ErrMalformed, 400) only when it cannot mean anything: a body that is not
// UTF-8 or not one JSON value, no tracking number or one that is not a
// single line of at most maxNumberLen bytes (trackingNumber), no carrier
// (carrierSlug); the standard source, strict by design, also refuses a
// status or a time it cannot read. Nothing that is only shown fails it:
// display text is folded onto one line and clipped (line), a malformed or
// surplus subscriber is dropped and reported in Event.Dropped (recipients),
// surplus checkpoints are cut to the newest, an expected delivery date that
// does not read is left out (deliveryDate). checkEvents then asserts the
// result.
const (
	maxNumberLen   = 100  // a tracking number, as the API allows; refused past it
	maxSlugLen     = 64   // a carrier code; refused past it
	maxListLen     = 100  // entries kept from one subscriber list; the rest are dropped
	maxCheckpoints = 1000 // scans kept from one payload (the newest); the store keeps fewer
)

// slugShape is a carrier slug, as the API accepts it.
var slugShape = regexp.MustCompile(`^[a-z0-9][a-z0-9-]{0,63}$`)

// isBreak reports the runes no one-line field may hold: control characters
// (C0 with NUL, tab, CR and LF; DEL; C1 with NEL) and the Unicode line and
// paragraph separators. A header or an SMS would take them for line breaks.
func isBreak(r rune) bool {
	return unicode.IsControl(r) || r == '\u2028' || r == '\u2029'
}

// line is how every display field of a payload (a name, a title, an order
// number, a status text, a checkpoint message or place) is cleaned: each
// run of breaks (isBreak), with the spaces around it, becomes one space
// (and a byte that is not UTF-8, U+FFFD); the result is trimmed and cut to
// at most n bytes on a rune boundary. Shop data often carries stray line
// breaks: they are no reason to refuse an update, and they must never reach
// an email header.
func line(s string, n int) string {
	if !utf8.ValidString(s) || strings.ContainsFunc(s, isBreak) {
		out := make([]byte, 0, len(s))
		gap := false
		for _, r := range s {
			switch {
			case isBreak(r):
				gap = true
			case gap && r == ' ':
				// part of the gap
			default:
				if gap {
					out = append(bytes.TrimRight(out, " "), ' ')
					gap = false
				}
				out = utf8.AppendRune(out, r)
			}
		}
		s = string(out)
	}
	s = strings.TrimSpace(s)
	if len(s) <= n {
		return s
	}
	for n > 0 && s[n]&0xC0 == 0x80 {
		n--
	}
	return strings.TrimSpace(s[:n])
}

// trackingNumber checks the parcel's number, the key of its tracking. It
// is never cleaned or cut, since a changed number names another parcel:
// empty, longer than maxNumberLen, holding a break or not UTF-8, it fails.
func trackingNumber(path, v string) (string, error) {
	v = strings.TrimSpace(v)
	switch {
	case v == "":
		return "", malformed("%s is required", path)
	case len(v) > maxNumberLen:
		return "", malformed("%s is %d bytes long, at most %d", path, len(v), maxNumberLen)
	}
	if bad := unfit(v); bad != "" {
		return "", malformed("%s contains %s", path, bad)
	}
	return v, nil
}

// carrierSlug normalises a sender's carrier code. The slug keys the
// tracking too, so it is checked, not cleaned: empty, longer than
// maxSlugLen, or holding a break (or a byte that is not UTF-8) once
// Normalize has turned white space, line breaks included, into dashes, it
// fails.
func carrierSlug(c *carrier.Catalog, path, code string) (string, error) {
	code = strings.TrimSpace(code)
	switch {
	case code == "":
		return "", malformed("%s is required", path)
	case len(code) > maxSlugLen:
		return "", malformed("%s is %d bytes long, at most %d", path, len(code), maxSlugLen)
	}
	slug := c.Normalize(code)
	if bad := unfit(slug); bad != "" {
		return "", malformed("%s contains %s", path, bad)
	}
	return slug, nil
}

// unfit names what keeps v from being a one-line field: a byte that is not
// UTF-8 or the first break in it; "" when there is none.
func unfit(v string) string {
	if !utf8.ValidString(v) {
		return "invalid UTF-8"
	}
	i := strings.IndexFunc(v, isBreak)
	if i < 0 {
		return ""
	}
	switch r, _ := utf8.DecodeRuneInString(v[i:]); r {
	case 0:
		return "a NUL byte"
	case '\r', '\n', '\u0085', '\u2028', '\u2029':
		return "a line break"
	}
	return "a control character"
}

// Why a subscriber entry was dropped (DroppedRecipient.Reason): fixed
// phrases, so a log line never carries the entry through its reason.
const (
	reasonBreak     = "contains a line break or control character"
	reasonNotEmail  = "not an email address"
	reasonNotPhone  = "not a phone number"
	reasonPastLimit = "past the first 100 entries of its list" // maxListLen
)

// recipients normalises one event's subscriber lists, each list as the
// sender sent it (AfterShip has two per channel). An entry that is not a
// valid address or number, or holds a break once trimmed, is dropped; so
// is every entry past the first maxListLen of a list. The others are kept.
// A sender cannot fix a subscriber by retrying, so none fails the webhook;
// dropped lists them for the receiver to log (masked) and count. Blank
// entries are skipped silently.
func recipients(country string, emails, phones [][]string) (outE, outP []string, dropped []tracking.DroppedRecipient) {
	take := func(ch dispatcher.Channel, lists [][]string, valid func(string) (string, error), invalid string) (out []string) {
		for _, l := range lists {
			for i, raw := range l {
				v := strings.TrimSpace(raw)
				reason := ""
				switch {
				case v == "":
					continue
				case i >= maxListLen:
					reason = reasonPastLimit
				case strings.ContainsFunc(v, isBreak):
					reason = reasonBreak
				}
				if reason == "" {
					n, err := valid(v)
					if err == nil {
						out = append(out, n)
						continue
					}
					reason = invalid
				}
				dropped = append(dropped, tracking.DroppedRecipient{Channel: ch, Value: raw, Reason: reason})
			}
		}
		return out
	}
	outE = take(dispatcher.ChannelEmail, emails, contact.Email, reasonNotEmail)
	outP = take(dispatcher.ChannelSMS, phones, func(p string) (string, error) { return contact.Phone(p, country) }, reasonNotPhone)
	return outE, outP, dropped
}

// newestCheckpoints keeps the newest max of cps (sorted oldest first,
// stably). The store keeps only the newest Policy.MaxCheckpoints (100) of
// a tracking, so what is cut here it would never have kept.
func newestCheckpoints(cps []tracking.Checkpoint, max int) []tracking.Checkpoint {
	if len(cps) <= max {
		return cps
	}
	slices.SortStableFunc(cps, func(x, y tracking.Checkpoint) int { return x.Time.Compare(y.Time) })
	return cps[len(cps)-max:]
}

// uniqueCheckpoints drops checkpoints with the time and message of an
// earlier one (senders that merge several carriers' scans repeat them),
// sorts the rest oldest first and keeps the newest max.
func uniqueCheckpoints(cps []tracking.Checkpoint, max int) []tracking.Checkpoint {
	type key struct {
		at  int64
		msg string
	}
	seen := make(map[key]bool, len(cps))
	out := cps[:0:0]
	for _, c := range cps {
		k := key{c.Time.UnixNano(), c.Message}
		if !seen[k] {
			seen[k] = true
			out = append(out, c)
		}
	}
	slices.SortStableFunc(out, func(x, y tracking.Checkpoint) int { return x.Time.Compare(y.Time) })
	if len(out) > max {
		out = out[len(out)-max:]
	}
	if len(out) == 0 {
		return nil
	}
	return out
}

// occurredAt is an event's OccurredAt: the time of its newest checkpoint,
// else the first of fallbacks (in the order given) that is not zero.
func occurredAt(cps []tracking.Checkpoint, fallbacks ...time.Time) time.Time {
	var t time.Time
	for _, c := range cps {
		if c.Time.After(t) {
			t = c.Time
		}
	}
	for _, f := range fallbacks {
		if !t.IsZero() {
			break
		}
		t = f
	}
	return t
}

// checkEvents is every adapter's last step, an invariant rather than a
// rule: after the cleaning above, no one-line field of a canonical event
// holds a break. It never fires for an event built with line, so an error
// here is a bug in an adapter (a field that skipped line); it does not wrap
// ErrMalformed, so the fuzz targets report it.
func checkEvents(evs []tracking.Event) ([]tracking.Event, error) {
	for _, e := range evs {
		for _, f := range []struct{ name, v string }{
			{"tracking number", e.TrackingNumber}, {"carrier slug", e.Slug}, {"event id", e.EventID},
			{"status", e.RawStatus}, {"subtag", e.Subtag}, {"subtag message", e.SubtagMessage}, {"title", e.Title},
			{"customer name", e.CustomerName}, {"order id", e.OrderID}, {"order number", e.OrderNumber},
			{"language", e.Language}, {"destination country", e.DestinationCountry}, {"tracking url", e.TrackingURL},
			{"source reference", e.SourceRef}, {"expected delivery", e.ExpectedDelivery},
		} {
			if err := unbroken(f.name, f.v); err != nil {
				return nil, err
			}
		}
		for _, c := range e.Checkpoints {
			for _, v := range []string{c.Message, c.SubtagMessage, c.Location, c.City, c.State, c.Zip, c.CountryISO3, c.Subtag} {
				if err := unbroken("checkpoint", v); err != nil {
					return nil, err
				}
			}
		}
		for _, it := range e.Items {
			for _, v := range []string{it.SKU, it.Name} {
				if err := unbroken("item", v); err != nil {
					return nil, err
				}
			}
		}
		for _, v := range slices.Concat(e.Emails, e.SMSes) {
			if err := unbroken("subscriber", v); err != nil {
				return nil, err
			}
		}
	}
	return evs, nil
}

func unbroken(name, v string) error {
	if bad := unfit(v); bad != "" {
		return fmt.Errorf("source: bug: the %s of a decoded event contains %s", name, bad)
	}
	return nil
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

// A sender's expected delivery date is only shown (and compared with the
// calendar), so it is read like every display field: a field of it is
// decoded as a json.RawMessage, which takes any JSON value, and only a
// string that tracking.ParseDeliveryDate reads counts. A number, an object
// where a string belongs, null, or "soon" is as if the field were absent:
// the next field a sender offers is tried, and when none is readable
// Event.ExpectedDelivery stays "". Never a 400.

// deliveryDate is the date of the first of raws that is a JSON string
// tracking.ParseDeliveryDate reads (its date part, as written), "" when
// none is.
func deliveryDate(raws ...json.RawMessage) string {
	for _, raw := range raws {
		raw = bytes.TrimSpace(raw)
		if len(raw) < 2 || raw[0] != '"' {
			continue
		}
		var s string
		if json.Unmarshal(raw, &s) != nil {
			continue
		}
		if d, ok := tracking.ParseDeliveryDate(s); ok {
			return d
		}
	}
	return ""
}

// windowDate reads a delivery date a sender gives as an object (a date, or
// a window): the date of its first member among keys that deliveryDate
// reads. Callers list the window's last day first. "" when raw is not an
// object or no member reads.
func windowDate(raw json.RawMessage, keys ...string) string {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 || raw[0] != '{' {
		return ""
	}
	var obj map[string]json.RawMessage
	if json.Unmarshal(raw, &obj) != nil {
		return ""
	}
	for _, k := range keys {
		if d := deliveryDate(obj[k]); d != "" {
			return d
		}
	}
	return ""
}

// fixedOffset returns t in a zone that is only its offset (UTC for offset
// 0), so a parsed time does not depend on the process's local zone.
func fixedOffset(t time.Time) time.Time {
	_, off := t.Zone()
	if off == 0 {
		return t.UTC()
	}
	return t.In(time.FixedZone("", off))
}

// parseTime reads the timestamp forms senders use: RFC 3339 with or
// without fraction, and local date-times without offset (taken as UTC). A
// time with an offset keeps it: messages show a scan at the local time the
// carrier reported (09:15 for 09:15+01:00), and every comparison is by
// instant.
func parseTime(s string) time.Time {
	s = strings.TrimSpace(s)
	if s == "" {
		return time.Time{}
	}
	for _, layout := range []string{time.RFC3339Nano, "2006-01-02T15:04:05", "2006-01-02 15:04:05", "2006-01-02"} {
		if t, err := time.Parse(layout, s); err == nil {
			return fixedOffset(t)
		}
	}
	if n, err := strconv.ParseInt(s, 10, 64); err == nil && n > 0 {
		return time.Unix(n, 0).UTC()
	}
	return time.Time{}
}
