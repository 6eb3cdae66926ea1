package config

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// FuzzConfigFile: any config.yaml gives a configuration or a one-line error naming the file.
func FuzzConfigFile(f *testing.F) {
	for _, seed := range []string{
		"default_env: local\nenvironments:\n  local:\n    client_id: x\n    scopes: a b\n",
		"environments:\n  x:\n    scopes: [a, b]\n    token_url: https://a/t\n",
		"environments: [\n",
		"store: file\n",
		"environments:\n  Weird/Name:\n    client_secret: s\n",
	} {
		f.Add([]byte(seed))
	}
	home := f.TempDir()
	getenv := vars{"PLEOAUTH_HOME": home}.get
	file := filepath.Join(home, "config.yaml")
	f.Fuzz(func(t *testing.T, data []byte) {
		if err := os.WriteFile(file, data, 0o600); err != nil {
			t.Fatal(err)
		}
		c, err := Load(nil, getenv)
		if err != nil {
			if strings.Contains(err.Error(), "\n") || !strings.Contains(err.Error(), file) {
				t.Fatalf("error is not one line naming the file: %q", err)
			}
			return
		}
		for _, name := range c.Names() {
			c.Env = name
			_, _ = c.LoginEnvironment()
			_, _ = c.Settings()
		}
	})
}
