// Package trackingmore serves TrackingMore's trackings API, as TrackingMore's
// merchants and SDKs call it, on trackhook's tracking store: the trackings
// and subscribers are the very ones the AfterShip-compatible API (package
// receiver/api) shows and changes.
//
// # Versions: v2 and v4
//
// The field list (customer_email, customer_phone, lang, order_id,
// title; get, update and delete by carrier code and number; batch create)
// is TrackingMore's API v2: header Trackingmore-Api-Key, base
// https://api.trackingmore.com/v2. TrackingMore still documents v2 beside
// v3 and v4 ("the existing 3 versions", support.trackingmore.com
// "TrackingMore Create API"), and v4 is what its current official SDKs
// call. Both are served, on the same store, under the one prefix the caller
// mounts (e.g. /trackingmore, so a merchant's base URL is
// https://host/trackingmore and the paths below follow it). v3 is not
// served (its only SDK is the v3 branch of trackingmore100/tracking-sdk-php).
//
// API v2 (Trackingmore-Api-Key):
//
//	POST   /v2/trackings/post                                create one
//	POST   /v2/trackings/batch                               create up to 40
//	GET    /v2/trackings/{carrier_code}/{tracking_number}[/{lang}]
//	PUT    /v2/trackings/{carrier_code}/{tracking_number}    update
//	DELETE /v2/trackings/{carrier_code}/{tracking_number}
//	GET    /v2/trackings/get (and POST, as the v2 PHP SDK sends it)  list
//
// API v4 (Tracking-Api-Key):
//
//	POST   /v4/trackings/create
//	POST   /v4/trackings/batch
//	GET    /v4/trackings/get
//	PUT    /v4/trackings/update/{id}
//	DELETE /v4/trackings/delete/{id}
//
// Not served: v2's updatemore, delete (batch), realtime, update (courier
// change), notupdate, getuserinfo, getstatusnumber, remote, costtime,
// aircargo and carriers; v4's retrack, couriers and air waybills. They fall
// to the caller's NotFound.
//
// # Sources
//
// No page was opened live; every source is a stored copy.
//
//   - v2 endpoints, headers and parameters: trackingmore.com
//     api-track-create-a-tracking-item.html, api-track-create-multiple-track.html
//     (40 per batch), api-track-update-tracking-item.html,
//     docs/trackings/list-all-trackings.php, api-params.html (the answer's
//     fields), api-status_code.html (meta codes). VERIFIED, except the tail
//     of the create parameter table, which the stored copy cuts after
//     tracking_account_number.
//   - v2 SDK: trackingmore100/tracking-sdk-php at commit fda7332 (the v2
//     SDK before "v3 sdk"): lib/Api.class.php (header, base URL, lang
//     pattern, its own error envelope with data []), lib/Single.class.php
//     (get /{carrier}/{number}/{lang}, create, update PUT, delete),
//     lib/Batch.class.php, lib/RequestApi.class.php (GET with parameters is
//     sent as POST). TrackingMore's v2 samples (api-go, api-java-en,
//     api-csharp-en, api-python-en pages; a copy of the Go sample in the
//     index) send lang on create and status "7" on update.
//   - v2 answers: recorded live answers in a third-party project (kuaidi,
//     org/kuaidi/bean/trackingmore/BatchVo.java and GetVo.java, 2019):
//     the batch answer {"submitted","added","trackings","errors":[{
//     "tracking_number","carrier_code","code":4016,"message"}]} with meta
//     201 "Created", the list answer {"page","limit","total":"3","count",
//     "items"}, the tracking object and its times. And a third-party
//     client's live tests (marcoesposito1988/trackingmore-python): create
//     answers the tracking with id, created_at and status; delete answers
//     data []. SECONDARY.
//   - v4: the official SDKs TrackingMore-API/trackingmore-sdk-go (README
//     code table, request.go, response.go, trackings.go at dd83feb),
//     trackingmore-sdk-python and trackingmore-sdk-php (same paths and
//     header). VERIFIED for paths, header, request and answer types and
//     codes; the v4 docs pages themselves were not in the stored index.
//   - Status words: shared/reference/webhook-sources.md B3, inverted (see
//     statusWord).
//
// # Envelope and codes
//
// Every answer is {"meta":{"code","type","message"},"data"}. v2's codes
// are its documented meta codes (4001, 4012–4017, 4020, 4033, 404, 405,
// 429, 503), sent with HTTP 400 for the "Bad Request" ones; v4's are the
// SDK README's (400, 4101–4103, 4110–4112, 4120–4121, 4130, 401, 404, 429)
// with the HTTP statuses given there. See v2Codes and v4Codes. An error
// answer's message names the field and value at fault. A body over
// MaxBodyBytes (MaxBatchBodyBytes for a batch) is 413; a store failure is
// 503 in the envelope, never a 2xx. Nothing is stored by a refused request.
//
// # Fields
//
// Stored: tracking_number and carrier_code/courier_code (the key; the
// code is normalised by the carrier catalogue, and answers give
// trackhook's slug), title, order_id, order_number (v4), customer_name,
// comment (v2) / note (v4) as the note, lang (v2) / language (v4) as the
// tracking's language (TrackingMore's "cn" read as "zh"),
// destination_code (v2) / destination_country_iso2 (v4) as the destination
// country, customer_email and customer_phone (v2) / customer_sms (v4) as
// the subscribers. Every other documented field is accepted and ignored
// (IgnoredFields); an undocumented one is refused, naming it.
//
// Subscribers: TrackingMore keeps one email and one phone number per
// tracking; trackhook keeps up to MaxRecipients per channel in
// Tracking.Emails and Tracking.SMSes. customer_email and customer_phone
// take one address or several, comma-separated (or an array); they
// replace that channel's list. Answers give the whole list comma-separated:
// one subscriber reads exactly as on TrackingMore, several lose none.
// Phone numbers are stored in E.164; a national one needs the destination
// country. An address put back explicitly is readmitted if it had opted
// out of this tracking.
//
// Empty values: v2 clients send only the fields they set, so "" clears a
// field on update. The v4 SDK sends every field of its parameter structs,
// "" when unset, so in v4 "" means "not given" and leaves the field as it is.
//
// Batch: a body that is no array, has no item or more than 40, or names an
// unknown field in any item is refused whole. Otherwise each item is
// checked alone; the valid ones are stored and each bad one is reported
// with the code its single create would get (v2 errors[], v4 error[]).
//
// # UNVERIFIED
//
//   - v2 HTTP statuses (the docs give meta codes only); the meta of a v2
//     batch that added nothing (200 here); 4020 for a batch over 40; the
//     meaning of the list's count.
//   - v2 create's comment, auto_correct, tracking_destination_country,
//     specialNumberDestination (seen in Tracktry's copy of the v2 docs and
//     TrackingMore's samples, not in the stored TrackingMore page).
//   - Whether v4 sends meta.type; v4's limits of items_amount and
//     tracking_numbers (2000 and 40 here); that v4 answers 503 for an
//     outage (its table has 511–513 with HTTP 500: trackhook uses 503 so
//     clients retry, as this product requires).
//   - The inforeceived status and the v4-only substatus codes (pickup001 …).
//   - Time zones: TrackingMore gives carrier-local times; trackhook gives UTC.
package trackingmore
