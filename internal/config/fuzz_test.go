package config

import (
	"net"
	"net/url"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

// FuzzConfigFile: any config.yaml gives a configuration or a one-line error naming the file,
// and every URL of an environment it accepts is https or plain http to a loopback host.
func FuzzConfigFile(f *testing.F) {
	for _, seed := range []string{
		"default_env: local\nenvironments:\n  local:\n    client_id: x\n    scopes: a b\n",
		"environments:\n  x:\n    scopes: [a, b]\n    token_url: https://a/t\n",
		"environments: [\n",
		"store: file\n",
		"environments:\n  Weird/Name:\n    client_secret: s\n",
		"environments:\n  x:\n    auth_server_url: http://localhost.evil.example\n",
		"environments:\n  x:\n    introspect_url: http://127.0.0.1.nip.io/i\n    api_url: http://[::1]:1/\n",
		"environments:\n  x:\n    redirect_uri: http://localhost:1/cb\n    token_url: HTTP://Example.com/t\n",
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
			e, err := c.Environment()
			if err != nil {
				continue
			}
			for key, u := range map[string]string{"auth_server_url": e.AuthServerURL, "authorize_url": e.AuthorizeURL,
				"token_url": e.TokenURL, "introspect_url": e.IntrospectURL, "api_url": e.APIURL, "redirect_uri": e.RedirectURI} {
				if u != "" && !httpsOrLoopback(u) {
					t.Fatalf("env %s: %s %q accepted: it is neither https nor loopback", name, key, u)
				}
			}
		}
	})
}

// httpsOrLoopback is the fuzzer's own oracle, independent of the code it checks: u is https, or
// http to localhost or a loopback IP.
func httpsOrLoopback(u string) bool {
	p, err := url.Parse(u)
	if err != nil {
		return false
	}
	switch strings.ToLower(p.Scheme) {
	case "https":
		return true
	case "http":
		host := p.Hostname()
		ip := net.ParseIP(host)
		return host == "localhost" || ip != nil && ip.IsLoopback()
	}
	return false
}

// FuzzSetUnset: on any config.yaml that loads, "config set" leaves a file that loads with the new
// value and every other setting as it was, and "config unset" one without it.
func FuzzSetUnset(f *testing.F) {
	example, _ := os.ReadFile(filepath.Join("..", "..", "configs", "config.example.yaml"))
	for _, seed := range []string{
		string(example),
		"",
		"# only a comment\n",
		"store: file",
		"environments: {local: {client_id: a}}\n",
		"environments:\n  local:\n    scopes:\n      - a\n      - b\n    client_id: x\n",
		"environments:\n  staging:\n    on_rotate: |\n      cat >/dev/null\n    client_id: y\n",
		"default_env: &e local\nenvironments:\n  local:\n    client_id: *e\n",
	} {
		f.Add([]byte(seed), "client_id", "new value: #1")
		f.Add([]byte(seed), "scopes", "a:read b:write")
		f.Add([]byte(seed), "store", "file")
	}
	f.Fuzz(func(t *testing.T, data []byte, key, value string) {
		home := t.TempDir()
		getenv := vars{"PLEOAUTH_HOME": home}.get
		file := filepath.Join(home, "config.yaml")
		if err := os.WriteFile(file, data, 0o600); err != nil {
			t.Fatal(err)
		}
		c, err := Load(flagSet("--env", "local"), getenv)
		if err != nil {
			return
		}
		before := c.file
		s, err := fileSpec(key)
		if err != nil || s.check != nil && s.check(value) != nil || strings.ContainsAny(value, "\x00") {
			return
		}
		if _, err := c.Set(key, value); err != nil {
			return // refused, as for a value of a key that is not a mapping's
		}
		c, err = Load(flagSet("--env", "local"), getenv)
		if err != nil {
			t.Fatalf("after Set(%q, %q) the file does not load: %v\n%s", key, value, err, fileText(t, file))
		}
		if want := before.with(s, c.filePath(s), &value); !reflect.DeepEqual(c.file, want) {
			t.Fatalf("after Set(%q, %q):\n%+v\nwant\n%+v\n%s", key, value, c.file, want, fileText(t, file))
		}
		if _, _, err := c.Unset(key); err != nil {
			t.Fatalf("Unset(%q): %v", key, err)
		}
		c, err = Load(flagSet("--env", "local"), getenv)
		if err != nil {
			t.Fatalf("after Unset(%q) the file does not load: %v\n%s", key, err, fileText(t, file))
		}
		if c.fileSets(s) {
			t.Fatalf("after Unset(%q) the file still sets it:\n%s", key, fileText(t, file))
		}
	})
}
