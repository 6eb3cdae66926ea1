package grant

import (
	"os"
	"strings"
	"testing"
	"time"

	"github.com/pleoauth/pleoauth/internal/config"
	"github.com/pleoauth/pleoauth/internal/store"
)

// TestUnsavedSaysWhatWasSpent: the message of a spend awaiting its answer names what was spent
// (a login's code, an imported refresh token, a refresh), so the person knows what to look for
// on the machine named.
func TestUnsavedSaysWhatWasSpent(t *testing.T) {
	for grant, want := range map[string]string{
		store.SpendCode:    "env staging: a login started on host-b (pid 7, at 2026-11-29T12:00:00Z) has not been saved yet",
		store.SpendImport:  "env staging: an import started on host-b",
		store.SpendRefresh: "env staging: a refresh started on host-b",
	} {
		e := &UnsavedError{Login: "staging", Spend: store.Spend{Grant: grant, Host: "host-b", PID: 7, At: t0}, Timeout: config.DefaultUnsavedTimeout}
		if got := e.Error(); !strings.HasPrefix(got, want) {
			t.Errorf("UnsavedError(%s) = %q; want it to start %q", grant, got, want)
		}
	}
}

// TestThisProcessNamesTheMachine: a spend names this machine's host name and this process, so
// that a later run here can tell whether its sender is still running.
func TestThisProcessNamesTheMachine(t *testing.T) {
	want, err := os.Hostname()
	if err != nil || want == "" {
		t.Skip("this machine has no host name")
	}
	if host, pid := thisProcess(); host != want || pid != os.Getpid() {
		t.Errorf("thisProcess = %q, %d; want %q, %d", host, pid, want, os.Getpid())
	}
}

// TestLoginName: the default profile's login is named after the environment alone (so a login
// stored before profiles existed is the default profile's); another profile's is env@profile.
func TestLoginName(t *testing.T) {
	for _, tt := range []struct{ profile, want string }{
		{"", "staging"},
		{config.DefaultProfile, "staging"},
		{"acme", "staging@acme"},
	} {
		if got := LoginName("staging", tt.profile); got != tt.want {
			t.Errorf("LoginName(staging, %q) = %q; want %q", tt.profile, got, tt.want)
		}
	}
}

// TestSaveRetryIsBoundedByTheLockTimeout: a store that refuses the answer is retried for
// lock_timeout when that is shorter than DefaultSaveRetry, so the lock is not held past the time
// other commands wait for it.
func TestSaveRetryIsBoundedByTheLockTimeout(t *testing.T) {
	for _, tt := range []struct {
		lockTimeout, want time.Duration
	}{
		{5 * time.Second, 5 * time.Second},
		{time.Hour, DefaultSaveRetry},
	} {
		st, _ := downAfterTheSpend(bundle("a1", "r1", 0))
		f := newFixture(t, st, issued("a2", "r2", 900))
		f.g.cfg.LockTimeout = tt.lockTimeout
		if _, err := f.g.TokenResult(t.Context(), Request{MinTTL: time.Minute}); err == nil {
			t.Fatal("the refresh succeeded with the store down")
		}
		// The last wait may end past the bound; none starts after it.
		if spent := f.now.Sub(t0); spent < tt.want || spent-f.waits[len(f.waits)-1] >= tt.want {
			t.Errorf("lock_timeout %s: retried for %s in waits %v; want retries for %s", tt.lockTimeout, spent, f.waits, tt.want)
		}
	}
}

// TestJournalledAnswerAndOnRotate: an answer saved from the journal reaches on_rotate when it
// brings a refresh token the store did not hold — also into a store that lost everything (Redis
// restarted empty) — and not when the server kept the refresh token; a failing command is said
// on stderr and the answer stays saved.
func TestJournalledAnswerAndOnRotate(t *testing.T) {
	spentR1 := bundle("a1", "r1", 0)
	spentR1.Spent = &store.Spend{ID: "s1", Grant: store.SpendRefresh, Host: "host-b", PID: 9, At: t0}
	tests := []struct {
		name     string
		stored   *store.Bundle
		answer   *store.Bundle
		onRotate string
		rotated  bool
		said     string
	}{
		{name: "rotated", stored: spentR1, answer: bundle("a2", "r2", time.Hour), onRotate: "cat >", rotated: true},
		{name: "into an empty store", stored: nil, answer: bundle("a2", "r2", time.Hour), onRotate: "cat >", rotated: true},
		{name: "the server kept the refresh token", stored: spentR1, answer: bundle("a2", "r1", time.Hour), onRotate: "cat >"},
		{name: "the command fails", stored: spentR1, answer: bundle("a2", "r2", time.Hour), onRotate: "exit 3 ||",
			said: "pleoauth: env staging: the refresh kept on this machine is saved now, but the on_rotate command failed"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFixture(t, &memStore{b: tt.stored})
			written := f.g.cfg.Home + "/written"
			f.g.Env.OnRotate = tt.onRotate + " " + written
			key, _ := f.st.JournalKey("staging")
			if err := f.g.journal.Write("staging", key, &store.JournalEntry{Answers: "s1", Spends: store.TokenHash("r1"), Bundle: tt.answer}); err != nil {
				t.Fatal(err)
			}
			unlock, err := f.g.lock(t.Context())
			if err != nil {
				t.Fatal(err)
			}
			unlock()
			if got := f.st.stored(); got == nil || got.AccessToken != "a2" || f.g.journal.Holds("staging") {
				t.Fatalf("store %+v; want the journalled a2 saved and the journal emptied", got)
			}
			data, _ := os.ReadFile(written)
			if ran := len(data) > 0; ran != tt.rotated || ran && string(data) != tt.answer.RefreshToken+"\n" {
				t.Errorf("on_rotate got %q; want a run %v with %s", data, tt.rotated, tt.answer.RefreshToken)
			}
			if got := f.stderr.String(); tt.said == "" && got != "" || !strings.HasPrefix(got, tt.said) {
				t.Errorf("stderr %q; want %q", got, tt.said)
			}
		})
	}
}
