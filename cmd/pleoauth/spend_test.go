package main

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/pleoauth/pleoauth/internal/devserver"
	"github.com/pleoauth/pleoauth/internal/store"
)

// These tests hold the promise where it is easiest to break across machines: a refresh token
// recorded as spent is never sent again by any host, and its answer reaches the store or the
// journal of the host that spent it — never nowhere. Each counts the refresh requests the
// server saw and the families it revoked.

// TestFleetHolderStoppedPastItsLock: the holder of the Redis lock is stopped (SIGSTOP: a VM
// pause, a long GC) after recording the spend, before and after its request reached the
// server, until its lock expired. Another host takes the lock, finds the spend without its
// answer and sends nothing (exit 5, naming the holder); the holder, resumed, takes the lock
// again and saves its answer over its own spend. One refresh in all, no family revoked, and
// the login works on every host.
func TestFleetHolderStoppedPastItsLock(t *testing.T) {
	f := newFleet(t, 2, 15*time.Minute, "PLEOAUTH_LOCK_TTL=3s")
	f.bin = buildTagged(t, "crashpoints")
	f.login()
	for _, point := range []string{"spent-recorded", "refresh-answered"} {
		t.Run(point, func(t *testing.T) {
			before := f.dev.Stats()
			holder := f.command(1, []string{"PLEOAUTH_STOP_AT=" + point}, "token", "--force-refresh")
			var stdout, stderr bytes.Buffer
			holder.Stdout, holder.Stderr = &stdout, &stderr
			if err := holder.Start(); err != nil {
				t.Fatal(err)
			}
			waitFor(t, "the holder to stop itself", func() bool { return processState(holder.Process.Pid) == "T" })
			waitFor(t, "its lock to expire", func() bool { return f.redis.Client().Exists(t.Context(), "pleoauth:lock:local").Val() == 0 })

			other := f.run(2, "token", "--force-refresh")
			if other.code != 5 || !strings.Contains(other.stderr, "has not been saved yet") || !strings.Contains(other.stderr, "nothing was sent") {
				t.Errorf("another host while the holder is stopped: %v; want exit 5 saying the refresh started elsewhere is not saved yet", other)
			}
			if st := f.run(2, "status", "--json"); st.code != 5 || !strings.Contains(statusField(t, st, "unsaved"), "has not been saved yet") {
				t.Errorf("status on another host: %v; want exit 5 and the same explanation", st)
			}

			if err := holder.Process.Signal(contSignal); err != nil {
				t.Fatal(err)
			}
			if err := waitTimeout(holder, time.Minute); exitCode(err) != 0 {
				t.Fatalf("the holder, resumed: exit %d: %s; want it to save its answer", exitCode(err), stderr.String())
			}
			s := f.dev.Stats()
			if n := s.TokenRequests["refresh_token"] - before.TokenRequests["refresh_token"]; n != 1 || s.FamiliesRevoked != 0 {
				t.Errorf("%d refresh requests, %d families revoked; want 1 and 0", n, s.FamiliesRevoked)
			}
			for m := range 3 {
				if r := f.run(m, "token"); r.code != 0 || r.stdout != stdout.String() {
					t.Errorf("machine %d after the holder saved: %v; want the holder's token", m, r)
				}
			}
		})
	}
}

// TestFleetRedisGoneWhileTheServerAnswers: Redis stops (SIGTERM, or SIGKILL) while the token
// endpoint holds the answer, and comes back — with its append-only file, or empty. The answer
// goes to the holder's journal and is saved when Redis is back: within the command's retries,
// or by the holder's next run when Redis stayed away longer. The other hosts never send the
// spent token: they wait (exit 5) or, with Redis empty, are not logged in (exit 4) until the
// holder restores the login.
func TestFleetRedisGoneWhileTheServerAnswers(t *testing.T) {
	tests := []struct {
		name      string
		ephemeral bool
		kill      bool
		// away: Redis comes back after the holder gave up its retries (lock_timeout 3s).
		away bool
	}{
		{name: "stopped, back with its data"},
		{name: "stopped, back empty", ephemeral: true},
		{name: "killed, back with its data", kill: true},
		{name: "stopped past the retries, back with its data", away: true},
		{name: "stopped past the retries, back empty", ephemeral: true, away: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			// The holder's lock outlives it in a Redis that keeps its data: lock_ttl bounds that.
			f := newFleet(t, 2, 15*time.Minute, "PLEOAUTH_LOCK_TIMEOUT=3s", "PLEOAUTH_LOCK_TTL=3s")
			if tt.ephemeral {
				f.redis.Stop()
				f.redis.Ephemeral = true
				f.redis.Start()
			}
			f.login()
			before := f.dev.Stats()
			f.dev.InjectFault(devserver.FaultDelay, 1, 3*time.Second)
			holder := f.command(1, nil, "token", "--force-refresh")
			var stdout, stderr bytes.Buffer
			holder.Stdout, holder.Stderr = &stdout, &stderr
			if err := holder.Start(); err != nil {
				t.Fatal(err)
			}
			waitFor(t, "the refresh to reach the server", func() bool {
				return f.dev.Stats().TokenRequests["refresh_token"] > before.TokenRequests["refresh_token"]
			})
			if tt.kill {
				f.redis.Kill()
			} else {
				f.redis.Stop()
			}
			if tt.away {
				err := waitTimeout(holder, time.Minute)
				if exitCode(err) != 5 || !strings.Contains(stderr.String(), "kept on this machine") {
					t.Fatalf("the holder with Redis away: exit %d: %s; want exit 5 saying the answer is kept here", exitCode(err), stderr.String())
				}
				f.redis.Start()
				waitFor(t, "the holder's lock to expire", func() bool { return f.redis.Client().Exists(t.Context(), "pleoauth:lock:local").Val() == 0 })
				other := f.run(2, "token")
				wantCode, want := 5, "has not been saved yet"
				if tt.ephemeral {
					wantCode, want = 4, "not logged in"
				}
				if other.code != wantCode || !strings.Contains(other.stderr, want) {
					t.Errorf("another host before the holder ran again: %v; want exit %d saying %q", other, wantCode, want)
				}
				if r := f.run(1, "token"); r.code != 0 {
					t.Fatalf("the holder's next run: %v; want it to save the journalled answer", r)
				}
			} else {
				time.Sleep(2 * time.Second) // the answer arrives while Redis is down
				f.redis.Start()
				if err := waitTimeout(holder, time.Minute); exitCode(err) != 0 {
					t.Fatalf("the holder, Redis back within its retries: exit %d: %s", exitCode(err), stderr.String())
				}
			}
			s := f.dev.Stats()
			if n := s.TokenRequests["refresh_token"] - before.TokenRequests["refresh_token"]; n != 1 || s.FamiliesRevoked != 0 {
				t.Errorf("%d refresh requests, %d families revoked; want 1 and 0", n, s.FamiliesRevoked)
			}
			var want string
			for m := range 3 {
				r := f.run(m, "token")
				if m == 0 {
					want = r.stdout
				}
				if r.code != 0 || r.stdout != want {
					t.Errorf("machine %d afterwards: %v; want the same token everywhere", m, r)
				}
			}
			if r := f.run(2, "token", "--force-refresh"); r.code != 0 || f.dev.Stats().FamiliesRevoked != 0 {
				t.Errorf("a refresh on another host afterwards: %v; want success and no revocation", r)
			}
		})
	}
}

// TestFleetImportUnderAnotherKey: a machine whose PLEOAUTH_STORE_KEY differs from the fleet's
// does not take the fleet's login for unreadable: import, login and logout refuse without
// --force, naming both keys; with --force, import replaces it and says so.
func TestFleetImportUnderAnotherKey(t *testing.T) {
	f := newFleet(t, 1, 15*time.Minute)
	f.login()
	refresh := strings.TrimSpace(f.run(1, "export-refresh-token", "--keep").stdout)
	otherKey := []string{"PLEOAUTH_STORE_KEY=" + store.NewStoreKey()}
	before := f.dev.Stats().TokenRequests["refresh_token"]

	imp := f.command(0, otherKey, "import-refresh-token")
	imp.Stdin = strings.NewReader("a-refresh-token-from-elsewhere\n")
	out, err := imp.CombinedOutput()
	if exitCode(err) != 2 || !strings.Contains(string(out), "sealed under store key") || !strings.Contains(string(out), "--force") {
		t.Errorf("import under another key: exit %d: %s; want exit 2 naming both keys and --force", exitCode(err), out)
	}
	logout := f.command(0, otherKey, "logout")
	if out, err := logout.CombinedOutput(); exitCode(err) != 2 || !strings.Contains(string(out), "--force") {
		t.Errorf("logout under another key: exit %d: %s; want exit 2 naming --force", exitCode(err), out)
	}
	if got := f.dev.Stats().TokenRequests["refresh_token"]; got != before {
		t.Errorf("the refusals sent %d refreshes", got-before)
	}
	if r := f.run(1, "token"); r.code != 0 {
		t.Fatalf("the fleet's login after the refusals: %v", r)
	}

	// --force replaces it, with a token that works (moved here with export).
	moved := strings.TrimSpace(f.run(1, "export-refresh-token").stdout)
	if moved != refresh {
		t.Fatalf("export moved another token than the one kept: %q", moved)
	}
	imp = f.command(0, otherKey, "import-refresh-token", "--force")
	imp.Stdin = strings.NewReader(moved + "\n")
	if out, err := imp.CombinedOutput(); exitCode(err) != 0 {
		t.Fatalf("import --force under another key: exit %d: %s", exitCode(err), out)
	}
	if r := f.run(1, "token"); r.code != 1 || !strings.Contains(r.stderr, "PLEOAUTH_STORE_KEY") {
		t.Errorf("the host with the old key afterwards: %v; want exit 1 naming PLEOAUTH_STORE_KEY", r)
	}
	if s := f.dev.Stats(); s.FamiliesRevoked != 0 {
		t.Errorf("%d families revoked", s.FamiliesRevoked)
	}
}

// statusField is one field of status --json's output.
func statusField(t *testing.T, r result, field string) string {
	t.Helper()
	var v map[string]any
	if err := json.Unmarshal([]byte(r.stdout), &v); err != nil {
		t.Errorf("status --json printed no JSON: %q", r.stdout)
	}
	s, _ := v[field].(string)
	return s
}
