package sanitize

import (
	"strings"
	"testing"
	"unicode/utf8"
)

func TestText(t *testing.T) {
	tests := []struct {
		name string
		in   string
		max  int
		want string
	}{
		{"plain", "code expired", 200, "code expired"},
		{"newline and tab", "two\nlines\tand a tab\r", 200, `two\nlines\tand a tab\r`},
		{"OSC 52 sets the clipboard", "urn:pleo:company:\x1b]52;c;ZXZpbA==\a", 200, `urn:pleo:company:\x1b]52;c;ZXZpbA==\x07`},
		{"OSC 0 sets the title", "\x1b]0;owned\x1b\\", 200, `\x1b]0;owned\x1b\`},
		{"CSI clears the screen", "a\x1b[2J\x1b[Hb", 200, `a\x1b[2J\x1b[Hb`},
		{"C1 CSI and NEL", "a\u009b31mb\u0085c", 200, `a\u009b31mb\u0085c`},
		{"bidi override", "invoice\u202Efdp.exe", 200, `invoice\u202efdp.exe`},
		{"bidi isolate and marks", "\u2066a\u2069\u200e\u200f", 200, `\u2066a\u2069\u200e\u200f`},
		{"NUL and DEL", "a\x00b\x7fc", 200, `a\x00b\x7fc`},
		{"not UTF-8", "a\xffb\xc3", 200, `a\xffb\xc3`},
		{"other spaces", "a\u00a0b\u2028c", 200, `a\u00a0b\u2028c`},
		{"spaces collapse", "  a   b  ", 200, "a b"},
		{"non-ASCII letters stay", "Zahlung abgelehnt: Größe ü", 200, "Zahlung abgelehnt: Größe ü"},
		{"a cut escape stays whole", "ab\x1b", 4, "ab…"},
		{"cut at a word", "the refresh token expired yesterday", 20, "the refresh token…"},
		{"cut inside parentheses", "grant refused (the refresh token was revoked by an administrator)", 40, "grant refused (the refresh token was…)"},
		{"cut inside nested brackets", `invalid ["a", {"b": "a long value here"}]`, 30, `invalid ["a", {"b": "a…"}]`},
		{"cut inside a quote", `the code "abc def ghi jkl mno" is spent`, 20, `the code "abc def…"`},
		{"brackets closed before the cut are not closed again", "(a) b [c] d e f g h i j", 14, "(a) b [c] d…"},
		{"a stray closer is the server's", "a) b c d e f g h", 8, "a) b c…"},
		{"one long word is cut anywhere", strings.Repeat("x", 50), 10, strings.Repeat("x", 9) + "…"},
		{"deep nesting still fits", strings.Repeat("(", 30), 10, "((((…))))"},
		{"no room", "abcdef", 0, ""},
		{"long after escaping", strings.Repeat("\x1b", 10), 12, `\x1b\x1b…`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := Text(tt.in, tt.max)
			if got != tt.want {
				t.Errorf("Text(%q, %d) = %q; want %q", tt.in, tt.max, got, tt.want)
			}
			if n := utf8.RuneCountInString(got); n > tt.max {
				t.Errorf("Text(%q, %d) is %d runes long", tt.in, tt.max, n)
			}
		})
	}
}

func TestBrief(t *testing.T) {
	const fosite = "The provided authorization grant (e.g., authorization code, resource owner credentials) or refresh token is invalid, expired, revoked, does not match the redirection URI used in the authorization request, or was issued to another client."
	tests := []struct {
		in   string
		max  int
		want string
	}{
		{fosite, 40, "The provided authorization grant or…"},
		{fosite, 90, "The provided authorization grant or refresh token is invalid, expired, revoked, does not…"},
		{"short (with an aside)", 40, "short (with an aside)"},
		{"nested (a (b) c) asides (d) go whole, and the text after them stays", 40, "nested asides go whole, and the text…"},
		{"an open (aside that never closes and runs on for a while", 30, "an open (aside that never…)"},
		{"escaped \x1b (in \n an aside) too, and shown", 30, `escaped \x1b too, and shown`},
	}
	for _, tt := range tests {
		got := Brief(tt.in, tt.max)
		if got != tt.want {
			t.Errorf("Brief(%q, %d) = %q; want %q", tt.in, tt.max, got, tt.want)
		}
		if n := utf8.RuneCountInString(got); n > tt.max {
			t.Errorf("Brief(%q, %d) is %d runes long", tt.in, tt.max, n)
		}
	}
}

func TestLine(t *testing.T) {
	tests := []struct {
		in   string
		max  int
		want string
	}{
		{"two\nlines\x1b]52;c;x\x07", 300, "two lines ]52;c;x"},
		{"a\u202Eb\u0085c\x00d", 300, "a b c d"},
		{"code expired", 300, "code expired"},
		{"refresh token expired (it was issued more than thirty days ago)", 40, "refresh token expired (it was issued…)"},
	}
	for _, tt := range tests {
		if got := Line(tt.in, tt.max); got != tt.want {
			t.Errorf("Line(%q, %d) = %q; want %q", tt.in, tt.max, got, tt.want)
		}
	}
}

// FuzzText: whatever a server sends, the result is within max runes, holds no rune a terminal
// acts on, and closes every bracket a cut left open.
func FuzzText(f *testing.F) {
	for _, s := range []string{"a\x1b]52;c;x\x07", "(((a b c d e", `"quoted text here`, "\u202e\xff\u0085"} {
		f.Add(s, 10)
	}
	f.Fuzz(func(t *testing.T, s string, max int) {
		max = max%300 + 1
		if max < 1 {
			max = -max + 1
		}
		for name, f := range map[string]struct {
			fn   func(string, int) string
			show func(rune, byte) string
		}{"Text": {Text, escape}, "Line": {Line, blank}} {
			whole := pieces(s, f.show)
			got := f.fn(s, max)
			if n := utf8.RuneCountInString(got); n > max {
				t.Fatalf("%s(%q, %d) = %q: %d runes", name, s, max, got, n)
			}
			if !utf8.ValidString(got) {
				t.Fatalf("%s(%q, %d) = %q is not UTF-8", name, s, max, got)
			}
			for _, r := range got {
				if unsafe(r) {
					t.Fatalf("%s(%q, %d) = %q holds %U", name, s, max, got, r)
				}
			}
			// Only a cut text is closed: a server's own unbalanced text, short enough to keep
			// whole (even one that ends in "…"), is shown as sent.
			if width(whole) > max && unclosed(pieces(got, escape)) != "" {
				t.Fatalf("%s(%q, %d) = %q leaves a bracket open", name, s, max, got)
			}
		}
	})
}

func TestScope(t *testing.T) {
	tests := []struct{ in, want string }{
		{"users:read export-jobs:read", "users:read export-jobs:read"},
		{"users:read\nexport-jobs:read", "users:read export-jobs:read"},
		{"  users:read \t export-jobs:read  ", "users:read export-jobs:read"},
		{"users:read \x1b]52;c;ZXZpbA==\x07", "users:read"},
		{"users:read a\u202Eb", "users:read"},
		{`users:read "quoted" back\slash`, "users:read"},
		{"users:read caf\u00e9", "users:read"},
		{"users:read nul\x00", "users:read"},
		{"!#[]~", "!#[]~"},
		{"", ""},
		{strings.Repeat("x", MaxScope+1) + " users:read", "users:read"},
	}
	for _, tt := range tests {
		if got := Scope(tt.in); got != tt.want {
			t.Errorf("Scope(%q) = %q; want %q", tt.in, got, tt.want)
		}
	}
	many := strings.Repeat("scope:read ", MaxScope)
	if got := Scope(many); len(got) > MaxScope || !strings.HasPrefix(got, "scope:read scope:read") {
		t.Errorf("Scope of %d bytes = %d bytes; want at most %d", len(many), len(got), MaxScope)
	}
}

func TestIsSubjectURN(t *testing.T) {
	tests := []struct {
		in   string
		want bool
	}{
		{"urn:pleo:company:3f2c6d1e-0b7a-4c1e-9a55-6f0e2d8b9c41", true},
		{"urn:pleo:organization:3F2C6D1E-0B7A-4C1E-9A55-6F0E2D8B9C41", true},
		{"urn:pleo:company:\x1b]52;c;ZXZpbA==\a", false},
		{"urn:pleo:company:3f2c6d1e-0b7a-4c1e-9a55-6f0e2d8b9c41\n", false},
		{"urn:pleo:company:3f2c6d1e-0b7a-4c1e-9a55-6f0e2d8b9c4", false},
		{"urn:pleo:company:3f2c6d1e+0b7a-4c1e-9a55-6f0e2d8b9c41", false},
		{"urn:pleo:company:3f2c6d1e-0b7a-4c1e-9a55-6f0e2d8b9cxx", false},
		{"urn:pleo:Company:3f2c6d1e-0b7a-4c1e-9a55-6f0e2d8b9c41", false},
		{"urn:pleo::3f2c6d1e-0b7a-4c1e-9a55-6f0e2d8b9c41", false},
		{"urn:other:company:3f2c6d1e-0b7a-4c1e-9a55-6f0e2d8b9c41", false},
		{"", false},
	}
	for _, tt := range tests {
		if got := IsSubjectURN(tt.in); got != tt.want {
			t.Errorf("IsSubjectURN(%q) = %v; want %v", tt.in, got, tt.want)
		}
	}
}

func TestIsB64Token(t *testing.T) {
	tests := []struct {
		in   string
		want bool
	}{
		{"abc-._~+/XYZ09==", true},
		{"a b", false},
		{"a\nb", false},
		{"===", false},
		{"", false},
	}
	for _, tt := range tests {
		if got := IsB64Token(tt.in); got != tt.want {
			t.Errorf("IsB64Token(%q) = %v; want %v", tt.in, got, tt.want)
		}
	}
}

// TestRedact: a secret a server echoes — whole, cut short at either end, twice, split by a line
// break, amid other text — is replaced; what shares fewer than ten characters in a row with it,
// or a secret too short to tell, is not.
func TestRedact(t *testing.T) {
	const rt = "ory_rt_C-iA-_Rl_oxjT-rVO-G72QWotD3II5r_7ZyJ0f3yraU.q3n6vRIBGq1f"
	tests := []struct {
		name, s string
		secrets []string
		want    string
	}{
		{"the whole token", "invalid refresh token " + rt + " (expired)", []string{rt}, "invalid refresh token [redacted] (expired)"},
		{"cut short at the end", "token " + rt[:40], []string{rt}, "token [redacted]"},
		{"cut short, then more", "token " + rt[:20] + "… is revoked", []string{rt}, "token [redacted]… is revoked"},
		{"without its public prefix", "token " + rt[7:] + " spent", []string{rt}, "token [redacted] spent"},
		{"its middle", "token …" + rt[8:30] + "… spent", []string{rt}, "token …[redacted]… spent"},
		{"split by a line break", rt[:20] + "\n" + rt[20:], []string{rt}, "[redacted]\n[redacted]"},
		{"twice", rt + " and " + rt, []string{rt}, "[redacted] and [redacted]"},
		{"ten characters", "x" + rt[9:19] + "y", []string{rt}, "x[redacted]y"},
		{"nine characters are not an echo", "x" + rt[9:18] + "y", []string{rt}, "x" + rt[9:18] + "y"},
		{"two secrets", "code abcdefghijkl secret s3cr3tpassw0rd", []string{"abcdefghijkl", "s3cr3tpassw0rd"}, "code [redacted] secret [redacted]"},
		{"a short secret is left", "the word short", []string{"short"}, "the word short"},
		{"no secrets", "plain " + rt, nil, "plain " + rt},
		{"an empty secret", "plain", []string{""}, "plain"},
	}
	for _, tt := range tests {
		if got := Redact(tt.s, tt.secrets...); got != tt.want {
			t.Errorf("%s: Redact = %q; want %q", tt.name, got, tt.want)
		}
	}
}
