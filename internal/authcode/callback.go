package authcode

import (
	"crypto/subtle"
	"errors"
	"fmt"
	"net/url"
	"strings"

	"github.com/pleoauth/pleoauth/internal/sanitize"
)

// ErrStateMismatch means the callback does not belong to this login: a stale browser tab, or a
// forged request (RFC 6749 §10.12). Its code is never exchanged.
var ErrStateMismatch = errors.New("the redirect's state does not match this login (a stale browser tab or a forged request); its code was not used")

// ErrNoCode means the redirect carried neither a code nor an error.
var ErrNoCode = errors.New("the redirect carried no authorization code")

// ErrRepeated means the redirect carries state, code, iss or error more than once, which
// RFC 6749 §3.1 forbids: which value counts would be a guess, so none is used. A repeated state
// is also [ErrStateMismatch]: nothing shows the redirect is this login's, so it must not end
// the wait. Any other repeated parameter came with this login's state, and ends the login.
var ErrRepeated = errors.New("a parameter is repeated in the redirect")

// singleParams are the redirect's parameters that decide a login; each may appear once.
var singleParams = []string{"code", "iss", "error"}

// repeatedError is [ErrRepeated] for one parameter.
type repeatedError struct{ param string }

func (e *repeatedError) Error() string {
	return fmt.Sprintf("the redirect carries %s more than once, which RFC 6749 §3.1 forbids; its code was not used", e.param)
}

func (e *repeatedError) Is(target error) bool {
	return target == ErrRepeated || (e.param == "state" && target == ErrStateMismatch)
}

// DeniedError is the error an authorization server sent back on the redirect
// (RFC 6749 §4.1.2.1), for example access_denied when the user declined.
type DeniedError struct {
	Code        string
	Description string
}

func (e *DeniedError) Error() string {
	if e.Description == "" {
		return fmt.Sprintf("the authorization server refused: %s", e.Code)
	}
	return fmt.Sprintf("the authorization server refused: %s (%s)", e.Code, e.Description)
}

// CheckCallback validates the redirect's query against the login's state and returns the code.
// A redirect carrying state, code, iss or error more than once is refused (RFC 6749 §3.1): a
// repeated state first, as not this login's. The state is checked next, so that an error or code from a foreign request is never trusted.
// When the redirect names its issuer (RFC 9207 "iss") and issuer is known, they must match: a
// redirect from another authorization server is a mix-up attack (RFC 9700 §4.4).
func CheckCallback(q url.Values, state, issuer string) (string, error) {
	if len(q["state"]) > 1 {
		return "", &repeatedError{"state"}
	}
	if subtle.ConstantTimeCompare([]byte(q.Get("state")), []byte(state)) != 1 {
		return "", ErrStateMismatch
	}
	for _, k := range singleParams {
		if len(q[k]) > 1 {
			return "", &repeatedError{k}
		}
	}
	if iss := q.Get("iss"); iss != "" && issuer != "" && strings.TrimRight(iss, "/") != strings.TrimRight(issuer, "/") {
		return "", fmt.Errorf("the redirect names issuer \"%s\", not %q (RFC 9207); its code was not used — check that the browser logged in at the right server", sanitize.Text(iss, 100), issuer)
	}
	if e := q.Get("error"); e != "" {
		return "", &DeniedError{Code: sanitize.Text(e, 64), Description: sanitize.Text(q.Get("error_description"), 200)}
	}
	if q.Get("code") == "" {
		return "", ErrNoCode
	}
	return q.Get("code"), nil
}
