// Package templates renders trackhook's customer notifications (email and
// SMS) for a shipment status, in the recipient's language.
//
// # Files
//
// Everything is embedded with embed.FS and parsed once, in New:
//
//	layouts/email.html.tmpl  HTML part of an email (html/template)
//	layouts/email.txt.tmpl   plain-text part of an email (text/template)
//	layouts/sms.txt.tmpl     SMS body (text/template)
//	locales/<tag>.json       one catalog per language, named by its BCP 47 tag
//	                         (en.json, de.json, pt-BR.json, ...)
//
// The layouts are shared by all languages; every word a customer reads
// comes from a catalog. Adding a language is adding a catalog file: nothing
// in the Go code lists languages. The catalog whose file is en.json is the
// reference: every other catalog must have exactly its keys.
//
// # Catalogs
//
// A catalog is a flat JSON object mapping a key to a text/template string
// that renders plain text (never HTML: the HTML layout escapes it). The dot
// in a catalog string has these fields, all plain strings, already cleaned
// of control characters and cut to a sane length (see Data for what they
// mean):
//
//	.TrackingNumber .Carrier (CarrierName, else CarrierSlug) .CarrierSlug
//	.OrderNumber .Title .CustomerName .ShopName .Status .Subtag .SubtagMessage
//	.CheckpointMessage .CheckpointLocation
//	.CheckpointDate (CheckpointTime in the offset the carrier gave: CLDR's medium date and short time joined by "format.datetime"; " (UTC)" added when that offset is 0; "" when unknown)
//	.ExpectedDate (CLDR's long date: "5. Januar 2026", "5 stycznia 2026", "2026年1月5日"; "" when unknown)
//	.TrackingURL .UnsubscribeURL (only http and https URLs; "" otherwise)
//	.ItemsShipped .ItemsTotal (numbers; a partial shipment has 0 < ItemsShipped < ItemsTotal)
//	.ParcelsDelivered .ParcelsTotal (numbers; both 0 unless the order has several parcels)
//
// Where a count appears, the word that goes with it comes from the function
// plural, which picks by CLDR's plural rules for the catalog's language:
//
//	{{plural .ParcelsDelivered `one` `ist` `other` `sind`}}
//
// takes pairs of a category (zero, one, two, few, many, other) and its text,
// and must name every category whole numbers take in the language (Polish:
// one, few, many, other; Arabic all six; Japanese only other); New refuses a
// catalog that leaves one out.
//
// Dates come from CLDR through github.com/go-playground/locales for the
// languages in cldrLocales (month names in their grammatical case, the order
// of day, month and year); a catalog's "format.datetime" only says how a
// date and a time of day are joined ("{date}, {time} Uhr"). A language
// without CLDR data here shows dates as 2026-01-05.
//
// In the HTML part, layouts call {{.H "key"}}: the text escaped and each
// value (tracking number, names, dates, links) inside <bdi>, so that it
// keeps its own direction inside a sentence written the other way (Arabic,
// Hebrew). So in a catalog string compare only .Status, .Subtag and
// .CarrierSlug, never a display value.
//
// Any of them but TrackingNumber and Status may be empty, so strings use
// {{with}} or {{if}} around optional parts.
//
// Keys are looked up most specific first: for key "subject", status
// "Exception" and subtag "Exception_011", a layout asking for "subject" gets
// "subject.Exception_011" if the catalog has it, else "subject.Exception",
// else "subject". So a subtag gets its own wording by adding keys for it, and
// a status is supported when the reference catalog has "subject.<Status>".
// The per-status keys are subject.*, heading.*, intro.* (email) and sms.*;
// the rest are shared labels, plus two formats that are not templates:
// "format.datetime" (above) and "format.colon", the separator between a
// label and its value in plain text (": " in English, "\u00a0: " in
// French).
//
// SMS strings should only use characters of the GSM 03.38 alphabet (see
// SMSSegments), or every message in that language costs twice as many
// segments.
//
// # Override directory
//
// Options.OverrideDir has the same layout as the embedded files. A layout
// there replaces the embedded one. A catalog there for a language that is
// embedded overrides the keys it has and keeps the rest; a catalog for a new
// language adds that language and must have every key. Everything is checked
// in New, including a trial render of every status in every language, so a
// mistake stops start-up with an error naming the file and the key.
package templates
