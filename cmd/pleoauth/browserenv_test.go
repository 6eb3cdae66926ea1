package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestBrowserGetsNoSecrets: the command that opens the login page — and the browser it starts,
// which keeps its environment for as long as it runs — gets pleoauth's environment without
// pleoauth's secrets, as exec's and on_rotate's commands do.
func TestBrowserGetsNoSecrets(t *testing.T) {
	dir := t.TempDir()
	dump := filepath.Join(dir, "browser.env")
	launcher := filepath.Join(dir, "browser.sh")
	writeExecutable(t, launcher, "#!/bin/sh\nenv > "+dump+"\nexec curl -fsS -L -o /dev/null \"$1\"\n")
	w := newWorld(t, 15*time.Minute, "PLEOAUTH_STORE=file", "BROWSER="+launcher,
		"PLEOAUTH_REDIS_PASSWORD=redis-pass-in-env", "PLEOAUTH_STORE_KEY=store-key-in-env", "PLEOAUTH_SERVE_KEY=serve-key-in-env")
	if r := w.run("login"); r.code != 0 {
		t.Fatalf("login: %v", r)
	}
	b, err := os.ReadFile(dump)
	if err != nil {
		t.Fatalf("the launcher did not run: %v", err)
	}
	env := string(b)
	if !strings.Contains(env, "PLEOAUTH_HOME=") {
		t.Fatalf("the launcher's environment lacks pleoauth's settings; the dump is not what it got:\n%s", env)
	}
	for _, secret := range []string{worldSecret, "redis-pass-in-env", "store-key-in-env", "serve-key-in-env"} {
		if strings.Contains(env, secret) {
			t.Errorf("the browser launcher's environment holds a secret (%s…)", secret[:4])
		}
	}
}
