package main

import (
	"cmp"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/mail"
	"net/url"
	"os"
	"strconv"
	"strings"
	"time"
	"unicode"

	"golang.org/x/text/language"

	"github.com/trackhook/trackhook/dispatcher"
	"github.com/trackhook/trackhook/dispatcher/mailer"
	"github.com/trackhook/trackhook/dispatcher/quiet"
	"github.com/trackhook/trackhook/dispatcher/sms"
	"github.com/trackhook/trackhook/receiver"
	"github.com/trackhook/trackhook/receiver/rules"
	"github.com/trackhook/trackhook/receiver/tracking"
	"github.com/trackhook/trackhook/signature/jwks"
	"github.com/trackhook/trackhook/templates"
)

// config is everything read from the environment. Nothing else in the
// program reads the environment.
//
// brandVars names the variable behind each field of templates.Brand, for
// errors.
var brandVars = map[string]string{
	"LogoURL": "TRACKHOOK_BRAND_LOGO_URL", "AccentColor": "TRACKHOOK_BRAND_COLOR",
	"SupportEmail": "TRACKHOOK_SUPPORT_EMAIL", "SupportURL": "TRACKHOOK_SUPPORT_URL",
	"PostalAddress": "TRACKHOOK_POSTAL_ADDRESS",
}

type config struct {
	Addr      string
	PublicURL *url.URL
	RedisURL  string // "" → embedded in-memory Redis
	APIKeys   []string
	SMTP      *mailer.SMTPConfig // nil → .eml files in OutboxDir
	MailFrom  string
	// ShopName is who the customer hears from: the sign-off of emails and
	// texts and, when TRACKHOOK_MAIL_FROM has none, the From display name.
	ShopName        string
	Brand           templates.Brand // logo, colour, support contact, postal address
	SMSMaxSegments  int
	Twilio          *sms.TwilioConfig // nil → text files in OutboxDir
	OutboxDir       string
	DefaultLanguage string
	TemplatesDir    string
	Secrets         map[string][]string // source name → secrets, newest first
	PathTokens      map[string][]string // source name → secret path segments
	// ShipEngineJWKSURL is where ShipEngine's public keys are fetched.
	ShipEngineJWKSURL string
	Triggers          tracking.StatusSet
	// The notification rules (README, Notification rules).
	StaleAfter           time.Duration // 0: off
	NotifyFirstDelivered bool
	Delays               map[tracking.Status]time.Duration
	OrderWait            time.Duration // < 0: messages do not wait for earlier ones
	StuckDays            int           // business days; 0: off
	DateMessages         bool          // new delivery day, running late
	Holidays             rules.Calendar
	Concurrency          int
	// MaxInDoubt bounds the emails of one worker process that the SMTP
	// server may have and the ledger does not yet (dispatcher.Commit).
	MaxInDoubt int
	// QuietHours is when no SMS goes out, in the recipient's local time;
	// nil: any hour.
	QuietHours     *quiet.Window
	RetryBaseDelay time.Duration
	// UnsubscribeSecret signs unsubscribe links; "" → a key kept in Redis.
	UnsubscribeSecret string
	// MaxRecipients per channel and tracking through the API.
	MaxRecipients int
	// DeliveryRetention is how long the delivery log keeps an attempt.
	DeliveryRetention time.Duration
	// WebhookRate (per source) and APIRate (per key) are requests per
	// second; bursts of twice that are allowed; 0 turns the limit off.
	WebhookRate float64
	APIRate     float64

	// Operating it (metrics, dashboard, Redis topology).

	// Redis is the parsed RedisURL: one server, Sentinel or Cluster; nil
	// when RedisURL is "".
	Redis *redisTarget
	// AdminKeys open the queue dashboard at /admin/queues (HTTP Basic, any
	// user name, a key as the password); none → the dashboard is off.
	AdminKeys []string
	// PprofAddr serves net/http/pprof on a listener of its own; "" → off.
	PprofAddr string
	// LogFormat is how the log is written; LogLevel the least severe
	// level it keeps.
	LogFormat logFormat
	LogLevel  slog.Level
}

// logFormat is TRACKHOOK_LOG_FORMAT.
type logFormat string

const (
	logAuto logFormat = ""     // text on a terminal, JSON otherwise
	logText logFormat = "text" // slog's key=value text
	logJSON logFormat = "json" // one JSON object a line
)

// loadConfig reads and checks the environment. Every problem is reported,
// each naming its variable.
func loadConfig(getenv func(string) string) (*config, error) {
	var errs []error
	bad := func(name, format string, args ...any) {
		errs = append(errs, fmt.Errorf("%s: %s", name, fmt.Sprintf(format, args...)))
	}
	getenv = withFiles(getenv, bad)
	get := func(name, def string) string {
		if v := strings.TrimSpace(getenv(name)); v != "" {
			return v
		}
		return def
	}

	c := &config{Secrets: map[string][]string{}, PathTokens: map[string][]string{}}

	c.Addr = get("TRACKHOOK_ADDR", ":8080")
	if _, port, err := net.SplitHostPort(c.Addr); err != nil {
		bad("TRACKHOOK_ADDR", "%q is not host:port (e.g. :8080 or 127.0.0.1:8080)", c.Addr)
	} else if p, err := strconv.Atoi(port); err != nil || p < 0 || p > 65535 {
		bad("TRACKHOOK_ADDR", "port %q is not a number from 0 to 65535", port)
	}

	pub := get("TRACKHOOK_PUBLIC_URL", "http://localhost:8080")
	if u, err := url.Parse(pub); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		bad("TRACKHOOK_PUBLIC_URL", "%q is not an absolute http(s) URL", pub)
	} else {
		u.Path = strings.TrimRight(u.Path, "/")
		c.PublicURL = u
	}

	c.RedisURL = get("TRACKHOOK_REDIS_URL", "")
	if c.RedisURL != "" {
		t, err := parseRedisURL(c.RedisURL)
		if err != nil {
			bad("TRACKHOOK_REDIS_URL", "%v", err)
		}
		c.Redis = t
	}

	c.APIKeys = splitList(getenv("TRACKHOOK_API_KEYS"))

	c.OutboxDir = get("TRACKHOOK_OUTBOX_DIR", "./outbox")

	if raw := get("TRACKHOOK_SMTP_URL", ""); raw != "" {
		sc, err := mailer.ParseSMTPURL(raw)
		if err != nil {
			bad("TRACKHOOK_SMTP_URL", "%v", err)
		} else {
			c.SMTP = &sc
		}
	}
	fromDefault := false
	c.ShopName = get("TRACKHOOK_SHOP_NAME", "")
	if len(c.ShopName) > 100 || strings.ContainsFunc(c.ShopName, unicode.IsControl) {
		bad("TRACKHOOK_SHOP_NAME", "want one line of at most 100 bytes (the name customers know the shop by)")
		c.ShopName = ""
	}
	c.MailFrom = get("TRACKHOOK_MAIL_FROM", "")
	switch {
	case c.MailFrom == "" && c.SMTP != nil:
		bad("TRACKHOOK_MAIL_FROM", "required when TRACKHOOK_SMTP_URL is set (e.g. \"Shop <noreply@shop.example>\")")
	case c.MailFrom == "":
		// The embedded default's From names the program; the messages name
		// no shop until one is configured (no "trackhook" in a customer's
		// sign-off).
		c.MailFrom = (&mail.Address{Name: cmp.Or(c.ShopName, "trackhook"), Address: "notifications@localhost"}).String()
		fromDefault = true
	default:
		a, err := mail.ParseAddress(c.MailFrom)
		if err != nil {
			bad("TRACKHOOK_MAIL_FROM", "%q is not an address like \"Shop <noreply@shop.example>\"", c.MailFrom)
			break
		}
		// One name for the shop: the From's display name unless
		// TRACKHOOK_SHOP_NAME says otherwise, and the shop's name as the
		// display name of a bare address.
		if a.Name == "" && c.ShopName != "" {
			a.Name = c.ShopName
			c.MailFrom = a.String()
		}
	}
	if c.ShopName == "" && !fromDefault {
		c.ShopName = displayName(c.MailFrom)
	}
	c.Brand = templates.Brand{
		LogoURL:       get("TRACKHOOK_BRAND_LOGO_URL", ""),
		AccentColor:   get("TRACKHOOK_BRAND_COLOR", ""),
		SupportEmail:  get("TRACKHOOK_SUPPORT_EMAIL", ""),
		SupportURL:    get("TRACKHOOK_SUPPORT_URL", ""),
		PostalAddress: get("TRACKHOOK_POSTAL_ADDRESS", ""),
	}
	if err := templates.CheckBrand(c.Brand); err != nil {
		var be *templates.BrandError
		if errors.As(err, &be) {
			bad(brandVars[be.Field], "want %s", be.Want)
		} else {
			bad("TRACKHOOK_BRAND_*", "%v", err)
		}
	}
	if raw := get("TRACKHOOK_SMS_MAX_SEGMENTS", "2"); raw != "" {
		n, err := strconv.Atoi(raw)
		if err != nil || n < 1 || n > 10 {
			bad("TRACKHOOK_SMS_MAX_SEGMENTS", "want a whole number from 1 to 10 (segments one text may cost), got %q", raw)
		}
		c.SMSMaxSegments = n
	}

	tw := sms.TwilioConfig{
		AccountSID: get("TRACKHOOK_TWILIO_ACCOUNT_SID", ""),
		AuthToken:  get("TRACKHOOK_TWILIO_AUTH_TOKEN", ""),
		From:       get("TRACKHOOK_TWILIO_FROM", ""),
		BaseURL:    get("TRACKHOOK_TWILIO_BASE_URL", ""),
	}
	if tw.AccountSID != "" || tw.AuthToken != "" || tw.From != "" || tw.BaseURL != "" {
		for _, v := range []struct{ name, val string }{
			{"TRACKHOOK_TWILIO_ACCOUNT_SID", tw.AccountSID}, {"TRACKHOOK_TWILIO_AUTH_TOKEN", tw.AuthToken}, {"TRACKHOOK_TWILIO_FROM", tw.From},
		} {
			if v.val == "" {
				bad(v.name, "required when any TRACKHOOK_TWILIO_* variable is set")
			}
		}
		if tw.BaseURL != "" {
			if u, err := url.Parse(tw.BaseURL); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
				bad("TRACKHOOK_TWILIO_BASE_URL", "%q is not an absolute http(s) URL", tw.BaseURL)
			}
		}
		c.Twilio = &tw
	}

	c.DefaultLanguage = get("TRACKHOOK_DEFAULT_LANGUAGE", "en")
	if _, err := language.Parse(c.DefaultLanguage); err != nil {
		bad("TRACKHOOK_DEFAULT_LANGUAGE", "%q is not a language tag (e.g. en, de, pt-BR)", c.DefaultLanguage)
	}
	c.TemplatesDir = get("TRACKHOOK_TEMPLATES_DIR", "")

	for _, k := range receiver.Senders() {
		if k.Credential != receiver.SharedSecret {
			continue
		}
		env := "TRACKHOOK_" + k.Env + "_SECRET"
		if raw := getenv(env); strings.TrimSpace(raw) != "" {
			if secrets := splitList(raw); len(secrets) > 0 {
				c.Secrets[k.Name] = secrets
			} else {
				bad(env, "holds no secret")
			}
		}
	}
	for _, k := range receiver.Senders() { // every sender takes a path token
		env := "TRACKHOOK_" + k.Env + "_PATH_TOKEN"
		if raw := getenv(env); strings.TrimSpace(raw) != "" {
			for _, tok := range splitList(raw) {
				if len(tok) < 16 || strings.ContainsAny(tok, "/?#% ") {
					bad(env, "a path token must be at least 16 URL-safe characters (e.g. openssl rand -hex 16)")
				}
			}
			c.PathTokens[k.Name] = splitList(raw)
		}
	}

	c.ShipEngineJWKSURL = get("TRACKHOOK_SHIPENGINE_JWKS_URL", jwks.DefaultURL)
	if u, err := url.Parse(c.ShipEngineJWKSURL); err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
		bad("TRACKHOOK_SHIPENGINE_JWKS_URL", "%q is not an absolute http(s) URL", c.ShipEngineJWKSURL)
	}

	c.Triggers = tracking.DefaultTriggers
	if raw := get("TRACKHOOK_NOTIFY_STATUSES", ""); raw != "" {
		set, err := tracking.ParseStatusSet(raw)
		if err != nil {
			bad("TRACKHOOK_NOTIFY_STATUSES", "%v", err)
		} else {
			c.Triggers = set
		}
	}

	c.StaleAfter = tracking.DefaultStaleAfter
	if raw := get("TRACKHOOK_STALE_AFTER", ""); raw == "off" || raw == "0" {
		c.StaleAfter = 0
	} else if raw != "" {
		d, err := parseDays(raw)
		if err != nil || d < time.Hour || d > 3650*24*time.Hour {
			bad("TRACKHOOK_STALE_AFTER", "%q is not a duration from 1h to 3650d (e.g. 7d or 48h) or off", raw)
		}
		c.StaleAfter = d
	}
	switch raw := strings.ToLower(get("TRACKHOOK_NOTIFY_FIRST_DELIVERED", "false")); raw {
	case "true", "1", "yes":
		c.NotifyFirstDelivered = true
	case "false", "0", "no":
	default:
		bad("TRACKHOOK_NOTIFY_FIRST_DELIVERED", "%q is neither true nor false", raw)
	}
	if raw := get("TRACKHOOK_NOTIFY_DELAYS", ""); raw != "" {
		d, err := parseDelays(raw, c.Triggers)
		if err != nil {
			bad("TRACKHOOK_NOTIFY_DELAYS", "%v; want Status=duration pairs, e.g. InTransit=10m,OutForDelivery=5m", err)
		}
		c.Delays = d
	}
	c.OrderWait = dispatcher.DefaultOrderWait
	if raw := get("TRACKHOOK_ORDER_WAIT", ""); raw == "off" || raw == "0" {
		c.OrderWait = -1
	} else if raw != "" {
		d, err := time.ParseDuration(raw)
		if err != nil || d <= 0 || d > 24*time.Hour {
			bad("TRACKHOOK_ORDER_WAIT", "%q is not a duration up to 24h (e.g. 10m) or off", raw)
		}
		c.OrderWait = d
	}

	switch raw := strings.ToLower(get("TRACKHOOK_DELIVERY_DATE_MESSAGES", "on")); raw {
	case "on", "true", "1", "yes":
		c.DateMessages = true
	case "off", "false", "0", "no":
	default:
		bad("TRACKHOOK_DELIVERY_DATE_MESSAGES", "%q is neither on nor off", raw)
	}
	c.StuckDays = rules.DefaultStuckDays
	if raw := get("TRACKHOOK_STUCK_AFTER", ""); raw == "off" || raw == "0" {
		c.StuckDays = 0
	} else if raw != "" {
		n, err := strconv.Atoi(strings.TrimSuffix(raw, "bd"))
		if err != nil || n < 1 || n > 60 {
			bad("TRACKHOOK_STUCK_AFTER", "%q is not a number of business days from 1 to 60 (e.g. 5) or off", raw)
		}
		c.StuckDays = n
	}
	if raw := get("TRACKHOOK_HOLIDAYS", ""); raw != "" {
		cal, err := rules.ParseHolidays(raw)
		if err != nil {
			bad("TRACKHOOK_HOLIDAYS", "%v; want dates, comma-separated, each for every country or one: 2026-12-25,DE:2026-10-03", err)
		}
		c.Holidays = cal
	}

	c.Concurrency = 20
	if raw := get("TRACKHOOK_WORKER_CONCURRENCY", ""); raw != "" {
		n, err := strconv.Atoi(raw)
		if err != nil || n < 1 || n > 1000 {
			bad("TRACKHOOK_WORKER_CONCURRENCY", "%q is not a number from 1 to 1000", raw)
		}
		c.Concurrency = n
	}

	// Sized for throughput: every handler can hold an SMTP session and have
	// its message in doubt (end of DATA sent, the ledger not yet written),
	// so a relay that takes 100 ms to accept still gets Concurrency
	// messages in flight. A crash can duplicate at most MaxInDoubt emails.
	if c.SMTP != nil && c.SMTP.PoolSize == 0 {
		c.SMTP.PoolSize = c.Concurrency
	}
	c.MaxInDoubt = c.Concurrency
	if raw := get("TRACKHOOK_MAX_IN_DOUBT", ""); raw != "" {
		n, err := strconv.Atoi(raw)
		if err != nil || n < 0 || n > 1000 {
			bad("TRACKHOOK_MAX_IN_DOUBT", "%q is not a number from 0 (no bound) to 1000", raw)
		}
		c.MaxInDoubt = n
	}

	c.QuietHours = &quiet.Default
	if raw := get("TRACKHOOK_SMS_QUIET_HOURS", ""); raw == "off" {
		c.QuietHours = nil
	} else if raw != "" {
		w, err := quiet.Parse(raw)
		if err != nil {
			bad("TRACKHOOK_SMS_QUIET_HOURS", "%v; want HH:MM-HH:MM in the recipient's local time (21:00-08:00) or off", err)
		}
		c.QuietHours = &w
	}

	c.RetryBaseDelay = 30 * time.Second
	if raw := get("TRACKHOOK_RETRY_BASE_DELAY", ""); raw != "" {
		d, err := time.ParseDuration(raw)
		if err != nil || d <= 0 {
			bad("TRACKHOOK_RETRY_BASE_DELAY", "%q is not a positive duration (e.g. 30s)", raw)
		}
		c.RetryBaseDelay = d
	}

	c.UnsubscribeSecret = get("TRACKHOOK_UNSUBSCRIBE_SECRET", "")
	if c.UnsubscribeSecret != "" && len(c.UnsubscribeSecret) < 32 {
		bad("TRACKHOOK_UNSUBSCRIBE_SECRET", "must be at least 32 characters (e.g. openssl rand -hex 32)")
	}

	for _, r := range []struct {
		env string
		dst *float64
		def float64
	}{{"TRACKHOOK_WEBHOOK_RATE", &c.WebhookRate, 1000}, {"TRACKHOOK_API_RATE", &c.APIRate, 10}} {
		*r.dst = r.def
		if raw := get(r.env, ""); raw != "" {
			f, err := strconv.ParseFloat(raw, 64)
			if err != nil || f < 0 || f > 1e6 {
				bad(r.env, "%q is not a rate in requests per second (0 turns the limit off)", raw)
			}
			*r.dst = f
		}
	}

	c.DeliveryRetention = 120 * 24 * time.Hour
	if raw := get("TRACKHOOK_DELIVERY_RETENTION", ""); raw != "" {
		d, err := parseDays(raw)
		if err != nil || d < time.Hour || d > 3650*24*time.Hour {
			bad("TRACKHOOK_DELIVERY_RETENTION", "%q is not a duration from 1h to 3650d (e.g. 120d or 72h)", raw)
		}
		c.DeliveryRetention = d
	}

	c.MaxRecipients = 3
	if raw := get("TRACKHOOK_MAX_RECIPIENTS", ""); raw != "" {
		n, err := strconv.Atoi(raw)
		if err != nil || n < 1 || n > 100 {
			bad("TRACKHOOK_MAX_RECIPIENTS", "%q is not a number from 1 to 100", raw)
		}
		c.MaxRecipients = n
	}

	// Operating it.
	c.AdminKeys = splitList(getenv("TRACKHOOK_ADMIN_KEYS"))
	for _, k := range c.AdminKeys {
		if len(k) < minAdminKeyLen {
			bad("TRACKHOOK_ADMIN_KEYS", "a key must be at least %d characters (e.g. openssl rand -hex 16): it is a password a browser sends", minAdminKeyLen)
			break
		}
	}
	c.PprofAddr = get("TRACKHOOK_PPROF_ADDR", "")
	if _, _, err := net.SplitHostPort(c.PprofAddr); c.PprofAddr != "" && err != nil {
		bad("TRACKHOOK_PPROF_ADDR", "%q is not host:port (e.g. 127.0.0.1:6060)", c.PprofAddr)
	}

	switch f := logFormat(strings.ToLower(get("TRACKHOOK_LOG_FORMAT", ""))); f {
	case logAuto, logText, logJSON:
		c.LogFormat = f
	default:
		bad("TRACKHOOK_LOG_FORMAT", "%q is neither text nor json (unset: text on a terminal, JSON otherwise)", f)
	}
	levels := map[string]slog.Level{"debug": slog.LevelDebug, "info": slog.LevelInfo, "warn": slog.LevelWarn, "error": slog.LevelError}
	raw := strings.ToLower(get("TRACKHOOK_LOG_LEVEL", "info"))
	if l, ok := levels[raw]; ok {
		c.LogLevel = l
	} else {
		bad("TRACKHOOK_LOG_LEVEL", "%q is not one of debug, info, warn, error", raw)
	}

	if len(errs) > 0 {
		return nil, fmt.Errorf("invalid configuration:\n  %w", joinIndented(errs))
	}
	return c, nil
}

// withFiles lets every variable come from a file instead: NAME_FILE names a
// file whose content (without the trailing newline) is NAME's value, the
// way container secrets are mounted. Setting both is an error.
func withFiles(getenv func(string) string, bad func(name, format string, args ...any)) func(string) string {
	return func(name string) string {
		path := strings.TrimSpace(getenv(name + "_FILE"))
		if path == "" {
			return getenv(name)
		}
		if getenv(name) != "" {
			bad(name+"_FILE", "set together with %s; set one of them", name)
			return ""
		}
		b, err := os.ReadFile(path)
		if err != nil {
			// The error names the path, never the content.
			bad(name+"_FILE", "cannot read %s: %v", path, errors.Unwrap(err))
			return ""
		}
		return strings.TrimRight(string(b), "\r\n")
	}
}

func splitList(s string) []string {
	var out []string
	for _, p := range strings.Split(s, ",") {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	return out
}

type indentedErrors []error

func (e indentedErrors) Error() string {
	parts := make([]string, len(e))
	for i, err := range e {
		parts[i] = err.Error()
	}
	return strings.Join(parts, "\n  ")
}

func (e indentedErrors) Unwrap() []error { return e }

func joinIndented(errs []error) error { return indentedErrors(errs) }

// parseDelays reads TRACKHOOK_NOTIFY_DELAYS: "InTransit=10m,OutForDelivery=5m".
// Each status must be one that notifies (triggers), each delay from 1s to
// 24h, each status named once.
func parseDelays(raw string, triggers tracking.StatusSet) (map[tracking.Status]time.Duration, error) {
	out := map[tracking.Status]time.Duration{}
	for _, part := range strings.Split(raw, ",") {
		part = strings.TrimSpace(part)
		if part == "" {
			continue
		}
		name, dur, ok := strings.Cut(part, "=")
		if !ok {
			return nil, fmt.Errorf("%q has no =", part)
		}
		st, err := tracking.ParseStatus(strings.TrimSpace(name))
		if err != nil {
			return nil, err
		}
		if !triggers.Has(st) {
			return nil, fmt.Errorf("%s does not notify (TRACKHOOK_NOTIFY_STATUSES), so it cannot be delayed", st)
		}
		if _, dup := out[st]; dup {
			return nil, fmt.Errorf("%s is given twice", st)
		}
		d, err := time.ParseDuration(strings.TrimSpace(dur))
		if err != nil || d < time.Second || d > 24*time.Hour {
			return nil, fmt.Errorf("%q is not a delay from 1s to 24h", strings.TrimSpace(dur))
		}
		out[st] = d
	}
	return out, nil
}

// parseDays is time.ParseDuration that also takes whole days ("120d").
func parseDays(s string) (time.Duration, error) {
	if n, ok := strings.CutSuffix(s, "d"); ok {
		days, err := strconv.Atoi(n)
		if err != nil {
			return 0, err
		}
		return time.Duration(days) * 24 * time.Hour, nil
	}
	return time.ParseDuration(s)
}

// templateOptions are the settings of the customer messages.
func (c *config) templateOptions() templates.Options {
	return templates.Options{
		DefaultLanguage: c.DefaultLanguage,
		OverrideDir:     c.TemplatesDir,
		Brand:           c.Brand,
		SMSMaxSegments:  c.SMSMaxSegments,
	}
}
