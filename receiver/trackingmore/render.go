package trackingmore

import (
	"strings"
	"time"

	"github.com/trackhook/trackhook/receiver/tracking"
)

// Time formats. Tracking times are ISO 8601 with a numeric offset,
// "2018-04-16T06:30:02+00:00" (v2 docs' Get example; a recorded v2 answer
// has "2019-08-21T14:14:55+08:00"; trackingmore-sdk-go README formats its
// date filters with this layout); trackhook sends UTC. v2 checkpoint times
// and lastUpdateTime are "2019-07-25 22:02:05" (recorded v2 answer in
// kuaidi's org/kuaidi/bean/trackingmore/GetVo.java), here in UTC.
const (
	isoLayout   = "2006-01-02T15:04:05-07:00"
	plainLayout = "2006-01-02 15:04:05"
)

func isoTime(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.UTC().Format(isoLayout)
}

func plainTime(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.UTC().Format(plainLayout)
}

// Subscribers. TrackingMore keeps one customer_email and one
// customer_phone (v2) / customer_sms (v4) per tracking; trackhook keeps up
// to MaxRecipients of each (Tracking.Emails, Tracking.SMSes). A request may
// give several, comma-separated (or as an array); an answer gives all of
// them comma-separated, so a tracking with one subscriber per channel reads
// exactly as TrackingMore's, and one with several loses none.
func joined(list []string) string { return strings.Join(list, ",") }

// v2Tracking is a tracking as API v2 answers it: the fields of the v2
// parameter page (trackingmore.com/api-params.html) in the types of a
// recorded v2 answer (GetVo.java / BatchVo.java, see above).
type v2Tracking struct {
	ID              string  `json:"id"`
	TrackingNumber  string  `json:"tracking_number"`
	CarrierCode     string  `json:"carrier_code"`
	Status          string  `json:"status"`
	Substatus       *string `json:"substatus"`
	StatusInfo      *string `json:"status_info"`
	TrackUpdate     bool    `json:"track_update"`
	CreatedAt       string  `json:"created_at"`
	UpdatedAt       string  `json:"updated_at"`
	OrderCreateTime *string `json:"order_create_time"`
	Title           string  `json:"title"`
	OrderID         string  `json:"order_id"`
	Comment         string  `json:"comment"`
	CustomerName    string  `json:"customer_name"`
	CustomerEmail   string  `json:"customer_email"`
	CustomerPhone   string  `json:"customer_phone"`
	Lang            string  `json:"lang"`
	Destination     string  `json:"destination"`
	OriginalCountry string  `json:"original_country"`
	Archived        bool    `json:"archived"`
	ItemTimeLength  int     `json:"itemTimeLength"`
	StayTimeLength  int     `json:"stayTimeLength"`
	OriginInfo      v2Info  `json:"origin_info"`
	DestinationInfo v2Info  `json:"destination_info"`
	LastEvent       string  `json:"lastEvent"`
	LastUpdateTime  string  `json:"lastUpdateTime"`
}

type v2Info struct {
	ItemReceived *string        `json:"ItemReceived"`
	Weblink      string         `json:"weblink"`
	Phone        string         `json:"phone"`
	CarrierCode  string         `json:"carrier_code"`
	Trackinfo    []v2Checkpoint `json:"trackinfo"`
}

type v2Checkpoint struct {
	Date              string `json:"Date"`
	StatusDescription string `json:"StatusDescription"`
	Details           string `json:"Details"`
	CheckpointStatus  string `json:"checkpoint_status"`
	Substatus         string `json:"substatus,omitempty"`
}

func nullable(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}

// days is the whole days from a to b (0 when either is zero or b is before a).
func days(a, b time.Time) int {
	if a.IsZero() || b.IsZero() || b.Before(a) {
		return 0
	}
	return int(b.Sub(a).Hours() / 24)
}

// weblink is the tracking page: the sender's, else the catalogue's.
func (a *API) weblink(t tracking.Tracking) string {
	if t.TrackingURL != "" {
		return t.TrackingURL
	}
	if c, ok := a.carriers.Lookup(t.Slug); ok {
		return c.TrackingURL(t.TrackingNumber)
	}
	return ""
}

func (a *API) v2Tracking(t tracking.Tracking) v2Tracking {
	j := v2Tracking{
		ID: t.ID, TrackingNumber: t.TrackingNumber, CarrierCode: t.Slug,
		Status:      statusWord(v2, t.Status),
		Substatus:   nullable(substatus(v2, t.Status, t.Subtag)),
		StatusInfo:  nullable(t.SubtagMessage),
		TrackUpdate: t.Active(),
		CreatedAt:   isoTime(t.CreatedAt), UpdatedAt: isoTime(t.UpdatedAt),
		Title: t.Title, OrderID: t.OrderID, Comment: t.Note, CustomerName: t.CustomerName,
		CustomerEmail: joined(t.Emails), CustomerPhone: joined(t.SMSes), Lang: t.Language,
		Destination: iso2(t.DestinationCountry),
		OriginInfo:  v2Info{Weblink: a.weblink(t), CarrierCode: t.Slug, Trackinfo: []v2Checkpoint{}},
		// trackhook keeps one list of checkpoints; they are the origin
		// carrier's here.
		DestinationInfo: v2Info{Trackinfo: []v2Checkpoint{}},
	}
	// Newest first, as TrackingMore lists them.
	for i := len(t.Checkpoints) - 1; i >= 0; i-- {
		c := t.Checkpoints[i]
		j.OriginInfo.Trackinfo = append(j.OriginInfo.Trackinfo, v2Checkpoint{
			Date: plainTime(c.Time), StatusDescription: c.Message, Details: c.Place(),
			CheckpointStatus: statusWord(v2, c.Status), Substatus: substatus(v2, c.Status, c.Subtag),
		})
	}
	if n := len(t.Checkpoints); n > 0 {
		first, last := t.Checkpoints[0], t.Checkpoints[n-1]
		j.OriginInfo.ItemReceived = nullable(plainTime(first.Time))
		j.LastEvent = strings.Join(nonEmpty(last.Message, last.Place(), plainTime(last.Time)), ",")
		j.LastUpdateTime = plainTime(last.Time)
		end := a.now()
		if !t.Active() {
			end = last.Time
		}
		j.ItemTimeLength = days(first.Time, end)
		j.StayTimeLength = days(last.Time, a.now())
	}
	return j
}

func nonEmpty(ss ...string) []string {
	var out []string
	for _, s := range ss {
		if s != "" {
			out = append(out, s)
		}
	}
	return out
}

// v4Tracking is a tracking as API v4 answers it: the fields and JSON types
// of the SDK's Tracking (TrackingMore-API/trackingmore-sdk-go trackings.go;
// archived is a string there, updating a bool, transit_time a number).
// language is trackhook's addition (the create parameter of that name).
type v4Tracking struct {
	ID                         string `json:"id"`
	TrackingNumber             string `json:"tracking_number"`
	CourierCode                string `json:"courier_code"`
	OrderNumber                string `json:"order_number"`
	OrderDate                  string `json:"order_date"`
	CreatedAt                  string `json:"created_at"`
	UpdateAt                   string `json:"update_at"`
	DeliveryStatus             string `json:"delivery_status"`
	Archived                   string `json:"archived"`
	Updating                   bool   `json:"updating"`
	DestinationCountry         string `json:"destination_country"`
	DestinationState           string `json:"destination_state"`
	DestinationCity            string `json:"destination_city"`
	OriginCountry              string `json:"origin_country"`
	OriginState                string `json:"origin_state"`
	OriginCity                 string `json:"origin_city"`
	TrackingPostalCode         string `json:"tracking_postal_code"`
	TrackingShipDate           string `json:"tracking_ship_date"`
	TrackingDestinationCountry string `json:"tracking_destination_country"`
	TrackingOriginCountry      string `json:"tracking_origin_country"`
	TrackingKey                string `json:"tracking_key"`
	TrackingCourierAccount     string `json:"tracking_courier_account"`
	CustomerName               string `json:"customer_name"`
	CustomerEmail              string `json:"customer_email"`
	CustomerSms                string `json:"customer_sms"`
	RecipientPostcode          string `json:"recipient_postcode"`
	OrderID                    string `json:"order_id"`
	Title                      string `json:"title"`
	LogisticsChannel           string `json:"logistics_channel"`
	Note                       string `json:"note"`
	Label                      string `json:"label"`
	SignedBy                   string `json:"signed_by"`
	ServiceCode                string `json:"service_code"`
	Substatus                  string `json:"substatus"`
	StatusInfo                 string `json:"status_info"`
	LatestEvent                string `json:"latest_event"`
	LatestCheckpointTime       string `json:"latest_checkpoint_time"`
	TransitTime                int    `json:"transit_time"`
	Language                   string `json:"language"`
	OriginInfo                 v4Info `json:"origin_info"`
	DestinationInfo            v4Info `json:"destination_info"`
}

type v4Info struct {
	CourierCode     string         `json:"courier_code"`
	CourierPhone    string         `json:"courier_phone"`
	Weblink         string         `json:"weblink"`
	ReferenceNumber string         `json:"reference_number"`
	MilestoneDate   v4Milestones   `json:"milestone_date"`
	Trackinfo       []v4Checkpoint `json:"trackinfo"`
}

type v4Milestones struct {
	InforeceivedDate   string `json:"inforeceived_date"`
	PickupDate         string `json:"pickup_date"`
	OutfordeliveryDate string `json:"outfordelivery_date"`
	DeliveryDate       string `json:"delivery_date"`
	ReturningDate      string `json:"returning_date"`
	ReturnedDate       string `json:"returned_date"`
}

type v4Checkpoint struct {
	CheckpointDate              string `json:"checkpoint_date"`
	CheckpointDeliveryStatus    string `json:"checkpoint_delivery_status"`
	CheckpointDeliverySubstatus string `json:"checkpoint_delivery_substatus"`
	TrackingDetail              string `json:"tracking_detail"`
	Location                    string `json:"location"`
	CountryIso2                 string `json:"country_iso2"`
	State                       string `json:"state"`
	City                        string `json:"city"`
	Zip                         string `json:"zip"`
	RawStatus                   string `json:"raw_status"`
}

func (a *API) v4Tracking(t tracking.Tracking) v4Tracking {
	j := v4Tracking{
		ID: t.ID, TrackingNumber: t.TrackingNumber, CourierCode: t.Slug, OrderNumber: t.OrderNumber,
		CreatedAt: isoTime(t.CreatedAt), UpdateAt: isoTime(t.UpdatedAt),
		DeliveryStatus: statusWord(v4, t.Status), Archived: "false", Updating: t.Active(),
		DestinationCountry: iso2(t.DestinationCountry),
		CustomerName:       t.CustomerName, CustomerEmail: joined(t.Emails), CustomerSms: joined(t.SMSes),
		OrderID: t.OrderID, Title: t.Title, Note: t.Note,
		Substatus: substatus(v4, t.Status, t.Subtag), StatusInfo: t.SubtagMessage, Language: t.Language,
		OriginInfo:      v4Info{CourierCode: t.Slug, Weblink: a.weblink(t), Trackinfo: []v4Checkpoint{}},
		DestinationInfo: v4Info{Trackinfo: []v4Checkpoint{}},
	}
	m := &j.OriginInfo.MilestoneDate
	first := func(dst *string, c tracking.Checkpoint) {
		if *dst == "" {
			*dst = isoTime(c.Time)
		}
	}
	for _, c := range t.Checkpoints { // oldest first: the first of each milestone
		switch {
		case c.Status == tracking.InfoReceived:
			first(&m.InforeceivedDate, c)
		case c.Status == tracking.InTransit:
			first(&m.PickupDate, c)
		case c.Status == tracking.OutForDelivery:
			first(&m.OutfordeliveryDate, c)
		case c.Status == tracking.Delivered:
			first(&m.DeliveryDate, c)
		case c.Subtag == "Exception_010":
			first(&m.ReturningDate, c)
		case c.Subtag == "Exception_011":
			first(&m.ReturnedDate, c)
		}
	}
	for i := len(t.Checkpoints) - 1; i >= 0; i-- {
		c := t.Checkpoints[i]
		j.OriginInfo.Trackinfo = append(j.OriginInfo.Trackinfo, v4Checkpoint{
			CheckpointDate: isoTime(c.Time), CheckpointDeliveryStatus: statusWord(v4, c.Status),
			CheckpointDeliverySubstatus: substatus(v4, c.Status, c.Subtag), TrackingDetail: c.Message,
			Location: c.Location, CountryIso2: iso2(c.CountryISO3), State: c.State, City: c.City, Zip: c.Zip,
		})
	}
	if n := len(t.Checkpoints); n > 0 {
		last := t.Checkpoints[n-1]
		j.LatestEvent = strings.Join(nonEmpty(last.Message, last.Place()), ", ")
		j.LatestCheckpointTime = isoTime(last.Time)
		end := a.now()
		if !t.Active() {
			end = last.Time
		}
		j.TransitTime = days(t.Checkpoints[0].Time, end)
	}
	return j
}

// v4Updated is the answer of PUT /v4/trackings/update/{id}: the SDK's
// UpdateAfterResult (trackingmore-sdk-go trackings.go).
type v4Updated struct {
	ID                 string `json:"id"`
	TrackingNumber     string `json:"tracking_number"`
	CourierCode        string `json:"courier_code"`
	OrderNumber        string `json:"order_number"`
	OrderID            string `json:"order_id"`
	DestinationCountry string `json:"destination_country"`
	CustomerName       string `json:"customer_name"`
	CustomerEmail      string `json:"customer_email"`
	CustomerSms        string `json:"customer_sms"`
	Title              string `json:"title"`
	Note               string `json:"note"`
	Language           string `json:"language"`
	ArchivedStatus     string `json:"archived_status"`
}

func v4Update(t tracking.Tracking) v4Updated {
	return v4Updated{
		ID: t.ID, TrackingNumber: t.TrackingNumber, CourierCode: t.Slug, OrderNumber: t.OrderNumber, OrderID: t.OrderID,
		DestinationCountry: iso2(t.DestinationCountry), CustomerName: t.CustomerName,
		CustomerEmail: joined(t.Emails), CustomerSms: joined(t.SMSes), Title: t.Title, Note: t.Note,
		Language: t.Language, ArchivedStatus: "false",
	}
}
