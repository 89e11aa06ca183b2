package api

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"reflect"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/gorilla/mux"

	"github.com/trackhook/trackhook/dispatcher"
	"github.com/trackhook/trackhook/dispatcher/state"
	"github.com/trackhook/trackhook/receiver/carrier"
	"github.com/trackhook/trackhook/receiver/contact"
	"github.com/trackhook/trackhook/receiver/tracking"
)

// MaxBodyBytes caps API request bodies.
const MaxBodyBytes = 64 << 10

// DefaultMaxRecipients is AfterShip's limit: three emails and three phone
// numbers per tracking.
const DefaultMaxRecipients = 3

// Trackings is the tracking store the API manages; the receiver's
// *tracking.Store implements it.
type Trackings interface {
	Create(ctx context.Context, t tracking.Tracking) (tracking.Tracking, error)
	Get(ctx context.Context, id string) (tracking.Tracking, error)
	Update(ctx context.Context, id string, fn func(*tracking.Tracking) error) (tracking.Tracking, error)
	Delete(ctx context.Context, id string) error
	List(ctx context.Context, q tracking.ListQuery) ([]tracking.Tracking, int, error)
}

// Notifications is the dispatcher's state the API shows and changes: the
// suppression list and the delivery log (*state.Store implements it).
type Notifications interface {
	Suppress(ctx context.Context, c dispatcher.Channel, recipient, reason string) error
	Unsuppress(ctx context.Context, c dispatcher.Channel, recipient string) (bool, error)
	Suppressions(ctx context.Context) ([]state.Suppression, error)
	Deliveries(ctx context.Context, trackingID string) ([]dispatcher.Delivery, error)
	Suppressed(ctx context.Context, c dispatcher.Channel, recipient string) (bool, error)
}

// Config wires an API.
type Config struct {
	Store         Trackings
	Notifications Notifications
	Carriers      *carrier.Catalog
	// MaxRecipients per channel and tracking; 0 means DefaultMaxRecipients.
	MaxRecipients int
	// DeadLetters re-runs failed notifications (POST
	// /trackings/{id}/deliveries/retry); nil answers that route 501.
	DeadLetters DeadLetters
	// Messages previews and test-sends messages (POST /messages/preview,
	// /messages/test); nil answers those routes 501.
	Messages *Messages
	Logger   *slog.Logger
	Now      func() time.Time
}

// API serves the AfterShip-compatible endpoints. Routes are wired in
// receiver/routes.go; every handler expects the {id} or {slug} and
// {tracking_number} route variables its path declares.
type API struct {
	store    Trackings
	notify   Notifications
	carriers *carrier.Catalog
	max      int
	dead     DeadLetters
	messages *Messages
	log      *slog.Logger
	now      func() time.Time
}

// New returns an API.
func New(cfg Config) (*API, error) {
	if cfg.Store == nil || cfg.Notifications == nil {
		return nil, errors.New("api: a tracking store and the notification state are required")
	}
	if cfg.Carriers == nil {
		cfg.Carriers = carrier.Default()
	}
	if cfg.MaxRecipients <= 0 {
		cfg.MaxRecipients = DefaultMaxRecipients
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	return &API{store: cfg.Store, notify: cfg.Notifications, carriers: cfg.Carriers, max: cfg.MaxRecipients, dead: cfg.DeadLetters, messages: cfg.Messages, log: cfg.Logger, now: cfg.Now}, nil
}

// readBody reads the request body, at most MaxBodyBytes of it: a larger one
// is a 413.
func readBody(w http.ResponseWriter, r *http.Request) ([]byte, error) {
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, MaxBodyBytes))
	if err != nil {
		var tooLarge *http.MaxBytesError
		if errors.As(err, &tooLarge) {
			return nil, errTooLarge()
		}
		return nil, errBadRequest("The request body could not be read.")
	}
	return body, nil
}

// decodeJSON parses a JSON body into v, mapping failures to AfterShip's
// codes: 4001 for invalid JSON (empty, not UTF-8, a syntax error, nested
// too deep), 4008 for a value of the wrong type, naming the field. The
// parse functions of each endpoint, and their fuzz targets, build on it.
func decodeJSON(body []byte, v any) error {
	if len(strings.TrimSpace(string(body))) == 0 {
		return errInvalidJSON("The body is empty.")
	}
	if !utf8.Valid(body) {
		// encoding/json would quietly turn the bad bytes into U+FFFD.
		return errInvalidJSON("The body is not valid UTF-8 (byte " + itoa(int64(badUTF8(body))) + ").")
	}
	if err := json.Unmarshal(body, v); err != nil {
		var te *json.UnmarshalTypeError
		var se *json.SyntaxError
		switch {
		case errors.As(err, &se):
			// The reason names what went wrong without echoing the body:
			// "invalid character 'x' after top-level value", "exceeded
			// max depth", ...
			return errInvalidJSON("Syntax error at byte " + itoa(se.Offset) + ": " + se.Error() + ".")
		case errors.As(err, &te) && te.Field != "":
			field := te.Field[strings.LastIndexByte(te.Field, '.')+1:]
			return &Error{400, 4008, "BadRequest", fmt.Sprintf("The value of `%s` is invalid: a JSON %s where %s is expected.", field, te.Value, jsonKind(te.Type))}
		case errors.As(err, &te):
			return errInvalidJSON("The body must be a JSON object.")
		}
		// Errors from our own UnmarshalJSON (recipient lists) name no field.
		return errInvalidJSON(err.Error())
	}
	return nil
}

// badUTF8 is the offset of the first byte of b that is not UTF-8.
func badUTF8(b []byte) int {
	for i := 0; i < len(b); {
		r, n := utf8.DecodeRune(b[i:])
		if r == utf8.RuneError && n == 1 {
			return i
		}
		i += n
	}
	return len(b)
}

// jsonKind names a Go type the way a JSON client thinks of it.
func jsonKind(t reflect.Type) string {
	switch t.Kind() {
	case reflect.String:
		return "a string"
	case reflect.Slice, reflect.Array:
		if t == reflect.TypeOf(contact.List(nil)) {
			return "an array of strings or a comma-separated string"
		}
		return "an array"
	case reflect.Map, reflect.Struct:
		return "an object"
	case reflect.Bool:
		return "true or false"
	case reflect.Int, reflect.Int64, reflect.Float64:
		return "a number"
	}
	return t.String()
}

func itoa(n int64) string {
	b, _ := json.Marshal(n)
	return string(b)
}

// lookup finds the tracking a request names, by {id} or by {slug} and
// {tracking_number}.
func (a *API) lookup(r *http.Request) (string, error) {
	v := mux.Vars(r)
	if id, ok := v["id"]; ok {
		if !validID(id) {
			return "", errTrackingNotFound()
		}
		return id, nil
	}
	slug, number := v["slug"], v["tracking_number"]
	if number == "" {
		return "", errNumberRequired()
	}
	return tracking.ID(a.carriers.Normalize(slug), number), nil
}

func validID(id string) bool {
	if len(id) != 24 {
		return false
	}
	for _, c := range id {
		if !(c >= 'a' && c <= 'z' || c >= '2' && c <= '7') {
			return false
		}
	}
	return true
}

// storeError maps store errors to API errors.
func storeError(err error) error {
	switch {
	case errors.Is(err, tracking.ErrNotFound), errors.Is(err, state.ErrNoTracking):
		return errTrackingNotFound()
	case errors.Is(err, tracking.ErrExists):
		return errTrackingExists()
	}
	var e *Error
	if errors.As(err, &e) {
		return e
	}
	return err
}
