package sanitize

import (
	"strings"
	"unicode/utf8"
)

// ellipsis ends a cut text.
const ellipsis = "…"

// cut joins pieces, or, when that is longer than max runes, the longest start of them that ends
// at a word boundary (or anywhere, when the last space is in the first half) followed by "…" and
// the closers of the brackets and quotes still open in it, all within max runes. Closing what
// the cut left open keeps a description that sits inside a message's parentheses from eating
// the message's own closing one.
func cut(p []string, max int) string {
	if width(p) <= max {
		return strings.Join(p, "")
	}
	if max < 1 {
		return ""
	}
	for limit := max - 1; ; {
		kept := wordStart(p, limit)
		closers := unclosed(kept)
		used := width(kept) + 1 + len(closers)
		if used <= max || len(kept) == 0 {
			return strings.Join(kept, "") + ellipsis + closers
		}
		// Room for the closers: a shorter start, one rune at a time, as dropping an opener
		// also drops its closer.
		limit = width(kept) - 1
	}
}

// wordStart is the longest start of p within limit runes, ended at its last space when that
// space lies in the second half, without a space at its end.
func wordStart(p []string, limit int) []string {
	end, w := 0, 0
	for end < len(p) && w+utf8.RuneCountInString(p[end]) <= limit {
		w += utf8.RuneCountInString(p[end])
		end++
	}
	for i, w2 := end-1, w; i > 0; i-- {
		w2 -= utf8.RuneCountInString(p[i])
		if w2 < limit/2 {
			break
		}
		if p[i] == " " {
			end = i
			break
		}
	}
	for end > 0 && p[end-1] == " " {
		end--
	}
	return p[:end]
}

// closing is what closes the opening bracket or quote r, or 0 when r opens nothing. The ASCII '
// is left out: it is as often an apostrophe ("don't") as a quote. (A switch rather than a
// package-level map, which every start-up of pleoauth would build.)
func closing(r rune) rune {
	switch r {
	case '(':
		return ')'
	case '[':
		return ']'
	case '{':
		return '}'
	case '"':
		return '"'
	case '“':
		return '”'
	case '‘':
		return '’'
	case '«':
		return '»'
	}
	return 0
}

// unclosed returns, innermost first, what closes the brackets and quotes p leaves open. A closer
// that matches nothing open is the server's own and is left alone.
func unclosed(p []string) string {
	var open []rune
	for _, piece := range p {
		for _, r := range piece {
			if n := len(open); n > 0 && r == closing(open[n-1]) {
				open = open[:n-1]
				continue
			}
			if closing(r) != 0 {
				open = append(open, r)
			}
		}
	}
	var b strings.Builder
	for i := len(open) - 1; i >= 0; i-- {
		b.WriteRune(closing(open[i]))
	}
	return b.String()
}

func width(p []string) int {
	n := 0
	for _, piece := range p {
		n += utf8.RuneCountInString(piece)
	}
	return n
}

// dropAsides removes every closed parenthesised group of p with the space before it; an
// unclosed "(" and what follows it are kept, for [cut] to close.
func dropAsides(p []string) []string {
	out := make([]string, 0, len(p))
	for i := 0; i < len(p); i++ {
		if p[i] != "(" {
			out = append(out, p[i])
			continue
		}
		end, depth := -1, 0
		for j := i; j < len(p) && end < 0; j++ {
			switch p[j] {
			case "(":
				depth++
			case ")":
				if depth--; depth == 0 {
					end = j
				}
			}
		}
		if end < 0 {
			out = append(out, p[i:]...)
			break
		}
		if n := len(out); n > 0 && out[n-1] == " " {
			out = out[:n-1]
		}
		i = end
	}
	return out
}
