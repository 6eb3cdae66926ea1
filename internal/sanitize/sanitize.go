// Package sanitize makes text that came from a server safe to show on one terminal line.
package sanitize

import (
	"strings"
	"unicode"
)

// Line replaces control and unprintable characters with spaces, so a server cannot move the
// cursor or forge extra lines of output, collapses runs of space, and cuts the result to at most
// max runes.
func Line(s string, max int) string {
	s = strings.Map(func(r rune) rune {
		if unicode.IsControl(r) || !unicode.IsPrint(r) {
			return ' '
		}
		return r
	}, s)
	s = strings.Join(strings.Fields(s), " ")
	if r := []rune(s); len(r) > max {
		s = string(r[:max]) + "…"
	}
	return s
}

// IsB64Token reports whether s is an RFC 6750 §2.1 b64token: 1*( ALPHA / DIGIT / "-" / "." /
// "_" / "~" / "+" / "/" ) *"=". Such a token can go into an HTTP header, a curl config line or a
// shell word without a newline, quote or space slipping in. (A loop rather than a regexp:
// compiling one costs "pleoauth token" a measurable share of its start-up.)
func IsB64Token(s string) bool {
	body := strings.TrimRight(s, "=")
	if body == "" {
		return false
	}
	for i := 0; i < len(body); i++ {
		c := body[i]
		if !('A' <= c && c <= 'Z' || 'a' <= c && c <= 'z' || '0' <= c && c <= '9' ||
			c == '-' || c == '.' || c == '_' || c == '~' || c == '+' || c == '/') {
			return false
		}
	}
	return true
}
