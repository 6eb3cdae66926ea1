package config

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestSetAndUnsetKeepTheFile: "config set" and "config unset" on a copy of
// configs/config.example.yaml change the setting's line and nothing else — every comment, blank
// line, aligned comment and the order of the keys stay byte for byte — and a new key goes at the
// end of its mapping, indented like its siblings.
func TestSetAndUnsetKeepTheFile(t *testing.T) {
	example, err := os.ReadFile(filepath.Join("..", "..", "configs", "config.example.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	unset := "\x00" // value: run Unset
	tests := []struct {
		name, env, key, value string
		old, new              string // the file is the example with old replaced by new
		wantPath              string
	}{
		{"top-level value", "", "default_env", "production",
			"default_env: staging\n", "default_env: production\n", "default_env"},
		{"per-environment value", "staging", "client_id", "new-id",
			"    client_id: 00000000-0000-4000-8000-000000000001\n", "    client_id: new-id\n", "environments.staging.client_id"},
		{"flow list stays a flow list", "staging", "scopes", "users:read",
			"    scopes: [users:read, export-jobs:read]\n", "    scopes: [users:read]\n", "environments.staging.scopes"},
		{"aligned comment stays aligned", "production", "scopes", "users:read export-jobs:read",
			"    scopes: users:read              # one", "    scopes: users:read export-jobs:read              # one", "environments.production.scopes"},
		{"value that needs quotes", "myserver", "on_rotate", "echo '#1': done",
			"    client_auth: body               # client_secret_post; \"basic\" (the default) is Pleo's rule\n",
			"    client_auth: body               # client_secret_post; \"basic\" (the default) is Pleo's rule\n    on_rotate: 'echo ''#1'': done'\n", "environments.myserver.on_rotate"},
		{"new key at the end of its environment", "staging", "api_url", "https://api.example.com",
			"    scopes: [users:read, export-jobs:read]\n", "    scopes: [users:read, export-jobs:read]\n    api_url: https://api.example.com\n", "environments.staging.api_url"},
		{"new list", "local", "scopes", "a:read b:write",
			"    client_id: pleoauth-local\n", "    client_id: pleoauth-local\n    scopes: [a:read, b:write]\n", "environments.local.scopes"},
		{"new environment at the end of environments", "newenv", "auth_server_url", "https://auth.new.example",
			"Pleo's rule\n", "Pleo's rule\n  newenv:\n    auth_server_url: https://auth.new.example\n", "environments.newenv.auth_server_url"},
		// A server that is not Pleo's may give its endpoints instead of auth_server_url.
		{"new environment from its authorize_url", "newenv", "authorize_url", "https://auth.new.example/authorize",
			"Pleo's rule\n", "Pleo's rule\n  newenv:\n    authorize_url: https://auth.new.example/authorize\n", "environments.newenv.authorize_url"},
		{"new environment from its token_url", "newenv", "token_url", "https://auth.new.example/token",
			"Pleo's rule\n", "Pleo's rule\n  newenv:\n    token_url: https://auth.new.example/token\n", "environments.newenv.token_url"},
		{"new top-level key at the end", "", "store", "file",
			"Pleo's rule\n", "Pleo's rule\nstore: file\n", "store"},
		{"unset a top-level key", "", "default_env", unset,
			"default_env: staging\n", "", "default_env"},
		{"unset a per-environment key", "production", "client_id", unset,
			"    client_id: 00000000-0000-4000-8000-000000000002\n", "", "environments.production.client_id"},
		{"unset a list", "staging", "scopes", unset,
			"    scopes: [users:read, export-jobs:read]\n", "", "environments.staging.scopes"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			v := setHome(t, string(example))
			file := filepath.Join(v["PLEOAUTH_HOME"], "config.yaml")
			want := strings.Replace(string(example), tt.old, tt.new, 1)
			if !strings.Contains(string(example), tt.old) {
				t.Fatalf("the example lacks %q", tt.old)
			}
			c, err := Load(flagSet("--env", orDefault(tt.env, "staging")), v.get)
			if err != nil {
				t.Fatal(err)
			}
			var path string
			if tt.value == unset {
				var was bool
				path, was, err = c.Unset(tt.key)
				if !was {
					t.Errorf("Unset(%q) says it was not set", tt.key)
				}
			} else {
				path, err = c.Set(tt.key, tt.value)
			}
			if err != nil || path != tt.wantPath {
				t.Fatalf("= %q, %v; want %q", path, err, tt.wantPath)
			}
			if got := fileText(t, file); got != want {
				t.Errorf("config.yaml:\n%s\nwant:\n%s", got, want)
			}
			c, err = Load(flagSet("--env", orDefault(tt.env, "staging")), v.get)
			if err != nil {
				t.Fatalf("the file no longer loads: %v", err)
			}
			if tt.value != unset && tt.key != "default_env" {
				if s, err := c.Get(tt.key); err != nil || s.Value != tt.value {
					t.Errorf("Get(%q) = %q, %v; want %q", tt.key, s.Value, err, tt.value)
				}
			}
		})
	}
}

// TestSetAndUnsetOtherLayouts: files unlike the example — none, empty, only comments, flow
// mappings, an environment with one key, a tab before a comment, an indent that changes from one
// level to the next, a second YAML document — are edited correctly, the emptied environment
// removed (and only it), and a key that was not set reported as such.
func TestSetAndUnsetOtherLayouts(t *testing.T) {
	unset := "\x00"
	readsBack := "\x00" // want: whatever the layout, the file reads back with the new value
	tests := []struct {
		name, file, env, key, value, want string
		wasSet                            bool
	}{
		{"no file", "", "staging", "client_id", "abc", "environments:\n  staging:\n    client_id: abc\n", true},
		{"only comments", "# mine\n", "", "store", "file", "# mine\nstore: file\n", true},
		{"no line end", "store: file", "", "default_env", "local", "store: file\ndefault_env: local\n", true},
		{"empty environment", "environments:\n  staging:\n", "staging", "client_id", "abc", "environments:\n  staging:\n    client_id: abc\n", true},
		{"empty environment keeps the lines around it", "environments:\n  staging:\n\n\nstore: file        # aligned\n", "staging", "client_id", "abc",
			"environments:\n  staging:\n    client_id: abc\n\n\nstore: file        # aligned\n", true},
		{"four-space indent", "environments:\n    local:\n        client_id: a\n", "staging", "client_id", "abc",
			"environments:\n    local:\n        client_id: a\n    staging:\n        client_id: abc\n", true},
		{"flow mapping is rewritten", "environments: {local: {client_id: a}}\n", "local", "client_id", "b", readsBack, true},
		{"last key takes its environment", "store: file\nenvironments:\n  local:\n    client_id: a\n  x:\n    auth_server_url: https://x\n", "x", "auth_server_url", unset,
			"store: file\nenvironments:\n  local:\n    client_id: a\n", true},
		{"last environment takes environments", "store: file\n# envs\nenvironments:\n  x:\n    auth_server_url: https://x\n", "x", "auth_server_url", unset,
			"store: file\n# envs\n", true},
		{"not set", "store: file\n", "staging", "client_id", unset, "store: file\n", false},
		// The line edit would put the key in the second document, which nobody reads.
		{"second document", "store: file\n---\nstore: redis\n", "", "min_ttl", "5m", readsBack, true},
		{"flow mapping keeps the other keys", "environments: {local: {client_id: a, scopes: [x:read]}}\n", "local", "client_id", unset,
			"environments: {local: {scopes: ['x:read']}}\n", true},
		{"flow mapping keeps the other environments", "environments: {local: {client_id: a}, x: {auth_server_url: https://x}}\n", "x", "auth_server_url", unset,
			"environments: {local: {client_id: a}}\n", true},
		{"empty flow mapping", "# mine\nenvironments: {}\n", "staging", "client_id", "abc", "# mine\nenvironments: {staging: {client_id: abc}}\n", true},
		{"tab before a trailing comment", "store: file\t# mine\n", "", "store", "keyring", "store: keyring\t# mine\n", true},
		{"nested indent unlike the top", "environments:\n    local:\n      client_id: a\n", "local", "scopes", "a:read",
			"environments:\n    local:\n      client_id: a\n      scopes: [a:read]\n", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			v := setHome(t, tt.file)
			file := filepath.Join(v["PLEOAUTH_HOME"], "config.yaml")
			c, err := Load(flagSet("--env", orDefault(tt.env, "staging")), v.get)
			if err != nil {
				t.Fatal(err)
			}
			was := true
			if tt.value == unset {
				_, was, err = c.Unset(tt.key)
			} else {
				_, err = c.Set(tt.key, tt.value)
			}
			if err != nil || was != tt.wasSet {
				t.Fatalf("= %v, %v; want set %v", was, err, tt.wasSet)
			}
			got, _ := os.ReadFile(file)
			if tt.want == readsBack {
				c, err := Load(flagSet("--env", orDefault(tt.env, "staging")), v.get)
				if s, _ := c.Get(tt.key); err != nil || s.Value != tt.value {
					t.Errorf("after Set, %s = %q, %v:\n%s", tt.key, s.Value, err, got)
				}
				return
			}
			if string(got) != tt.want {
				t.Errorf("config.yaml:\n%q\nwant:\n%q", got, tt.want)
			}
		})
	}
}

func orDefault(s, def string) string {
	if s == "" {
		return def
	}
	return s
}
