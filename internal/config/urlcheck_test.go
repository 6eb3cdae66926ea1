package config

import (
	"errors"
	"strings"
	"testing"
)

// TestURLSettingsRefusePlainHTTP: every URL setting, from config.yaml or its variable, refuses
// plain http to a host that is not loopback (the client secret, codes and tokens would cross the
// network in the clear, RFC 6749 §3.1/§3.2) as a usage error naming the setting and where to fix
// it, and accepts https and loopback. A host that only starts like a loopback one
// (localhost.evil.example, 127.0.0.1.nip.io) is a remote host.
func TestURLSettingsRefusePlainHTTP(t *testing.T) {
	urls := []struct {
		url      string
		loopback bool // plain http on this host never leaves the machine
		secure   bool // https
	}{
		{"http://example.com", false, false},
		{"http://localhost.evil.example", false, false},
		{"http://localhost.evil.example:8766", false, false},
		{"http://127.0.0.1.nip.io", false, false},
		{"http://localhost:8766", true, false},
		{"http://127.0.0.1", true, false},
		{"http://127.0.0.1:8766", true, false},
		{"http://[::1]", true, false},
		{"http://[::1]:8766", true, false},
		{"https://example.com", false, true},
	}
	for _, key := range []string{"auth_server_url", "authorize_url", "token_url", "introspect_url", "api_url", "redirect_uri"} {
		var s Spec
		for _, sp := range Specs() {
			if sp.Key == key {
				s = sp
			}
		}
		if s.Var == "" {
			t.Fatalf("no setting %q", key)
		}
		for _, u := range urls {
			want := u.secure || u.loopback
			if key == "redirect_uri" && u.loopback && !strings.Contains(u.url, ":8766") {
				want = false // a loopback redirect needs the registered port (RFC 8252 §7.3)
			}
			for _, source := range []string{"config.yaml", "variable"} {
				t.Run(key+"/"+source+"/"+u.url, func(t *testing.T) {
					yaml := "environments:\n  t:\n    client_id: x\n"
					fix := s.Var
					if source == "config.yaml" {
						yaml += "    " + key + ": " + u.url + "\n"
						fix = "environments.t." + key + " in "
					}
					v := setHome(t, yaml)
					if source == "variable" {
						v[s.Var] = u.url
					}
					c, err := Load(flagSet("--env", "t"), v.get)
					if err != nil {
						t.Fatal(err)
					}
					_, err = c.Environment()
					if want {
						if err != nil {
							t.Fatalf("%s = %s refused: %v", key, u.url, err)
						}
						return
					}
					var usage *UsageError
					if !errors.As(err, &usage) {
						t.Fatalf("%s = %s: got %v; want a usage error", key, u.url, err)
					}
					if msg := err.Error(); !strings.Contains(msg, key) || !strings.Contains(msg, fix) || strings.Contains(msg, "\n") {
						t.Errorf("%s = %s: error %q does not name %s and %q on one line", key, u.url, msg, key, fix)
					}
				})
			}
		}
	}
}
