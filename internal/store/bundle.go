// Package store keeps each login's tokens. Access and refresh token are always saved together,
// in one atomic write, because Pleo rotates the refresh token on every refresh and a half-saved
// pair would log the user out.
package store

import (
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/pleoauth/pleoauth/internal/sanitize"
)

// Bundle is what a login or refresh leaves behind for one environment.
type Bundle struct {
	AccessToken  string    `json:"access_token"`
	RefreshToken string    `json:"refresh_token,omitempty"`
	TokenType    string    `json:"token_type,omitempty"`
	Scope        string    `json:"scope,omitempty"`
	Expiry       time.Time `json:"expiry"`
	ObtainedAt   time.Time `json:"obtained_at"`
	// Subject is whose login it is, as the server said at login: a Pleo company or
	// organisation (urn:pleo:company:<uuid>).
	Subject string `json:"subject,omitempty"`
	// Refused, when set, records that the server refused this login's refresh token: the login
	// is over, and nothing is sent to the server again until a new login or import replaces it.
	Refused *Refusal `json:"refused,omitempty"`
	// Spent, when set, records that this bundle's refresh token (or, in a bundle that holds no
	// tokens yet, a login's code or an imported token) was sent to the server by the process it
	// names. It is written before the request is sent: Pleo rotates the refresh token on every
	// refresh and revokes the whole login when a spent one comes back, so no process on any
	// machine sends a spent token again. The answer replaces the bundle; until it does, the
	// answer is in the journal of the machine that sent it.
	Spent *Spend `json:"spent,omitempty"`
	// Seed is the [TokenHash] of the PLEOAUTH_REFRESH_TOKEN this login started from (the CI
	// bootstrap), kept across refreshes, so that seed is never taken for a new one.
	Seed string `json:"seed,omitempty"`
	// Replacing, when set, records that a login or an import is replacing this bundle, which
	// still works until it is replaced: its answer is journalled under this spend's ID.
	Replacing *Spend `json:"replacing,omitempty"`
}

// Spend is one sending of something the server accepts only once: a refresh token, a login's
// authorization code, an imported refresh token.
type Spend struct {
	// ID names the journal entry that holds the answer until it is saved.
	ID string `json:"id"`
	// Grant is what was sent: "refresh_token", "authorization_code" or "import".
	Grant string `json:"grant"`
	// Host, PID and Home name the process that sent it (Home is its PLEOAUTH_HOME, which
	// holds the journal), so another can say where the answer is.
	Host string    `json:"host"`
	PID  int       `json:"pid"`
	Home string    `json:"home"`
	At   time.Time `json:"at"`
	// Lost, set by the process that spent, says its answer will never come (a timeout, a
	// dropped answer), so that nobody waits for it.
	Lost bool `json:"lost,omitempty"`
}

// The values of [Spend.Grant].
const (
	SpendRefresh = "refresh_token"
	SpendCode    = "authorization_code"
	SpendImport  = "import"
)

// Refusal is when and why the server refused a login's refresh token.
type Refusal struct {
	At     time.Time `json:"at"`
	Reason string    `json:"reason"`
}

// ValidFor reports whether the access token is still valid at least d after now. A refused
// login is valid for nothing: the server revoked its access token with the refresh token.
func (b *Bundle) ValidFor(now time.Time, d time.Duration) bool {
	return b.Refused == nil && b.AccessToken != "" && b.Expiry.After(now.Add(d))
}

// check refuses a bundle whose access token could smuggle a newline, quote or space into a
// header, a curl config line or a shell "export" (RFC 6750 §2.1 b64token), whether it came
// from a server or from a tampered file.
func (b *Bundle) check() error {
	if b.AccessToken == "" && b.Spent != nil {
		return nil // a login, an import or a seed being sent for the first time: no token yet
	}
	if !sanitize.IsB64Token(b.AccessToken) {
		return errors.New("the access token is not an RFC 6750 b64token")
	}
	return nil
}

// ErrNotFound means no tokens are stored for the environment.
var ErrNotFound = errors.New("no tokens stored")

// ErrLoggedOut is [ErrNotFound] where the store knows the login was logged out (a Redis
// tombstone), rather than never there or lost.
var ErrLoggedOut = fmt.Errorf("%w: logged out", ErrNotFound)

// checkEnvName keeps login names usable as file names, keychain accounts and Redis keys: an
// environment's name — 1 to 64 characters of a-z, 0-9, '.', '_' and '-', not starting with a
// dot, dash or underscore — and, for a profile other than the default, "@" and the profile's
// name (1 to 64 of a-z, 0-9, '_' and '-'). (Loops rather than a regexp: compiling one at start-up
// costs "pleoauth token" a measurable share of its time.)
func checkEnvName(name string) error {
	env, profile, hasProfile := strings.Cut(name, "@")
	ok := len(env) >= 1 && len(env) <= 64 && env[0] != '.' && env[0] != '-' && env[0] != '_'
	for i := 0; ok && i < len(env); i++ {
		c := env[i]
		ok = 'a' <= c && c <= 'z' || '0' <= c && c <= '9' || c == '.' || c == '_' || c == '-'
	}
	if ok && hasProfile {
		ok = len(profile) >= 1 && len(profile) <= 64
		for i := 0; ok && i < len(profile); i++ {
			c := profile[i]
			ok = 'a' <= c && c <= 'z' || '0' <= c && c <= '9' || c == '_' || c == '-'
		}
	}
	if !ok {
		return fmt.Errorf("login name %q must be an environment's name (1-64 characters of a-z, 0-9, '.', '_' or '-'), with \"@profile\" for a profile", name)
	}
	return nil
}
