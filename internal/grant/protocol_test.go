package grant

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"golang.org/x/oauth2"

	"github.com/pleoauth/pleoauth/internal/config"
	"github.com/pleoauth/pleoauth/internal/failure"
	"github.com/pleoauth/pleoauth/internal/store"
	"github.com/pleoauth/pleoauth/internal/tokenendpoint"
)

func TestValidTokenNeedsNoLockNorRefresh(t *testing.T) {
	f := newFixture(t, &memStore{b: bundle("a1", "r1", 10*time.Minute)}, issued("a2", "r2", 900))
	res, err := f.g.TokenResult(context.Background(), Request{MinTTL: time.Minute})
	if err != nil || res.Bundle.AccessToken != "a1" || res.Refreshed || res.Warning != "" {
		t.Fatalf("Token = %+v, %v; want the stored a1", res, err)
	}
	if len(f.presented) != 0 || f.lock.taken != 0 || len(f.st.writes) != 0 {
		t.Errorf("a valid token cost %d refreshes, %d locks, %d writes", len(f.presented), f.lock.taken, len(f.st.writes))
	}
}

func TestRefreshRotatesAndSavesBoth(t *testing.T) {
	f := newFixture(t, &memStore{b: bundle("a1", "r1", 30*time.Second)}, issued("a2", "r2", 900))
	res, err := f.g.TokenResult(context.Background(), Request{MinTTL: time.Minute})
	if err != nil {
		t.Fatal(err)
	}
	got := f.st.stored()
	if !res.Refreshed || res.Bundle.AccessToken != "a2" || got.AccessToken != "a2" || got.RefreshToken != "r2" || got.Spent != nil {
		t.Errorf("after refresh: result %+v, store %+v", res.Bundle, got)
	}
	if want := t0.Add(15 * time.Minute); !got.Expiry.Equal(want) {
		t.Errorf("expiry %v; want %v (send time + expires_in)", got.Expiry, want)
	}
	if strings.Join(f.presented, ",") != "r1" {
		t.Errorf("refresh tokens presented: %v; want [r1]", f.presented)
	}
	if f.g.journal.Holds("staging") {
		t.Error("the journal still holds the answer after it was saved")
	}
}

// TestSpendIsRecordedBeforeTheRefreshIsSent is the rule: the store names the refresh token as
// spent, by this process, when the request leaves.
func TestSpendIsRecordedBeforeTheRefreshIsSent(t *testing.T) {
	f := newFixture(t, &memStore{b: bundle("a1", "r1", 0)}, issued("a2", "r2", 900))
	if _, err := f.g.TokenResult(context.Background(), Request{MinTTL: time.Minute}); err != nil {
		t.Fatal(err)
	}
	at := f.atSend[0]
	if at == nil || at.Spent == nil || at.RefreshToken != "r1" {
		t.Fatalf("the store held %+v when r1 was sent; want r1 recorded as spent", at)
	}
	if s := at.Spent; s.Grant != store.SpendRefresh || s.Host != "host-a" || s.PID != 4242 || s.ID == "" || !s.At.Equal(t0) {
		t.Errorf("spend record %+v; want this process, now, a refresh", s)
	}
}

// TestRefreshKeepsWhoseLoginItIs: the subject recorded at login survives a refresh, so status
// still says whose login it is.
func TestRefreshKeepsWhoseLoginItIs(t *testing.T) {
	b := bundle("a1", "r1", 0)
	b.Subject = "urn:pleo:company:00000000-0000-4000-8000-000000000001"
	f := newFixture(t, &memStore{b: b}, issued("a2", "r2", 900))
	if _, err := f.g.TokenResult(context.Background(), Request{MinTTL: time.Minute}); err != nil {
		t.Fatal(err)
	}
	if got := f.st.stored(); got.AccessToken != "a2" || got.Subject != b.Subject {
		t.Errorf("after the refresh: %+v; want a2 with the subject kept", got)
	}
}

func TestResponseWithoutRefreshTokenKeepsTheOld(t *testing.T) {
	f := newFixture(t, &memStore{b: bundle("a1", "r1", 0)}, issued("a2", "", 900))
	if _, err := f.g.TokenResult(context.Background(), Request{MinTTL: time.Minute}); err != nil {
		t.Fatal(err)
	}
	if got := f.st.stored(); got.RefreshToken != "r1" || got.AccessToken != "a2" {
		t.Errorf("store = %+v; want a2 with the old r1", got)
	}
}

func TestResponseWithoutExpiresInIsShortLived(t *testing.T) {
	f := newFixture(t, &memStore{b: bundle("a1", "r1", 0)}, issued("a2", "r2", 0))
	if _, err := f.g.TokenResult(context.Background(), Request{MinTTL: time.Minute}); err != nil {
		t.Fatal(err)
	}
	if want := t0.Add(tokenendpoint.AssumedLifetime); !f.st.stored().Expiry.Equal(want) {
		t.Errorf("expiry %v; want %v", f.st.stored().Expiry, want)
	}
}

// TestAnotherProcessRefreshedWhileWaiting: the token found after taking the lock is used as is.
func TestAnotherProcessRefreshedWhileWaiting(t *testing.T) {
	for _, force := range []bool{false, true} {
		loads := 0
		st := &memStore{b: bundle("a1", "r1", 0)}
		st.onLoad = func(m *memStore) {
			loads++
			if loads == 2 { // the re-read under the lock sees another process's refresh
				m.b = bundle("other", "r-other", 15*time.Minute)
			}
		}
		f := newFixture(t, st, issued("a2", "r2", 900))
		res, err := f.g.TokenResult(context.Background(), Request{MinTTL: time.Minute, Force: force})
		if err != nil || res.Bundle.AccessToken != "other" || len(f.presented) != 0 {
			t.Errorf("force=%v: got %+v, %v after %d refreshes; want the other process's token and no refresh", force, res.Bundle, err, len(f.presented))
		}
	}
}

func TestForceRefreshesAValidToken(t *testing.T) {
	f := newFixture(t, &memStore{b: bundle("a1", "r1", time.Hour)}, issued("a2", "r2", 900))
	res, err := f.g.TokenResult(context.Background(), Request{MinTTL: time.Minute, Force: true})
	if err != nil || res.Bundle.AccessToken != "a2" || len(f.presented) != 1 {
		t.Errorf("Force: %+v, %v, %d refreshes", res.Bundle, err, len(f.presented))
	}
}

func TestFailures(t *testing.T) {
	type answer = func(string) (*oauth2.Token, error)
	tests := []struct {
		name     string
		stored   *store.Bundle
		answers  []answer
		kind     failure.Kind
		want     string
		attempts int
		waits    []time.Duration
		// failWrite fails the store's n-th write.
		failWrite int
		// after is what the store must hold afterwards: "unchanged", "spent" (the spend still
		// recorded) or "refused".
		after string
	}{
		{name: "not logged in", kind: failure.LoginRequired, want: `env staging: not logged in`},
		{name: "no refresh token", stored: bundle("a1", "", 0), kind: failure.LoginRequired, want: "no refresh token is held", after: "unchanged"},
		{name: "invalid_grant", stored: bundle("a1", "r1", 0), answers: []answer{failing(400, "invalid_grant", 0)},
			kind: failure.LoginRequired, want: `refused (invalid_grant)`, attempts: 1, after: "refused"},
		{name: "invalid_client is not retried", stored: bundle("a1", "r1", 0), answers: []answer{failing(401, "invalid_client", 0)},
			kind: failure.Other, want: "invalid_client", attempts: 1, after: "unchanged"},
		{name: "500 retried then temporary", stored: bundle("a1", "r1", 0), answers: []answer{failing(500, "", 0)},
			kind: failure.Temporary, want: "HTTP 500", attempts: 3, waits: DefaultBackoff, after: "unchanged"},
		{name: "a timeout is not retried and spends the token", stored: bundle("a1", "r1", 0), answers: []answer{timedOut},
			kind: failure.LoginRequired, want: "answer was lost", attempts: 1, after: "spent"},
		{name: "429 honours Retry-After, capped", stored: bundle("a1", "r1", 0),
			answers: []answer{failing(429, "", 2*time.Second), failing(429, "", time.Hour), issued("a2", "r2", 900)},
			kind:    -1, attempts: 3, waits: []time.Duration{2 * time.Second, MaxRetryAfter}},
		{name: "the spend cannot be recorded: nothing is sent", stored: bundle("a1", "r1", 0), answers: []answer{issued("a2", "r2", 900)},
			kind: failure.Other, want: "not refreshed, as the new tokens could not be saved", failWrite: 1, after: "unchanged"},
		{name: "an answer no client can use spends the token", stored: bundle("a1", "r1", 0), answers: []answer{issued("a2\nX-Evil: 1", "r2", 900)},
			kind: failure.Other, want: "b64token", attempts: 1, after: "spent"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			st := &memStore{b: tt.stored}
			if tt.failWrite > 0 {
				st.failWrite = func(n int, _ *store.Bundle) error {
					if n == tt.failWrite {
						return errors.New("disk full")
					}
					return nil
				}
			}
			var before store.Bundle
			if tt.stored != nil {
				before = *tt.stored
			}
			f := newFixture(t, st, tt.answers...)
			_, err := f.g.TokenResult(context.Background(), Request{MinTTL: time.Minute})
			if tt.kind == -1 {
				if err != nil {
					t.Fatalf("Token = %v; want success", err)
				}
			} else {
				if err == nil {
					t.Fatal("Token succeeded")
				}
				if failure.KindOf(err) != tt.kind || !strings.Contains(err.Error(), tt.want) || !strings.Contains(err.Error(), "env staging") {
					t.Errorf("error %q (kind %v); want kind %v naming env staging and %q", err, failure.KindOf(err), tt.kind, tt.want)
				}
			}
			got := st.stored()
			switch tt.after {
			case "unchanged":
				if got == nil || *got != before {
					t.Errorf("the store changed on failure: %+v; want %+v", got, before)
				}
			case "spent":
				if got == nil || got.Spent == nil || !got.Spent.Lost || got.RefreshToken != before.RefreshToken {
					t.Errorf("store %+v; want %s still recorded as spent, its answer marked lost", got, before.RefreshToken)
				}
			case "refused":
				if got == nil || got.Refused == nil || got.Spent != nil || got.AccessToken != before.AccessToken {
					t.Errorf("store %+v; want the login with the refusal recorded and no spend", got)
				}
			}
			if len(f.presented) != tt.attempts {
				t.Errorf("%d refresh requests; want %d", len(f.presented), tt.attempts)
			}
			if tt.waits != nil && !slices.Equal(f.waits, tt.waits) {
				t.Errorf("waits %v; want %v", f.waits, tt.waits)
			}
		})
	}
}

// TestSpentTokenIsNeverSentAgain: a spend found in the store without its answer is never sent
// again; the error says where the answer is, temporary while it may still come, and login
// required once it cannot (this machine's sender gone, or unsaved_timeout passed).
func TestSpentTokenIsNeverSentAgain(t *testing.T) {
	home := "/home/u/.pleoauth"
	tests := []struct {
		name  string
		spend store.Spend
		age   time.Duration
		kind  failure.Kind
		want  string
	}{
		{"another machine, recently", store.Spend{Host: "host-b", PID: 7, Home: home}, time.Minute, failure.Temporary, "started on host-b (pid 7"},
		{"another machine, past unsaved_timeout", store.Spend{Host: "host-b", PID: 7, Home: home}, 11 * time.Minute, failure.LoginRequired, "was never saved"},
		{"another machine, at unsaved_timeout exactly", store.Spend{Host: "host-b", PID: 7, Home: home}, config.DefaultUnsavedTimeout, failure.Temporary, "has not been saved yet"},
		{"this machine, the sender gone", store.Spend{Host: "host-a", PID: 1 << 30, Home: home}, time.Second, failure.LoginRequired, "was never saved"},
		{"this process", store.Spend{Host: "host-a", PID: 4242, Home: home}, time.Second, failure.LoginRequired, "was never saved"},
		{"this machine, the sender still running", store.Spend{Host: "host-a", PID: os.Getpid(), Home: home}, time.Second, failure.Temporary, "has not been saved yet"},
		{"this machine, no sender recorded", store.Spend{Host: "host-a", PID: 0, Home: home}, time.Second, failure.LoginRequired, "was never saved"},
		{"this host name, another home", store.Spend{Host: "host-a", PID: 1 << 30, Home: "/other"}, time.Second, failure.Temporary, "has not been saved yet"},
		{"a host name with terminal escapes is cleaned", store.Spend{Host: "evil\x1b]52;c;eA==\x07\nforged", PID: 7, Home: home}, time.Minute, failure.Temporary, "evil ]52;c;eA== forged (pid 7"},
		{"another machine, its answer known lost", store.Spend{Host: "host-b", PID: 7, Home: home, Lost: true}, time.Second, failure.LoginRequired, "was never saved"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			spent := bundle("a1", "r1", 0)
			sp := tt.spend
			sp.ID, sp.Grant, sp.At = "id1", store.SpendRefresh, t0
			spent.Spent = &sp
			f := newFixture(t, &memStore{b: spent}, issued("a2", "r2", 900))
			f.g.cfg.Home = home
			f.now = t0.Add(tt.age)
			_, err := f.g.TokenResult(context.Background(), Request{MinTTL: time.Minute})
			if failure.KindOf(err) != tt.kind || err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("error %v (kind %v); want kind %v saying %q", err, failure.KindOf(err), tt.kind, tt.want)
			}
			if len(f.presented) != 0 {
				t.Errorf("the spent refresh token was sent again: %v", f.presented)
			}
			if got := f.st.stored(); got.Spent == nil || got.Spent.ID != "id1" {
				t.Errorf("the spend record was changed: %+v", got)
			}
		})
	}
}

// TestSpendThroughALinkedHomeIsHere: a spend recorded by a process whose PLEOAUTH_HOME was a
// symbolic link to this run's home is this machine's and this journal's: its sender gone, the
// login is said lost at once rather than waited for as another machine's.
func TestSpendThroughALinkedHomeIsHere(t *testing.T) {
	base, err := filepath.EvalSymlinks(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	real, link := filepath.Join(base, "real"), filepath.Join(base, "link")
	if err := os.Mkdir(real, 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(real, link); err != nil {
		t.Fatal(err)
	}
	spent := bundle("a1", "r1", 0)
	spent.Spent = &store.Spend{ID: "id1", Grant: store.SpendRefresh, Host: "host-a", PID: 1 << 30, Home: link, At: t0}
	f := newFixture(t, &memStore{b: spent}, issued("a2", "r2", 900))
	f.g.cfg.Home, f.g.cfg.RealHome = real, real
	f.now = t0.Add(time.Second)
	_, err = f.g.TokenResult(context.Background(), Request{MinTTL: time.Minute})
	if failure.KindOf(err) != failure.LoginRequired || !strings.Contains(err.Error(), "was never saved") {
		t.Errorf("error %v (kind %v); want login required: the sender, on this machine and home, is gone", err, failure.KindOf(err))
	}
	if len(f.presented) != 0 {
		t.Errorf("the spent refresh token was sent again: %v", f.presented)
	}
}

// TestAnswerTheStoreRefusedIsJournalledAndSavedNext: the store fails after the answer came;
// the answer is kept in the journal and the command says so (temporary); the next command
// saves it without sending anything.
func TestAnswerTheStoreRefusedIsJournalledAndSavedNext(t *testing.T) {
	st, down := downAfterTheSpend(bundle("a1", "r1", 0))
	f := newFixture(t, st, issued("a2", "r2", 900))
	_, err := f.g.TokenResult(context.Background(), Request{MinTTL: time.Minute})
	if failure.KindOf(err) != failure.Temporary || err == nil || !strings.Contains(err.Error(), "kept on this machine") {
		t.Fatalf("error %v; want temporary, saying the answer is kept on this machine", err)
	}
	if len(f.waits) == 0 || f.now.Sub(t0) < DefaultSaveRetry {
		t.Errorf("the save was retried for %s in %d waits; want retries for %s", f.now.Sub(t0), len(f.waits), DefaultSaveRetry)
	}
	if !f.g.journal.Holds("staging") {
		t.Fatal("the answer is not in the journal")
	}
	*down = false
	res, err := f.g.TokenResult(context.Background(), Request{MinTTL: time.Minute})
	if err != nil || res.Bundle.AccessToken != "a2" || len(f.presented) != 1 {
		t.Fatalf("next command: %+v, %v after %d refreshes; want a2 from the journal and no new refresh", res.Bundle, err, len(f.presented))
	}
	if got := f.st.stored(); got.AccessToken != "a2" || got.RefreshToken != "r2" || got.Spent != nil || f.g.journal.Holds("staging") {
		t.Errorf("store %+v, journal held %v; want a2/r2 saved and the journal empty", got, f.g.journal.Holds("staging"))
	}
}

// TestStoreComesBackWithinTheRetry: the store refuses once; the retry saves the answer and the
// command succeeds.
func TestStoreComesBackWithinTheRetry(t *testing.T) {
	st := &memStore{b: bundle("a1", "r1", 0)}
	st.failWrite = func(n int, _ *store.Bundle) error {
		if n == 2 {
			return errors.New("redis: connection refused")
		}
		return nil
	}
	f := newFixture(t, st, issued("a2", "r2", 900))
	res, err := f.g.TokenResult(context.Background(), Request{MinTTL: time.Minute})
	if err != nil || res.Bundle.AccessToken != "a2" || st.stored().AccessToken != "a2" {
		t.Fatalf("Token = %+v, %v; store %+v; want a2 saved by the retry", res.Bundle, err, st.stored())
	}
	if f.g.journal.Holds("staging") {
		t.Error("the journal still holds a saved answer")
	}
}

// TestLockLostBeforeTheSaveIsTakenAgain: a Redis lock that expired while the answer was on its
// way is taken again, and the answer saved over its own spend.
func TestLockLostBeforeTheSaveIsTakenAgain(t *testing.T) {
	st := &memStore{b: bundle("a1", "r1", 0)}
	st.failWrite = func(n int, _ *store.Bundle) error {
		if n == 2 {
			return &store.LockLostError{Key: "pleoauth:lock:staging"}
		}
		return nil
	}
	f := newFixture(t, st, issued("a2", "r2", 900))
	if _, err := f.g.TokenResult(context.Background(), Request{MinTTL: time.Minute}); err != nil {
		t.Fatal(err)
	}
	if f.lock.taken != 2 || st.stored().AccessToken != "a2" {
		t.Errorf("lock taken %d times, store %+v; want the lock taken again and a2 saved", f.lock.taken, st.stored())
	}
}

// TestLockLostBeforeTheSpendSendsNothing: a Redis lock that expired before the spend record
// was written (the process stopped past lock_ttl) sends nothing and is a temporary failure —
// the next run takes the lock afresh — while any other failure to record the spend is not.
func TestLockLostBeforeTheSpendSendsNothing(t *testing.T) {
	for _, tt := range []struct {
		name string
		err  error
		kind failure.Kind
	}{
		{"lock lost", &store.LockLostError{Key: "pleoauth:lock:staging"}, failure.Temporary},
		{"lock lost, wrapped", fmt.Errorf("write: %w", &store.LockLostError{Key: "pleoauth:lock:staging"}), failure.Temporary},
		{"a read-only file", errors.New("read-only file system"), failure.Other},
	} {
		t.Run(tt.name, func(t *testing.T) {
			st := &memStore{b: bundle("a1", "r1", 0)}
			st.failWrite = func(n int, _ *store.Bundle) error {
				if n == 1 {
					return tt.err
				}
				return nil
			}
			f := newFixture(t, st, issued("a2", "r2", 900))
			_, err := f.g.TokenResult(context.Background(), Request{MinTTL: time.Minute})
			if err == nil || failure.KindOf(err) != tt.kind || len(f.presented) != 0 {
				t.Fatalf("Token = %v (kind %v) after %d requests; want kind %v and nothing sent", err, failure.KindOf(err), len(f.presented), tt.kind)
			}
			if st.stored().AccessToken != "a1" || st.stored().Spent != nil {
				t.Errorf("store %+v; want the login untouched", st.stored())
			}
		})
	}
}

// TestJournalEntries: what the next holder of the lock does with an answer in the journal.
func TestJournalEntries(t *testing.T) {
	spent := func(id string) *store.Bundle {
		b := bundle("a1", "r1", 0)
		b.Spent = &store.Spend{ID: id, Grant: store.SpendRefresh, Host: "host-b", PID: 9, At: t0}
		return b
	}
	answer := bundle("a2", "r2", 15*time.Minute)
	newer := bundle("a3", "r3", 15*time.Minute)
	before := bundle("a1", "r1", 0) // the login before the spend, without its record
	tests := []struct {
		name    string
		stored  *store.Bundle
		loadErr error
		want    string // the access token stored after ("" for none)
	}{
		{"the store waits for it", spent("s1"), nil, "a2"},
		{"the store is empty (Redis restarted without persistence)", nil, nil, "a2"},
		{"the store went back to before the spend (an older Redis snapshot)", before, nil, "a2"},
		{"the store took it already (the reply was lost)", answer, nil, "a2"},
		{"the store moved on (a new login)", newer, nil, "a3"},
		{"another spend is recorded", spent("s2"), nil, "a1"},
		{"the login was logged out since", nil, store.ErrLoggedOut, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFixture(t, &memStore{b: tt.stored, loadErr: tt.loadErr}, issued("a9", "r9", 900))
			key, _ := f.st.JournalKey("staging")
			if err := f.g.journal.Write("staging", key, &store.JournalEntry{Answers: "s1", Spends: store.TokenHash("r1"), Bundle: answer}); err != nil {
				t.Fatal(err)
			}
			unlock, err := f.g.lock(context.Background())
			if err != nil {
				t.Fatal(err)
			}
			unlock()
			got := f.st.stored()
			if tt.want == "" && got != nil || tt.want != "" && (got == nil || got.AccessToken != tt.want) {
				t.Errorf("store holds %+v; want access token %q", got, tt.want)
			}
			if f.g.journal.Holds("staging") {
				t.Error("the journal entry was not removed")
			}
			if len(f.presented) != 0 {
				t.Errorf("finishing the journal sent %v", f.presented)
			}
		})
	}
}

// TestMinTTLLongerThanTheServerIssues: a server issuing 2 s tokens against --min-ttl 30m gets
// one refresh per half lifetime, not one per call, and each token comes with a warning.
func TestMinTTLLongerThanTheServerIssues(t *testing.T) {
	st := &memStore{b: bundle("a1", "r1", 0)}
	f := newFixture(t, st, issued("a2", "r2", 2))
	for i := range 10 {
		res, err := f.g.TokenResult(context.Background(), Request{MinTTL: 30 * time.Minute})
		if err != nil {
			t.Fatalf("call %d: %v", i, err)
		}
		if res.Warning == "" || !strings.Contains(res.Warning, "--min-ttl 30m") {
			t.Errorf("call %d: warning %q; want one naming --min-ttl", i, res.Warning)
		}
		f.now = f.now.Add(100 * time.Millisecond) // ten calls within one 2 s lifetime
	}
	if len(f.presented) != 1 {
		t.Errorf("%d refreshes for ten calls within one token lifetime; want 1", len(f.presented))
	}
	f.now = f.now.Add(time.Second) // past half the lifetime
	if _, err := f.g.TokenResult(context.Background(), Request{MinTTL: 30 * time.Minute}); err != nil || len(f.presented) != 2 {
		t.Errorf("past half the lifetime: %v after %d refreshes; want a second refresh", err, len(f.presented))
	}
}

func TestEffectiveMinTTL(t *testing.T) {
	tests := []struct {
		lifetime, minTTL, want time.Duration
	}{
		{15 * time.Minute, time.Minute, time.Minute},
		{15 * time.Minute, 15 * time.Minute, 450 * time.Second},
		{2 * time.Second, 30 * time.Minute, time.Second},
		{0, time.Minute, time.Minute},
	}
	for _, tt := range tests {
		b := &store.Bundle{ObtainedAt: t0, Expiry: t0.Add(tt.lifetime)}
		if tt.lifetime == 0 {
			b.ObtainedAt = time.Time{}
		}
		if got := effectiveMinTTL(b, tt.minTTL); got != tt.want {
			t.Errorf("effectiveMinTTL(lifetime %s, %s) = %s; want %s", tt.lifetime, tt.minTTL, got, tt.want)
		}
	}
	// A bundle that says it expired as it was obtained tells nothing of the server's lifetimes.
	if got := effectiveMinTTL(&store.Bundle{ObtainedAt: t0, Expiry: t0}, time.Minute); got != time.Minute {
		t.Errorf("effectiveMinTTL(lifetime 0, 1m) = %s; want 1m", got)
	}
}

// TestSeedAfterALostSpend: in CI, a login lost with its answer is started again from a new
// PLEOAUTH_REFRESH_TOKEN, never from the spent one.
func TestSeedAfterALostSpend(t *testing.T) {
	for _, tt := range []struct {
		seed string
		sent []string
	}{
		{"", nil},
		{"r1", nil}, // the spent token itself: never sent again
		{"r-new", []string{"r-new"}},
	} {
		spent := bundle("a1", "r1", 0)
		spent.Spent = &store.Spend{ID: "s", Grant: store.SpendRefresh, Host: "host-b", PID: 7, At: t0, Lost: true}
		f := newFixture(t, &memStore{b: spent}, issued("a2", "r2", 900))
		f.g.d.Getenv = func(k string) string {
			if k == "PLEOAUTH_REFRESH_TOKEN" {
				return tt.seed
			}
			return ""
		}
		_, err := f.g.TokenResult(context.Background(), Request{MinTTL: time.Minute})
		if !slices.Equal(f.presented, tt.sent) || (tt.sent == nil) != (err != nil) {
			t.Errorf("seed %q: sent %v, error %v; want %v sent", tt.seed, f.presented, err, tt.sent)
		}
	}
}

// TestUndoneSpendIsKeptLikeAnAnswer: a refresh the server did not carry out (500s) must put
// the login back without its spend record; when the store refuses that write, the journal
// keeps it, and the next command sends the refresh token, which is still good.
func TestUndoneSpendIsKeptLikeAnAnswer(t *testing.T) {
	st, down := downAfterTheSpend(bundle("a1", "r1", 0))
	f := newFixture(t, st, failing(500, "", 0), failing(500, "", 0), failing(500, "", 0), issued("a2", "r2", 900))
	_, err := f.g.TokenResult(context.Background(), Request{MinTTL: time.Minute})
	if failure.KindOf(err) != failure.Temporary || !strings.Contains(err.Error(), "kept on this machine") {
		t.Fatalf("error %v; want temporary, the login kept on this machine", err)
	}
	*down = false
	res, err := f.g.TokenResult(context.Background(), Request{MinTTL: time.Minute})
	if err != nil || res.Bundle.AccessToken != "a2" || f.presented[len(f.presented)-1] != "r1" {
		t.Fatalf("next command: %+v, %v, sent %v; want r1 sent again (it never reached the server's rotation) and a2", res.Bundle, err, f.presented)
	}
}

// TestSeedIsSentOnce: PLEOAUTH_REFRESH_TOKEN is recorded on this machine before it is sent, and
// never sent again — not after the login moved on (an export, a logout), nor over a refused or
// lost login that it started.
func TestSeedIsSentOnce(t *testing.T) {
	st := &memStore{}
	f := newFixture(t, st, issued("a2", "r2", 900))
	f.g.d.Getenv = func(k string) string {
		if k == "PLEOAUTH_REFRESH_TOKEN" {
			return "seed-1"
		}
		return ""
	}
	if _, err := f.g.TokenResult(context.Background(), Request{MinTTL: time.Minute}); err != nil {
		t.Fatal(err)
	}
	if got := st.stored(); got.Seed != store.TokenHash("seed-1") {
		t.Errorf("the login does not name its seed: %+v", got)
	}
	st.b = nil // exported, or logged out
	_, err := f.g.TokenResult(context.Background(), Request{MinTTL: time.Minute})
	if failure.KindOf(err) != failure.LoginRequired || !strings.Contains(err.Error(), "PLEOAUTH_REFRESH_TOKEN was already sent") {
		t.Errorf("the seed after the login moved on: %v; want login required, naming the variable", err)
	}
	// A later login it started, refused: the same seed is not taken for a new one.
	refused := bundle("a5", "r5", 0)
	refused.Seed, refused.Refused = store.TokenHash("seed-1"), &store.Refusal{At: t0, Reason: "invalid_grant"}
	st.b = refused
	if _, err := f.g.TokenResult(context.Background(), Request{MinTTL: time.Minute}); failure.KindOf(err) != failure.LoginRequired {
		t.Errorf("the seed over the refused login it started: %v; want login required", err)
	}
	if !slices.Equal(f.presented, []string{"seed-1"}) {
		t.Errorf("sent %v; want seed-1 once", f.presented)
	}
}

// TestReplacingOutlivesARefresh: a login under way on another machine stays named across a
// refresh here, so its answer still replaces the login when that machine comes back.
func TestReplacingOutlivesARefresh(t *testing.T) {
	b := bundle("a1", "r1", 0)
	b.Replacing = &store.Spend{ID: "login-elsewhere", Grant: store.SpendCode, Host: "host-b", PID: 9, At: t0}
	st := &memStore{b: b}
	f := newFixture(t, st, issued("a2", "r2", 900))
	if _, err := f.g.TokenResult(context.Background(), Request{MinTTL: time.Minute}); err != nil {
		t.Fatal(err)
	}
	if got := st.stored(); got.AccessToken != "a2" || got.Replacing == nil || got.Replacing.ID != "login-elsewhere" {
		t.Errorf("after the refresh: %+v; want a2 still naming the login under way elsewhere", got)
	}
}

// TestSpendSendsTheCachedPathTheLockedWay: a bundle whose refresh token another process is
// spending still holds an access token valid by its expiry, but the server invalidates it on
// rotation: it is not handed out without the lock; the holder's answer is.
func TestSpendSendsTheCachedPathTheLockedWay(t *testing.T) {
	spent := bundle("a1", "r1", 10*time.Minute)
	spent.Spent = &store.Spend{ID: "s", Grant: store.SpendRefresh, Host: "host-b", PID: 7, At: t0}
	loads := 0
	st := &memStore{b: spent}
	st.onLoad = func(m *memStore) {
		loads++
		if loads == 2 { // the holder saved its answer while this one waited for the lock
			m.b = bundle("a2", "r2", 15*time.Minute)
		}
	}
	f := newFixture(t, st, issued("a9", "r9", 900))
	res, err := f.g.TokenResult(context.Background(), Request{MinTTL: time.Minute})
	if err != nil || res.Bundle.AccessToken != "a2" || f.lock.taken != 1 || len(f.presented) != 0 {
		t.Errorf("Token = %+v, %v after %d locks and %d refreshes; want the holder's a2 through the lock, nothing sent", res.Bundle, err, f.lock.taken, len(f.presented))
	}
}

// TestJournalledRotationReachesOnRotate: an answer the store took only later, from the
// journal, still hands its new refresh token to on_rotate (a CI secret written back late is
// written back), once.
func TestJournalledRotationReachesOnRotate(t *testing.T) {
	st, down := downAfterTheSpend(bundle("a1", "r1", 0))
	f := newFixture(t, st, issued("a2", "r2", 900))
	written := filepath.Join(t.TempDir(), "secret")
	f.g.Env.OnRotate = "cat >> " + written
	if _, err := f.g.TokenResult(context.Background(), Request{MinTTL: time.Minute}); err == nil {
		t.Fatal("the refresh succeeded with the store down")
	}
	if data, _ := os.ReadFile(written); len(data) != 0 {
		t.Fatalf("on_rotate ran before the tokens were saved: %q", data)
	}
	*down = false
	if _, err := f.g.TokenResult(context.Background(), Request{MinTTL: time.Minute}); err != nil {
		t.Fatal(err)
	}
	if _, err := f.g.TokenResult(context.Background(), Request{MinTTL: time.Minute}); err != nil {
		t.Fatal(err)
	}
	if data, _ := os.ReadFile(written); string(data) != "r2\n" {
		t.Errorf("on_rotate got %q; want the journalled r2 once", data)
	}
}

// withSeed makes f's environment hold PLEOAUTH_REFRESH_TOKEN=seed.
func withSeed(f *fixture, seed string) {
	f.g.d.Getenv = func(k string) string {
		if k == "PLEOAUTH_REFRESH_TOKEN" {
			return seed
		}
		return ""
	}
}

// TestSeedRules: when PLEOAUTH_REFRESH_TOKEN is taken, and when it is never sent.
func TestSeedRules(t *testing.T) {
	ci := func(access, refresh, seed string) *store.Bundle { // a login that started from a seed
		b := bundle(access, refresh, 0)
		b.Seed = store.TokenHash(seed)
		return b
	}
	tests := []struct {
		name     string
		stored   *store.Bundle
		seed     string
		spent    []string // refresh tokens this machine sent before
		backend  string
		sent     []string
		wantKind failure.Kind // -1: success
	}{
		{"an empty store starts from the seed", nil, "s1", nil, "", []string{"s1"}, -1},
		{"a seed this machine sent (another profile, an export) is not sent again", nil, "s1", []string{"s1"}, "", nil, failure.LoginRequired},
		{"the variable moved past a CI login (another runner refreshed): the seed", ci("a1", "r1", "s0"), "s2", nil, "", []string{"s2"}, -1},
		{"the variable is older than this CI login (its write-back failed): the login", ci("a1", "r1", "s0"), "s0", []string{"s0"}, "", []string{"r1"}, -1},
		{"the variable is this CI login's own refresh token: the login", ci("a1", "r1", "s0"), "r1", nil, "", []string{"r1"}, -1},
		{"a login of pleoauth login is not replaced by a variable", bundle("a1", "r1", 0), "s9", nil, "", []string{"r1"}, -1},
		{"the redis store never starts from the variable", nil, "s1", nil, "redis", nil, failure.LoginRequired},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFixture(t, &memStore{b: tt.stored, name: tt.backend}, issued("a2", "r2", 900))
			withSeed(f, tt.seed)
			for _, rt := range tt.spent {
				if err := f.g.spent.Add("staging", store.TokenHash(rt)); err != nil {
					t.Fatal(err)
				}
			}
			_, err := f.g.TokenResult(context.Background(), Request{MinTTL: time.Minute})
			if tt.wantKind == -1 && err != nil || tt.wantKind != -1 && failure.KindOf(err) != tt.wantKind {
				t.Errorf("Token = %v (kind %v); want kind %v", err, failure.KindOf(err), tt.wantKind)
			}
			if !slices.Equal(f.presented, tt.sent) {
				t.Errorf("sent %v; want %v", f.presented, tt.sent)
			}
		})
	}
}

// TestSeedNotCarriedOutStaysUsable: a seed whose refresh the server did not carry out (503s,
// no client secret) is taken off the list of tokens sent, so the next try sends it.
func TestSeedNotCarriedOutStaysUsable(t *testing.T) {
	f := newFixture(t, &memStore{}, failing(503, "", 0), failing(503, "", 0), failing(503, "", 0), issued("a2", "r2", 900))
	withSeed(f, "s1")
	if _, err := f.g.TokenResult(context.Background(), Request{MinTTL: time.Minute}); failure.KindOf(err) != failure.Temporary {
		t.Fatalf("first try: %v; want temporary", err)
	}
	if f.g.spent.Holds("staging", store.TokenHash("s1")) {
		t.Error("a seed the server never used is listed as sent")
	}
	if _, err := f.g.TokenResult(context.Background(), Request{MinTTL: time.Minute}); err != nil {
		t.Fatalf("the next try: %v; want the seed sent again and accepted", err)
	}
}

// TestProfilesListJournalledLogins: a profile whose answer waits only in this machine's journal
// (its store lost it) is listed, so that status, which lists profiles, finishes its save.
func TestProfilesListJournalledLogins(t *testing.T) {
	f := newFixture(t, &memStore{}, issued("a2", "r2", 900))
	key, _ := f.st.JournalKey("staging@acme")
	if err := f.g.journal.Write("staging@acme", key, &store.JournalEntry{Answers: "s", Bundle: bundle("a1", "r1", time.Hour)}); err != nil {
		t.Fatal(err)
	}
	f.g.cfg.ProfileChosen = false
	got, err := f.g.Profiles()
	if err != nil || !slices.Equal(got, []string{"default", "acme"}) && !slices.Equal(got, []string{"acme", "default"}) {
		t.Errorf("Profiles = %v, %v; want the default one and acme", got, err)
	}
}

// TestJournalIsFinishedBeforeACachedToken: an answer waiting in the journal is saved before any
// token is handed out, even where the store holds one that looks valid (a Redis back from an
// older snapshot: the server revoked that token when it rotated).
func TestJournalIsFinishedBeforeACachedToken(t *testing.T) {
	st := &memStore{b: bundle("a1", "r1", 10*time.Minute)}
	f := newFixture(t, st, issued("a9", "r9", 900))
	key, _ := st.JournalKey("staging")
	if err := f.g.journal.Write("staging", key, &store.JournalEntry{Answers: "s1", Spends: store.TokenHash("r1"), Bundle: bundle("a2", "r2", 15*time.Minute)}); err != nil {
		t.Fatal(err)
	}
	res, err := f.g.TokenResult(context.Background(), Request{MinTTL: time.Minute})
	if err != nil || res.Bundle.AccessToken != "a2" || f.g.journal.Holds("staging") {
		t.Errorf("Token = %+v, %v (journal held: %v); want a2 from the journal, saved first", res.Bundle, err, f.g.journal.Holds("staging"))
	}
}

// downAfterTheSpend is a store holding b that takes the spend record and then refuses every
// write (Redis gone) while *down is set.
func downAfterTheSpend(b *store.Bundle) (*memStore, *bool) {
	down := true
	st := &memStore{b: b}
	st.failWrite = func(n int, _ *store.Bundle) error {
		if n >= 2 && down {
			return errors.New("redis: connection refused")
		}
		return nil
	}
	return st, &down
}

// TestNotLoggedInNamesTheProfilesThatAre: a profile other than the default with no login names
// the environment's profiles that have one, and the one it is a typo of; the default profile's
// error stays short.
func TestNotLoggedInNamesTheProfilesThatAre(t *testing.T) {
	for _, tc := range []struct{ profile, want string }{
		{config.DefaultProfile, "env staging: not logged in"},
		{"acme", "env staging: not logged in; profiles logged in to staging: default"},
		{"defualt", `env staging: not logged in; profiles logged in to staging: default (did you mean "default"?)`},
		{"", "env staging: not logged in"},
		{"acme, none logged in", "env staging: not logged in"},
	} {
		st := &memStore{}
		if tc.profile == "acme, none logged in" {
			tc.profile, st.profiles = "acme", []string{}
		}
		f := newFixture(t, st)
		f.g.Profile = tc.profile
		_, err := f.g.Token(context.Background(), Request{MinTTL: time.Minute})
		if err == nil || err.Error() != tc.want || failure.KindOf(err) != failure.LoginRequired {
			t.Errorf("profile %s: Token = %v; want %q, login required", tc.profile, err, tc.want)
		}
	}
}

// TestRetryAfterCapped: a 429's Retry-After holds a refresh at most MaxRetryAfter, whatever it
// asks — a little, exactly the cap, just past it, or the longest Duration a huge value reads as.
func TestRetryAfterCapped(t *testing.T) {
	tests := []struct {
		retryAfter, want time.Duration
	}{
		{time.Second, time.Second},
		{MaxRetryAfter, MaxRetryAfter},
		{MaxRetryAfter + time.Nanosecond, MaxRetryAfter},
		{time.Hour, MaxRetryAfter},
		{1<<63 - 1, MaxRetryAfter},
	}
	for _, tt := range tests {
		f := newFixture(t, &memStore{b: bundle("a1", "r1", 0)}, failing(429, "", tt.retryAfter), issued("a2", "r2", 900))
		if _, err := f.g.TokenResult(context.Background(), Request{MinTTL: time.Minute}); err != nil {
			t.Fatalf("Retry-After %v: Token = %v; want success after one wait", tt.retryAfter, err)
		}
		if len(f.waits) != 1 || f.waits[0] != tt.want {
			t.Errorf("Retry-After %v: waits %v; want [%v]", tt.retryAfter, f.waits, tt.want)
		}
	}
}

// TestForceAfterARefusal: a forced refresh that names the token an API refused refreshes only
// while the store still holds that token; a valid token other than it — another process's
// refresh, which Pleo's rotation made the only good one — is handed out with no refresh and no
// lock.
func TestForceAfterARefusal(t *testing.T) {
	tests := []struct {
		name      string
		refused   string
		refreshes int
		locks     int
		want      string
	}{
		{"the held token was refused: refreshed", "a1", 1, 1, "a2"},
		{"another token was refused: the held one", "a0", 0, 0, "a1"},
		{"no token named: refreshed", "", 1, 1, "a2"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFixture(t, &memStore{b: bundle("a1", "r1", time.Hour)}, issued("a2", "r2", 900))
			res, err := f.g.TokenResult(context.Background(), Request{MinTTL: time.Minute, Force: true, Refused: tt.refused})
			if err != nil || res.Bundle.AccessToken != tt.want || len(f.presented) != tt.refreshes || f.lock.taken != tt.locks {
				t.Errorf("got %v, %v after %d refreshes and %d locks; want %s, %d, %d", res.Bundle, err, len(f.presented), f.lock.taken, tt.want, tt.refreshes, tt.locks)
			}
		})
	}
}

// TestForceAfterARefusalRaced: the token an API refused was replaced while this call waited for
// the lock: the replacement is handed out, not refreshed again.
func TestForceAfterARefusalRaced(t *testing.T) {
	st := &memStore{b: bundle("a1", "r1", time.Hour)}
	loads := 0
	st.onLoad = func(m *memStore) {
		if loads++; loads == 2 {
			m.b = bundle("other", "r-other", time.Hour)
		}
	}
	f := newFixture(t, st, issued("a2", "r2", 900))
	res, err := f.g.TokenResult(context.Background(), Request{MinTTL: time.Minute, Force: true, Refused: "a1"})
	if err != nil || res.Bundle.AccessToken != "other" || len(f.presented) != 0 {
		t.Errorf("got %v, %v after %d refreshes; want the other process's token, no refresh", res.Bundle, err, len(f.presented))
	}
}

// TestUnusable2xxIsNeverSentAgain: a 2xx whose body no client can use — JSON cut short by a
// proxy, no access_token, not a token response, an OAuth error — tells that the server carried the refresh out
// and rotated; the refresh token is spent, so it is never sent again, and the next call says
// the login is lost rather than replaying it (which would make Pleo revoke the login).
func TestUnusable2xxIsNeverSentAgain(t *testing.T) {
	for _, why := range []string{"its JSON is malformed", "no access_token in it", "not an OAuth token response", "server_error"} {
		t.Run(why, func(t *testing.T) {
			unusable := func(string) (*oauth2.Token, error) {
				if why == "server_error" { // an OAuth error in a 200, which a retry would resend
					return failing(200, why, 0)("")
				}
				return nil, &tokenendpoint.Error{URL: "https://auth.example/oauth/token", Status: 200, Unusable: why, Err: errors.New("oauth2: cannot parse json")}
			}
			f := newFixture(t, &memStore{b: bundle("a1", "r1", 0)}, unusable, issued("a2", "r2", 900))
			_, err := f.g.TokenResult(context.Background(), Request{MinTTL: time.Minute})
			if err == nil || !strings.Contains(err.Error(), why) || !strings.Contains(err.Error(), "spent") {
				t.Fatalf("first call: %v; want the unusable answer named and the refresh token said spent", err)
			}
			if st := f.st.stored(); st.Spent == nil || !st.Spent.Lost {
				t.Fatalf("the store holds %+v; want the spend kept, marked lost", st)
			}
			_, err = f.g.TokenResult(context.Background(), Request{MinTTL: time.Minute})
			if failure.KindOf(err) != failure.LoginRequired || len(f.presented) != 1 {
				t.Errorf("second call: %v after %d refreshes; want login required and the spent token never sent again", err, len(f.presented))
			}
		})
	}
}

// TestNoRefreshStartsOnAnEndedContext: a call whose context ended before anything was sent
// sends nothing — no refresh token is spent for a caller that has gone — and a valid token is
// still handed out, as it costs nothing.
func TestNoRefreshStartsOnAnEndedContext(t *testing.T) {
	ctx, cancel := context.WithCancelCause(context.Background())
	gone := errors.New("the caller has gone")
	cancel(gone)
	for _, tt := range []struct {
		name  string
		valid time.Duration
		force bool
		sent  int
		err   error
	}{
		{"an expired token", 0, false, 0, gone},
		{"a forced refresh", time.Hour, true, 0, gone},
		{"a valid token", time.Hour, false, 0, nil},
	} {
		t.Run(tt.name, func(t *testing.T) {
			f := newFixture(t, &memStore{b: bundle("a1", "r1", tt.valid)}, issued("a2", "r2", 900))
			_, err := f.g.TokenResult(ctx, Request{MinTTL: time.Minute, Force: tt.force})
			if !errors.Is(err, tt.err) || (tt.err == nil) != (err == nil) || len(f.presented) != tt.sent {
				t.Errorf("got %v after %d refreshes; want %v and %d", err, len(f.presented), tt.err, tt.sent)
			}
			if st := f.st.stored(); st.Spent != nil || st.RefreshToken != "r1" {
				t.Errorf("the store holds %+v; want the login untouched", st)
			}
		})
	}
}
