// Package optout lets customers stop shipment notifications: the signed
// unsubscribe link in every email (with RFC 8058 one-click), and the SMS
// keywords (STOP, START, HELP …) that Twilio forwards to its inbound-message
// webhook.
//
// Routes (see Register):
//
//	GET  /unsubscribe/{token}   confirmation page; changes nothing (mail scanners prefetch links)
//	POST /unsubscribe/{token}   scope=tracking: this shipment; scope=all or none (one-click): every shipment
//	POST /webhooks/twilio       Twilio inbound messages, X-Twilio-Signature verified
//
// The Twilio signature covers the URL Twilio was configured to call, which
// the handler rebuilds as Config.PublicURL + request path + query. Behind a
// reverse proxy TRACKHOOK_PUBLIC_URL must therefore be the public URL that
// is configured in the Twilio console (scheme, host, port and any path
// prefix the proxy strips), or every inbound message is refused with 403.
package optout

import (
	"context"
	"crypto/sha256"
	_ "embed"
	"encoding/base64"
	"errors"
	"fmt"
	"html/template"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/gorilla/mux"
	"golang.org/x/text/language"

	"github.com/trackhook/trackhook/dispatcher"
	"github.com/trackhook/trackhook/signature"
)

// Trackings takes a recipient off one shipment; the receiver's tracking
// store implements it.
type Trackings interface {
	OptOut(ctx context.Context, trackingID string, c dispatcher.Channel, recipient string) error
}

// Suppressions is the list of recipients who opted out of every shipment;
// the dispatcher's state store keeps it (the send-time gate reads it).
type Suppressions interface {
	Suppress(ctx context.Context, c dispatcher.Channel, recipient, reason string) error
	Unsuppress(ctx context.Context, c dispatcher.Channel, recipient string) (bool, error)
}

// DefaultHelpText answers an SMS HELP when Config.HelpText is empty. It is
// GSM-7 and fits one segment.
const DefaultHelpText = "Shipment notifications: texts about the delivery status of your parcels. Reply STOP to stop them, START to get them again."

// storeTimeout bounds one request's Redis work, well inside Twilio's 15 s
// webhook timeout; when it runs out the answer is 503 and the sender retries.
const storeTimeout = 5 * time.Second

// Config wires a Handler.
type Config struct {
	Trackings    Trackings
	Suppressions Suppressions
	// Tokens signs and checks unsubscribe links. Give it, or LoadKey.
	Tokens *Tokens
	// LoadKey fetches the link-signing key (Store.Secret("unsubscribe")
	// keeps one in Redis) when a link is first made or checked, and again
	// after a failure. Until it succeeds no link can be made (the email
	// waits and is retried) and the unsubscribe pages answer 503, so a
	// process can start while Redis is still down.
	LoadKey func(ctx context.Context) ([]byte, error)
	// PublicURL is TRACKHOOK_PUBLIC_URL, the service's public base URL
	// (http or https, no query). Unsubscribe links are PublicURL +
	// "/unsubscribe/" + token, and Twilio signatures are checked against
	// PublicURL + request path + query.
	PublicURL *url.URL
	// Twilio verifies inbound messages; nil turns the route off (404).
	Twilio *signature.Twilio
	// HelpText replies to HELP; DefaultHelpText when empty.
	HelpText string
	Logger   *slog.Logger
}

// Handler serves the opt-out routes.
type Handler struct {
	trackings    Trackings
	suppressions Suppressions
	tokens       *tokenSource
	base         string // PublicURL without a trailing slash
	twilio       *signature.Twilio
	help         string
	log          *slog.Logger
	page         *template.Template
	style        template.CSS
	csp          string
	matcher      language.Matcher
}

var (
	//go:embed page.html
	pageHTML string
	//go:embed page.css
	pageCSS string
)

// New returns a handler; Store, Tokens and PublicURL are required.
func New(cfg Config) (*Handler, error) {
	if cfg.Trackings == nil || cfg.Suppressions == nil || (cfg.Tokens == nil) == (cfg.LoadKey == nil) || cfg.PublicURL == nil {
		return nil, errors.New("optout: trackings, suppressions, tokens or a key loader (one of them) and a public URL are required")
	}
	u := cfg.PublicURL
	if (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" || u.Opaque != "" || u.RawQuery != "" || u.Fragment != "" || u.User != nil {
		return nil, fmt.Errorf("optout: public URL %q must be http(s)://host[/path] without query, fragment or user", u.Redacted())
	}
	if cfg.HelpText == "" {
		cfg.HelpText = DefaultHelpText
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	page, err := template.New("page").Parse(pageHTML)
	if err != nil {
		return nil, fmt.Errorf("optout: page template: %w", err)
	}
	style := strings.TrimSpace(pageCSS)
	sum := sha256.Sum256([]byte(style))
	return &Handler{
		trackings:    cfg.Trackings,
		suppressions: cfg.Suppressions,
		tokens:       newTokenSource(cfg.Tokens, cfg.LoadKey),
		base:         strings.TrimSuffix(u.String(), "/"),
		twilio:       cfg.Twilio,
		help:         cfg.HelpText,
		log:          cfg.Logger,
		page:         page,
		style:        template.CSS(style),
		// No scripts, no external anything; the inline style by its hash.
		csp: "default-src 'none'; style-src 'sha256-" + base64.StdEncoding.EncodeToString(sum[:]) +
			"'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
		matcher: newMatcher(),
	}, nil
}

// Register adds the opt-out routes to r. Register them before a catch-all
// such as /webhooks/{source}: gorilla/mux takes the first route that matches.
func (h *Handler) Register(r *mux.Router) {
	r.HandleFunc("/unsubscribe/{token}", h.confirmPage).Methods(http.MethodGet, http.MethodHead)
	r.HandleFunc("/unsubscribe/{token}", h.unsubscribe).Methods(http.MethodPost)
	r.HandleFunc("/webhooks/twilio", h.twilioInbound).Methods(http.MethodPost)
}

// UnsubscribeURL is the link for an email's footer and its List-Unsubscribe
// header: it identifies recipient, channel and tracking, and works as a GET
// (confirmation page) and as a one-click POST. It fails only while the
// signing key cannot be loaded (Config.LoadKey).
func (h *Handler) UnsubscribeURL(ctx context.Context, trackingID string, c dispatcher.Channel, recipient string) (string, error) {
	t, err := h.tokens.get(ctx)
	if err != nil {
		return "", err
	}
	return h.base + "/unsubscribe/" + t.Make(trackingID, c, recipient), nil
}

// LoadKey loads the link-signing key now, if it is loaded from Redis and not
// yet loaded, so a start-up can say whether it has it.
func (h *Handler) LoadKey(ctx context.Context) error {
	_, err := h.tokens.get(ctx)
	return err
}
