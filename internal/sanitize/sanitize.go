// Package sanitize is the one cleaner of text that came from a server — error descriptions,
// subjects, scopes, status lines — before a terminal, a log or the store sees it, and the
// grammars such values must match (RFC 6750's b64token, RFC 6749's scope-token, Pleo's subject).
package sanitize

import (
	"fmt"
	"strings"
	"unicode"
	"unicode/utf8"
)

// Text makes s safe to show on one line and keeps what the server sent visible: every control
// character (C0, DEL, C1), bidi override or isolate (U+202E…), other unprintable rune, and byte
// that is not UTF-8 is shown as an escape (\n, \t, \x1b, \u202e, \xff), so that a server can
// neither move the cursor, set the clipboard or the window title (OSC 52, OSC 0), forge more
// lines of output, nor reverse the text after it. Runs of spaces become one, and a result longer
// than max runes is cut as [Line] cuts it.
func Text(s string, max int) string { return cut(pieces(s, escape), max) }

// Line makes s safe to show on one line as [Text] does, but with each unsafe character replaced
// by a space: for a header or a launcher's complaint, where an escape would be noise. A result
// longer than max runes is cut at a word boundary and ends in "…", followed by whatever closes
// the brackets and quotes left open by the cut, so "(refresh token expired…)" never loses its
// closing parenthesis; the whole stays within max runes.
func Line(s string, max int) string { return cut(pieces(s, blank), max) }

// Brief is [Text] for a reason kept short inside a longer message: when s is longer than max,
// its parenthesised asides ("(e.g., authorization code, resource owner credentials)") go first,
// and only then is the rest cut, so what is left is the sentence's main clause rather than the
// start of an example.
func Brief(s string, max int) string {
	p := pieces(s, escape)
	if width(p) > max {
		p = dropAsides(p)
	}
	return cut(p, max)
}

// pieces splits s into what is shown: one rune, or one escape or space for an unsafe rune (so a
// cut never splits an escape). Leading, trailing and repeated spaces are dropped.
func pieces(s string, show func(r rune, b byte) string) []string {
	out := make([]string, 0, len(s))
	for i := 0; i < len(s); {
		r, size := utf8.DecodeRuneInString(s[i:])
		p := string(r)
		if r == utf8.RuneError && size == 1 || unsafe(r) {
			p = show(r, s[i])
		}
		i += size
		if p == " " && (len(out) == 0 || out[len(out)-1] == " ") {
			continue
		}
		out = append(out, p)
	}
	if len(out) > 0 && out[len(out)-1] == " " {
		out = out[:len(out)-1]
	}
	return out
}

// unsafe reports a rune a terminal may act on rather than show, or one that shows as nothing:
// C0 and C1 controls and DEL (unicode.IsControl), and the format characters, bidi overrides
// and isolates among them, private-use and unassigned runes (not unicode.IsPrint). Other
// spaces than U+0020 count too, so "a\u00a0b" cannot pass for two words.
func unsafe(r rune) bool {
	return r != ' ' && (unicode.IsControl(r) || !unicode.IsPrint(r))
}

// escape shows an unsafe rune, or a byte b that is not UTF-8 (r is then utf8.RuneError), as Go
// would write it in a string literal.
func escape(r rune, b byte) string {
	switch {
	case r == utf8.RuneError:
		return fmt.Sprintf(`\x%02x`, b)
	case r == '\n':
		return `\n`
	case r == '\r':
		return `\r`
	case r == '\t':
		return `\t`
	case r < utf8.RuneSelf:
		return fmt.Sprintf(`\x%02x`, r)
	case r <= 0xFFFF:
		return fmt.Sprintf(`\u%04x`, r)
	default:
		return fmt.Sprintf(`\U%08x`, r)
	}
}

func blank(rune, byte) string { return " " }

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

// minSecretEcho is the shortest run of a secret that [Redact] takes for an echo of it: long
// enough that ordinary words do not match, short enough to catch a server's cut or shifted echo.
// Pleo's tokens start with a public 7-character prefix ("ory_rt_"), so a run this long always
// holds some of the secret.
const minSecretEcho = 10

// Redact replaces, in s, every echo of one of secrets with "[redacted]": the whole secret, or any
// run of ten or more of its characters in a row — a server that quotes what it was sent, cut
// short, shifted, or split by a line break. Server text passes through it before [Text] or
// [Brief] cut it, so a cut cannot leave part of a secret behind either. Secrets shorter than ten
// characters are left alone: they cannot be told from the words around them. It compares every
// position of s with every position of each secret, so s is expected to be short (an error
// description), as callers cut it first.
func Redact(s string, secrets ...string) string {
	for _, secret := range secrets {
		if len(secret) < minSecretEcho {
			continue
		}
		var out strings.Builder
		for i := 0; i < len(s); {
			if n := longestRunOf(secret, s[i:]); n >= minSecretEcho {
				out.WriteString("[redacted]")
				i += n
				continue
			}
			out.WriteByte(s[i])
			i++
		}
		s = out.String()
	}
	return s
}

// longestRunOf is the length of the longest start of text found anywhere in secret.
func longestRunOf(secret, text string) int {
	best := 0
	for j := range len(secret) {
		n := 0
		for n < len(text) && j+n < len(secret) && text[n] == secret[j+n] {
			n++
		}
		best = max(best, n)
	}
	return best
}
