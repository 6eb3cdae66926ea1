package grant

import (
	"io"
	"strings"
	"testing"
	"time"

	"github.com/pleoauth/pleoauth/internal/failure"
)

// TestOpenSelected: the configuration resolved as the command line resolves it opens the
// selected login; a setting that makes no sense — in config loading, in the environment, or
// for a login — is a usage error naming it.
func TestOpenSelected(t *testing.T) {
	home := t.TempDir()
	tests := []struct {
		name     string
		vars     map[string]string
		forLogin bool
		login    string // the login opened, or "" for a failure
		kind     failure.Kind
		message  string
	}{
		{"the default profile", map[string]string{"PLEOAUTH_ENV": "local"}, false, "local", 0, ""},
		{"a profile", map[string]string{"PLEOAUTH_ENV": "local", "PLEOAUTH_PROFILE": "acme"}, false, "local@acme", 0, ""},
		{"a relative home", map[string]string{"PLEOAUTH_HOME": "rel"}, false, "", failure.Usage, `PLEOAUTH_HOME "rel" is a relative path`},
		{"an unknown environment", map[string]string{"PLEOAUTH_ENV": "nope"}, false, "", failure.Usage, `unknown environment "nope"`},
		{"a bad URL in the environment", map[string]string{"PLEOAUTH_ENV": "local", "PLEOAUTH_TOKEN_URL": "ftp://x"}, false, "", failure.Usage, "token_url"},
		// A login without a client ID is exit 1 (TestLoginConfigErrors), not a usage error.
		{"a login without a client ID", map[string]string{"PLEOAUTH_ENV": "staging"}, true, "", failure.Other, "has no client_id"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			getenv := func(name string) string {
				if v, ok := tt.vars[name]; ok {
					return v
				}
				if name == "PLEOAUTH_HOME" {
					return home
				}
				if name == "PLEOAUTH_STORE" {
					return "file"
				}
				return ""
			}
			g, err := OpenSelected(nil, getenv, Deps{Stderr: io.Discard, Getenv: getenv, Now: time.Now}, tt.forLogin)
			switch {
			case tt.login != "" && (err != nil || g.Name != tt.login):
				t.Fatalf("got %v, %v; want login %s", g, err, tt.login)
			case tt.login == "" && (failure.KindOf(err) != tt.kind || err == nil || !strings.Contains(err.Error(), tt.message)):
				t.Fatalf("got %v; want kind %v saying %q", err, tt.kind, tt.message)
			}
		})
	}
}
