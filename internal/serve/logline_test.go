package serve

import "testing"

// TestLogTextKeepsOneLineOfFields: logText passes printable ASCII as it is and escapes every
// other byte as %XX — the space that would split a log field, the controls below it, DEL and
// every byte of UTF-8 — so that a log line stays one line of space-separated fields whatever a
// request sent.
func TestLogTextKeepsOneLineOfFields(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"/token?min_ttl=1m", "/token?min_ttl=1m"},
		{"!~", "!~"},
		{"a b", "a%20b"},
		{"a\x1fb", "a%1Fb"},
		{"a\x7fb", "a%7Fb"},
		{"\r\n\t", "%0D%0A%09"},
		{"\u009b", "%C2%9B"},
		{"\xff", "%FF"},
	} {
		if got := logText(tc.in, 100); got != tc.want {
			t.Errorf("logText(%q) = %q; want %q", tc.in, got, tc.want)
		}
	}
}
