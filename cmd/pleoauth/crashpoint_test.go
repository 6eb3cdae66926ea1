package main

import (
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/pleoauth/pleoauth/internal/crashpoint"
	"github.com/pleoauth/pleoauth/internal/keychaintest"
)

// TestCrashPoints stops "pleoauth token --force-refresh" at each named point of a refresh and
// its save, deterministically, and checks what must hold after: the store is readable and
// holds the old bundle or the new one, never a mix; the login is lost only when the crash
// came before anything was written (the server had rotated the refresh token), and the next
// command says so; after a crash once the new bundle was written, the next command finishes
// the save and the login goes on, with no family revoked.
func TestCrashPoints(t *testing.T) {
	points := []struct {
		name     string
		loseItAt bool // the login is lost at this point
	}{
		{crashpoint.RefreshAnswered, true},
		{crashpoint.TempWritten, false},
		{crashpoint.BeforeRename, false},
	}
	for _, storeName := range []string{"file", "keyring"} {
		for _, p := range points {
			t.Run(storeName+"/"+p.name, func(t *testing.T) {
				extra := []string{"PLEOAUTH_STORE=" + storeName}
				if storeName == "keyring" {
					extra = append(extra, keychaintest.Require(t).Env...)
				}
				w := newWorld(t, 15*time.Minute, extra...)
				w.bin = buildTagged(t, "crashpoints") // kills itself at PLEOAUTH_CRASH_AT
				w.login()
				// A second profile beside it: a crash in one login's refresh never touches another.
				saved := w.env
				w.env = append(slices.Clone(w.env), "PLEOAUTH_PROFILE=second")
				w.login()
				w.env = saved
				secondAccess := w.run("token", "--profile", "second").stdout
				oldAccess := w.run("token").stdout
				oldRefresh := w.run("export-refresh-token", "--keep").stdout

				crash := w.command("token", "--force-refresh")
				crash.Env = append(slices.Clone(w.env), "PLEOAUTH_CRASH_AT="+p.name)
				out, err := crash.CombinedOutput()
				if code := exitCode(err); code != -1 {
					t.Fatalf("token with PLEOAUTH_CRASH_AT=%s ended with exit %d, not killed at the point:\n%s", p.name, code, out)
				}
				if got := w.stats().TokensIssued["refresh_token"]; got != 1 {
					t.Fatalf("the server issued %d refreshes before the crash; want 1", got)
				}

				// The store is readable.
				if _, r := w.status(); r.code != 0 {
					t.Fatalf("status after the crash: %v", r)
				}
				access := w.run("token")
				refresh := w.run("export-refresh-token", "--keep")
				if access.code != 0 || refresh.code != 0 {
					t.Fatalf("reading the login after the crash: %v / %v", access, refresh)
				}
				sameAccess, sameRefresh := access.stdout == oldAccess, refresh.stdout == oldRefresh
				switch {
				case sameAccess != sameRefresh:
					t.Fatalf("the store holds a mix of the old and the new bundle (access old: %v, refresh old: %v)", sameAccess, sameRefresh)
				case p.loseItAt && !sameAccess:
					t.Fatalf("a crash before any write left a new bundle")
				case !p.loseItAt && sameAccess:
					t.Fatalf("the bundle written before the crash was not taken up; the login is lost")
				}

				next := w.run("token", "--force-refresh")
				if r := w.run("token", "--profile", "second"); r.code != 0 || r.stdout != secondAccess {
					t.Errorf("the second profile after a crash in the default one's refresh: %v", r)
				}
				if r := w.run("token", "--profile", "second", "--force-refresh"); r.code != 0 {
					t.Errorf("the second profile's refresh after the crash: %v", r)
				}
				s := w.stats()
				if p.loseItAt {
					if next.code != 4 || !strings.Contains(next.stderr, "refused") || !strings.Contains(next.stderr, "pleoauth login") {
						t.Errorf("the command after a crash that lost the login: %v; want exit 4 saying so", next)
					}
					return
				}
				if next.code != 0 || s.FamiliesRevoked != 0 {
					t.Errorf("refresh after the crash: %v; %d families revoked; want success and none", next, s.FamiliesRevoked)
				}
				leftovers, _ := filepath.Glob(filepath.Join(w.home, "tokens", ".*.tmp-*"))
				if len(leftovers) > 0 {
					t.Errorf("temporary files left: %v", leftovers)
				}
			})
		}
	}
}
