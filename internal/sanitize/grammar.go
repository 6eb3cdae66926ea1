package sanitize

import "strings"

// MaxScope bounds a scope string kept or shown: Pleo's scopes together are far shorter, and a
// server must not make pleoauth store or print a megabyte of them.
const MaxScope = 2048

// Scope returns the scope-tokens of s, the RFC 6749 §3.3 grammar of a token response's scope
// (scope-token = 1*NQCHAR, NQCHAR = %x21 / %x23-5B / %x5D-7E, tokens separated by one space),
// joined by single spaces and within [MaxScope] bytes. Any run of whitespace separates tokens
// (a server that lists its scopes one a line loses nothing), and a token holding anything else
// — a control character, an escape sequence, a quote, a backslash, a non-ASCII rune — is dropped
// whole: such a token names no scope, so no terminal, log or store gets it. A scope that already
// follows the grammar comes back unchanged.
func Scope(s string) string {
	var b strings.Builder
	for _, token := range strings.FieldsFunc(s, isScopeSpace) {
		if !isScopeToken(token) || b.Len()+1+len(token) > MaxScope {
			continue
		}
		if b.Len() > 0 {
			b.WriteByte(' ')
		}
		b.WriteString(token)
	}
	return b.String()
}

func isScopeSpace(r rune) bool { return r == ' ' || r == '\t' || r == '\n' || r == '\r' }

// isScopeToken reports whether t is 1*NQCHAR.
func isScopeToken(t string) bool {
	if t == "" {
		return false
	}
	for i := 0; i < len(t); i++ {
		c := t[i]
		if c < 0x21 || c > 0x7e || c == '"' || c == '\\' {
			return false
		}
	}
	return true
}

// IsSubjectURN reports whether s has the shape of a Pleo subject: urn:pleo:<kind>:<uuid>, the
// kind in lower-case letters (company, organization) and the UUID in the 8-4-4-4-12 hex form,
// as in urn:pleo:company:3f2c6d1e-0b7a-4c1e-9a55-6f0e2d8b9c41. Anything else a server calls a
// subject is not one, and is not stored. (A loop rather than a regexp, for the start-up cost.)
func IsSubjectURN(s string) bool {
	rest, ok := strings.CutPrefix(s, "urn:pleo:")
	if !ok {
		return false
	}
	kind, uuid, ok := strings.Cut(rest, ":")
	if !ok || kind == "" {
		return false
	}
	for i := 0; i < len(kind); i++ {
		if kind[i] < 'a' || kind[i] > 'z' {
			return false
		}
	}
	return isUUID(uuid)
}

// isUUID reports the 8-4-4-4-12 hex form of a UUID (RFC 9562 §4), either case.
func isUUID(s string) bool {
	if len(s) != 36 {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch i {
		case 8, 13, 18, 23:
			if c != '-' {
				return false
			}
		default:
			if !('0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F') {
				return false
			}
		}
	}
	return true
}
