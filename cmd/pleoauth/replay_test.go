package main

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/pleoauth/pleoauth/internal/devserver"
	"github.com/pleoauth/pleoauth/internal/oauthtest"
	"github.com/pleoauth/pleoauth/internal/store"
)

// Each test here is a way a spent refresh token could come back to be sent again, or an answer
// be thrown away, found by trying to break the spend rule: each asserts no family revoked.

// redisWorld is a world whose logins live in a real Redis.
func redisWorld(t *testing.T, r *oauthtest.Redis, extra ...string) *world {
	t.Helper()
	env := append([]string{"PLEOAUTH_STORE=redis", "PLEOAUTH_REDIS_URL=" + r.URL(), "PLEOAUTH_STORE_KEY=" + store.NewStoreKey(),
		"PLEOAUTH_LOCK_TTL=2s", "PLEOAUTH_REDIS_TIMEOUT=1s"}, extra...)
	return newWorld(t, 15*time.Minute, env...)
}

// startHolder starts "token --force-refresh" with extra variables; wait returns its exit code.
func startHolder(t *testing.T, w *world, extra ...string) (holder *exec.Cmd, stderr *bytes.Buffer, wait func() int) {
	t.Helper()
	holder = w.command("token", "--force-refresh")
	holder.Env = append(slices.Clone(w.env), extra...)
	stderr = &bytes.Buffer{}
	holder.Stderr = stderr
	if err := holder.Start(); err != nil {
		t.Fatal(err)
	}
	return holder, stderr, func() int { return exitCode(waitTimeout(holder, time.Minute)) }
}

// TestRedisBackFromAnOlderSnapshot: Redis, killed while the token endpoint holds the answer,
// comes back from a snapshot taken before the spend was recorded. The store then holds the
// spent refresh token as if nothing happened; the holder's answer is saved over it (never
// dropped as a newer login), and nothing sends the spent token again.
func TestRedisBackFromAnOlderSnapshot(t *testing.T) {
	r := oauthtest.StartRedis(t)
	r.Stop()
	r.Ephemeral = true // no append-only file: the snapshot below is what a restart loads
	r.Start()
	w := redisWorld(t, r)
	w.login()
	if err := r.Client().Save(t.Context()).Err(); err != nil {
		t.Fatal(err)
	}
	before := w.stats()
	w.dev.InjectFault(devserver.FaultDelay, 1, 3*time.Second)
	_, stderr, wait := startHolder(t, w)
	waitFor(t, "the refresh to reach the server", func() bool {
		return w.stats().TokenRequests["refresh_token"] > before.TokenRequests["refresh_token"]
	})
	r.Kill()
	time.Sleep(4 * time.Second) // the answer arrives while Redis is down
	r.Start()
	if code := wait(); code != 0 {
		t.Fatalf("the holder: exit %d: %s; want its answer saved over the older snapshot", code, stderr)
	}
	if r := w.run("token", "--force-refresh"); r.code != 0 {
		t.Errorf("the next refresh: %v", r)
	}
	if s := w.stats(); s.FamiliesRevoked != 0 {
		t.Errorf("%d families revoked: the spent refresh token was sent again", s.FamiliesRevoked)
	}
}

// TestLogoutIsNotUndoneByAJournal: machine A's answer waits in its journal (Redis was away past
// its retries); machine B logs out meanwhile. A's next run must not bring the login back.
func TestLogoutIsNotUndoneByAJournal(t *testing.T) {
	r := oauthtest.StartRedis(t)
	w := redisWorld(t, r, "PLEOAUTH_LOCK_TIMEOUT=2s")
	w.login()
	otherHome := filepath.Join(t.TempDir(), "other")
	if err := os.MkdirAll(otherHome, 0o700); err != nil {
		t.Fatal(err)
	}
	other := func(args ...string) result {
		cmd := w.command(args...)
		cmd.Env = append(slices.Clone(w.env), "PLEOAUTH_HOME="+otherHome)
		var o, e bytes.Buffer
		cmd.Stdout, cmd.Stderr = &o, &e
		return result{exitCode(cmd.Run()), o.String(), e.String()}
	}
	before := w.stats()
	w.dev.InjectFault(devserver.FaultDelay, 1, 2*time.Second)
	_, stderr, wait := startHolder(t, w)
	waitFor(t, "the refresh to reach the server", func() bool {
		return w.stats().TokenRequests["refresh_token"] > before.TokenRequests["refresh_token"]
	})
	r.Stop()
	if code := wait(); code != 5 || !strings.Contains(stderr.String(), "kept on this machine") {
		t.Fatalf("the holder with Redis away: exit %d: %s; want exit 5, the answer kept", code, stderr)
	}
	r.Start()
	waitFor(t, "the holder's lock to expire", func() bool { return r.Client().Exists(t.Context(), "pleoauth:lock:local").Val() == 0 })
	if lo := other("logout"); lo.code != 0 {
		t.Fatalf("logout on the other machine: %v", lo)
	}
	if st := w.run("status"); st.code != 4 {
		t.Errorf("status on the machine with the journal, after the logout: %v; want exit 4 (logged out)", st)
	}
	if tok := other("token"); tok.code != 4 {
		t.Errorf("token on the other machine after its logout: %v; want exit 4", tok)
	}
	if left, _ := filepath.Glob(filepath.Join(w.home, "journal", "redis", "local")); len(left) > 0 {
		t.Errorf("the journal entry outlived the logout: %v", left)
	}
}

// TestUndoneSpendSurvivesRedisGoingAway: the server answers a refresh with 500s (nothing
// rotated) while Redis is away, so the spend record cannot be undone at once: the machine's
// journal keeps the login as it was, and the next run puts it back — the refresh token, never
// used, is still good.
func TestUndoneSpendSurvivesRedisGoingAway(t *testing.T) {
	r := oauthtest.StartRedis(t)
	w := redisWorld(t, r, "PLEOAUTH_LOCK_TIMEOUT=3s")
	w.bin = buildTagged(t, "crashpoints")
	w.login()
	holder, stderr, wait := startHolder(t, w, "PLEOAUTH_STOP_AT=spent-recorded")
	waitFor(t, "the holder to stop", func() bool { return processState(holder.Process.Pid) == "T" })
	w.dev.InjectFault(devserver.Fault500, 3, 0)
	r.Stop()
	if err := holder.Process.Signal(contSignal); err != nil {
		t.Fatal(err)
	}
	if code := wait(); code != 5 || !strings.Contains(stderr.String(), "kept on this machine") {
		t.Fatalf("the holder: exit %d: %s; want exit 5, the login kept on this machine", code, stderr)
	}
	r.Start()
	waitFor(t, "the holder's lock to expire", func() bool { return r.Client().Exists(t.Context(), "pleoauth:lock:local").Val() == 0 })
	if next := w.run("token", "--force-refresh"); next.code != 0 {
		t.Errorf("the next refresh: %v; want the refresh token, never used, to work", next)
	}
	if s := w.stats(); s.FamiliesRevoked != 0 || s.TokensIssued["refresh_token"] != 1 {
		t.Errorf("%d refreshes issued, %d families revoked; want 1 and 0", s.TokensIssued["refresh_token"], s.FamiliesRevoked)
	}
}

// TestSeedIsNeverSentTwice: PLEOAUTH_REFRESH_TOKEN still set after its login moved on (an
// export to the next job) or was lost with an answer is never sent again: exit 4 naming the
// variable, and the login that moved on keeps working.
func TestSeedIsNeverSentTwice(t *testing.T) {
	w := newWorld(t, 15*time.Minute, "PLEOAUTH_STORE=file")
	w.login()
	base := slices.Clone(w.env)
	seed := strings.TrimSpace(w.run("export-refresh-token").stdout)
	w.env = append(slices.Clone(base), "PLEOAUTH_REFRESH_TOKEN="+seed)
	if r := w.run("token"); r.code != 0 {
		t.Fatalf("the CI bootstrap: %v", r)
	}
	handed := strings.TrimSpace(w.run("export-refresh-token").stdout) // to the next job
	sent := w.stats().TokenRequests["refresh_token"]
	if r := w.run("token"); r.code != 4 || !strings.Contains(r.stderr, "PLEOAUTH_REFRESH_TOKEN was already sent") {
		t.Errorf("token with the spent seed still set: %v; want exit 4 naming the variable", r)
	}
	if got := w.stats().TokenRequests["refresh_token"]; got != sent {
		t.Errorf("the spent seed was sent again (%d requests)", got-sent)
	}

	// The next job, from the handed-over token; its answer is lost; its old seed stays unsent.
	w.env = append(slices.Clone(base), "PLEOAUTH_REFRESH_TOKEN="+handed)
	w.dev.InjectFault(devserver.FaultRotateThenDrop, 1, 0)
	if r := w.run("token"); r.code != 4 {
		t.Fatalf("the job whose answer was lost: %v; want exit 4", r)
	}
	sent = w.stats().TokenRequests["refresh_token"]
	if r := w.run("token"); r.code != 4 || w.stats().TokenRequests["refresh_token"] != sent {
		t.Errorf("after the lost answer, the same seed: %v; want exit 4 and nothing sent", r)
	}
	if s := w.stats(); s.FamiliesRevoked != 0 {
		t.Errorf("%d families revoked: a seed was sent twice", s.FamiliesRevoked)
	}
}

// TestSeedAcrossProfilesAndRunners: PLEOAUTH_REFRESH_TOKEN is one refresh token for the whole
// environment: a second profile on the machine that sent it does not send it again. On
// persistent CI runners that write the rotated token back (on_rotate), each job takes the
// variable over its own older login, and never refreshes a login another runner moved past.
func TestSeedAcrossProfilesAndRunners(t *testing.T) {
	w := newWorld(t, 15*time.Minute, "PLEOAUTH_STORE=file")
	w.login()
	base := append(slices.Clone(w.env), "CI=true")
	seed := strings.TrimSpace(w.run("export-refresh-token").stdout)
	w.env = append(slices.Clone(base), "PLEOAUTH_REFRESH_TOKEN="+seed)
	if r := w.run("token"); r.code != 0 {
		t.Fatalf("the default profile from the seed: %v", r)
	}
	sent := w.stats().TokenRequests["refresh_token"]
	if r := w.run("token", "--profile", "acme"); r.code != 4 || !strings.Contains(r.stderr, "already sent") {
		t.Errorf("another profile with the same seed: %v; want exit 4, nothing sent", r)
	}
	if got := w.stats().TokenRequests["refresh_token"]; got != sent {
		t.Errorf("the seed was sent again for another profile")
	}

	// Two persistent runners, jobs on A, B, A; the secret written back after each rotation.
	secret := filepath.Join(t.TempDir(), "secret")
	if err := os.WriteFile(secret, []byte(strings.TrimSpace(w.run("export-refresh-token").stdout)+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	runners := []string{filepath.Join(t.TempDir(), "runner-a"), filepath.Join(t.TempDir(), "runner-b")}
	for i, home := range []string{runners[0], runners[1], runners[0], runners[1]} {
		if err := os.MkdirAll(home, 0o700); err != nil {
			t.Fatal(err)
		}
		current, _ := os.ReadFile(secret)
		cmd := w.command("token", "--force-refresh", "--on-rotate", "cat > "+secret)
		cmd.Env = append(slices.Clone(base), "PLEOAUTH_HOME="+home, "PLEOAUTH_REFRESH_TOKEN="+strings.TrimSpace(string(current)))
		if out, err := cmd.CombinedOutput(); exitCode(err) != 0 {
			t.Fatalf("job %d: exit %d: %s", i+1, exitCode(err), out)
		}
	}
	if s := w.stats(); s.FamiliesRevoked != 0 {
		t.Errorf("%d families revoked: a runner refreshed a login another had moved past", s.FamiliesRevoked)
	}
}

// TestJournalBelongsToItsStore: an answer journalled for the redis store is neither read nor set
// aside by a command run with another store meanwhile (an operator falling back to --store
// file while Redis is down); back on redis, it is saved and the login goes on.
func TestJournalBelongsToItsStore(t *testing.T) {
	r := oauthtest.StartRedis(t)
	w := redisWorld(t, r)
	w.bin = buildTagged(t, "crashpoints")
	w.login()
	_, _, wait := startHolder(t, w, "PLEOAUTH_CRASH_AT=journalled")
	if code := wait(); code != -1 {
		t.Fatalf("the holder was not killed at the point: exit %d", code)
	}
	cmd := w.command("status")
	cmd.Env = append(slices.Clone(w.env), "PLEOAUTH_STORE=file")
	out, _ := cmd.CombinedOutput()
	if strings.Contains(string(out), "journal") {
		t.Errorf("status with the file store touched the redis journal: %s", out)
	}
	waitFor(t, "the killed holder's lock to expire", func() bool { return r.Client().Exists(t.Context(), "pleoauth:lock:local").Val() == 0 })
	if res := w.run("token", "--force-refresh"); res.code != 0 {
		t.Errorf("back on redis: %v; want the journalled answer saved and refreshed from", res)
	}
	if s := w.stats(); s.FamiliesRevoked != 0 {
		t.Errorf("%d families revoked", s.FamiliesRevoked)
	}
}
