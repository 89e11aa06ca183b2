package mailer_test

import (
	"fmt"
	"net/url"
	"strings"
	"testing"

	"github.com/trackhook/trackhook/dispatcher/mailer"
)

func TestParseSMTPURL(t *testing.T) {
	base := mailer.SMTPConfig{Host: "smtp.example.com", Port: 587, Username: "shop", Password: "s3cret", TLS: mailer.TLSStartTLS}
	for _, tc := range []struct {
		raw    string
		mutate func(*mailer.SMTPConfig)
	}{
		{"smtp://shop:s3cret@smtp.example.com", nil},
		{"smtp://shop:s3cret@smtp.example.com:587?tls=starttls", nil},
		{"smtp://shop:s3cret@smtp.example.com/", nil},
		{"SMTP://shop:s3cret@smtp.example.com", nil},
		{"smtp://shop:s3cret@smtp.example.com?tls=tls", func(c *mailer.SMTPConfig) { c.TLS, c.Port = mailer.TLSImplicit, 465 }},
		{"smtps://shop:s3cret@smtp.example.com", func(c *mailer.SMTPConfig) { c.TLS, c.Port = mailer.TLSImplicit, 465 }},
		{"smtps://shop:s3cret@smtp.example.com:2465?tls=tls", func(c *mailer.SMTPConfig) { c.TLS, c.Port = mailer.TLSImplicit, 2465 }},
		{"smtp://smtp.example.com?tls=none", func(c *mailer.SMTPConfig) { c.TLS, c.Port, c.Username, c.Password = mailer.TLSNone, 25, "", "" }},
		{"smtp://localhost:1025?tls=none", func(c *mailer.SMTPConfig) {
			*c = mailer.SMTPConfig{Host: "localhost", Port: 1025, TLS: mailer.TLSNone}
		}},
		// Loopback: plain by default (a local relay); verified STARTTLS only elsewhere.
		{"smtp://localhost:1025", func(c *mailer.SMTPConfig) {
			*c = mailer.SMTPConfig{Host: "localhost", Port: 1025, TLS: mailer.TLSNone}
		}},
		{"smtp://shop:s3cret@127.0.0.1", func(c *mailer.SMTPConfig) { c.Host, c.TLS, c.Port = "127.0.0.1", mailer.TLSNone, 25 }},
		{"smtp://shop:s3cret@[::1]:2525", func(c *mailer.SMTPConfig) { c.Host, c.TLS, c.Port = "::1", mailer.TLSNone, 2525 }},
		{"smtp://shop:s3cret@127.0.0.1?tls=starttls", func(c *mailer.SMTPConfig) { c.Host = "127.0.0.1" }},
		{"smtp://shop:s3cret@[2001:db8::1]:2525", func(c *mailer.SMTPConfig) { c.Host, c.Port = "2001:db8::1", 2525 }},
		{"smtp://shop:s3cret@smtp.example.com?pool=8&max_per_conn=50", func(c *mailer.SMTPConfig) { c.PoolSize, c.MaxMessagesPerConn = 8, 50 }},
		// Percent-encoded user and password are decoded.
		{"smtp://shop%40example.com:p%40ss%3Aw%2Frd%3F%23%25@smtp.example.com", func(c *mailer.SMTPConfig) {
			c.Username, c.Password = "shop@example.com", "p@ss:w/rd?#%"
		}},
		// An unescaped '@' in the password works: the last '@' ends the user info.
		{"smtp://shop:p@ss@smtp.example.com", func(c *mailer.SMTPConfig) { c.Password = "p@ss" }},
		{"smtp://apikey:@smtp.example.com", func(c *mailer.SMTPConfig) { c.Username, c.Password = "apikey", "" }},
	} {
		t.Run(tc.raw, func(t *testing.T) {
			want := base
			if tc.mutate != nil {
				tc.mutate(&want)
			}
			got, err := mailer.ParseSMTPURL(tc.raw)
			if err != nil {
				t.Fatalf("ParseSMTPURL: %v", err)
			}
			if got != want {
				t.Errorf("got  %#v / user %q pass %q\nwant %#v / user %q pass %q", got, got.Username, got.Password, want, want.Username, want.Password)
			}
		})
	}
}

func TestParseSMTPURLErrors(t *testing.T) {
	const secret = "Sup3rS3cret"
	for _, tc := range []struct {
		raw, wantErr string
	}{
		{"", "smtp url: empty"},
		{"smtp://u:" + secret + "@smtp.example.com?tls=foo", `smtp url: unknown tls mode "foo": want starttls, tls or none`},
		{"smtp://u:" + secret + "@:587", "smtp url: missing host"},
		{"smtp://", "smtp url: missing host"},
		{"smtp:smtp.example.com", "smtp url: missing // after smtp: (want smtp://host:port)"},
		{"smtp.example.com:587", "smtp url: missing scheme"},
		{"u:" + secret + "@smtp.example.com", "smtp url: missing scheme"},
		{"smtp.example.com", "smtp url: missing scheme"},
		{"http://u:" + secret + "@smtp.example.com", `smtp url: unsupported scheme "http": want smtp or smtps`},
		{"smtp://u:" + secret + "@smtp.example.com?tls=starttls&bogus=1", `smtp url: unknown query parameter "bogus": want tls, pool or max_per_conn`},
		{"smtp://u:" + secret + "@smtp.example.com?tls=none&tls=tls", `smtp url: query parameter "tls" given 2 times`},
		{"smtps://u:" + secret + "@smtp.example.com?tls=starttls", "smtp url: smtps:// means implicit TLS, but tls=starttls"},
		{"smtp://u:" + secret + "@smtp.example.com?pool=0", `smtp url: invalid pool "0": want a whole number from 1 to 1000`},
		{"smtp://u:" + secret + "@smtp.example.com?max_per_conn=x", `smtp url: invalid max_per_conn "x"`},
		{"smtp://u:" + secret + "@smtp.example.com:99999", "smtp url: port out of range 1-65535"},
		{"smtp://u:" + secret + "@smtp.example.com:smtp", "smtp url: invalid port"},
		{"smtp://u:" + secret + "@smtp.example.com/path", "smtp url: unexpected path"},
		{"smtp://u:" + secret + "@smtp.example.com#frag", "smtp url: unexpected #fragment"},
		{"smtp://:" + secret + "@smtp.example.com", "smtp url: password without user name"},
		// Malformed passwords: the error must explain without quoting any of it.
		{"smtp://u:" + secret + "%zz@smtp.example.com", "smtp url: invalid %-escape"},
		{"smtp://u:" + secret + " x@smtp.example.com", "smtp url: invalid character in user name or password"},
		{"smtp://u:" + secret + "/x@smtp.example.com", "smtp url: invalid port (or an unescaped '/', '?' or '#' in the password)"},
		{"smtp://u:12/" + secret + "@smtp.example.com", "smtp url: malformed user info"},
		{"smtp://u:x?" + secret + "@smtp.example.com", "smtp url: invalid port"},
		{"smtp://u:1?" + secret + "@smtp.example.com", "smtp url: malformed user info"},
		{"smtp://u:1#" + secret + "@smtp.example.com", "smtp url: malformed user info"},
		{"smtp://u:" + secret + "\n@smtp.example.com", "smtp url: contains a control character"},
		{"smtp://u:" + secret + "@[::1", "smtp url: invalid IPv6 host"},
	} {
		t.Run(tc.raw, func(t *testing.T) {
			_, err := mailer.ParseSMTPURL(tc.raw)
			if err == nil {
				t.Fatalf("ParseSMTPURL(%q) succeeded, want %q", tc.raw, tc.wantErr)
			}
			if !strings.HasPrefix(err.Error(), tc.wantErr) {
				t.Errorf("err = %q\nwant %q…", err, tc.wantErr)
			}
			if strings.Contains(err.Error(), secret) || strings.Contains(err.Error(), "3cret") {
				t.Errorf("err %q contains the password", err)
			}
		})
	}
}

// The server's own URL round-trips (what tests and `make run` rely on).
func TestParseSMTPURLRoundTripsEscapedCredentials(t *testing.T) {
	u := url.URL{Scheme: "smtp", Host: "mail.example:2525", User: url.UserPassword("a b@c", "p:@/?#% ä"), RawQuery: "tls=none"}
	got, err := mailer.ParseSMTPURL(u.String())
	if err != nil {
		t.Fatal(err)
	}
	if got.Username != "a b@c" || got.Password != "p:@/?#% ä" || got.Port != 2525 || got.TLS != mailer.TLSNone {
		t.Errorf("got %q %q %d %s", got.Username, got.Password, got.Port, got.TLS)
	}
}

func FuzzParseSMTPURL(f *testing.F) {
	for _, seed := range [][3]string{
		{"shop", "s3cret", "smtp.example.com:587?tls=starttls"},
		{"shop", "p%zz", "smtp.example.com"},
		{"shop", "pa/ss", "smtp.example.com:25"},
		{"shop", "pa?ss", "host?tls=foo"},
		{"shop", "pa#ss", "host"},
		{"", "secret", "host?pool=x"},
		{"u", "12345", "host:99999"},
		{"u", "tls=none", "[::1"},
		{"u", "s e c r e t", "host"},
		{"u:x", "secret", "h?max_per_conn=-1"},
	} {
		f.Add(seed[0], seed[1], seed[2])
	}
	f.Fuzz(func(t *testing.T, user, pass, rest string) {
		// Whatever the input, no panic.
		_, _ = mailer.ParseSMTPURL(rest)
		_, _ = mailer.ParseSMTPURL(pass)

		raw := "smtp://" + user + ":" + pass + "@" + rest
		cfg, err := mailer.ParseSMTPURL(raw)
		if err == nil {
			if cfg.Host == "" || cfg.Port < 1 || cfg.Port > 65535 {
				t.Fatalf("ParseSMTPURL(%q) accepted host %q port %d", raw, cfg.Host, cfg.Port)
			}
			switch cfg.TLS {
			case mailer.TLSStartTLS, mailer.TLSImplicit, mailer.TLSNone:
			default:
				t.Fatalf("ParseSMTPURL(%q) accepted tls mode %q", raw, cfg.TLS)
			}
			return
		}
		// The error may echo what the user wrote elsewhere (scheme, query);
		// it must never echo the password. Only meaningful when the password
		// is long enough not to match by chance and appears nowhere else.
		msg := err.Error()
		for _, secret := range []string{pass, unescape(pass)} {
			if len(secret) < 4 || strings.Contains(user, secret) || strings.Contains(rest, secret) || strings.Contains("smtp://:@", secret) ||
				strings.Contains(smtpURLErrorTexts, secret) {
				continue
			}
			if strings.Contains(msg, secret) {
				t.Fatalf("ParseSMTPURL(%q) error %q contains the password %q", raw, msg, secret)
			}
		}
	})
}

// smtpURLErrorTexts is what ParseSMTPURL's errors say in their own words
// (config.go). A password found in them ("pass" in "user name or
// password", testdata/fuzz/FuzzParseSMTPURL/055d7f921d1dea85) is no echo.
const smtpURLErrorTexts = "smtp url: smtp config: malformed URL; missing scheme: want smtp://host:port; missing host; " +
	"invalid %-escape: percent-encode '%' and special characters in user name and password; invalid character in host; " +
	"invalid character in user name or password: percent-encode it; invalid port (or an unescaped '/', '?' or '#' in the password); " +
	"contains a control character; invalid IPv6 host: missing ']'; unknown tls mode : want starttls, tls or none; " +
	"port out of range 1-65535; password set without a user name; negative ; local name must be a single word"

func unescape(s string) string {
	u, err := url.PathUnescape(s)
	if err != nil {
		return ""
	}
	return u
}

func ExampleParseSMTPURL() {
	cfg, err := mailer.ParseSMTPURL("smtps://apikey:p%40ss@smtp.example.com?pool=8")
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(cfg)

	_, err = mailer.ParseSMTPURL("smtp://apikey:p%40ss@smtp.example.com?tls=ssl")
	fmt.Println(err)
	// Output:
	// smtp smtp.example.com:465 tls=tls user="apikey" password=(set) pool=8 max_per_conn=0
	// smtp url: unknown tls mode "ssl": want starttls, tls or none
}
