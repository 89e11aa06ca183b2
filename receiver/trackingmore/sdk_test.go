package trackingmore_test

// Requests shaped exactly as TrackingMore's official SDKs send them, and
// the answer types they decode. Types are mirrored, not the SDKs' code.
//
// API v4: TrackingMore-API/trackingmore-sdk-go at dd83feb.
//   - sdkCreateTrackingParams, sdkUpdateTrackingParams, sdkTracking,
//     sdkGetTrackingResultsParams, sdkBatchResults, sdkBatchItem,
//     sdkUpdateAfterResult: trackings.go (no omitempty: the SDK sends every
//     field, "" when unset).
//   - sdkResponse, sdkMeta: response.go.
//   - Request: request.go sendApiRequest: base URL + "v4" + path; JSON body
//     (none when the input is nil); headers Content-Type and Accept
//     application/json and Tracking-Api-Key; the query from the url tags
//     of the non-zero fields.
//
// API v2: the v2 PHP SDK, trackingmore100/tracking-sdk-php at fda7332.
//   - Request: lib/Api.class.php getRequestHeader ("Content-Type:
//     application/json", "Trackingmore-Api-Key: …"), sendApiRequest;
//     lib/RequestApi.class.php send: the body is json_encode of the
//     caller's array (only the keys given), none for GET and DELETE, and a
//     GET with parameters goes out as POST.
//   - Paths: lib/Single.class.php (trackings/post, trackings/{carrier}/{number}[/{lang}]),
//     lib/Batch.class.php (trackings/batch, trackings/get).
//   - Answers: the v2 SDK returns the raw JSON; v2Meta/v2Tracking/…
//     mirror recorded v2 answers (kuaidi's org/kuaidi/bean/trackingmore
//     BatchVo.java and GetVo.java).

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"reflect"
	"testing"
)

// --- v4, trackingmore-sdk-go trackings.go ---

type sdkCreateTrackingParams struct {
	TrackingNumber             string `json:"tracking_number"`
	CourierCode                string `json:"courier_code"`
	OrderNumber                string `json:"order_number"`
	OriginCountryIso2          string `json:"origin_country_iso2"`
	DestinationCountryIso2     string `json:"destination_country_iso2"`
	CustomerName               string `json:"customer_name"`
	CustomerEmail              string `json:"customer_email"`
	CustomerSms                string `json:"customer_sms"`
	RecipientPostcode          string `json:"recipient_postcode"`
	Title                      string `json:"title"`
	LogisticsChannel           string `json:"logistics_channel"`
	OrderId                    string `json:"order_id"`
	OrderDate                  string `json:"order_date"`
	TrackingCourierAccount     string `json:"tracking_courier_account"`
	TrackingPostalCode         string `json:"tracking_postal_code"`
	TrackingOriginCountry      string `json:"tracking_origin_country"`
	TrackingDestinationCountry string `json:"tracking_destination_country"`
	TrackingShipDate           string `json:"tracking_ship_date"`
	TrackingKey                string `json:"tracking_key"`
	Language                   string `json:"language"`
	Note                       string `json:"note"`
	Label                      string `json:"label"`
	AutoCorrect                string `json:"auto_correct"`
}

type sdkCheckpoint struct {
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

type sdkMilestones struct {
	InforeceivedDate   string `json:"inforeceived_date"`
	PickupDate         string `json:"pickup_date"`
	OutfordeliveryDate string `json:"outfordelivery_date"`
	DeliveryDate       string `json:"delivery_date"`
	ReturningDate      string `json:"returning_date"`
	ReturnedDate       string `json:"returned_date"`
}

type sdkInfo struct {
	CourierCode     string          `json:"courier_code"`
	CourierPhone    string          `json:"courier_phone"`
	Weblink         string          `json:"weblink"`
	ReferenceNumber string          `json:"reference_number"`
	MilestoneDate   sdkMilestones   `json:"milestone_date"`
	Trackinfo       []sdkCheckpoint `json:"trackinfo"`
}

type sdkTracking struct {
	Id                         string  `json:"id"`
	TrackingNumber             string  `json:"tracking_number"`
	CourierCode                string  `json:"courier_code"`
	OrderNumber                string  `json:"order_number"`
	OrderDate                  string  `json:"order_date"`
	CreatedAt                  string  `json:"created_at"`
	UpdateAt                   string  `json:"update_at"`
	DeliveryStatus             string  `json:"delivery_status"`
	Archived                   string  `json:"archived"`
	Updating                   bool    `json:"updating"`
	DestinationCountry         string  `json:"destination_country"`
	DestinationState           string  `json:"destination_state"`
	DestinationCity            string  `json:"destination_city"`
	OriginCountry              string  `json:"origin_country"`
	OriginState                string  `json:"origin_state"`
	OriginCity                 string  `json:"origin_city"`
	TrackingPostalCode         string  `json:"tracking_postal_code"`
	TrackingShipDate           string  `json:"tracking_ship_date"`
	TrackingDestinationCountry string  `json:"tracking_destination_country"`
	TrackingOriginCountry      string  `json:"tracking_origin_country"`
	TrackingKey                string  `json:"tracking_key"`
	TrackingCourierAccount     string  `json:"tracking_courier_account"`
	CustomerName               string  `json:"customer_name"`
	CustomerEmail              string  `json:"customer_email"`
	CustomerSms                string  `json:"customer_sms"`
	RecipientPostcode          string  `json:"recipient_postcode"`
	OrderId                    string  `json:"order_id"`
	Title                      string  `json:"title"`
	LogisticsChannel           string  `json:"logistics_channel"`
	Note                       string  `json:"note"`
	Label                      string  `json:"label"`
	SignedBy                   string  `json:"signed_by"`
	ServiceCode                string  `json:"service_code"`
	Weight                     string  `json:"weight"`
	WeightKg                   string  `json:"weight_kg"`
	ProductType                string  `json:"product_type"`
	Pieces                     string  `json:"pieces"`
	Dimension                  string  `json:"dimension"`
	Previously                 string  `json:"previously"`
	DestinationTrackNumber     string  `json:"destination_track_number"`
	ExchangeNumber             string  `json:"exchange_number"`
	ScheduledDeliveryDate      string  `json:"scheduled_delivery_date"`
	ScheduledAddress           string  `json:"scheduled_address"`
	Substatus                  string  `json:"substatus"`
	StatusInfo                 string  `json:"status_info"`
	LatestEvent                string  `json:"latest_event"`
	LatestCheckpointTime       string  `json:"latest_checkpoint_time"`
	TransitTime                int     `json:"transit_time"`
	OriginInfo                 sdkInfo `json:"origin_info"`
	DestinationInfo            sdkInfo `json:"destination_info"`
}

type sdkGetTrackingResultsParams struct {
	ArchivedStatus  string `json:"archived_status" url:"archived_status"`
	CourierCode     string `json:"courier_code" url:"courier_code"`
	CreatedDateMax  string `json:"created_date_max" url:"created_date_max"`
	CreatedDateMin  string `json:"created_date_min" url:"created_date_min"`
	DeliveryStatus  string `json:"delivery_status" url:"delivery_status"`
	ItemsAmount     int    `json:"items_amount" url:"items_amount"`
	Lang            string `json:"lang" url:"lang"`
	PagesAmount     int    `json:"pages_amount" url:"pages_amount"`
	TrackingNumbers string `json:"tracking_numbers" url:"tracking_numbers"`
	UpdatedDateMax  string `json:"updated_date_max" url:"updated_date_max"`
	UpdatedDateMin  string `json:"updated_date_min" url:"updated_date_min"`
}

type sdkBatchResults struct {
	Success []sdkBatchItem `json:"success"`
	Error   []sdkBatchItem `json:"error"`
}

type sdkBatchItem struct {
	Id             string `json:"id"`
	TrackingNumber string `json:"tracking_number"`
	CourierCode    string `json:"courier_code"`
	ErrorCode      int    `json:"errorCode,omitempty"`
	ErrorMessage   string `json:"errorMessage,omitempty"`
}

type sdkUpdateTrackingParams struct {
	CourierCodeNew             string `json:"courier_code_new"`
	OrderNumber                string `json:"order_number"`
	OriginCountryIso2          string `json:"origin_country_iso2"`
	DestinationCountryIso2     string `json:"destination_country_iso2"`
	CustomerName               string `json:"customer_name"`
	CustomerEmail              string `json:"customer_email"`
	CustomerSms                string `json:"customer_sms"`
	RecipientPostcode          string `json:"recipient_postcode"`
	Title                      string `json:"title"`
	LogisticsChannel           string `json:"logistics_channel"`
	OrderId                    string `json:"order_id"`
	OrderDate                  string `json:"order_date"`
	TrackingCourierAccount     string `json:"tracking_courier_account"`
	TrackingPostalCode         string `json:"tracking_postal_code"`
	TrackingOriginCountry      string `json:"tracking_origin_country"`
	TrackingDestinationCountry string `json:"tracking_destination_country"`
	TrackingShipDate           string `json:"tracking_ship_date"`
	TrackingKey                string `json:"tracking_key"`
	Language                   string `json:"language"`
	Note                       string `json:"note"`
	Label                      string `json:"label"`
	ArchivedStatus             string `json:"archived_status"`
}

type sdkUpdateAfterResult struct {
	Id                         string `json:"id"`
	TrackingNumber             string `json:"tracking_number"`
	CourierCode                string `json:"courier_code"`
	CourierCodeNew             string `json:"courier_code_new"`
	OrderNumber                string `json:"order_number"`
	OrderDate                  string `json:"order_date"`
	OrderId                    string `json:"order_id"`
	DestinationCountry         string `json:"destination_country"`
	OriginCountry              string `json:"origin_country"`
	TrackingPostalCode         string `json:"tracking_postal_code"`
	TrackingShipDate           string `json:"tracking_ship_date"`
	TrackingCourierAccount     string `json:"tracking_courier_account"`
	TrackingDestinationCountry string `json:"tracking_destination_country"`
	TrackingOriginCountry      string `json:"tracking_origin_country"`
	TrackingKey                string `json:"tracking_key"`
	CustomerName               string `json:"customer_name"`
	CustomerEmail              string `json:"customer_email"`
	CustomerSms                string `json:"customer_sms"`
	RecipientPostcode          string `json:"recipient_postcode"`
	Title                      string `json:"title"`
	LogisticsChannel           string `json:"logistics_channel"`
	Note                       string `json:"note"`
	Label                      string `json:"label"`
	ArchivedStatus             string `json:"archived_status"`
}

// --- v4, trackingmore-sdk-go response.go ---

type sdkResponse struct {
	Meta sdkMeta `json:"meta"`
	Data any     `json:"data"`
}

type sdkMeta struct {
	Code    int    `json:"code"`
	Message string `json:"message"`
}

// v4Client sends requests the way the Go SDK's sendApiRequest does.
type v4Client struct {
	base, key string
}

// do sends method path with inputData as the JSON body (nil: none) and
// queryParams as the query, and decodes the answer into a response whose
// data is result, failing the test where the SDK would fail the call (an
// answer it cannot decode).
func (c v4Client) do(t *testing.T, method, path string, queryParams, inputData, result any) (int, sdkResponse) {
	t.Helper()
	var body io.Reader
	if inputData != nil {
		b, err := json.Marshal(inputData)
		if err != nil {
			t.Fatal(err)
		}
		body = bytes.NewReader(b)
	}
	req, err := http.NewRequest(method, c.base+"/v4"+path, body)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Add("Content-Type", "application/json")
	req.Header.Add("Accept", "application/json")
	req.Header.Add("Tracking-Api-Key", c.key)
	if queryParams != nil {
		req.URL.RawQuery = urlTags(queryParams).Encode()
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	out := sdkResponse{Data: result}
	if err := json.Unmarshal(raw, &out); err != nil {
		t.Fatalf("%s %s: the SDK cannot decode the answer (%v): %s", method, path, err, raw)
	}
	return resp.StatusCode, out
}

// urlTags is the query of the non-zero fields by their url tags.
func urlTags(params any) url.Values {
	v := url.Values{}
	val := reflect.ValueOf(params)
	if val.Kind() == reflect.Ptr {
		val = val.Elem()
	}
	for i := 0; i < val.NumField(); i++ {
		f := val.Type().Field(i)
		if !val.Field(i).IsZero() {
			v.Add(f.Tag.Get("url"), fmt.Sprint(val.Field(i).Interface()))
		}
	}
	return v
}

// --- v2, the v2 PHP SDK's requests and recorded v2 answers ---

type v2Meta struct {
	Code    int    `json:"code"`
	Type    string `json:"type"`
	Message string `json:"message"`
}

type v2Checkpoint struct {
	Date              string `json:"Date"`
	StatusDescription string `json:"StatusDescription"`
	Details           string `json:"Details"`
	CheckpointStatus  string `json:"checkpoint_status"`
	Substatus         string `json:"substatus"`
}

type v2Tracking struct {
	ID              string  `json:"id"`
	TrackingNumber  string  `json:"tracking_number"`
	CarrierCode     string  `json:"carrier_code"`
	Status          string  `json:"status"`
	Substatus       *string `json:"substatus"`
	TrackUpdate     bool    `json:"track_update"`
	CreatedAt       string  `json:"created_at"`
	UpdatedAt       string  `json:"updated_at"`
	OrderCreateTime any     `json:"order_create_time"`
	CustomerEmail   string  `json:"customer_email"`
	CustomerPhone   string  `json:"customer_phone"`
	CustomerName    string  `json:"customer_name"`
	Title           string  `json:"title"`
	OrderID         string  `json:"order_id"`
	Comment         string  `json:"comment"`
	Lang            string  `json:"lang"`
	Destination     string  `json:"destination"`
	Archived        bool    `json:"archived"`
	ItemTimeLength  int     `json:"itemTimeLength"`
	StayTimeLength  int     `json:"stayTimeLength"`
	OriginInfo      struct {
		Weblink     string         `json:"weblink"`
		CarrierCode string         `json:"carrier_code"`
		Trackinfo   []v2Checkpoint `json:"trackinfo"`
	} `json:"origin_info"`
	LastEvent      string `json:"lastEvent"`
	LastUpdateTime string `json:"lastUpdateTime"`
}

type v2BatchData struct {
	Submitted int          `json:"submitted"`
	Added     int          `json:"added"`
	Trackings []v2Tracking `json:"trackings"`
	Errors    []struct {
		TrackingNumber string `json:"tracking_number"`
		CarrierCode    string `json:"carrier_code"`
		Code           int    `json:"code"`
		Message        string `json:"message"`
	} `json:"errors"`
}

type v2ListData struct {
	Page  int          `json:"page"`
	Limit int          `json:"limit"`
	Total string       `json:"total"`
	Count int          `json:"count"`
	Items []v2Tracking `json:"items"`
}

// v2Client sends requests the way the v2 PHP SDK does.
type v2Client struct {
	base, key string
}

// do sends params (nil: no body) to path and returns the status, the meta
// and the raw data.
func (c v2Client) do(t *testing.T, method, path string, params any) (int, v2Meta, json.RawMessage) {
	t.Helper()
	var body io.Reader
	if params != nil {
		b, err := json.Marshal(params)
		if err != nil {
			t.Fatal(err)
		}
		body = bytes.NewReader(b)
	}
	return c.raw(t, method, path, body)
}

func (c v2Client) raw(t *testing.T, method, path string, body io.Reader) (int, v2Meta, json.RawMessage) {
	t.Helper()
	req, err := http.NewRequest(method, c.base+"/v2/"+path, body)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Trackingmore-Api-Key", c.key)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	var env struct {
		Meta *v2Meta         `json:"meta"`
		Data json.RawMessage `json:"data"`
	}
	if err := json.Unmarshal(raw, &env); err != nil || env.Meta == nil {
		t.Fatalf("%s %s: not TrackingMore's envelope (%v): %s", method, path, err, raw)
	}
	return resp.StatusCode, *env.Meta, env.Data
}

func decode[T any](t *testing.T, raw json.RawMessage) T {
	t.Helper()
	var v T
	if err := json.Unmarshal(raw, &v); err != nil {
		t.Fatalf("decode %T: %v: %s", v, err, raw)
	}
	return v
}
