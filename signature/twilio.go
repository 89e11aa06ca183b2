package signature

import (
	"crypto/hmac"
	"crypto/sha1"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"mime"
	"net/http"
	"net/url"
	"slices"
	"strings"
)

// HeaderTwilio carries base64(HMAC-SHA1(auth token, string to sign)) on every
// request Twilio makes to a webhook.
const HeaderTwilio = "X-Twilio-Signature"

// twilioBodyHashParam is the query parameter Twilio adds to the URL when the
// body is not form-encoded (JSON): the hex SHA-256 of the body.
const twilioBodyHashParam = "bodySHA256"

// Twilio verifies X-Twilio-Signature (shared/reference/webhook-sources.md, H1).
//
// The string Twilio signs is the full URL it called, exactly as configured
// (scheme, host, path, query), followed for a form-encoded POST by every
// parameter: names sorted byte-wise, each name immediately followed by its
// value, no separators. A JSON body is covered instead by a bodySHA256 query
// parameter, so only the URL is signed and the body is checked against that
// hash. There is no timestamp, so a captured request can be replayed; the
// receiver's actions must be idempotent.
type Twilio struct {
	keys keyring
}

// NewTwilio returns a verifier accepting a signature made with any of the
// auth tokens (newest first), so a token can be rotated in the Twilio console
// without dropping requests. It refuses an empty list or an empty token.
func NewTwilio(authTokens []string) (*Twilio, error) {
	k, err := newKeyring(authTokens)
	if err != nil {
		return nil, fmt.Errorf("twilio: %w", err)
	}
	return &Twilio{keys: k}, nil
}

// Verify checks the X-Twilio-Signature header in h against fullURL (the URL
// Twilio was configured to call, which behind a proxy is not the URL the
// server saw) and the raw body.
//
//   - A form body (Content-Type application/x-www-form-urlencoded) is signed
//     as URL + its parameters. A repeated name contributes every one of its
//     values, in sorted order, as twilio-python and twilio-node do (Twilio
//     itself never repeats a name in its webhooks); a body that does not
//     parse does not verify.
//   - When fullURL has a bodySHA256 query parameter, only the URL is signed
//     and the body must hash to it.
//   - Otherwise only the URL is signed, which covers an empty body only: a
//     non-empty body in any other content type would be unauthenticated, so
//     it is refused with ErrMalformedHeader.
//
// Twilio's own libraries accept the URL both with and without an explicit
// port, because Twilio is inconsistent about which it signs; so does Verify:
// "https://host/x" is also tried as "https://host:443/x", and a URL with a
// port also without it.
func (t *Twilio) Verify(fullURL string, body []byte, h http.Header) error {
	v := strings.TrimSpace(h.Get(HeaderTwilio))
	if v == "" {
		return fmt.Errorf("twilio: header %s: %w", HeaderTwilio, ErrNoSignature)
	}
	sig, err := base64.StdEncoding.DecodeString(v)
	if err != nil || len(sig) != sha1.Size {
		return fmt.Errorf("twilio: header %s is not a base64 SHA-1 HMAC: %w", HeaderTwilio, ErrMalformedHeader)
	}
	u, err := url.Parse(fullURL)
	if err != nil || u.Host == "" || u.Opaque != "" {
		return fmt.Errorf("twilio: URL %q is not absolute: %w", fullURL, ErrMismatch)
	}

	var params url.Values
	switch {
	case u.Query().Has(twilioBodyHashParam):
		want, err := hex.DecodeString(u.Query().Get(twilioBodyHashParam))
		sum := sha256.Sum256(body)
		if err != nil || !hmac.Equal(sum[:], want) {
			return fmt.Errorf("twilio: body does not match %s: %w", twilioBodyHashParam, ErrMismatch)
		}
	case isForm(h.Get("Content-Type")):
		params, err = url.ParseQuery(string(body))
		if err != nil {
			return fmt.Errorf("twilio: form body does not parse (%v): %w", err, ErrMismatch)
		}
	case len(body) > 0:
		return fmt.Errorf("twilio: a %q body is not covered by the signature: %w", h.Get("Content-Type"), ErrMalformedHeader)
	}

	ok := false
	for _, candidate := range twilioURLs(fullURL, u) {
		msg := twilioString(candidate, params)
		for _, key := range t.keys {
			// No early exit: every token and URL form is tried, so timing
			// does not tell which one matched.
			if hmac.Equal(hmacSHA1(key, msg), sig) {
				ok = true
			}
		}
	}
	if !ok {
		return fmt.Errorf("twilio: %w", ErrMismatch)
	}
	return nil
}

// Sign returns the X-Twilio-Signature value Twilio would send for a form POST
// of params to fullURL (nil params for a GET, or for a JSON body whose
// bodySHA256 is already in fullURL), using the first (newest) auth token. The
// URL is signed as given. It exists for tests and tools.
func (t *Twilio) Sign(fullURL string, params url.Values) string {
	return base64.StdEncoding.EncodeToString(hmacSHA1(t.keys[0], twilioString(fullURL, params)))
}

// twilioString is the string Twilio signs: the URL, then for each parameter
// name in byte order every value (sorted), each preceded by the name.
// Sorting the names, not the "name+value" strings, matters: "Reason" sorts
// before "ReasonConferenceEnded" although "ReasonParticipant" sorts after
// "ReasonConferenceEndedtest"; the official vector covers exactly that.
func twilioString(fullURL string, params url.Values) []byte {
	names := make([]string, 0, len(params))
	n := len(fullURL)
	for name, vs := range params {
		names = append(names, name)
		for _, v := range vs {
			n += len(name) + len(v)
		}
	}
	slices.Sort(names)
	b := make([]byte, 0, n)
	b = append(b, fullURL...)
	for _, name := range names {
		vs := slices.Clone(params[name])
		slices.Sort(vs)
		for _, v := range vs {
			b = append(b, name...)
			b = append(b, v...)
		}
	}
	return b
}

// twilioURLs returns raw and, as twilio-go/-python/-node do, raw with the
// default port added (when it has none) or with its port removed (when it
// has one). The rest of the URL is kept byte for byte: re-serialising a
// parsed URL could change its escaping and so the signed string.
func twilioURLs(raw string, u *url.URL) []string {
	i := strings.Index(raw, "://")
	if i < 0 {
		return []string{raw}
	}
	start := i + len("://")
	end := len(raw)
	if j := strings.IndexAny(raw[start:], "/?#"); j >= 0 {
		end = start + j
	}
	authority := raw[start:end]
	userinfo := ""
	if at := strings.LastIndexByte(authority, '@'); at >= 0 {
		userinfo, authority = authority[:at+1], authority[at+1:]
	}
	host := authority
	hasPort := false
	if c := strings.LastIndexByte(authority, ':'); c >= 0 && !strings.Contains(authority[c:], "]") {
		host, hasPort = authority[:c], true
	}
	if hasPort {
		return []string{raw, raw[:start] + userinfo + host + raw[end:]}
	}
	var port string
	switch strings.ToLower(u.Scheme) {
	case "https":
		port = ":443"
	case "http":
		port = ":80"
	default:
		return []string{raw}
	}
	return []string{raw, raw[:start] + userinfo + host + port + raw[end:]}
}

func isForm(contentType string) bool {
	mt, _, err := mime.ParseMediaType(contentType)
	return err == nil && mt == "application/x-www-form-urlencoded"
}

// hmacSHA1 returns HMAC-SHA1(key, msg).
func hmacSHA1(key, msg []byte) []byte {
	m := hmac.New(sha1.New, key)
	m.Write(msg)
	return m.Sum(nil)
}
