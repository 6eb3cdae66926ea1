package cli

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/pleoauth/pleoauth/internal/exitcode"
	"github.com/pleoauth/pleoauth/internal/store"
)

// TestChildrenGetNoSecrets: the commands pleoauth starts — "pleoauth exec"'s and on_rotate —
// get the parent's environment and their own variables, but none of the secrets pleoauth runs on.
// Each child writes its whole environment to a file, which is then read back.
func TestChildrenGetNoSecrets(t *testing.T) {
	h, _, _, _ := loggedInAndExpired(t, 15*time.Second)
	secrets := map[string]string{
		"PLEOAUTH_CLIENT_SECRET":  "devserver-test-secret",
		"PLEOAUTH_REFRESH_TOKEN":  "refresh-token-from-ci",
		"PLEOAUTH_STORE_KEY":      store.NewStoreKey(),
		"PLEOAUTH_REDIS_PASSWORD": "redis-password-value",
		"PLEOAUTH_SERVE_KEY":      "serve-key-value",
		"PLEOAUTH_REDIS_URL":      "redis://:url-password-value@127.0.0.1:1/0",
	}
	for k, v := range secrets {
		t.Setenv(k, v)
	}
	t.Setenv("PLEOAUTH_TEST_KEPT", "kept")

	rotated := filepath.Join(t.TempDir(), "on_rotate.env")
	t.Setenv("PLEOAUTH_ON_ROTATE", "env > "+rotated+"; cat > /dev/null")
	executed := filepath.Join(t.TempDir(), "exec.env")
	if r := h.main("exec", "--env", "local", "--", "sh", "-c", "env > "+executed); r.code != exitcode.OK {
		t.Fatalf("exec after an expiry (refresh and on_rotate): %+v", r)
	}

	for _, c := range []struct {
		file string
		want []string
	}{
		{rotated, []string{"PLEOAUTH_ENV=local", "PLEOAUTH_PROFILE=", "PLEOAUTH_TEST_KEPT=kept"}},
		{executed, []string{"PLEO_ACCESS_TOKEN=", "PLEO_API_URL=", "PLEOAUTH_TEST_KEPT=kept"}},
	} {
		data, err := os.ReadFile(c.file)
		if err != nil {
			t.Fatalf("the child did not write its environment: %v", err)
		}
		env := string(data)
		for name, value := range secrets {
			if strings.Contains(env, name+"=") || strings.Contains(env, value) {
				t.Errorf("%s: the child saw %s", filepath.Base(c.file), name)
			}
		}
		for _, w := range c.want {
			if !strings.Contains(env, "\n"+w) && !strings.HasPrefix(env, w) {
				t.Errorf("%s: the child did not get %s", filepath.Base(c.file), w)
			}
		}
	}
}
