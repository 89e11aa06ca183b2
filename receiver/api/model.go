package api

import (
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
	Language               string            `json:"language,omitempty"`
	CourierTrackingLink    string            `json:"courier_tracking_link,omitempty"`
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
		Active:       t.Status != tracking.Delivered && t.Status != tracking.Expired,
		CustomFields: t.CustomFields, CustomerName: t.CustomerName, DestinationCountryISO3: t.DestinationCountry,
		Emails: nonNil(t.Emails), Smses: nonNil(t.SMSes), Note: t.Note, OrderID: t.OrderID, OrderNumber: t.OrderNumber,
		Source: t.Source, Tag: t.Status.String(), Subtag: t.Subtag, SubtagMessage: t.SubtagMessage, Title: t.Title,
		Language: t.Language, CourierTrackingLink: t.TrackingURL, Checkpoints: []checkpointJSON{},
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
