package config

import (
	"net/url"
	"testing"
)

// TestSameOrigin: one origin is one scheme, host and port, a port left out being the scheme's
// default (RFC 6454 §4); anything written another way is another origin. The API's token goes
// only to its origin (internal/api), and a pasted redirect must be on the redirect URI's
// (internal/authcode).
func TestSameOrigin(t *testing.T) {
	tests := []struct {
		base, target string
		same         bool
	}{
		{"https://external.pleo.io", "https://external.pleo.io/v2/x", true},
		{"https://external.pleo.io", "https://EXTERNAL.pleo.io/v2/x", true},
		{"https://external.pleo.io", "https://external.pleo.io:443/v2/x", true},
		{"https://external.pleo.io:443", "https://external.pleo.io/v2/x", true},
		{"http://127.0.0.1", "http://127.0.0.1:80/x", true},
		{"http://127.0.0.1:8080", "http://127.0.0.1:8080/x", true},
		{"https://external.pleo.io", "http://external.pleo.io/v2/x", false},
		{"https://external.pleo.io", "https://external.pleo.io:8443/v2/x", false},
		{"https://external.pleo.io", "https://evil.example/v2/x", false},
		{"https://external.pleo.io", "https://external.pleo.io.evil.example/v2/x", false},
		{"https://external.pleo.io", "https://external.pleo.io./v2/x", false},
		{"http://127.0.0.1:8080", "http://127.0.0.1:80/x", false},
		{"https://external.pleo.io", "ftp://external.pleo.io/x", false},
	}
	for _, tt := range tests {
		base, _ := url.Parse(tt.base)
		target, _ := url.Parse(tt.target)
		if got := SameOrigin(target, base); got != tt.same {
			t.Errorf("sameOrigin(%s, base %s) = %v; want %v", tt.target, tt.base, got, tt.same)
		}
	}
}
