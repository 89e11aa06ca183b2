package trackingmore

import (
	"errors"
	"log/slog"
	"net/http"
	"time"

	"github.com/trackhook/trackhook/receiver/api"
	"github.com/trackhook/trackhook/receiver/carrier"
)

// DefaultMaxRecipients is the per-channel subscriber limit when
// Config.MaxRecipients is 0: the same three emails and three phone numbers
// the AfterShip-compatible API allows (api.DefaultMaxRecipients).
const DefaultMaxRecipients = api.DefaultMaxRecipients

// MaxBodyBytes caps the body of a single-tracking request; MaxBatchBodyBytes
// the body of a batch (40 trackings with every documented field fit in far
// less). A larger body is answered 413 and nothing is stored.
const (
	MaxBodyBytes      = 64 << 10
	MaxBatchBodyBytes = 1 << 20
)

// MaxBatch is how many trackings one batch create may carry: "POST
// /trackings/batch API interface for up to 40 waybill numbers per
// operation" (v2 docs, trackingmore.com/api-track-create-multiple-track.html)
// and "Max. 40 tracking numbers create in one call" (v4,
// TrackingMore-API/trackingmore-sdk-go errors_enums.go).
const MaxBatch = 40

// KeyHeaders are the request headers that carry a TrackingMore API key:
// Trackingmore-Api-Key for API v2 (trackingmore.com/api-index.html; the v2
// PHP SDK, trackingmore100/tracking-sdk-php lib/Api.class.php $headerKey)
// and Tracking-Api-Key for API v4 (TrackingMore-API/trackingmore-sdk-go
// request.go). The caller checks the key and answers a bad one with
// Unauthorized.
var KeyHeaders = []string{"Trackingmore-Api-Key", "Tracking-Api-Key"}

// Config wires an API.
type Config struct {
	// Store is the tracking store the AfterShip-compatible API uses too, so
	// a tracking created here is the same tracking there.
	Store api.Trackings
	// Carriers normalises carrier codes; nil is carrier.Default().
	Carriers *carrier.Catalog
	// MaxRecipients per channel (emails, phone numbers) and tracking; 0
	// means DefaultMaxRecipients.
	MaxRecipients int
	Logger        *slog.Logger
	// Now is the clock of the derived durations (itemTimeLength,
	// stayTimeLength, transit_time); nil is time.Now. The store stamps
	// created and updated times itself.
	Now func() time.Time
}

// API serves TrackingMore's trackings API (v2 and v4, see the package
// documentation) on trackhook's tracking store.
type API struct {
	store    api.Trackings
	carriers *carrier.Catalog
	max      int
	log      *slog.Logger
	now      func() time.Time
}

// New returns an API.
func New(cfg Config) (*API, error) {
	if cfg.Store == nil {
		return nil, errors.New("trackingmore: a tracking store is required")
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
	return &API{store: cfg.Store, carriers: cfg.Carriers, max: cfg.MaxRecipients, log: cfg.Logger, now: cfg.Now}, nil
}

// Route is one endpoint, its Path relative to the prefix the API is mounted
// under (so with the prefix "/trackingmore" a merchant's base URL is
// https://host/trackingmore and the SDKs append /v2/… or /v4/…). Paths use
// gorilla/mux variables: {carrier_code}, {tracking_number}, {lang}, {id}.
type Route struct {
	Method  string
	Path    string
	Handler http.HandlerFunc
}

// Routes are the endpoints, in the order they must be matched (fixed
// segments before variables).
//
// Mounting note: with gorilla/mux v1.8.1 a PathPrefix subrouter loses a
// method mismatch (every route of a subrouter re-matches the prefix, which
// clears it), so a wrong method on an existing path is answered by the
// NotFound handler instead of MethodNotAllowed. Registering each route
// with the prefix prepended on the main router keeps the 405 (this
// package's tests mount it so).
func (a *API) Routes() []Route {
	const get, post, put, del = http.MethodGet, http.MethodPost, http.MethodPut, http.MethodDelete
	return []Route{
		// API v2 (Trackingmore-Api-Key).
		{post, "/v2/trackings/post", a.v2Create},
		{post, "/v2/trackings/batch", a.v2Batch},
		{get, "/v2/trackings/get", a.v2List},
		// The v2 PHP SDK sends GET /trackings/get as a POST with a JSON
		// body whenever it has parameters (trackingmore100/tracking-sdk-php
		// lib/RequestApi.class.php: "if params and GET then POST").
		{post, "/v2/trackings/get", a.v2List},
		{get, "/v2/trackings/{carrier_code}/{tracking_number}", a.v2Get},
		{get, "/v2/trackings/{carrier_code}/{tracking_number}/{lang}", a.v2Get},
		{put, "/v2/trackings/{carrier_code}/{tracking_number}", a.v2Update},
		{del, "/v2/trackings/{carrier_code}/{tracking_number}", a.v2Delete},

		// API v4 (Tracking-Api-Key).
		{post, "/v4/trackings/create", a.v4Create},
		{get, "/v4/trackings/get", a.v4List},
		{post, "/v4/trackings/batch", a.v4Batch},
		{put, "/v4/trackings/update/{id}", a.v4Update},
		{del, "/v4/trackings/delete/{id}", a.v4Delete},
	}
}
