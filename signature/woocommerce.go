package signature

import (
	"crypto/sha256"
	"encoding/base64"
	"fmt"
	"net/http"
	"strings"
	"time"
)

// HeaderWooCommerce carries base64(HMAC-SHA256(secret, raw body)) on
// WooCommerce webhook deliveries (class-wc-webhook.php, generate_signature).
const HeaderWooCommerce = "X-WC-Webhook-Signature"

// WooCommerce verifies WooCommerce core webhooks
// (shared/reference/webhook-sources.md, F1).
//
// The scheme signs only the body: there is no timestamp, so a captured
// delivery can be replayed, and the delivery id changes on every attempt.
// Replays are absorbed by the receiver's dedupe on the event fingerprint.
// Only SHA-256 is accepted; a shop that switched the algorithm with the
// woocommerce_webhook_hash_algorithm filter sends a signature of another
// length, which is refused as ErrMalformedHeader.
//
// WooCommerce passes the stored secret through wp_specialchars_decode before
// signing, so "&amp;" in a secret copied from the database signs as "&". A
// configured secret containing such an entity is therefore also tried in
// its decoded form.
type WooCommerce struct {
	keys keyring
}

// NewWooCommerce returns a verifier accepting a signature made with any of
// secrets (newest first). WooCommerce signs with one secret only, so for a
// rotation configure the new secret first and the old one second, then edit
// the webhook in WooCommerce, then drop the old secret. It refuses an empty
// list or an empty secret.
func NewWooCommerce(secrets []string) (*WooCommerce, error) {
	k, err := newKeyring(secrets)
	if err != nil {
		return nil, fmt.Errorf("woocommerce: %w", err)
	}
	for _, s := range secrets {
		if d := wpSpecialcharsDecode(s); d != s && d != "" {
			k = append(k, []byte(d))
		}
	}
	return &WooCommerce{keys: k}, nil
}

// Verify implements Verifier.
func (w *WooCommerce) Verify(body []byte, h http.Header) error {
	v := strings.TrimSpace(h.Get(HeaderWooCommerce))
	if v == "" {
		return fmt.Errorf("woocommerce: header %s: %w", HeaderWooCommerce, ErrNoSignature)
	}
	sig, err := base64.StdEncoding.DecodeString(v)
	if err != nil || len(sig) != sha256.Size {
		return fmt.Errorf("woocommerce: header %s is not a base64 SHA-256 HMAC: %w", HeaderWooCommerce, ErrMalformedHeader)
	}
	if !w.keys.matchHMAC(body, sig) {
		return fmt.Errorf("woocommerce: %w", ErrMismatch)
	}
	return nil
}

// Sign implements Signer: the X-WC-Webhook-Signature WooCommerce would send
// for body with the first secret (decoded as WooCommerce decodes it). The
// topic and delivery headers are not set; the adapter recognises an order
// without them.
func (w *WooCommerce) Sign(body []byte, _ time.Time) (http.Header, error) {
	key := w.keys[0]
	if d := wpSpecialcharsDecode(string(key)); d != "" {
		key = []byte(d)
	}
	h := http.Header{}
	h.Set(HeaderWooCommerce, base64.StdEncoding.EncodeToString(hmacSHA256(key, body)))
	return h, nil
}

// wpSpecialcharsDecode is WordPress's wp_specialchars_decode($s, ENT_QUOTES):
// it decodes only the entities of & < > " and ', in their named, decimal
// (any number of leading zeros) and, for & " ', hexadecimal forms, in one
// pass (the output is not decoded again: "&amp;lt;" gives "&lt;").
func wpSpecialcharsDecode(s string) string {
	if !strings.Contains(s, "&") {
		return s
	}
	var b strings.Builder
	b.Grow(len(s))
	for i := 0; i < len(s); {
		if s[i] != '&' {
			b.WriteByte(s[i])
			i++
			continue
		}
		r, n := wpEntity(s[i:])
		if n == 0 {
			b.WriteByte('&')
			i++
			continue
		}
		b.WriteByte(r)
		i += n
	}
	return b.String()
}

// wpEntity matches the entity at the start of s (which begins with '&') and
// returns the character it stands for and its length, or 0 when none.
func wpEntity(s string) (byte, int) {
	for _, e := range [...]struct {
		name string
		r    byte
	}{{"&amp;", '&'}, {"&lt;", '<'}, {"&gt;", '>'}, {"&quot;", '"'}} {
		if strings.HasPrefix(s, e.name) {
			return e.r, len(e.name)
		}
	}
	if !strings.HasPrefix(s, "&#") {
		return 0, 0
	}
	i := 2
	hex := i < len(s) && (s[i] == 'x' || s[i] == 'X')
	if hex {
		i++
	}
	for i < len(s) && s[i] == '0' {
		i++
	}
	start := i
	for i < len(s) && i-start < 3 && isWPDigit(s[i], hex) {
		i++
	}
	if i >= len(s) || s[i] != ';' {
		return 0, 0
	}
	digits := strings.ToLower(s[start:i])
	table := map[string]byte{"38": '&', "60": '<', "62": '>', "34": '"', "39": '\''}
	if hex {
		table = map[string]byte{"26": '&', "22": '"', "27": '\''}
	}
	if r, ok := table[digits]; ok {
		return r, i + 1
	}
	return 0, 0
}

func isWPDigit(c byte, hex bool) bool {
	if '0' <= c && c <= '9' {
		return true
	}
	return hex && ('a' <= c && c <= 'f' || 'A' <= c && c <= 'F')
}
