package main

import (
	"bytes"
	"context"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/trackhook/trackhook/receiver/tracking"
)

func envOf(m map[string]string) func(string) string { return func(k string) string { return m[k] } }

func TestConfigDefaults(t *testing.T) {
	c, err := loadConfig(envOf(nil))
	if err != nil {
		t.Fatal(err)
	}
	if c.Addr != ":8080" || c.RedisURL != "" || c.SMTP != nil || c.Twilio != nil || c.OutboxDir != "./outbox" ||
		c.DefaultLanguage != "en" || c.PublicURL.String() != "http://localhost:8080" || len(c.Secrets) != 0 ||
		c.Concurrency != 20 || c.MaxInDoubt != 20 {
		t.Fatalf("defaults: %+v", c)
	}
}

// The throughput through a relay far away is the sends in flight: by default
// every worker can hold an SMTP session and have its message in doubt, and
// both follow TRACKHOOK_WORKER_CONCURRENCY; each can be set on its own.
func TestSendsInFlightFollowTheConcurrency(t *testing.T) {
	for _, tc := range []struct {
		env           map[string]string
		pool, inDoubt int
	}{
		{map[string]string{"TRACKHOOK_SMTP_URL": "smtp://127.0.0.1:2525", "TRACKHOOK_MAIL_FROM": "Shop <n@shop.example>"}, 20, 20},
		{map[string]string{"TRACKHOOK_SMTP_URL": "smtp://127.0.0.1:2525", "TRACKHOOK_MAIL_FROM": "Shop <n@shop.example>", "TRACKHOOK_WORKER_CONCURRENCY": "64"}, 64, 64},
		{map[string]string{"TRACKHOOK_SMTP_URL": "smtp://127.0.0.1:2525?pool=8", "TRACKHOOK_MAIL_FROM": "Shop <n@shop.example>", "TRACKHOOK_MAX_IN_DOUBT": "1"}, 8, 1},
	} {
		c, err := loadConfig(envOf(tc.env))
		if err != nil {
			t.Fatal(err)
		}
		if c.SMTP.PoolSize != tc.pool || c.MaxInDoubt != tc.inDoubt {
			t.Errorf("%v: pool %d, in doubt %d; want %d, %d", tc.env, c.SMTP.PoolSize, c.MaxInDoubt, tc.pool, tc.inDoubt)
		}
	}
}

func TestConfigQuietHours(t *testing.T) {
	for raw, want := range map[string]string{"": "21:00-08:00", "22:00-07:30": "22:00-07:30", "off": "off"} {
		c, err := loadConfig(envOf(map[string]string{"TRACKHOOK_SMS_QUIET_HOURS": raw}))
		got := "off"
		if c.QuietHours != nil {
			got = c.QuietHours.String()
		}
		if err != nil || got != want {
			t.Errorf("%q: %s, %v; want %s", raw, got, err, want)
		}
	}
}

func TestConfigDeliveryRetention(t *testing.T) {
	for raw, want := range map[string]time.Duration{"": 120 * 24 * time.Hour, "30d": 30 * 24 * time.Hour, "72h": 72 * time.Hour} {
		c, err := loadConfig(envOf(map[string]string{"TRACKHOOK_DELIVERY_RETENTION": raw}))
		if err != nil || c.DeliveryRetention != want {
			t.Errorf("%q: %v, %v; want %v", raw, c.DeliveryRetention, err, want)
		}
	}
}

func TestConfigErrorsNameTheVariable(t *testing.T) {
	for _, tc := range []struct {
		env  map[string]string
		want []string
	}{
		{map[string]string{"TRACKHOOK_ADDR": "8080"}, []string{"TRACKHOOK_ADDR", "host:port"}},
		{map[string]string{"TRACKHOOK_PUBLIC_URL": "shop.example"}, []string{"TRACKHOOK_PUBLIC_URL"}},
		{map[string]string{"TRACKHOOK_REDIS_URL": "localhost:6379"}, []string{"TRACKHOOK_REDIS_URL", "scheme"}},
		{map[string]string{"TRACKHOOK_SMTP_URL": "smtp://u:hunter2@mail.example:587?tls=maybe", "TRACKHOOK_MAIL_FROM": "a@b.example"}, []string{"TRACKHOOK_SMTP_URL", "maybe"}},
		{map[string]string{"TRACKHOOK_SMTP_URL": "smtp://mail.example:587"}, []string{"TRACKHOOK_MAIL_FROM", "required"}},
		{map[string]string{"TRACKHOOK_TWILIO_ACCOUNT_SID": "AC1"}, []string{"TRACKHOOK_TWILIO_AUTH_TOKEN", "TRACKHOOK_TWILIO_FROM"}},
		{map[string]string{"TRACKHOOK_DEFAULT_LANGUAGE": "not a tag"}, []string{"TRACKHOOK_DEFAULT_LANGUAGE"}},
		{map[string]string{"TRACKHOOK_AFTERSHIP_SECRET": " , "}, []string{"TRACKHOOK_AFTERSHIP_SECRET"}},
		{map[string]string{"TRACKHOOK_NOTIFY_STATUSES": "InTransit,Shipped"}, []string{"TRACKHOOK_NOTIFY_STATUSES", "Shipped"}},
		{map[string]string{"TRACKHOOK_WORKER_CONCURRENCY": "lots"}, []string{"TRACKHOOK_WORKER_CONCURRENCY"}},
		{map[string]string{"TRACKHOOK_MAX_IN_DOUBT": "-1"}, []string{"TRACKHOOK_MAX_IN_DOUBT"}},
		{map[string]string{"TRACKHOOK_SMS_QUIET_HOURS": "9pm-8am"}, []string{"TRACKHOOK_SMS_QUIET_HOURS", "HH:MM-HH:MM"}},
		{map[string]string{"TRACKHOOK_DELIVERY_RETENTION": "forever"}, []string{"TRACKHOOK_DELIVERY_RETENTION"}},
		{map[string]string{"TRACKHOOK_ADDR": "x", "TRACKHOOK_RETRY_BASE_DELAY": "soon"}, []string{"TRACKHOOK_ADDR", "TRACKHOOK_RETRY_BASE_DELAY"}},
		{map[string]string{"TRACKHOOK_PPROF_ADDR": "6060"}, []string{"TRACKHOOK_PPROF_ADDR", "host:port"}},
		{map[string]string{"TRACKHOOK_LOG_FORMAT": "logfmt"}, []string{"TRACKHOOK_LOG_FORMAT", "logfmt", "json"}},
		{map[string]string{"TRACKHOOK_LOG_LEVEL": "verbose"}, []string{"TRACKHOOK_LOG_LEVEL", "verbose", "debug"}},
		{map[string]string{"TRACKHOOK_STALE_AFTER": "a week"}, []string{"TRACKHOOK_STALE_AFTER", "7d"}},
		{map[string]string{"TRACKHOOK_NOTIFY_FIRST_DELIVERED": "maybe"}, []string{"TRACKHOOK_NOTIFY_FIRST_DELIVERED", "maybe"}},
		{map[string]string{"TRACKHOOK_NOTIFY_DELAYS": "InTransit"}, []string{"TRACKHOOK_NOTIFY_DELAYS", "no ="}},
		{map[string]string{"TRACKHOOK_NOTIFY_DELAYS": "Shipped=10m"}, []string{"TRACKHOOK_NOTIFY_DELAYS", "Shipped"}},
		{map[string]string{"TRACKHOOK_NOTIFY_DELAYS": "InfoReceived=10m"}, []string{"TRACKHOOK_NOTIFY_DELAYS", "InfoReceived does not notify"}},
		{map[string]string{"TRACKHOOK_NOTIFY_DELAYS": "InTransit=2d"}, []string{"TRACKHOOK_NOTIFY_DELAYS", "1s to 24h"}},
		{map[string]string{"TRACKHOOK_NOTIFY_DELAYS": "InTransit=1m,InTransit=2m"}, []string{"TRACKHOOK_NOTIFY_DELAYS", "twice"}},
		{map[string]string{"TRACKHOOK_ORDER_WAIT": "-5m"}, []string{"TRACKHOOK_ORDER_WAIT"}},
		{map[string]string{"TRACKHOOK_STUCK_AFTER": "5d"}, []string{"TRACKHOOK_STUCK_AFTER", "business days"}},
		{map[string]string{"TRACKHOOK_HOLIDAYS": "2027-12-25,Xmas"}, []string{"TRACKHOOK_HOLIDAYS", "Xmas"}},
	} {
		_, err := loadConfig(envOf(tc.env))
		if err == nil {
			t.Errorf("%v: accepted", tc.env)
			continue
		}
		for _, w := range tc.want {
			if !strings.Contains(err.Error(), w) {
				t.Errorf("%v: error %q does not mention %q", tc.env, err, w)
			}
		}
		if strings.Contains(err.Error(), "hunter2") {
			t.Errorf("error shows the SMTP password: %v", err)
		}
	}
}

func TestRunRefusesBadConfigWithoutStarting(t *testing.T) {
	var stderr bytes.Buffer
	err := run(context.Background(), []string{"serve"}, envOf(map[string]string{"TRACKHOOK_REDIS_URL": "localhost:6379"}), nil, &stderr, &stderr)
	if err == nil || !strings.Contains(err.Error(), "TRACKHOOK_REDIS_URL") {
		t.Fatalf("run = %v", err)
	}
}

func TestSignMatchesTestdata(t *testing.T) {
	var out, errb bytes.Buffer
	err := run(context.Background(), []string{"sign", "-source", "aftership", "-secret", testSecret, "../../testdata/aftership/in_transit.json"}, envOf(nil), nil, &out, &errb)
	if err != nil {
		t.Fatalf("%v: %s", err, errb.String())
	}
	_, h := fixture(t, "in_transit")
	want := "Aftership-Hmac-Sha256: " + h.Get("Aftership-Hmac-Sha256") + "\n"
	if out.String() != want {
		t.Fatalf("sign printed %q, want %q", out.String(), want)
	}
	out.Reset()
	err = run(context.Background(), []string{"sign", "-url", "http://localhost:8080/webhooks/aftership", "../../testdata/aftership/in_transit.json"},
		envOf(map[string]string{"TRACKHOOK_AFTERSHIP_SECRET": testSecret + ",older"}), nil, &out, &errb)
	if err != nil || !strings.HasPrefix(out.String(), "curl ") || !strings.Contains(out.String(), h.Get("Aftership-Hmac-Sha256")) {
		t.Fatalf("sign -url: %v %q", err, out.String())
	}
	if err := run(context.Background(), []string{"sign", "x.json"}, envOf(nil), nil, &out, &errb); err == nil || !strings.Contains(err.Error(), "TRACKHOOK_AFTERSHIP_SECRET") {
		t.Fatalf("sign without secret: %v", err)
	}
}

func TestVersionAndUsage(t *testing.T) {
	var out bytes.Buffer
	if err := run(context.Background(), []string{"version"}, envOf(nil), nil, &out, &out); err != nil || !strings.HasPrefix(out.String(), "trackhook ") {
		t.Fatalf("version: %v %q", err, out.String())
	}
	if err := run(context.Background(), []string{"bogus"}, envOf(nil), nil, &out, &out); err == nil {
		t.Fatal("unknown command accepted")
	}
}

func TestConfigFromFiles(t *testing.T) {
	dir := t.TempDir()
	secret := filepath.Join(dir, "aftership")
	if err := os.WriteFile(secret, []byte("s3cret-from-file\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	c, err := loadConfig(envOf(map[string]string{"TRACKHOOK_AFTERSHIP_SECRET_FILE": secret, "TRACKHOOK_API_KEYS_FILE": secret}))
	if err != nil {
		t.Fatal(err)
	}
	if got := c.Secrets["aftership"]; len(got) != 1 || got[0] != "s3cret-from-file" || c.APIKeys[0] != "s3cret-from-file" {
		t.Fatalf("secrets %q, keys %q", got, c.APIKeys)
	}
	_, err = loadConfig(envOf(map[string]string{"TRACKHOOK_AFTERSHIP_SECRET_FILE": filepath.Join(dir, "missing")}))
	if err == nil || !strings.Contains(err.Error(), "TRACKHOOK_AFTERSHIP_SECRET_FILE") {
		t.Fatalf("missing file: %v", err)
	}
	_, err = loadConfig(envOf(map[string]string{"TRACKHOOK_AFTERSHIP_SECRET_FILE": secret, "TRACKHOOK_AFTERSHIP_SECRET": "x"}))
	if err == nil || strings.Contains(err.Error(), "s3cret") {
		t.Fatalf("both set: %v (and the error must not show the secret)", err)
	}
}

func TestConfigLog(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "format")
	if err := os.WriteFile(file, []byte("json\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		env    map[string]string
		format logFormat
		level  slog.Level
	}{
		{nil, logAuto, slog.LevelInfo},
		{map[string]string{"TRACKHOOK_LOG_FORMAT": "text", "TRACKHOOK_LOG_LEVEL": "debug"}, logText, slog.LevelDebug},
		{map[string]string{"TRACKHOOK_LOG_FORMAT": "JSON", "TRACKHOOK_LOG_LEVEL": "Warn"}, logJSON, slog.LevelWarn},
		{map[string]string{"TRACKHOOK_LOG_FORMAT_FILE": file, "TRACKHOOK_LOG_LEVEL": "error"}, logJSON, slog.LevelError},
	} {
		c, err := loadConfig(envOf(tc.env))
		if err != nil || c.LogFormat != tc.format || c.LogLevel != tc.level {
			t.Errorf("%v: format %q level %v, %v; want %q %v", tc.env, c.LogFormat, c.LogLevel, err, tc.format, tc.level)
		}
	}
}

// TestConfigLogReachesTheLogger: the format and level from the
// configuration are what newLogger writes; unset, a pipe or file gets JSON.
func TestConfigLogReachesTheLogger(t *testing.T) {
	for _, tc := range []struct {
		format logFormat
		want   string
	}{{logText, "level=WARN msg=hello n=1"}, {logJSON, `"level":"WARN","msg":"hello","n":1}`}, {logAuto, `"level":"WARN","msg":"hello","n":1}`}} {
		var b bytes.Buffer
		log := newLogger(&b, tc.format, slog.LevelWarn)
		log.Info("quiet")
		log.Warn("hello", "n", 1)
		if strings.Contains(b.String(), "quiet") || !strings.HasSuffix(b.String(), tc.want+"\n") {
			t.Errorf("format %q: logged %q, want a line ending %q and no info", tc.format, b.String(), tc.want)
		}
	}
	// Not a terminal: the auto format is JSON for a file too.
	f, err := os.Create(filepath.Join(t.TempDir(), "log"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	newLogger(f, logAuto, slog.LevelInfo).Info("hello")
	if b, _ := os.ReadFile(f.Name()); !strings.HasPrefix(string(b), "{") {
		t.Errorf("auto format to a file: %q", b)
	}
}

// The shop's name is what customers read in the From header, the sign-off
// and the SMS prefix: TRACKHOOK_SHOP_NAME, else TRACKHOOK_MAIL_FROM's display
// name; a bare From address takes the shop's name as its display name.
func TestShopName(t *testing.T) {
	for _, tc := range []struct {
		env            map[string]string
		shop, mailFrom string
	}{
		{map[string]string{}, "", `"trackhook" <notifications@localhost>`}, // no shop named: the messages name none
		{map[string]string{"TRACKHOOK_SHOP_NAME": "Nordlicht Outdoor"}, "Nordlicht Outdoor", `"Nordlicht Outdoor" <notifications@localhost>`},
		{map[string]string{"TRACKHOOK_MAIL_FROM": "Bergwerk <noreply@bergwerk.example>"}, "Bergwerk", "Bergwerk <noreply@bergwerk.example>"},
		{map[string]string{"TRACKHOOK_MAIL_FROM": "noreply@bergwerk.example", "TRACKHOOK_SHOP_NAME": "Bergwerk"}, "Bergwerk", `"Bergwerk" <noreply@bergwerk.example>`},
		{map[string]string{"TRACKHOOK_MAIL_FROM": "Team <noreply@bergwerk.example>", "TRACKHOOK_SHOP_NAME": "Bergwerk"}, "Bergwerk", "Team <noreply@bergwerk.example>"},
		{map[string]string{"TRACKHOOK_MAIL_FROM": "noreply@bergwerk.example"}, "", "noreply@bergwerk.example"},
	} {
		c, err := loadConfig(envOf(tc.env))
		if err != nil {
			t.Fatalf("%v: %v", tc.env, err)
		}
		if c.ShopName != tc.shop || c.MailFrom != tc.mailFrom {
			t.Errorf("%v: shop %q, from %q; want %q, %q", tc.env, c.ShopName, c.MailFrom, tc.shop, tc.mailFrom)
		}
	}
	if _, err := loadConfig(envOf(map[string]string{"TRACKHOOK_SHOP_NAME": "Shop\r\nBcc: x@evil.example"})); err == nil || !strings.Contains(err.Error(), "TRACKHOOK_SHOP_NAME") {
		t.Errorf("a shop name with a line break: err %v, want one naming TRACKHOOK_SHOP_NAME", err)
	}
}

func TestConfigNotificationRules(t *testing.T) {
	c, err := loadConfig(envOf(nil))
	if err != nil {
		t.Fatal(err)
	}
	if c.StaleAfter != 7*24*time.Hour || c.NotifyFirstDelivered || len(c.Delays) != 0 || c.OrderWait != 10*time.Minute {
		t.Fatalf("defaults: stale %v, first delivered %v, delays %v, order wait %v", c.StaleAfter, c.NotifyFirstDelivered, c.Delays, c.OrderWait)
	}
	c, err = loadConfig(envOf(map[string]string{"TRACKHOOK_STALE_AFTER": "off", "TRACKHOOK_NOTIFY_FIRST_DELIVERED": "true",
		"TRACKHOOK_NOTIFY_DELAYS": " InTransit=10m, outfordelivery=90s", "TRACKHOOK_ORDER_WAIT": "off"}))
	if err != nil {
		t.Fatal(err)
	}
	if c.StaleAfter != 0 || !c.NotifyFirstDelivered || c.OrderWait >= 0 ||
		c.Delays[tracking.InTransit] != 10*time.Minute || c.Delays[tracking.OutForDelivery] != 90*time.Second {
		t.Fatalf("set: stale %v, first delivered %v, delays %v, order wait %v", c.StaleAfter, c.NotifyFirstDelivered, c.Delays, c.OrderWait)
	}
	if c, err = loadConfig(envOf(map[string]string{"TRACKHOOK_STALE_AFTER": "36h"})); err != nil || c.StaleAfter != 36*time.Hour {
		t.Fatalf("36h: %v %v", c.StaleAfter, err)
	}
	if c.StuckDays != 5 {
		t.Fatalf("stuck default %d", c.StuckDays)
	}
	c, err = loadConfig(envOf(map[string]string{"TRACKHOOK_STUCK_AFTER": "3", "TRACKHOOK_HOLIDAYS": "2027-12-25, de:2027-10-03"}))
	if err != nil || c.StuckDays != 3 || c.Holidays.String() != "2027-12-25,DE:2027-10-03" {
		t.Fatalf("stuck 3, holidays: %v %q %v", c.StuckDays, c.Holidays.String(), err)
	}
	if c, err = loadConfig(envOf(map[string]string{"TRACKHOOK_STUCK_AFTER": "off"})); err != nil || c.StuckDays != 0 {
		t.Fatalf("stuck off: %v %v", c.StuckDays, err)
	}
}

func TestBrandSettings(t *testing.T) {
	c, err := loadConfig(envOf(map[string]string{
		"TRACKHOOK_BRAND_LOGO_URL": "https://shop.example/logo.png", "TRACKHOOK_BRAND_COLOR": "#0a7",
		"TRACKHOOK_SUPPORT_EMAIL": "help@shop.example", "TRACKHOOK_SUPPORT_URL": "https://shop.example/help",
		"TRACKHOOK_POSTAL_ADDRESS": "Nordlicht GmbH, Hafenstraße 1, 20457 Hamburg", "TRACKHOOK_SMS_MAX_SEGMENTS": "1",
	}))
	if err != nil {
		t.Fatal(err)
	}
	o := c.templateOptions()
	if o.Brand.LogoURL != "https://shop.example/logo.png" || o.Brand.AccentColor != "#0a7" || o.Brand.SupportEmail != "help@shop.example" ||
		o.Brand.SupportURL != "https://shop.example/help" || o.Brand.PostalAddress == "" || o.SMSMaxSegments != 1 {
		t.Errorf("template options %+v", o)
	}
	if c, _ := loadConfig(envOf(nil)); c.SMSMaxSegments != 2 {
		t.Errorf("default SMS segment limit %d, want 2", c.SMSMaxSegments)
	}
	for name, val := range map[string]string{
		"TRACKHOOK_BRAND_LOGO_URL":   "logo.png",
		"TRACKHOOK_BRAND_COLOR":      "blue",
		"TRACKHOOK_SUPPORT_EMAIL":    "not an address",
		"TRACKHOOK_SUPPORT_URL":      "javascript:alert(1)",
		"TRACKHOOK_POSTAL_ADDRESS":   strings.Repeat("x", 301),
		"TRACKHOOK_SMS_MAX_SEGMENTS": "0",
	} {
		_, err := loadConfig(envOf(map[string]string{name: val}))
		if err == nil || !strings.Contains(err.Error(), name) {
			t.Errorf("%s=%q: err %v, want one naming the variable", name, val, err)
		}
	}
}

func TestGCPercentDefaultsUnlessGOGCIsSet(t *testing.T) {
	unset := func(string) (string, bool) { return "", false }
	if percent, ok := gcPercent(unset); !ok || percent != 200 {
		t.Errorf("GOGC unset: %d, %v; want 200", percent, ok)
	}
	for _, v := range []string{"off", "100", ""} {
		set := func(k string) (string, bool) { return v, k == "GOGC" }
		if _, ok := gcPercent(set); ok {
			t.Errorf("GOGC=%q: trackhook sets one of its own; want the runtime's", v)
		}
	}
}

func TestMemoryLimitDefaultsUnlessGOMEMLIMITIsSet(t *testing.T) {
	unset := func(string) (string, bool) { return "", false }
	if limit, ok := memoryLimit(unset); !ok || limit != 64<<20 {
		t.Errorf("GOMEMLIMIT unset: limit %d, %v; want 64 MiB", limit, ok)
	}
	for _, v := range []string{"off", "1GiB", ""} {
		set := func(k string) (string, bool) { return v, k == "GOMEMLIMIT" }
		if _, ok := memoryLimit(set); ok {
			t.Errorf("GOMEMLIMIT=%q: trackhook sets a limit of its own; want the runtime's", v)
		}
	}
}
