package config

import (
	"errors"
	"strings"
	"testing"
)

// TestHomeMustBeAbsolute: a PLEOAUTH_HOME starting with ~ (quoted, so no shell expanded it) or
// relative is refused with the fix, never turned into a folder below the current one.
func TestHomeMustBeAbsolute(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		home string
		want string // in the error; "" for accepted
	}{
		{"/abs/pleoauth", ""},
		{"/abs/pleoauth/../pa/", ""},
		{"~/pa", `PLEOAUTH_HOME "~/pa" starts with ~, which a shell expands only unquoted; set an absolute path, e.g. PLEOAUTH_HOME="$HOME/pa"`},
		{"~", `e.g. PLEOAUTH_HOME="$HOME"`},
		{"~bob/pa", `e.g. PLEOAUTH_HOME="/home/you/pleoauth"`},
		{"pa", `PLEOAUTH_HOME "pa" is a relative path, which names another folder from each folder pleoauth runs in; set an absolute path, e.g. PLEOAUTH_HOME="$PWD/pa"`},
		{"./x/../pa", `e.g. PLEOAUTH_HOME="$PWD/pa"`},
	} {
		c, err := Load(nil, vars{"PLEOAUTH_HOME": tt.home}.get)
		if tt.want == "" {
			// The folder need not exist: Load reads a missing config.yaml as empty.
			if err != nil || !strings.HasPrefix(c.Home, "/abs/") {
				t.Errorf("Load with PLEOAUTH_HOME=%q: %v, home %v; want accepted", tt.home, err, c)
			}
			continue
		}
		var usage *UsageError
		if !errors.As(err, &usage) || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("Load with PLEOAUTH_HOME=%q: %v; want a usage error containing %q", tt.home, err, tt.want)
		}
	}
}
