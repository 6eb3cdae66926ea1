package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// shim is a program pleoauth starts (the $BROWSER launcher, the on_rotate command, the child of
// exec) that records its own command line and environment before it does its job, so the test
// sees every process pleoauth starts without sampling /proc and hoping to catch it.
func shim(t *testing.T, dir, name, job string) (path, record string) {
	t.Helper()
	path = filepath.Join(dir, name)
	record = filepath.Join(dir, name+".record")
	script := "#!/bin/sh\n" +
		"{ printf 'argv:'; for a in \"$0\" \"$@\"; do printf ' %s' \"$a\"; done; echo; env | sed 's/^/env: /'; } >> " + record + "\n" +
		job + "\n"
	if err := os.WriteFile(path, []byte(script), 0o755); err != nil {
		t.Fatal(err)
	}
	return path, record
}

// TestNoSecretInAnyArgvOrStrayFile logs in through a $BROWSER launcher, refreshes with an
// on_rotate command and runs a child with exec, each a shim that records its own argv and
// environment; then checks that no credential appeared in any argv, that the access token
// reached only exec's child and only through its environment, and that no file under
// PLEOAUTH_HOME besides the token store holds a credential.
func TestNoSecretInAnyArgvOrStrayFile(t *testing.T) {
	dir := t.TempDir()
	browser, browserRecord := shim(t, dir, "browser", `exec curl -fsS -L -o /dev/null "$1"`)
	rotate, rotateRecord := shim(t, dir, "on-rotate", "cat > "+filepath.Join(dir, "rotated"))
	child, childRecord := shim(t, dir, "child", "true")
	w := newWorld(t, 15*time.Minute, "PLEOAUTH_STORE=file", "BROWSER="+browser, "PLEOAUTH_ON_ROTATE="+rotate)

	var printed []string
	for _, args := range [][]string{
		{"login"},
		{"token", "--force-refresh"},
		{"exec", "--", child, "an-argument"},
		{"api", "/v2/employees"},
	} {
		r := w.run(args...)
		if r.code != 0 {
			t.Fatalf("%v: %v", args, r)
		}
		if args[0] == "token" {
			printed = append(printed, strings.TrimSpace(r.stdout))
		}
	}

	stored, err := os.ReadFile(filepath.Join(w.home, "tokens", "local.json"))
	if err != nil {
		t.Fatal(err)
	}
	rotatedToken, _ := os.ReadFile(filepath.Join(dir, "rotated"))
	if len(strings.TrimSpace(string(rotatedToken))) < 8 {
		t.Fatal("the on_rotate command did not get the new refresh token on stdin")
	}
	secrets := append(printed, worldSecret, strings.TrimSpace(string(rotatedToken)))
	for _, field := range []string{`"access_token":"`, `"refresh_token":"`} {
		_, rest, _ := strings.Cut(string(stored), field)
		value, _, _ := strings.Cut(rest, `"`)
		secrets = append(secrets, value)
	}
	tokens := secrets[:0:0]
	for _, s := range secrets {
		if s != worldSecret {
			tokens = append(tokens, s)
		}
	}

	for _, rec := range []struct {
		path      string
		mustHave  string // a line that proves the shim ran as expected
		envTokens bool   // may its environment hold the access token?
	}{
		{browserRecord, "/oauth/authorize?", false},
		{rotateRecord, "argv: " + rotate, false},
		{childRecord, "argv: " + child + " an-argument", true},
	} {
		data, err := os.ReadFile(rec.path)
		if err != nil {
			t.Fatalf("%s: the shim never ran: %v", rec.path, err)
		}
		if !strings.Contains(string(data), rec.mustHave) {
			t.Errorf("%s lacks %q", rec.path, rec.mustHave)
		}
		for line := range strings.Lines(string(data)) {
			isArgv := strings.HasPrefix(line, "argv:")
			for _, s := range secrets {
				if len(s) < 8 || !strings.Contains(line, s) {
					continue
				}
				switch {
				case isArgv:
					t.Errorf("%s: a credential is in a command line: %.60s…", rec.path, line)
				case s == worldSecret:
					// The client secret was given to pleoauth in its environment; children inherit it.
				case rec.envTokens && strings.HasPrefix(line, "env: PLEO_ACCESS_TOKEN="):
				default:
					t.Errorf("%s: a token is in the environment: %.40s…", rec.path, line)
				}
			}
		}
	}
	if data, _ := os.ReadFile(childRecord); !containsAny(string(data), "env: PLEO_ACCESS_TOKEN=", tokens) {
		t.Error("exec's child did not get the access token in PLEO_ACCESS_TOKEN")
	}

	// No file under PLEOAUTH_HOME but the store holds a credential.
	_ = filepath.WalkDir(w.home, func(path string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() || path == filepath.Join(w.home, "tokens", "local.json") {
			return nil
		}
		data, _ := os.ReadFile(path)
		for _, s := range secrets {
			if len(s) >= 8 && strings.Contains(string(data), s) {
				t.Errorf("%s holds a credential", path)
			}
		}
		return nil
	})
}

// containsAny reports whether text has a line prefix+s for one of values.
func containsAny(text, prefix string, values []string) bool {
	for _, v := range values {
		if v != "" && strings.Contains(text, prefix+v) {
			return true
		}
	}
	return false
}
