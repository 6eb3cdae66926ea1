package authcode

import (
	"crypto/rand"
	"encoding/base64"
	"fmt"

	"golang.org/x/oauth2"
)

// NewVerifier returns a fresh PKCE code verifier: 32 random bytes, base64url-encoded to 43
// characters, the 256 bits of entropy RFC 7636 §7.1 recommends.
func NewVerifier() string { return oauth2.GenerateVerifier() }

// CheckVerifier accepts a user-supplied code verifier only when it has RFC 7636 §4.1's shape:
// 43 to 128 characters from [A-Za-z0-9-._~].
func CheckVerifier(v string) error {
	if n := len(v); n < 43 || n > 128 {
		return fmt.Errorf("code verifier has %d characters; RFC 7636 §4.1 requires 43 to 128", n)
	}
	for i := 0; i < len(v); i++ {
		if !isUnreserved(v[i]) {
			return fmt.Errorf("code verifier has %q at position %d; RFC 7636 §4.1 allows only A-Z a-z 0-9 - . _ ~", v[i], i+1)
		}
	}
	return nil
}

func isUnreserved(c byte) bool {
	return 'A' <= c && c <= 'Z' || 'a' <= c && c <= 'z' || '0' <= c && c <= '9' ||
		c == '-' || c == '.' || c == '_' || c == '~'
}

// NewState returns a fresh state value of 256 random bits, binding the callback to this login
// (RFC 6749 §10.12; RFC 9700 §4.7.1).
func NewState() string {
	b := make([]byte, 32)
	_, _ = rand.Read(b) // crypto/rand.Read never fails (Go 1.24+).
	return base64.RawURLEncoding.EncodeToString(b)
}
