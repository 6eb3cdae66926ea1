package cli

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/pleoauth/pleoauth/internal/exitcode"
)

// TestMessagesNameTheObjectOnce: each message is one line that names what to fix, where it
// was set, and no prefix twice.
func TestMessagesNameTheObjectOnce(t *testing.T) {
	t.Run("PLEOAUTH_HOME is a file", func(t *testing.T) {
		h := newHarness(t)
		file := filepath.Join(t.TempDir(), "home")
		if err := os.WriteFile(file, nil, 0o600); err != nil {
			t.Fatal(err)
		}
		t.Setenv("PLEOAUTH_HOME", file)
		r := h.main("token")
		if r.code != exitcode.Usage || !strings.Contains(r.stderr, "PLEOAUTH_HOME "+file+" is a file") {
			t.Errorf("%+v; want exit 2 naming PLEOAUTH_HOME", r)
		}
		oneLine(t, r.stderr)
	})
	t.Run("exec of a missing command", func(t *testing.T) {
		h := newHarness(t)
		h.seedExpired("local")
		r := h.main("exec", "--env", "local", "--", "/nonexistent")
		if r.code != 127 || strings.Contains(r.stderr, "exec: exec:") || !strings.Contains(r.stderr, "/nonexistent is not a command") {
			t.Errorf("%+v; want exit 127 (as a shell says) naming the command once", r)
		}
	})
	t.Run("env shows an override only where it applies", func(t *testing.T) {
		h := newHarness(t)
		t.Setenv("PLEOAUTH_AUTH_SERVER_URL", "https://override.example")
		r := h.main("env", "--env", "local")
		if strings.Count(r.stdout, "override.example") != 1 || !strings.Contains(r.stdout, "https://auth.pleo.io") {
			t.Errorf("env with PLEOAUTH_AUTH_SERVER_URL:\n%s\nwant the override on the selected environment only", r.stdout)
		}
	})
}
