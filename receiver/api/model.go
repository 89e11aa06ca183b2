package api

import (
	"crypto/sha256"
	"encoding/hex"
	"slices"
	"time"

	"github.com/trackhook/trackhook/receiver/tracking"
)

// trackingJSON is a tracking in AfterShip's 2024-04 field names and types
// (the SDK fails a call on any type mismatch, even on a 200). Times are
// RFC 3339 or absent, never "": legacy clients parse them as times.
type trackingJSON struct {
	ID                     string            `json:"id"`
	CreatedAt              string            `json:"created_at,omitempty"`
	UpdatedAt              string            `json:"updated_at,omitempty"`
	LastUpdatedAt          string            `json:"last_updated_at,omitempty"`
	TrackingNumber         string            `json:"tracking_number"`
	Slug                   string            `json:"slug"`
	Active                 bool              `json:"active"`
	CustomFields           map[string]string `json:"custom_fields,omitempty"`
	CustomerName           string            `json:"customer_name,omitempty"`
	DestinationCountryISO3 string            `json:"destination_country_iso3,omitempty"`
	Emails                 []string          `json:"emails"`
	Smses                  []string          `json:"smses"`
	Note                   string            `json:"note,omitempty"`
	OrderID                string            `json:"order_id,omitempty"`
	OrderNumber            string            `json:"order_number,omitempty"`
	Source                 string            `json:"source,omitempty"`
	Tag                    string            `json:"tag"`
	Subtag                 string            `json:"subtag,omitempty"`
	SubtagMessage          string            `json:"subtag_message,omitempty"`
	Title                  string            `json:"title,omitempty"`
	TrackedCount           int               `json:"tracked_count,omitempty"` // retracks
	Language               string            `json:"language,omitempty"`
	CourierTrackingLink    string            `json:"courier_tracking_link,omitempty"`
	ExpectedDelivery       string            `json:"expected_delivery,omitempty"` // the carrier's, "2006-01-02"
	Checkpoints            []checkpointJSON  `json:"checkpoints"`
}

type checkpointJSON struct {
	Slug           string `json:"slug,omitempty"`
	CheckpointTime string `json:"checkpoint_time,omitempty"`
	Location       string `json:"location,omitempty"`
	City           string `json:"city,omitempty"`
	State          string `json:"state,omitempty"`
	Zip            string `json:"zip,omitempty"`
	CountryISO3    string `json:"country_iso3,omitempty"`
	Message        string `json:"message,omitempty"`
	Tag            string `json:"tag,omitempty"`
	Subtag         string `json:"subtag,omitempty"`
	SubtagMessage  string `json:"subtag_message,omitempty"`
}

func rfc3339(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.UTC().Format(time.RFC3339)
}

func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

func (a *API) toJSON(t tracking.Tracking) trackingJSON {
	j := trackingJSON{
		ID: t.ID, CreatedAt: rfc3339(t.CreatedAt), UpdatedAt: rfc3339(t.UpdatedAt), LastUpdatedAt: rfc3339(t.UpdatedAt),
		TrackingNumber: t.TrackingNumber, Slug: t.Slug,
		Active:       t.Active(),
		CustomFields: t.CustomFields, CustomerName: t.CustomerName, DestinationCountryISO3: t.DestinationCountry,
		Emails: nonNil(t.Emails), Smses: nonNil(t.SMSes), Note: t.Note, OrderID: t.OrderID, OrderNumber: t.OrderNumber,
		Source: t.Source, Tag: t.Status.String(), Subtag: t.Subtag, SubtagMessage: t.SubtagMessage, Title: t.Title,
		TrackedCount: t.Retracks, Language: t.Language, CourierTrackingLink: t.TrackingURL, Checkpoints: []checkpointJSON{},
		ExpectedDelivery: t.ExpectedDelivery,
	}
	if j.Tag == "" {
		j.Tag = tracking.Pending.String()
	}
	if j.CourierTrackingLink == "" {
		if c, ok := a.carriers.Lookup(t.Slug); ok {
			j.CourierTrackingLink = c.TrackingURL(t.TrackingNumber)
		}
	}
	for _, c := range t.Checkpoints {
		j.Checkpoints = append(j.Checkpoints, checkpointJSON{
			Slug: t.Slug, CheckpointTime: rfc3339(c.Time), Location: c.Location, City: c.City, State: c.State, Zip: c.Zip,
			CountryISO3: c.CountryISO3, Message: c.Message, Tag: c.Status.String(), Subtag: c.Subtag, SubtagMessage: c.SubtagMessage,
		})
	}
	return j
}

// notificationJSON is AfterShip's notification object.
type notificationJSON struct {
	Emails []string `json:"emails"`
	Smses  []string `json:"smses"`
}

// trackingFlatJSON is a tracking as 2024-07 and later versions answer it:
// the 2024-04 fields up to 2024-10; from 2025-01 customers[] instead of
// emails, smses and customer_name, and *_country_region instead of
// *_country_iso3 (tracking-sdk-nodejs 2025-01 src/model/Tracking.ts).
type trackingFlatJSON struct {
	ID                       string            `json:"id"`
	CreatedAt                string            `json:"created_at,omitempty"`
	UpdatedAt                string            `json:"updated_at,omitempty"`
	LastUpdatedAt            string            `json:"last_updated_at,omitempty"`
	TrackingNumber           string            `json:"tracking_number"`
	Slug                     string            `json:"slug"`
	Active                   bool              `json:"active"`
	CustomFields             map[string]string `json:"custom_fields,omitempty"`
	CustomerName             string            `json:"customer_name,omitempty"`
	DestinationCountryISO3   string            `json:"destination_country_iso3,omitempty"`
	DestinationCountryRegion string            `json:"destination_country_region,omitempty"`
	Emails                   *[]string         `json:"emails,omitempty"`
	Smses                    *[]string         `json:"smses,omitempty"`
	Note                     string            `json:"note,omitempty"`
	OrderID                  string            `json:"order_id,omitempty"`
	OrderNumber              string            `json:"order_number,omitempty"`
	Source                   string            `json:"source,omitempty"`
	Tag                      string            `json:"tag"`
	Subtag                   string            `json:"subtag,omitempty"`
	SubtagMessage            string            `json:"subtag_message,omitempty"`
	Title                    string            `json:"title,omitempty"`
	TrackedCount             int               `json:"tracked_count"`
	Language                 string            `json:"language,omitempty"`
	CourierTrackingLink      string            `json:"courier_tracking_link,omitempty"`
	ExpectedDelivery         string            `json:"expected_delivery,omitempty"`
	Checkpoints              []map[string]any  `json:"checkpoints"`
	Customers                *[]customerJSON   `json:"customers,omitempty"`
}

// customerJSON is one of customers[] in an answer.
type customerJSON struct {
	ID          string `json:"id,omitempty"`
	Role        string `json:"role,omitempty"`
	Name        string `json:"name,omitempty"`
	PhoneNumber string `json:"phone_number,omitempty"`
	Email       string `json:"email,omitempty"`
	Language    string `json:"language,omitempty"`
}

// render is t in the flat shape of version v.
func (a *API) render(v Version, t tracking.Tracking) trackingFlatJSON {
	l := a.toJSON(t)
	j := trackingFlatJSON{
		ID: l.ID, CreatedAt: l.CreatedAt, UpdatedAt: l.UpdatedAt, TrackingNumber: l.TrackingNumber, Slug: l.Slug,
		Active: l.Active, CustomFields: l.CustomFields, Note: l.Note, OrderID: l.OrderID, OrderNumber: l.OrderNumber,
		Source: l.Source, Tag: l.Tag, Subtag: l.Subtag, SubtagMessage: l.SubtagMessage, Title: l.Title,
		TrackedCount: t.Retracks, Language: l.Language, CourierTrackingLink: l.CourierTrackingLink,
		ExpectedDelivery: l.ExpectedDelivery, Checkpoints: make([]map[string]any, 0, len(l.Checkpoints)),
	}
	if v.Customers {
		j.DestinationCountryRegion = l.DestinationCountryISO3
		cs := customersOf(t, v.CustomerIDs)
		j.Customers = &cs
	} else {
		j.LastUpdatedAt = l.LastUpdatedAt
		j.CustomerName, j.DestinationCountryISO3 = l.CustomerName, l.DestinationCountryISO3
		j.Emails, j.Smses = &l.Emails, &l.Smses
	}
	for _, c := range l.Checkpoints {
		j.Checkpoints = append(j.Checkpoints, checkpointMap(v, c))
	}
	return j
}

// checkpointMap is a checkpoint with version v's field names: country_region
// for country_iso3 from 2025-01, postal_code for zip from 2026-01.
func checkpointMap(v Version, c checkpointJSON) map[string]any {
	m := map[string]any{}
	set := func(k, val string) {
		if val != "" {
			m[k] = val
		}
	}
	set("slug", c.Slug)
	set("checkpoint_time", c.CheckpointTime)
	set("location", c.Location)
	set("city", c.City)
	set("state", c.State)
	set("message", c.Message)
	set("tag", c.Tag)
	set("subtag", c.Subtag)
	set("subtag_message", c.SubtagMessage)
	if v.PostalCode {
		set("postal_code", c.Zip)
	} else {
		set("zip", c.Zip)
	}
	if v.Customers {
		set("country_region", c.CountryISO3)
	} else {
		set("country_iso3", c.CountryISO3)
	}
	return m
}

// customersOf is the customers[] view of a tracking's subscribers: the
// customers given through customers[], each with the email and phone number
// still subscribed, then every other subscriber as a customer of its own.
// A customer all of whose contacts were removed (notifications/remove, an
// update of emails or smses, an unsubscribe) is left out.
func customersOf(t tracking.Tracking, ids bool) []customerJSON {
	out := []customerJSON{}
	seenEmail, seenPhone := map[string]bool{}, map[string]bool{}
	for _, c := range t.Customers {
		cu := customerJSON{Role: c.Role, Name: c.Name, Language: c.Language}
		if c.Email != "" && slices.Contains(t.Emails, c.Email) && !seenEmail[c.Email] {
			cu.Email, seenEmail[c.Email] = c.Email, true
		}
		if c.Phone != "" && slices.Contains(t.SMSes, c.Phone) && !seenPhone[c.Phone] {
			cu.PhoneNumber, seenPhone[c.Phone] = c.Phone, true
		}
		if cu.Email == "" && cu.PhoneNumber == "" && (c.Email != "" || c.Phone != "") {
			continue
		}
		out = append(out, cu)
	}
	for _, e := range t.Emails {
		if !seenEmail[e] {
			out = append(out, customerJSON{Email: e})
		}
	}
	for _, p := range t.SMSes {
		if !seenPhone[p] {
			out = append(out, customerJSON{PhoneNumber: p})
		}
	}
	if len(out) > 0 && t.CustomerName != "" && len(t.Customers) == 0 {
		out[0].Name = t.CustomerName // given as customer_name through an older version
	}
	if ids {
		for i := range out {
			sum := sha256.Sum256([]byte(out[i].Email + "\x00" + out[i].PhoneNumber + "\x00" + out[i].Role))
			out[i].ID = hex.EncodeToString(sum[:16])
		}
	}
	return out
}
