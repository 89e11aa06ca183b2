package optout

import (
	"bytes"
	"encoding/base64"
	"encoding/binary"
	"errors"
	"regexp"
	"strings"
	"testing"

	"github.com/trackhook/trackhook/dispatcher"
	"github.com/trackhook/trackhook/receiver/tracking"
)

var (
	testKey  = []byte("0123456789abcdef0123456789abcdef")
	otherKey = []byte("fedcba9876543210fedcba9876543210")
)

func mustTokens(tb testing.TB, key []byte) *Tokens {
	tb.Helper()
	tk, err := NewTokens(key)
	if err != nil {
		tb.Fatal(err)
	}
	return tk
}

var urlSafe = regexp.MustCompile(`^[A-Za-z0-9_-]+$`)

func TestTokensRoundTrip(t *testing.T) {
	tk := mustTokens(t, testKey)
	for _, c := range []Claim{
		{TrackingID: tracking.ID("usps", "9400100000000000000001"), Channel: dispatcher.ChannelEmail, Recipient: "kim@example.com"},
		{TrackingID: tracking.ID("dhl", "00340434161094042557"), Channel: dispatcher.ChannelSMS, Recipient: "+4915112345678"},
		{TrackingID: "", Channel: dispatcher.ChannelEmail, Recipient: "no-shipment@example.com"},
		{TrackingID: "id with spaces/and?odd=chars", Channel: dispatcher.ChannelEmail, Recipient: "josé.müller@exämple.de"},
	} {
		token := tk.Make(c.TrackingID, c.Channel, c.Recipient)
		if !urlSafe.MatchString(token) {
			t.Errorf("token %q is not URL safe", token)
		}
		got, err := tk.Parse(token)
		if err != nil {
			t.Fatalf("Parse(Make(%+v)) = %v", c, err)
		}
		if got != c {
			t.Fatalf("Parse(Make(%+v)) = %+v", c, got)
		}
	}
}

func TestTokensDiffer(t *testing.T) {
	tk := mustTokens(t, testKey)
	id := tracking.ID("usps", "1")
	seen := map[string]bool{}
	for _, tok := range []string{
		tk.Make(id, dispatcher.ChannelEmail, "kim@example.com"),
		tk.Make(id, dispatcher.ChannelEmail, "kim@example.co"),
		tk.Make(id, dispatcher.ChannelSMS, "kim@example.com"),
		tk.Make(tracking.ID("usps", "2"), dispatcher.ChannelEmail, "kim@example.com"),
		mustTokens(t, otherKey).Make(id, dispatcher.ChannelEmail, "kim@example.com"),
	} {
		if seen[tok] {
			t.Fatalf("token %q made twice", tok)
		}
		seen[tok] = true
	}
}

func TestTokensRejectTampering(t *testing.T) {
	tk := mustTokens(t, testKey)
	token := tk.Make(tracking.ID("usps", "9400100000000000000001"), dispatcher.ChannelEmail, "kim@example.com")
	const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"

	// Every character replaced by every other one, including changes to the
	// unused low bits of the last character.
	for i := range token {
		for _, c := range alphabet {
			if byte(c) == token[i] {
				continue
			}
			bad := token[:i] + string(c) + token[i+1:]
			if _, err := tk.Parse(bad); !errors.Is(err, ErrBadToken) {
				t.Fatalf("Parse(token with char %d = %q) = %v, want ErrBadToken", i, c, err)
			}
		}
	}
	// Every decoded byte flipped.
	raw, _ := base64.RawURLEncoding.DecodeString(token)
	for i := range raw {
		b := bytes.Clone(raw)
		b[i] ^= 0x01
		if _, err := tk.Parse(base64.RawURLEncoding.EncodeToString(b)); !errors.Is(err, ErrBadToken) {
			t.Fatalf("Parse(token with byte %d flipped) = %v, want ErrBadToken", i, err)
		}
	}
	// Truncated and extended.
	for _, bad := range []string{token[:len(token)-1], token[1:], token + "A", token + "AA", token + "=", " " + token, token[:10]} {
		if _, err := tk.Parse(bad); !errors.Is(err, ErrBadToken) {
			t.Fatalf("Parse(%q) = %v, want ErrBadToken", bad, err)
		}
	}
}

func TestTokensRejectOtherKey(t *testing.T) {
	token := mustTokens(t, otherKey).Make("id", dispatcher.ChannelEmail, "kim@example.com")
	if _, err := mustTokens(t, testKey).Parse(token); !errors.Is(err, ErrBadToken) {
		t.Fatalf("Parse(token of another key) = %v, want ErrBadToken", err)
	}
}

func TestTokensRejectGarbage(t *testing.T) {
	tk := mustTokens(t, testKey)
	valid := tk.Make("id", dispatcher.ChannelEmail, "kim@example.com")
	for _, bad := range []string{
		"", "A", "!!!!", "%00", "../../etc/passwd",
		strings.Repeat("A", 43), // 32 zero bytes: MAC-sized, no payload
		strings.Repeat("A", 44),
		valid + strings.Repeat("A", 1<<20), // very long
		strings.Repeat(valid, 20),
		base64.RawURLEncoding.EncodeToString(bytes.Repeat([]byte{0xff}, 200)),
		base64.StdEncoding.EncodeToString([]byte(valid)), // padded
	} {
		if c, err := tk.Parse(bad); !errors.Is(err, ErrBadToken) {
			t.Errorf("Parse(%.40q…) = %+v, %v; want ErrBadToken", bad, c, err)
		}
	}
}

// TestTokensRejectSignedNonsense covers the checks after the MAC: a token
// with a valid MAC but a foreign version, channel or layout (a future format,
// or a key shared with something else) is still refused.
func TestTokensRejectSignedNonsense(t *testing.T) {
	tk := mustTokens(t, testKey)
	sign := func(payload []byte) string {
		return base64.RawURLEncoding.EncodeToString(append(bytes.Clone(payload), tk.mac(payload)...))
	}
	field := func(b []byte, s string) []byte {
		return append(binary.AppendUvarint(b, uint64(len(s))), s...)
	}
	for name, payload := range map[string][]byte{
		"version 2":          append(field(field([]byte{2}, "email"), "id"), "kim@example.com"...),
		"channel fax":        append(field(field([]byte{1}, "fax"), "id"), "kim@example.com"...),
		"no recipient":       field(field([]byte{1}, "email"), "id"),
		"length past end":    append(binary.AppendUvarint([]byte{1}, 1000), "email"...),
		"bad uvarint":        append([]byte{1}, bytes.Repeat([]byte{0xff}, 11)...),
		"only a version":     {1},
		"channel, no id len": field([]byte{1}, "email"),
	} {
		if c, err := tk.Parse(sign(payload)); !errors.Is(err, ErrBadToken) {
			t.Errorf("%s: Parse = %+v, %v; want ErrBadToken", name, c, err)
		}
	}
}

func TestNewTokensRefusesShortKey(t *testing.T) {
	for _, key := range [][]byte{nil, {}, []byte("short"), testKey[:31]} {
		if _, err := NewTokens(key); err == nil || !strings.Contains(err.Error(), "at least 32") {
			t.Errorf("NewTokens(%d bytes) = %v, want a refusal", len(key), err)
		}
	}
	// The key is copied: changing the caller's slice changes nothing.
	key := bytes.Clone(testKey)
	tk := mustTokens(t, key)
	token := tk.Make("id", dispatcher.ChannelEmail, "kim@example.com")
	key[0] ^= 0xff
	if _, err := tk.Parse(token); err != nil {
		t.Fatalf("Parse after the caller changed its key slice: %v", err)
	}
}

func FuzzTokensParse(f *testing.F) {
	tk := mustTokens(f, testKey)
	f.Add(tk.Make(tracking.ID("usps", "1"), dispatcher.ChannelEmail, "kim@example.com"))
	f.Add(tk.Make("", dispatcher.ChannelSMS, "+4915112345678"))
	f.Add("")
	f.Add("AQVlbWFpbAJpZGtpbUBleGFtcGxlLmNvbQ")
	f.Add(strings.Repeat("_", 2000))
	f.Fuzz(func(t *testing.T, token string) {
		c, err := tk.Parse(token)
		if err != nil {
			if !errors.Is(err, ErrBadToken) {
				t.Fatalf("Parse error %v does not wrap ErrBadToken", err)
			}
			return
		}
		// Only what Make made parses, and it parses back to itself.
		if again := tk.Make(c.TrackingID, c.Channel, c.Recipient); again != token {
			t.Fatalf("Parse(%q) = %+v, which Make turns into %q", token, c, again)
		}
	})
}
