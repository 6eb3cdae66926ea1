package main

import (
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/pleoauth/pleoauth/internal/crashpoint"
	"github.com/pleoauth/pleoauth/internal/keychaintest"
	"github.com/pleoauth/pleoauth/internal/oauthtest"
	"github.com/pleoauth/pleoauth/internal/store"
)

// TestCrashPoints kills "pleoauth token --force-refresh" (SIGKILL) at each named point of a
// refresh and its save, deterministically, for each store, and checks what must hold after:
// the store is readable and holds the old login or the new one, never a mix; a spent refresh
// token is never sent again; the login goes on whenever its answer was written anywhere (the
// journal, a temporary file), and the next command finishes the save; it is lost only when the
// process died between recording the spend and keeping the answer, and the next command says
// so (exit 4) without sending anything.
func TestCrashPoints(t *testing.T) {
	type outcome int
	const (
		old  outcome = iota // nothing was sent: the login is as it was
		kept                // the answer is taken up: the login goes on with the new tokens
		lost                // sent, answer not kept: login required, nothing sent again
	)
	const files, redis = "file keyring", "redis"
	points := []struct {
		name   string
		issued int // refreshes the server carried out before the crash
		want   outcome
		stores string // the stores the point is for
	}{
		{crashpoint.LockHeld, 0, old, files + " " + redis},
		{crashpoint.TempWritten + "@1", 0, old, files}, // the spend record, not in place yet
		{crashpoint.SpentRecorded, 0, lost, files + " " + redis},
		{crashpoint.RefreshAnswered, 1, lost, files + " " + redis},
		// The journal entry, written and synced but not renamed into place: still taken up.
		{crashpoint.TempWritten + "@2", 1, kept, files},
		{crashpoint.BeforeRename + "@2", 1, kept, files},
		{crashpoint.BeforeRename + "@1", 1, kept, redis}, // Redis writes no file before it
		{crashpoint.Journalled, 1, kept, files + " " + redis},
		{crashpoint.TempWritten + "@3", 1, kept, files}, // the answer's save
		{crashpoint.BeforeRename + "@3", 1, kept, files},
	}
	for _, storeName := range []string{"file", "keyring", "redis"} {
		for _, p := range points {
			if !strings.Contains(p.stores, storeName) {
				continue
			}
			t.Run(storeName+"/"+p.name, func(t *testing.T) {
				extra := []string{"PLEOAUTH_STORE=" + storeName}
				switch storeName {
				case "keyring":
					extra = append(extra, keychaintest.Require(t).Env...)
				case "redis":
					r := oauthtest.StartRedis(t)
					// A killed holder's Redis lock lives until lock_ttl: short here.
					extra = append(extra, "PLEOAUTH_REDIS_URL="+r.URL(), "PLEOAUTH_STORE_KEY="+store.NewStoreKey(), "PLEOAUTH_LOCK_TTL=2s")
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
				if got := w.stats().TokensIssued["refresh_token"]; got != p.issued {
					t.Fatalf("the server issued %d refreshes before the crash; want %d", got, p.issued)
				}

				next := w.run("token")
				sent := w.stats().TokenRequests["refresh_token"]
				switch p.want {
				case lost:
					if next.code != 4 || !strings.Contains(next.stderr, "never saved") || !strings.Contains(next.stderr, "pleoauth login") {
						t.Errorf("the command after a crash that lost the answer: %v; want exit 4 saying so", next)
					}
					if again := w.run("token", "--force-refresh"); again.code != 4 || w.stats().TokenRequests["refresh_token"] != sent {
						t.Errorf("a forced refresh after the loss: %v; want exit 4 and nothing sent", again)
					}
					if _, r := w.status(); r.code != 4 {
						t.Errorf("status after the loss: %v; want exit 4", r)
					}
				default:
					refresh := w.run("export-refresh-token", "--keep")
					if next.code != 0 || refresh.code != 0 {
						t.Fatalf("reading the login after the crash: %v / %v", next, refresh)
					}
					sameAccess, sameRefresh := next.stdout == oldAccess, refresh.stdout == oldRefresh
					switch {
					case sameAccess != sameRefresh:
						t.Fatalf("the store holds a mix of the old and the new login (access old: %v, refresh old: %v)", sameAccess, sameRefresh)
					case p.want == old && !sameAccess:
						t.Fatalf("a crash before anything was sent left a new login")
					case p.want == kept && sameAccess:
						t.Fatalf("the answer written before the crash was not taken up; the login is lost")
					}
					if r := w.run("token", "--force-refresh"); r.code != 0 {
						t.Errorf("refresh after the crash: %v", r)
					}
				}
				if r := w.run("token", "--profile", "second"); r.code != 0 || r.stdout != secondAccess {
					t.Errorf("the second profile after a crash in the default one's refresh: %v", r)
				}
				if r := w.run("token", "--profile", "second", "--force-refresh"); r.code != 0 {
					t.Errorf("the second profile's refresh after the crash: %v", r)
				}
				if s := w.stats(); s.FamiliesRevoked != 0 {
					t.Errorf("%d families revoked; want none", s.FamiliesRevoked)
				}
				for _, pattern := range []string{"tokens/.*.tmp-*", "journal/*/local", "journal/*/.local.tmp-*"} {
					if left, _ := filepath.Glob(filepath.Join(w.home, pattern)); len(left) > 0 {
						t.Errorf("files left: %v", left)
					}
				}
			})
		}
	}
}
