package config

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/pleoauth/pleoauth/internal/failure"
	"github.com/spf13/pflag"
)

// vars is a process environment of the test's own, so the tests run in parallel.
type vars map[string]string

func (v vars) get(k string) string { return v[k] }

// setHome gives the test its own PLEOAUTH_HOME with the given config.yaml ("" for none), and an
// environment holding nothing else.
func setHome(t *testing.T, yaml string) vars {
	t.Helper()
	t.Parallel()
	home := t.TempDir()
	if yaml != "" {
		if err := os.WriteFile(filepath.Join(home, "config.yaml"), []byte(yaml), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	return vars{"PLEOAUTH_HOME": home}
}

func flagSet(args ...string) *pflag.FlagSet {
	fs := pflag.NewFlagSet("test", pflag.ContinueOnError)
	AddFlags(fs, "env", "scopes")
	_ = fs.Parse(args)
	return fs
}

func TestBuiltinEnvironments(t *testing.T) {
	v := setHome(t, "")
	tests := []struct {
		env, authorize, token, introspect, api string
	}{
		{"staging", "https://auth.staging.pleo.io/oauth/authorize", "https://auth.staging.pleo.io/oauth/token",
			"https://auth.staging.pleo.io/oauth/token/introspect", "https://external.staging.pleo.io"},
		{"production", "https://auth.pleo.io/oauth/authorize", "https://auth.pleo.io/oauth/token",
			"https://auth.pleo.io/oauth/token/introspect", "https://external.pleo.io"},
		{"local", "http://127.0.0.1:8766/oauth/authorize", "http://127.0.0.1:8766/oauth/token",
			"http://127.0.0.1:8766/oauth/token/introspect", "http://127.0.0.1:8766"},
	}
	for _, tt := range tests {
		c, err := Load(flagSet("--env", tt.env), v.get)
		if err != nil {
			t.Fatal(err)
		}
		e, err := c.Environment()
		if err != nil {
			t.Fatal(err)
		}
		if e.AuthorizeURL != tt.authorize || e.TokenURL != tt.token || e.IntrospectURL != tt.introspect || e.APIURL != tt.api {
			t.Errorf("%s = %+v", tt.env, e)
		}
		if e.ClientAuth != ClientAuthBasic || e.RedirectURI != DefaultRedirectURI {
			t.Errorf("%s: client_auth %q, redirect %q; want basic and the default", tt.env, e.ClientAuth, e.RedirectURI)
		}
	}
}

// TestPrecedence: flag > PLEOAUTH_* variable > config file > built-in default.
func TestPrecedence(t *testing.T) {
	const yaml = `
default_env: local
environments:
  local:
    client_id: from-file
    scopes: [file:read]
`
	tests := []struct {
		name                string
		env                 map[string]string
		args                []string
		wantEnv, wantClient string
		wantScopes          []string
	}{
		{"file", nil, nil, "local", "from-file", []string{"file:read"}},
		{"variable over file", map[string]string{"PLEOAUTH_CLIENT_ID": "from-env", "PLEOAUTH_SCOPES": "env:read env:write"}, nil,
			"local", "from-env", []string{"env:read", "env:write"}},
		{"flag over variable", map[string]string{"PLEOAUTH_SCOPES": "env:read"}, []string{"--scope", "flag:read"},
			"local", "from-file", []string{"flag:read"}},
		{"PLEOAUTH_ENV over default_env", map[string]string{"PLEOAUTH_ENV": "staging"}, nil, "staging", "", []string{"users:read"}},
		{"--env over PLEOAUTH_ENV", map[string]string{"PLEOAUTH_ENV": "staging"}, []string{"--env", "production"}, "production", "", []string{"users:read"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			v := setHome(t, yaml)
			for k, val := range tt.env {
				v[k] = val
			}
			c, err := Load(flagSet(tt.args...), v.get)
			if err != nil {
				t.Fatal(err)
			}
			e, err := c.Environment()
			if err != nil {
				t.Fatal(err)
			}
			if e.Name != tt.wantEnv || e.ClientID != tt.wantClient || !slices.Equal(e.Scopes, tt.wantScopes) {
				t.Errorf("got env %q client %q scopes %q; want %q %q %q", e.Name, e.ClientID, e.Scopes, tt.wantEnv, tt.wantClient, tt.wantScopes)
			}
		})
	}
}

func TestCustomEnvironment(t *testing.T) {
	v := setHome(t, `
environments:
  MyServer:
    auth_server_url: https://auth.example.com/
    token_url: https://auth.example.com/dex/token
    client_id: abc
    scopes: "a:read  b:write"
`)
	c, err := Load(flagSet("--env", "myserver"), v.get)
	if err != nil {
		t.Fatal(err)
	}
	e, err := c.LoginEnvironment()
	if err != nil {
		t.Fatal(err)
	}
	want := Environment{
		Name: "myserver", AuthServerURL: "https://auth.example.com/",
		AuthorizeURL: "https://auth.example.com/oauth/authorize", TokenURL: "https://auth.example.com/dex/token",
		IntrospectURL: "https://auth.example.com/oauth/token/introspect", ClientID: "abc",
		RedirectURI: DefaultRedirectURI, Scopes: []string{"a:read", "b:write"}, ClientAuth: ClientAuthBasic,
	}
	if e.Name != want.Name || e.AuthorizeURL != want.AuthorizeURL || e.TokenURL != want.TokenURL ||
		e.IntrospectURL != want.IntrospectURL || !slices.Equal(e.Scopes, want.Scopes) || e.ClientAuth != want.ClientAuth ||
		e.RedirectURI != want.RedirectURI {
		t.Errorf("environment = %+v\nwant %+v", e, want)
	}
}

// TestFileErrors: a config file that cannot be used is a usage error (exit 2) of one line that
// names the file and the line to fix, with the key a misspelt one was meant to be.
func TestFileErrors(t *testing.T) {
	tests := []struct {
		name, yaml string
		line       int
		want       string // the whole message after "FILE:LINE: "
	}{
		{"misspelt key", "environments:\n  x:\n    tokn_url: https://a\n", 3,
			`unknown key "tokn_url" under environments.x (did you mean "token_url"?); fix the file or move it away`},
		{"misspelt top-level key", "store: file\ndefualt_env: x\n", 2,
			`unknown key "defualt_env" (did you mean "default_env"?); fix the file or move it away`},
		{"unknown key, no near one", "colour: blue\n", 1,
			`unknown key "colour" (known: default_env, default_profile, environments, lock_timeout, lock_ttl, min_ttl, on_rotate_timeout, redis_prefix, redis_timeout, redis_url, store, unsaved_timeout); fix the file or move it away`},
		{"per-environment key at the top", "store: file\nclient_id: abc\n", 2,
			"client_id is set per environment; move it under environments.<name>"},
		{"client secret", "environments:\n  x:\n    client_secret: s3cr3t\n", 3,
			"environments.x.client_secret is not allowed in a config file; remove it and set PLEOAUTH_CLIENT_SECRET, or let the login prompt ask for it"},
		{"not YAML", "store: file\nenvironments: [\n", 2,
			"YAML: did not find expected node content; fix the file or move it away"},
		{"YAML error on line 4", "default_env: local\nenvironments:\n  local:\n    bad: : :\n", 4,
			"YAML: mapping values are not allowed in this context; fix the file or move it away"},
		{"tab indentation", "environments:\n\tlocal:\n", 2,
			"YAML: found character that cannot start any token; fix the file or move it away"},
		{"key given twice", "store: file\nStore: keyring\n", 2,
			"store is given twice (first on line 1); fix the file or move it away"},
		{"list where one value goes", "store: [file]\n", 1,
			"store must be a single value; fix the file or move it away"},
		{"environment not a mapping", "environments:\n  x: https://a\n", 2,
			"environments.x must be a map of settings; fix the file or move it away"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			v := setHome(t, tt.yaml)
			file := filepath.Join(v["PLEOAUTH_HOME"], "config.yaml")
			_, err := Load(nil, v.get)
			want := fmt.Sprintf("%s:%d: %s", file, tt.line, tt.want)
			if err == nil || err.Error() != want {
				t.Errorf("Load = %v\nwant %s", err, want)
			}
			var fe *FileError
			if !errors.As(err, &fe) || fe.Line != tt.line {
				t.Errorf("Load = %#v; want a *FileError (a usage error) of line %d", err, tt.line)
			}
		})
	}
}

func TestLoginValidation(t *testing.T) {
	tests := []struct {
		name string
		env  map[string]string
		want string // "" for valid
	}{
		{"valid local", nil, ""},
		{"missing client id", map[string]string{"PLEOAUTH_ENV": "staging"}, "has no client_id"},
		{"http remote authorize", map[string]string{"PLEOAUTH_AUTHORIZE_URL": "http://auth.example.com/a"}, "must use https"},
		{"ftp token url", map[string]string{"PLEOAUTH_TOKEN_URL": "ftp://auth.example.com/t"}, "must be an https URL"},
		{"relative token url", map[string]string{"PLEOAUTH_TOKEN_URL": "/oauth/token"}, "not an absolute URL"},
		{"http on 127.0.0.2 is loopback", map[string]string{"PLEOAUTH_TOKEN_URL": "http://127.0.0.2:1/t"}, ""},
		{"http redirect on a LAN address", map[string]string{"PLEOAUTH_REDIRECT_URI": "http://192.168.1.2:8765/cb"}, "must use https"},
		{"http redirect to a web page", map[string]string{"PLEOAUTH_REDIRECT_URI": "http://oauth.pstmn.io/v1/callback"}, "must use https"},
		{"custom-scheme redirect", map[string]string{"PLEOAUTH_REDIRECT_URI": "com.example.app://cb"}, "must be an https page"},
		{"Postman's callback is pasted back", map[string]string{"PLEOAUTH_REDIRECT_URI": "https://oauth.pstmn.io/v1/callback"}, ""},
		{"https page with a fragment", map[string]string{"PLEOAUTH_REDIRECT_URI": "https://oauth.pstmn.io/v1/callback#x"}, "fragment"},
		{"https redirect on loopback", map[string]string{"PLEOAUTH_REDIRECT_URI": "https://localhost:8765/cb"}, "must use http"},
		{"redirect on ::1", map[string]string{"PLEOAUTH_REDIRECT_URI": "http://[::1]:8765/cb"}, ""},
		{"redirect with query", map[string]string{"PLEOAUTH_REDIRECT_URI": "http://127.0.0.1:8765/cb?x=1"}, "query"},
		{"client auth", map[string]string{"PLEOAUTH_CLIENT_AUTH": "both"}, `client_auth "both"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			v := setHome(t, "")
			v["PLEOAUTH_ENV"] = "local"
			for k, val := range tt.env {
				v[k] = val
			}
			c, err := Load(nil, v.get)
			if err == nil {
				_, err = c.LoginEnvironment()
			}
			switch {
			case tt.want == "" && err != nil:
				t.Errorf("unexpected error: %v", err)
			case tt.want != "" && (err == nil || !strings.Contains(err.Error(), tt.want)):
				t.Errorf("error = %v; want one containing %q", err, tt.want)
			}
		})
	}
}

func TestUnknownEnvironment(t *testing.T) {
	v := setHome(t, "")
	c, err := Load(flagSet("--env", "nope"), v.get)
	if err != nil {
		t.Fatal(err)
	}
	_, err = c.Environment()
	if _, ok := err.(*UnknownEnvError); !ok {
		t.Fatalf("error = %v; want *UnknownEnvError", err)
	}
}

// TestExampleConfigs loads every file in configs/, so the examples cannot drift from the code.
func TestExampleConfigs(t *testing.T) {
	files, err := filepath.Glob("../../configs/*.yaml")
	if err != nil || len(files) == 0 {
		t.Fatalf("no example configs found (%v)", err)
	}
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		c, err := Load(nil, vars{"PLEOAUTH_HOME": writeHome(t, string(data))}.get)
		if err != nil {
			t.Errorf("%s: %v", f, err)
			continue
		}
		for _, name := range c.Names() {
			c.Env = name
			if _, err := c.LoginEnvironment(); err != nil {
				t.Errorf("%s: environment %s: %v", f, name, err)
			}
		}
	}
}

func writeHome(t *testing.T, yaml string) string {
	t.Helper()
	home := t.TempDir()
	if err := os.WriteFile(filepath.Join(home, "config.yaml"), []byte(yaml), 0o600); err != nil {
		t.Fatal(err)
	}
	return home
}

// What chose the store is named in messages, so a user knows what to drop: the flag, the
// variable or the file's key; nothing when the store is the built-in default.
func TestStoreFrom(t *testing.T) {
	tests := []struct {
		name, yaml string
		args       []string
		vars       vars
		want       string
		chosen     bool
	}{
		{"default", "", nil, nil, "", false},
		{"flag", "", []string{"--store", "file"}, nil, "--store", true},
		{"variable", "", nil, vars{"PLEOAUTH_STORE": "file"}, "PLEOAUTH_STORE", true},
		{"config file", "store: file\n", nil, nil, "store: in ", true},
		{"flag over variable", "", []string{"--store", "keyring"}, vars{"PLEOAUTH_STORE": "file"}, "--store", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			v := setHome(t, tt.yaml)
			for k, val := range tt.vars {
				v[k] = val
			}
			fs := pflag.NewFlagSet("test", pflag.ContinueOnError)
			AddFlags(fs, "store")
			if err := fs.Parse(tt.args); err != nil {
				t.Fatal(err)
			}
			c, err := Load(fs, v.get)
			if err != nil {
				t.Fatal(err)
			}
			if !strings.HasPrefix(c.StoreFrom, tt.want) || (tt.want == "") != (c.StoreFrom == "") || c.StoreChosen != tt.chosen {
				t.Errorf("StoreFrom, StoreChosen = %q, %v; want %q…, %v", c.StoreFrom, c.StoreChosen, tt.want, tt.chosen)
			}
		})
	}
}

func TestIsPasteBack(t *testing.T) {
	tests := []struct {
		uri  string
		want bool
	}{
		{"http://localhost:8765/callback", false},
		{"http://127.0.0.1:8765/callback", false},
		{"http://[::1]:8765/callback", false},
		{"https://oauth.pstmn.io/v1/callback", true},
		{"https://example.com/landing", true},
	}
	for _, tt := range tests {
		if got := IsPasteBack(tt.uri); got != tt.want {
			t.Errorf("IsPasteBack(%q) = %v; want %v", tt.uri, got, tt.want)
		}
	}
}

// TestMarkUsage: the configuration's own errors are usage errors (exit 2); any other error —
// a folder that cannot be read, say — passes as it is.
func TestMarkUsage(t *testing.T) {
	plain := errors.New("permission denied")
	tests := []struct {
		err  error
		want failure.Kind
	}{
		{&UnknownEnvError{Name: "stagin", Known: []string{"staging"}, File: "/h/config.yaml"}, failure.Usage},
		{fmt.Errorf("wrapped: %w", &UsageError{Msg: "min_ttl is not a duration"}), failure.Usage},
		{&FileError{Path: "/h/config.yaml", Line: 3, Msg: "not YAML"}, failure.Usage},
		{plain, failure.Other},
	}
	for _, tt := range tests {
		if got := failure.KindOf(MarkUsage(tt.err)); got != tt.want {
			t.Errorf("MarkUsage(%v): kind %v; want %v", tt.err, got, tt.want)
		}
		if !errors.Is(MarkUsage(tt.err), tt.err) {
			t.Errorf("MarkUsage(%v) lost the error", tt.err)
		}
	}
	if MarkUsage(nil) != nil {
		t.Error("MarkUsage(nil) is not nil")
	}
}
