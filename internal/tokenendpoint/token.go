package tokenendpoint

import (
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"golang.org/x/oauth2"

	"github.com/pleoauth/pleoauth/internal/sanitize"
)

// CheckTokenType refuses tokens pleoauth cannot present: it sends "Authorization: Bearer"
// (RFC 6750), so a token of another type would be misused. An empty type is taken as Bearer,
// as Pleo documents no token_type.
func CheckTokenType(tokenType string) error {
	if tokenType == "" || strings.EqualFold(tokenType, "bearer") {
		return nil
	}
	return fmt.Errorf("issued a %q token, but pleoauth only handles Bearer tokens (RFC 6750); check token_url", sanitize.Text(tokenType, 32))
}

// CheckAccessToken refuses an access token that is not an RFC 6750 §2.1 b64token: pleoauth puts
// the token in an HTTP header, a curl config line and a shell "export", so a server must not be
// able to smuggle a newline, quote or space into any of them.
func CheckAccessToken(token string) error {
	switch {
	case token == "":
		return errors.New("issued an empty access token")
	case !sanitize.IsB64Token(token):
		return errors.New("issued an access token with characters outside RFC 6750's b64token; refusing to print or send it")
	}
	return nil
}

// AssumedLifetime is how long a token without expires_in is trusted: short, so that a server
// that omits the field never yields a token pleoauth believes valid forever.
const AssumedLifetime = 5 * time.Minute

// MaxLifetime caps what a server may claim, so an absurd expires_in cannot overflow the clock
// arithmetic or make a token look valid for decades.
const MaxLifetime = 366 * 24 * time.Hour

// Lifetime is how long tok lives from the moment its response arrived, from expires_in
// (RFC 6749 §5.1). A missing or unusable value gives [AssumedLifetime]; an explicit zero or
// negative one means the token is already expired.
func Lifetime(tok *oauth2.Token, arrived time.Time) time.Duration {
	switch {
	case tok.ExpiresIn > 0:
		return time.Duration(min(tok.ExpiresIn, int64(MaxLifetime/time.Second))) * time.Second
	case explicitlyExpired(tok):
		return 0
	case !tok.Expiry.IsZero() && tok.Expiry.After(arrived):
		// x/oauth2 sets only Expiry for form-encoded responses.
		return tok.Expiry.Sub(arrived).Round(time.Second)
	default:
		return AssumedLifetime
	}
}

// explicitlyExpired reports a JSON response whose expires_in is present and not positive: x/oauth2
// reports both that and a missing field as ExpiresIn 0.
func explicitlyExpired(tok *oauth2.Token) bool {
	switch v := tok.Extra("expires_in").(type) {
	case float64:
		return v <= 0
	case json.Number:
		f, err := v.Float64()
		return err == nil && f <= 0
	default:
		return false
	}
}
