package cli

import (
	"context"
	"errors"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/pleoauth/pleoauth/internal/config"
	"github.com/pleoauth/pleoauth/internal/devserver"
	"github.com/pleoauth/pleoauth/internal/exitcode"
	"github.com/pleoauth/pleoauth/internal/grant"
	"github.com/pleoauth/pleoauth/internal/store"
)

// requireRoot is for tests that mount file systems; CI runs as root.
func requireRoot(t *testing.T) {
	t.Helper()
	if os.Geteuid() == 0 {
		return
	}
	if config.IsCI(os.Getenv) {
		t.Fatal("CI runs as root and must run the file system tests")
	}
	t.Skip("needs root to mount a read-only file system; run as root (CI does)")
}

// readOnly remounts dir read-only in place (a bind mount), until the test ends.
func readOnly(t *testing.T, dir string) {
	t.Helper()
	for _, args := range [][]string{{"--bind", dir, dir}, {"-o", "remount,bind,ro", dir}} {
		if out, err := exec.Command("mount", args...).CombinedOutput(); err != nil {
			t.Fatalf("mount %v: %v\n%s", args, err, out)
		}
	}
	t.Cleanup(func() { _ = exec.Command("umount", dir).Run() })
}

// TestNoRefreshWithoutAPlaceForItsAnswer (defect a): when the tokens folder cannot be written
// — a read-only file system, or a symbolic link in place of the folder — the refresh is never
// sent, so the refresh token is not spent on tokens that would be lost; once the folder is
// fixed, the same login refreshes.
func TestNoRefreshWithoutAPlaceForItsAnswer(t *testing.T) {
	requireRoot(t)
	breaks := map[string]func(t *testing.T, h *harness){
		"read-only file system": func(t *testing.T, h *harness) { readOnly(t, filepath.Join(h.home, "tokens")) },
		"symlinked folder": func(t *testing.T, h *harness) {
			tokensDir := filepath.Join(h.home, "tokens")
			moved := filepath.Join(h.home, "elsewhere")
			if err := os.Rename(tokensDir, moved); err != nil {
				t.Fatal(err)
			}
			if err := os.Symlink(moved, tokensDir); err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { os.Remove(tokensDir); os.Rename(moved, tokensDir) })
		},
	}
	for name, breakIt := range breaks {
		t.Run(name, func(t *testing.T) {
			h, dev, _, _ := loggedInAndExpired(t, 15*time.Second)
			func() {
				t.Run("broken", func(t *testing.T) {
					breakIt(t, h)
					r := h.main("token", "--env", "local", "--force-refresh")
					if r.code == exitcode.OK || r.stdout != "" {
						t.Errorf("token with an unwritable store: %+v; want a failure and no token", r)
					}
					if got := dev.Stats().TokenRequests["refresh_token"]; got != 0 {
						t.Errorf("%d refresh requests sent although the answer could not be saved", got)
					}
					oneLine(t, r.stderr)
				})
			}()
			// The folder is back: the login was never spent.
			if r := h.main("token", "--env", "local"); r.code != exitcode.OK {
				t.Fatalf("token after the folder was fixed: %+v", r)
			}
			if s := dev.Stats(); s.TokensIssued["refresh_token"] != 1 || s.FamiliesRevoked != 0 {
				t.Errorf("after the fix: %d refreshes, %d families revoked; want 1 and 0", s.TokensIssued["refresh_token"], s.FamiliesRevoked)
			}
		})
	}
}

// TestLoginCodeNotSpentWithoutAPlaceForItsTokens (defect a): the folder becomes read-only while
// the login waits for the browser; the code is never exchanged.
func TestLoginCodeNotSpentWithoutAPlaceForItsTokens(t *testing.T) {
	requireRoot(t)
	h := newHarness(t)
	dev, _ := h.startDevserver(devserver.Options{AutoApprove: true})
	tokensDir := filepath.Join(h.home, "tokens")
	if err := os.MkdirAll(tokensDir, 0o700); err != nil {
		t.Fatal(err)
	}
	h.browser = func(u string) error {
		readOnly(t, tokensDir)
		return followRedirects(u)
	}
	r := h.main("login", "--env", "local")
	if r.code == exitcode.OK || !strings.Contains(r.stderr, "read-only file system") {
		t.Errorf("login into a folder made read-only meanwhile: %+v; want a failure naming the read-only file system", r)
	}
	if got := dev.Stats().TokenRequests["authorization_code"]; got != 0 {
		t.Errorf("%d code exchanges although the tokens could not be kept", got)
	}
}

// TestFailedImportKeepsTheLogin (defect b): an import whose token is refused, or whose refresh
// keeps failing, never touches the login already stored; importing over a working login needs
// --force, and then the old login is replaced only once the new token has worked.
func TestFailedImportKeepsTheLogin(t *testing.T) {
	h, dev, before, _ := loggedInAndExpired(t, 15*time.Second)
	stdin := func(s string) { h.stdin = s }

	stdin("not-a-token-the-server-issued\n")
	if r := h.main("import-refresh-token", "--env", "local"); r.code != exitcode.Usage || !strings.Contains(r.stderr, "--force") {
		t.Errorf("import over a working login without --force: %+v; want exit 2 naming --force", r)
	}
	if got := dev.Stats().TokenRequests["refresh_token"]; got != 0 {
		t.Errorf("an import refused for want of --force sent %d requests", got)
	}
	h.assertBundle("local", before)

	// The stored login still works, so this is no "login required" and names no login to run.
	if r := h.main("import-refresh-token", "--env", "local", "--force"); r.code != exitcode.Error || !strings.Contains(r.stderr, "unchanged") || strings.Contains(r.stderr, "pleoauth login") {
		t.Errorf("import of a refused token over a working login: %+v; want exit 1 saying the login is unchanged", r)
	} else if n := len([]rune(strings.TrimSpace(r.stderr))); n > 160 {
		t.Errorf("the refusal takes %d characters; keep it under 160: %s", n, r.stderr)
	}
	h.assertBundle("local", before)

	dev.InjectFault(devserver.Fault500, 3, 0)
	if r := h.main("import-refresh-token", "--env", "local", "--force"); r.code != exitcode.Temporary {
		t.Errorf("import against three 500s: %+v; want exit 5", r)
	}
	h.assertBundle("local", before)

	// The login kept is still the working one.
	stdin("")
	if r := h.main("token", "--env", "local"); r.code != exitcode.OK {
		t.Fatalf("token after the failed imports: %+v", r)
	}
	if s := dev.Stats(); s.FamiliesRevoked != 0 {
		t.Errorf("%d families revoked", s.FamiliesRevoked)
	}

	// A good token with --force replaces it.
	exported := h.main("export-refresh-token", "--env", "local", "--keep")
	stdin(exported.stdout)
	if r := h.main("import-refresh-token", "--env", "local", "--force"); r.code != exitcode.OK {
		t.Fatalf("import with --force of a good token: %+v", r)
	}
}

// TestLockWaitIsToldAndBounded (defect d): a held lock is reported after a second, with the
// holder's pid, and the wait ends with exit 5 naming the lock file.
func TestLockWaitIsToldAndBounded(t *testing.T) {
	h, dev, before, _ := loggedInAndExpired(t, 15*time.Second)
	unlock, err := store.FileLock{Dir: filepath.Join(h.home, "locks")}.Lock(context.Background(), "local")
	if err != nil {
		t.Fatal(err)
	}
	defer unlock()
	r := h.main("token", "--env", "local", "--lock-timeout", "3s")
	lockFile := filepath.Join(h.home, "locks", "local.lock")
	if r.code != exitcode.Temporary || !strings.Contains(r.stderr, lockFile) || !strings.Contains(r.stderr, "--lock-timeout") {
		t.Errorf("token while another process holds the lock: %+v; want exit 5 naming %s and --lock-timeout", r, lockFile)
	}
	if want := "waiting for another pleoauth (pid " + itoa(os.Getpid()) + ") to finish refreshing env local"; !strings.Contains(r.stderr, want) {
		t.Errorf("stderr %q lacks %q", r.stderr, want)
	}
	if got := dev.Stats().TokenRequests["refresh_token"]; got != 0 {
		t.Errorf("%d refreshes sent without the lock", got)
	}
	h.assertBundle("local", before)

	t.Setenv("PLEOAUTH_LOCK_TIMEOUT", "soon")
	if r := h.main("token", "--env", "local"); r.code != exitcode.Usage || !strings.Contains(r.stderr, "PLEOAUTH_LOCK_TIMEOUT") {
		t.Errorf("a bad PLEOAUTH_LOCK_TIMEOUT: %+v; want exit 2 naming it", r)
	}
}

// TestOnRotateTimeout (defect d): an on_rotate command that hangs is stopped after
// on_rotate_timeout and reported; the new tokens stay saved here.
func TestOnRotateTimeout(t *testing.T) {
	h, dev, _, _ := loggedInAndExpired(t, 15*time.Second)
	t.Setenv("PLEOAUTH_ON_ROTATE", "sleep 30")
	t.Setenv("PLEOAUTH_ON_ROTATE_TIMEOUT", "1s")
	start := time.Now()
	r := h.main("token", "--env", "local")
	if r.code != exitcode.Error || !strings.Contains(r.stderr, "did not finish within 1s") || !strings.Contains(r.stderr, "stored here") {
		t.Errorf("token with a hanging on_rotate: %+v; want exit 1 saying it timed out and the tokens are stored", r)
	}
	if took := time.Since(start); took > 20*time.Second {
		t.Errorf("the hanging on_rotate held the command for %s", took)
	}
	t.Setenv("PLEOAUTH_ON_ROTATE", "")
	if r := h.main("token", "--env", "local"); r.code != exitcode.OK {
		t.Fatalf("token after the timed-out on_rotate: %+v", r)
	}
	if s := dev.Stats(); s.TokensIssued["refresh_token"] != 1 || s.FamiliesRevoked != 0 {
		t.Errorf("%d refreshes, %d families revoked; want the one refresh saved and no revocation", s.TokensIssued["refresh_token"], s.FamiliesRevoked)
	}
}

// TestTamperedStoreCannotInject (defect f): an access token with a quote, a newline or a space
// written into the store by someone else is refused on load, in every format.
func TestTamperedStoreCannotInject(t *testing.T) {
	h := newHarness(t)
	h.seedExpired("local")
	for _, evil := range []string{"a'; touch /tmp/pwned; '", "a\nX-Evil: 1", "a b"} {
		b := &store.Bundle{AccessToken: evil, RefreshToken: "r", Expiry: time.Now().Add(time.Hour)}
		data := mustJSON(t, b)
		if err := os.WriteFile(h.tokenFile("local"), data, 0o600); err != nil {
			t.Fatal(err)
		}
		for _, format := range []string{"raw", "header", "env", "curl-config", "json"} {
			r := h.main("token", "--env", "local", "--format", format)
			if r.code != exitcode.LoginRequired || r.stdout != "" || !strings.Contains(r.stderr, "b64token") {
				t.Errorf("token --format %s of a tampered store (%q): %+v; want exit 4 naming b64token and no output", format, evil, r)
			}
		}
	}
}

// TestEnvFormatQuotesAnything: the env format is one safe shell word whatever the value.
func TestEnvFormatQuotesAnything(t *testing.T) {
	for _, v := range []string{"plain", "it's", "'", "a b", "$(id)", "x\ny"} {
		out, err := exec.Command("sh", "-c", "eval \"$1\"; printf %s \"$PLEO_ACCESS_TOKEN\"", "sh",
			"export PLEO_ACCESS_TOKEN="+shellQuote(v)).Output()
		if err != nil || string(out) != v {
			t.Errorf("shellQuote(%q) read back by sh as %q (%v)", v, out, err)
		}
	}
}

// TestLooseFoldersRefused (defect g): a PLEOAUTH_HOME or locks folder others can write, and a
// symbolic link in place of the lock file, are refused with the chmod or rm to run, and nothing
// is created where the link points.
func TestLooseFoldersRefused(t *testing.T) {
	t.Run("home 0777", func(t *testing.T) {
		h, _, _, _ := loggedInAndExpired(t, 15*time.Second)
		if err := os.Chmod(h.home, 0o777); err != nil {
			t.Fatal(err)
		}
		r := h.main("token", "--env", "local")
		if r.code == exitcode.OK || !strings.Contains(r.stderr, "chmod") || !strings.Contains(r.stderr, h.home) {
			t.Errorf("token with a 0777 home: %+v; want a refusal naming the chmod", r)
		}
	})
	t.Run("locks 0777", func(t *testing.T) {
		h, _, _, _ := loggedInAndExpired(t, 15*time.Second)
		locks := filepath.Join(h.home, "locks")
		if err := os.MkdirAll(locks, 0o700); err != nil {
			t.Fatal(err)
		}
		if err := os.Chmod(locks, 0o777); err != nil {
			t.Fatal(err)
		}
		r := h.main("token", "--env", "local")
		if r.code == exitcode.OK || !strings.Contains(r.stderr, "chmod 700 "+locks) {
			t.Errorf("token with a 0777 locks folder: %+v; want a refusal naming chmod 700", r)
		}
	})
	t.Run("symlinked lock file", func(t *testing.T) {
		h, _, _, _ := loggedInAndExpired(t, 15*time.Second)
		locks := filepath.Join(h.home, "locks")
		if err := os.MkdirAll(locks, 0o700); err != nil {
			t.Fatal(err)
		}
		target := filepath.Join(t.TempDir(), "victim")
		os.Remove(filepath.Join(locks, "local.lock")) // the login's
		if err := os.Symlink(target, filepath.Join(locks, "local.lock")); err != nil {
			t.Fatal(err)
		}
		r := h.main("token", "--env", "local")
		if r.code == exitcode.OK || !strings.Contains(r.stderr, "symbolic link") {
			t.Errorf("token with a symlinked lock file: %+v; want a refusal", r)
		}
		if _, err := os.Lstat(target); !errors.Is(err, os.ErrNotExist) {
			t.Error("the lock file's link target was created")
		}
	})
}

// TestRefusedConnectionsAreRetried: a refresh that never reached the server (connection
// refused) is safe to send again, and is, by the backoff's count.
func TestRefusedConnectionsAreRetried(t *testing.T) {
	h := newHarness(t)
	var attempts atomic.Int32
	h.transport = roundTripFunc(func(r *http.Request) (*http.Response, error) {
		attempts.Add(1)
		return http.DefaultTransport.RoundTrip(r)
	})
	t.Setenv("PLEOAUTH_AUTH_SERVER_URL", "http://127.0.0.1:"+itoa(freePort(t)))
	t.Setenv("PLEOAUTH_CLIENT_SECRET", "s")
	before := h.seedExpired("local")
	r := h.main("token", "--env", "local")
	if r.code != exitcode.Temporary || !strings.Contains(r.stderr, "connection refused") {
		t.Errorf("token against a closed port: %+v; want exit 5, connection refused", r)
	}
	if got, want := int(attempts.Load()), 1+len(grant.DefaultBackoff); got != want {
		t.Errorf("%d attempts; want %d (one and a retry per backoff step)", got, want)
	}
	h.assertBundle("local", before)
}
