// Package source turns each sender's webhook payload into canonical
// tracking events. One file per sender; every adapter is pure (bytes in,
// events out) and never panics on hostile input.
package source

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

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

// jsonError describes a JSON decoding error without echoing the body.
func jsonError(err error) error {
	var se *json.SyntaxError
	var te *json.UnmarshalTypeError
	switch {
	case errors.As(err, &se):
		return malformed("invalid JSON at byte %d", se.Offset)
	case errors.As(err, &te) && te.Field == "":
		return malformed("body must be a JSON object, got JSON %s", te.Value)
	case errors.As(err, &te):
		return malformed("field %q: want %s, got JSON %s", te.Field, te.Type, te.Value)
	}
	return malformed("invalid JSON: %v", err)
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
		return fmt.Errorf("want a string or a number")
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
