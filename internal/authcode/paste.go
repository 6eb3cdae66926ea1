package authcode

import (
	"bufio"
	"errors"
	"fmt"
	"net/url"
	"strings"

	"github.com/pleoauth/pleoauth/internal/config"
	"github.com/pleoauth/pleoauth/internal/loopback"
	"github.com/pleoauth/pleoauth/internal/sanitize"
)

// ErrNothingPasted means stdin ended before a redirect address was pasted, while nothing else
// could receive the redirect.
var ErrNothingPasted = errors.New("stdin ended before the address the browser ends on was pasted")

// maxPasteLine is the longest pasted line looked at. A redirect address is a few hundred
// bytes; a longer line is something else pasted by mistake, and is dropped whole rather than
// ending the paste input.
const maxPasteLine = 16 << 10

// readLine reads one line of at most max bytes from r, without its line ending. A longer line
// is read to its end and dropped: tooLong reports it, and the next call starts on the next
// line. err is r's error (io.EOF at the end), with whatever came before it in line.
func readLine(r *bufio.Reader, max int) (line string, tooLong bool, err error) {
	var b []byte
	for {
		chunk, err := r.ReadSlice('\n')
		if len(b) <= max+2 { // enough to tell a line too long; the rest is dropped
			b = append(b, chunk...)
		}
		if errors.Is(err, bufio.ErrBufferFull) {
			continue
		}
		if line = strings.TrimRight(string(b), "\r\n"); len(line) > max {
			return "", true, err
		}
		return line, false, err
	}
}

// ParsePasted reads what a person pastes after logging in with a browser whose redirect
// pleoauth cannot receive: the whole address the browser ended on — or, for a loopback
// redirect URI, its query alone. One pair of quotes or angle brackets around it, as chat and
// mail programs add, is taken off. A whole address must be the registered redirect URI's
// (scheme, host, port and path), so the login URL itself or another tab's address is refused
// before its query is looked at; a redirect URI off this machine takes only the whole address,
// so that this check is never skipped. A bare code is refused: without the state nothing shows
// it belongs to this login (RFC 9700 §4.7.1).
func ParsePasted(s string, redirect *url.URL) (url.Values, error) {
	s = unwrap(s)
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
	if !loopback.Receivable(redirect) {
		return nil, fmt.Errorf("paste the whole address your browser ends on, starting with %s, not only part of it", redirect)
	}
	if strings.Contains(s, "=") {
		return url.ParseQuery(strings.TrimPrefix(s, "?"))
	}
	return nil, errors.New("paste the whole address from the browser's address bar, not only the code: its state shows it belongs to this login")
}

// unwrap trims s and takes off one pair of matching quotes or angle brackets around it.
func unwrap(s string) string {
	s = strings.TrimSpace(s)
	if len(s) >= 2 {
		switch s[0:1] + s[len(s)-1:] {
		case `""`, `''`, "<>":
			s = strings.TrimSpace(s[1 : len(s)-1])
		}
	}
	return s
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
	return config.SameOrigin(a, b) && path(a) == path(b)
}
