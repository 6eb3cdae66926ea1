package loopback

import (
	"net/url"
	"testing"
)

// TestReceivable: only a plain-http redirect URI on a loopback host can be received by
// listening (RFC 8252 §7.3); https, or any other host, is reached only by pasting the address.
func TestReceivable(t *testing.T) {
	for _, tc := range []struct {
		uri  string
		want bool
	}{
		{"http://localhost:8765/callback", true},
		{"http://127.0.0.1:8765/callback", true},
		{"http://[::1]:8765/callback", true},
		{"http://127.0.0.1/callback", true},
		{"https://localhost:8765/callback", false},
		{"https://oauth.pstmn.io/v1/callback", false},
		{"http://example.com:8765/callback", false},
		{"http://localhost.example.com:8765/callback", false},
		{"http://0.0.0.0:8765/callback", false},
	} {
		u, err := url.Parse(tc.uri)
		if err != nil {
			t.Fatal(err)
		}
		if got := Receivable(u); got != tc.want {
			t.Errorf("Receivable(%s) = %v; want %v", tc.uri, got, tc.want)
		}
	}
}

// TestLoopbackHost: the redirect is accepted only with a Host header that names this machine
// by a loopback name, with or without a port; a name that merely resolves to 127.0.0.1 is a
// web page trying DNS rebinding.
func TestLoopbackHost(t *testing.T) {
	for _, tc := range []struct {
		host string
		want bool
	}{
		{"localhost:8765", true},
		{"127.0.0.1:8765", true},
		{"[::1]:8765", true},
		{"localhost", true},
		{"127.0.0.1", true},
		{"[::1]", true},
		{"", false},
		{"attacker.example:8765", false},
		{"attacker.example", false},
		{"localhost.attacker.example:8765", false},
		{"127.0.0.1.nip.io", false},
		{"[::2]:8765", false},
	} {
		if got := loopbackHost(tc.host); got != tc.want {
			t.Errorf("loopbackHost(%q) = %v; want %v", tc.host, got, tc.want)
		}
	}
}
