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
