package config

import (
	"errors"
	"os"
	"path/filepath"
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

// TestRealHome: the keychain's name for a home is its real path, whether it is reached through
// a symbolic link, or does not exist yet below one (the first login creates it).
func TestRealHome(t *testing.T) {
	t.Parallel()
	base, err := filepath.EvalSymlinks(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	real := filepath.Join(base, "real")
	if err := os.Mkdir(real, 0o700); err != nil {
		t.Fatal(err)
	}
	link := filepath.Join(base, "link")
	if err := os.Symlink(real, link); err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct{ home, want string }{
		{real, real},
		{link, real},
		{filepath.Join(link, "not", "yet"), filepath.Join(real, "not", "yet")},
		{filepath.Join(base, "missing"), filepath.Join(base, "missing")},
	} {
		c, err := Load(nil, vars{"PLEOAUTH_HOME": tt.home}.get)
		if err != nil {
			t.Fatal(err)
		}
		if c.RealHome != tt.want || c.Home != tt.home {
			t.Errorf("PLEOAUTH_HOME=%s: Home %s, RealHome %s; want %s, %s", tt.home, c.Home, c.RealHome, tt.home, tt.want)
		}
	}
}
