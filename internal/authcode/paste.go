package authcode

import (
	"errors"
	"fmt"
	"net/url"
	"strings"

	"github.com/pleoauth/pleoauth/internal/sanitize"
)

// ErrNothingPasted means stdin ended before a redirect address was pasted, while nothing else
// could receive the redirect.
var ErrNothingPasted = errors.New("stdin ended before the address the browser ends on was pasted")

// ParsePasted reads what a person pastes after logging in with a browser whose redirect
// pleoauth cannot receive: the whole address the browser ended on, or its query. A whole
// address must be the registered redirect URI's (scheme, host, port and path), so the login
// URL itself or another tab's address is refused before its query is looked at. A bare code is
// refused: without the state nothing shows it belongs to this login (RFC 9700 §4.7.1).
func ParsePasted(s string, redirect *url.URL) (url.Values, error) {
	s = strings.TrimSpace(s)
	if u, err := url.Parse(s); err == nil && u.Host != "" {
		if !sameAddress(u, redirect) {
			shown := *u
			shown.RawQuery, shown.Fragment, shown.User = "", "", nil
			return nil, fmt.Errorf("%s is not the registered redirect URI %s: paste the address your browser ends on after you log in", sanitize.Line(shown.String(), 120), redirect)
		}
		if u.RawQuery == "" {
			return nil, fmt.Errorf("the address carries no code and state: paste all of it, with the part after %q", "?")
		}
		return u.Query(), nil
	}
	if strings.Contains(s, "=") {
		return url.ParseQuery(strings.TrimPrefix(s, "?"))
	}
	return nil, errors.New("paste the whole address from the browser's address bar, not only the code: its state shows it belongs to this login")
}

// checkPasted checks one pasted line exactly as the loopback listener checks a redirect, and
// returns its code. again reports a line that is not this login's redirect (a wrong address, a
// truncated paste, another login's state): the person may paste again. Any other error — the
// server's refusal, another issuer (RFC 9207) — came with this login's state and ends it.
func checkPasted(line string, redirect *url.URL, state, issuer string) (code string, again bool, err error) {
	q, err := ParsePasted(line, redirect)
	if err != nil {
		return "", true, err
	}
	code, err = CheckCallback(q, state, issuer)
	if errors.Is(err, ErrStateMismatch) || errors.Is(err, ErrNoCode) {
		return "", true, err
	}
	return code, false, err
}

// sameAddress compares a pasted address with the redirect URI as a browser's address bar shows
// it: scheme and host ignore case, a default port may be written or not, and the path must
// match exactly (Pleo matches redirect URIs exactly).
func sameAddress(a, b *url.URL) bool {
	path := func(u *url.URL) string {
		if p := u.EscapedPath(); p != "" {
			return p
		}
		return "/"
	}
	return strings.EqualFold(a.Scheme, b.Scheme) && strings.EqualFold(a.Hostname(), b.Hostname()) &&
		portOf(a) == portOf(b) && path(a) == path(b)
}

func portOf(u *url.URL) string {
	if p := u.Port(); p != "" {
		return p
	}
	switch strings.ToLower(u.Scheme) {
	case "https":
		return "443"
	case "http":
		return "80"
	}
	return ""
}
