package optout

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"

	"github.com/trackhook/trackhook/dispatcher"
)

// ErrBadToken is returned by Parse for anything that is not a token this key
// made: garbage, a truncated or edited token, a token made with another key.
var ErrBadToken = errors.New("optout: bad unsubscribe token")

const (
	// MinKeyLen is the shortest key NewTokens accepts.
	MinKeyLen = 32
	// maxTokenLen bounds what Parse decodes. Tokens for real recipients
	// (an email address is at most 254 bytes) are far shorter.
	maxTokenLen = 1024

	tokenVersion = 1
	macLen       = sha256.Size
	// macDomain separates these MACs from anything else the same key might
	// be used for.
	macDomain = "trackhook unsubscribe token\x00"
)

// Claim is what an unsubscribe token says: who asked to stop getting which
// shipment's notifications on which channel.
type Claim struct {
	TrackingID string
	Channel    dispatcher.Channel
	Recipient  string
}

// Tokens makes and checks unsubscribe tokens. A token is the base64url (no
// padding) encoding of
//
//	version (1 byte) | uvarint len + channel | uvarint len + tracking id | recipient | HMAC-SHA256
//
// where the MAC covers everything before it. The token is signed, not
// encrypted: the recipient is readable by whoever holds the link, which is
// the recipient (the page shows the address anyway). Tokens do not expire,
// because an unsubscribe link in an old email must keep working; replacing
// the key invalidates every link already sent.
type Tokens struct {
	key []byte
}

// NewTokens returns a token maker keyed with key, which must be at least
// MinKeyLen bytes of secret (Store.Secret("unsubscribe") is one).
func NewTokens(key []byte) (*Tokens, error) {
	if len(key) < MinKeyLen {
		return nil, fmt.Errorf("optout: token key is %d bytes, want at least %d", len(key), MinKeyLen)
	}
	return &Tokens{key: bytes.Clone(key)}, nil
}

// Make returns the token for recipient on channel c of trackingID. It is URL
// safe (letters, digits, '-' and '_').
func (t *Tokens) Make(trackingID string, c dispatcher.Channel, recipient string) string {
	b := make([]byte, 0, 1+2+len(c)+2+len(trackingID)+len(recipient)+macLen)
	b = append(b, tokenVersion)
	b = binary.AppendUvarint(b, uint64(len(c)))
	b = append(b, c...)
	b = binary.AppendUvarint(b, uint64(len(trackingID)))
	b = append(b, trackingID...)
	b = append(b, recipient...)
	b = append(b, t.mac(b)...)
	return base64.RawURLEncoding.EncodeToString(b)
}

// Parse checks token and returns its claim. Every failure wraps ErrBadToken.
func (t *Tokens) Parse(token string) (Claim, error) {
	if len(token) > maxTokenLen {
		return Claim{}, fmt.Errorf("%w: longer than %d characters", ErrBadToken, maxTokenLen)
	}
	// Strict: a token whose last character differs only in the unused low
	// bits would otherwise decode to the same bytes.
	b, err := base64.RawURLEncoding.Strict().DecodeString(token)
	if err != nil || len(b) < 1+macLen {
		return Claim{}, fmt.Errorf("%w: not a token", ErrBadToken)
	}
	payload, sig := b[:len(b)-macLen], b[len(b)-macLen:]
	if !hmac.Equal(t.mac(payload), sig) {
		return Claim{}, fmt.Errorf("%w: signature does not match", ErrBadToken)
	}
	// Signed by us, so well-formed unless the format changed.
	if payload[0] != tokenVersion {
		return Claim{}, fmt.Errorf("%w: version %d", ErrBadToken, payload[0])
	}
	rest := payload[1:]
	ch, rest, ok := field(rest)
	if !ok {
		return Claim{}, fmt.Errorf("%w: channel", ErrBadToken)
	}
	id, rest, ok := field(rest)
	if !ok {
		return Claim{}, fmt.Errorf("%w: tracking id", ErrBadToken)
	}
	c := dispatcher.Channel(ch)
	if (c != dispatcher.ChannelEmail && c != dispatcher.ChannelSMS) || len(rest) == 0 {
		return Claim{}, fmt.Errorf("%w: channel %q or recipient", ErrBadToken, ch)
	}
	return Claim{TrackingID: string(id), Channel: c, Recipient: string(rest)}, nil
}

// field reads one uvarint-length-prefixed field.
func field(b []byte) (value, rest []byte, ok bool) {
	n, k := binary.Uvarint(b)
	if k <= 0 || n > uint64(len(b)-k) {
		return nil, nil, false
	}
	return b[k : k+int(n)], b[k+int(n):], true
}

func (t *Tokens) mac(payload []byte) []byte {
	m := hmac.New(sha256.New, t.key)
	m.Write([]byte(macDomain))
	m.Write(payload)
	return m.Sum(nil)
}

// errKeyLoading is returned while another caller is loading the key.
var errKeyLoading = errors.New("optout: the unsubscribe-link key is being loaded")

// tokenSource holds Tokens, or makes them from a key it loads on first use
// and, after a failure, on the next.
type tokenSource struct {
	ready atomic.Pointer[Tokens]
	mu    sync.Mutex // one load at a time
	load  func(context.Context) ([]byte, error)
}

func newTokenSource(t *Tokens, load func(context.Context) ([]byte, error)) *tokenSource {
	s := &tokenSource{load: load}
	if t != nil {
		s.ready.Store(t)
	}
	return s
}

func (s *tokenSource) get(ctx context.Context) (*Tokens, error) {
	if t := s.ready.Load(); t != nil {
		return t, nil
	}
	// One load at a time, and nobody queues behind it: while Redis is down
	// a load can take seconds, and every page and email would wait their
	// turn. The others fail at once (503, a temporary failure) and come
	// back.
	if !s.mu.TryLock() {
		return nil, errKeyLoading
	}
	defer s.mu.Unlock()
	if t := s.ready.Load(); t != nil {
		return t, nil
	}
	key, err := s.load(ctx)
	if err != nil {
		return nil, fmt.Errorf("optout: cannot load the unsubscribe-link key: %w", err)
	}
	t, err := NewTokens(key)
	if err != nil {
		return nil, err
	}
	s.ready.Store(t)
	return t, nil
}
