package main

import (
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

// TestNoSecretInAnyArgvOrStrayFile watches the command line of every process on the machine
// while pleoauth logs in through a $BROWSER launcher, refreshes with an on_rotate command and
// runs a child with exec; then checks that no credential appeared in any of them, nor in any
// file under PLEOAUTH_HOME besides the token store itself.
func TestNoSecretInAnyArgvOrStrayFile(t *testing.T) {
	dir := t.TempDir()
	browser := filepath.Join(dir, "browser")
	if err := os.WriteFile(browser, []byte("#!/bin/sh\nexec curl -fsS -L -o /dev/null \"$1\"\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	rotated := filepath.Join(dir, "rotated")
	w := newWorld(t, 15*time.Minute, "PLEOAUTH_STORE=file", "BROWSER="+browser, "PLEOAUTH_ON_ROTATE=cat > "+rotated)

	seen := map[string]bool{}
	var mu sync.Mutex
	stop := make(chan struct{})
	watched := make(chan struct{})
	go func() {
		defer close(watched)
		for {
			select {
			case <-stop:
				return
			default:
			}
			paths, _ := filepath.Glob("/proc/[0-9]*/cmdline")
			for _, p := range paths {
				if b, err := os.ReadFile(p); err == nil && len(b) > 0 {
					mu.Lock()
					seen[strings.ReplaceAll(string(b), "\x00", " ")] = true
					mu.Unlock()
				}
			}
			time.Sleep(time.Millisecond)
		}
	}()

	var printed []string
	for _, args := range [][]string{
		{"login"},
		{"token", "--force-refresh"},
		{"exec", "--", "sh", "-c", "sleep 0.3"},
		{"api", "/v2/employees"},
	} {
		r := w.run(args...)
		if r.code != 0 {
			close(stop)
			t.Fatalf("%v: %v", args, r)
		}
		if args[0] == "token" {
			printed = append(printed, strings.TrimSpace(r.stdout))
		}
	}
	close(stop)
	<-watched

	stored, err := os.ReadFile(filepath.Join(w.home, "tokens", "local.json"))
	if err != nil {
		t.Fatal(err)
	}
	rotatedToken, _ := os.ReadFile(rotated)
	secrets := append(printed, worldSecret, strings.TrimSpace(string(rotatedToken)))
	for _, field := range []string{`"access_token":"`, `"refresh_token":"`} {
		_, rest, _ := strings.Cut(string(stored), field)
		value, _, _ := strings.Cut(rest, `"`)
		secrets = append(secrets, value)
	}
	if len(seen) < 10 {
		t.Fatalf("only %d command lines were seen; the watcher is broken", len(seen))
	}
	sawBrowser := false
	for cmdline := range seen {
		sawBrowser = sawBrowser || strings.Contains(cmdline, "/oauth/authorize?")
		for _, s := range secrets {
			if len(s) >= 8 && strings.Contains(cmdline, s) {
				t.Errorf("a credential is in a process's command line: %.60s…", cmdline)
			}
		}
	}
	if !sawBrowser {
		t.Error("the browser launcher's command line was never seen; the watcher missed the run")
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
