package signature

import (
	"crypto/hmac"
	"crypto/sha256"
	"fmt"
)

// keyring holds the secrets of one source, newest first. It never holds an
// empty secret.
type keyring [][]byte

func newKeyring(secrets []string) (keyring, error) {
	if len(secrets) == 0 {
		return nil, ErrNoSecret
	}
	k := make(keyring, 0, len(secrets))
	for i, s := range secrets {
		if s == "" {
			return nil, fmt.Errorf("secret %d of %d is empty: %w", i+1, len(secrets), ErrNoSecret)
		}
		k = append(k, []byte(s))
	}
	return k, nil
}

// hmacSHA256 returns HMAC-SHA256(key, msg).
func hmacSHA256(key, msg []byte) []byte {
	m := hmac.New(sha256.New, key)
	m.Write(msg)
	return m.Sum(nil)
}

// matchHMAC reports whether sig equals HMAC-SHA256(secret, msg) for any
// secret in the ring, comparing in constant time.
func (k keyring) matchHMAC(msg, sig []byte) bool {
	ok := false
	for _, key := range k {
		// No early exit: every secret is tried, so timing does not tell
		// which one matched.
		if hmac.Equal(hmacSHA256(key, msg), sig) {
			ok = true
		}
	}
	return ok
}
