package main

import (
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/pleoauth/pleoauth/internal/keychaintest"
)

// TestKillDuringRefresh kills "pleoauth token --force-refresh" with SIGKILL at random moments,
// many times, and checks after each kill that the store is readable and that the lock the dead
// process may have held does not block the next caller (flock is released by the kernel).
func TestKillDuringRefresh(t *testing.T) {
	for _, storeName := range []string{"file", "keyring"} {
		t.Run(storeName, func(t *testing.T) {
			extra := []string{"PLEOAUTH_STORE=" + storeName}
			if storeName == "keyring" {
				extra = append(extra, keychaintest.Require(t).Env...)
			}
			w := newWorld(t, 15*time.Minute, extra...)
			w.login()

			// How long an undisturbed refresh takes, to spread the kills over it.
			start := time.Now()
			if r := w.run("token", "--force-refresh"); r.code != 0 {
				t.Fatalf("token --force-refresh: %v", r)
			}
			span := time.Since(start)
			seed := uint64(time.Now().UnixNano())
			rng := rand.New(rand.NewPCG(seed, 0))
			t.Logf("a refresh takes %v; kill points drawn with seed %d", span, seed)

			const kills = 40
			lost := 0
			for i := range kills {
				cmd := w.command("token", "--force-refresh")
				if err := cmd.Start(); err != nil {
					t.Fatal(err)
				}
				time.Sleep(time.Duration(rng.Int64N(int64(span) + 1)))
				_ = cmd.Process.Signal(syscall.SIGKILL)
				_ = cmd.Wait()

				// The store is readable: status parses the bundle (exit 1 would mean it could not);
				// exit 4 only when the kill came between recording the spend and keeping its answer.
				if _, r := w.status(); r.code != 0 && (r.code != 4 || !strings.Contains(r.stderr, "never saved")) {
					t.Fatalf("kill %d: the store is not readable after SIGKILL: %v", i, r)
				}
				// The next caller is not blocked by the dead one's lock.
				begin := time.Now()
				r := w.run("token", "--force-refresh")
				if waited := time.Since(begin); waited > 10*time.Second {
					t.Fatalf("kill %d: the next caller took %v", i, waited)
				}
				switch {
				case r.code == 0:
				case r.code == 4 && strings.Contains(r.stderr, "never saved"):
					// Killed after the refresh token was recorded as spent and before the answer
					// was kept anywhere: that login is gone, and nothing sends the spent token
					// again (a "refused" here would mean it was sent twice).
					lost++
					w.login()
				default:
					t.Fatalf("kill %d: the next refresh failed: %v", i, r)
				}
			}
			t.Logf("%d kills; %d landed between the spend's record and the answer's journal", kills, lost)
			if s := w.stats(); s.FamiliesRevoked != 0 {
				t.Errorf("%d families revoked: a spent refresh token was sent again", s.FamiliesRevoked)
			}

			// Leftover temporary files of killed writers are cleaned by the next save.
			leftovers, _ := filepath.Glob(filepath.Join(w.home, "tokens", ".*.tmp-*"))
			if len(leftovers) > 0 {
				t.Errorf("temporary files left behind: %v", leftovers)
			}
			entries, _ := os.ReadDir(filepath.Join(w.home, "tokens"))
			for _, e := range entries {
				fi, _ := e.Info()
				if fi.Mode().Perm() != 0o600 {
					t.Errorf("%s has mode %04o", e.Name(), fi.Mode().Perm())
				}
			}
		})
	}
}
