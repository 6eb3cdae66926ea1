package grant

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/pleoauth/pleoauth/internal/failure"
	"github.com/pleoauth/pleoauth/internal/store"
)

// TestNothingSentWhenTheAnswerCannotBeKept: before a refresh token is spent, the store must prove
// it can keep the answer — the journal key for it, and a real write of the spend record. When
// either fails, the refresh (and an import) stops there: no request reaches the token
// endpoint, and the refresh token held is not recorded as spent, so the next run may send it.
func TestNothingSentWhenTheAnswerCannotBeKept(t *testing.T) {
	diskFull := errors.New("disk full")
	failures := []struct {
		name string
		set  func(*memStore)
	}{
		{"no journal key", func(m *memStore) { m.journalKeyErr = diskFull }},
		{"the spend record cannot be written", func(m *memStore) {
			m.failWrite = func(n int, _ *store.Bundle) error {
				if n == 1 {
					return diskFull
				}
				return nil
			}
		}},
	}
	runs := []struct {
		name string
		do   func(*Grant) error
		want string
	}{
		{"refresh of an expired login", func(g *Grant) error {
			_, err := g.TokenResult(context.Background(), Request{MinTTL: time.Minute})
			return err
		}, "not refreshed"},
		{"forced refresh", func(g *Grant) error {
			_, err := g.TokenResult(context.Background(), Request{MinTTL: time.Minute, Force: true})
			return err
		}, "not refreshed"},
		{"import", func(g *Grant) error {
			_, err := g.Import(context.Background(), "imported", true)
			return err
		}, "not imported"},
	}
	for _, fl := range failures {
		for _, run := range runs {
			t.Run(fl.name+"/"+run.name, func(t *testing.T) {
				stored := bundle("a1", "r1", 0)
				if run.name == "forced refresh" {
					stored = bundle("a1", "r1", time.Hour)
				}
				st := &memStore{b: stored}
				fl.set(st)
				before := *stored
				f := newFixture(t, st, issued("a2", "r2", 900))
				err := run.do(f.g)
				if err == nil || !strings.Contains(err.Error(), run.want) || !strings.Contains(err.Error(), "env staging") || !errors.Is(err, diskFull) {
					t.Errorf("error %v; want one naming env staging, saying %q, wrapping the store's error", err, run.want)
				}
				if len(f.presented) != 0 {
					t.Errorf("%d requests reached the token endpoint (%q); want none", len(f.presented), f.presented)
				}
				if got := st.stored(); got == nil || got.Spent != nil || got.Replacing != nil || *got != before {
					t.Errorf("store %+v; want the login unchanged, its refresh token not spent", got)
				}
			})
		}
	}
}

// TestCheckSaysTheStoreCannotKeepTokens: Grant.Check, asked before a login opens a browser or an
// import reads its token, turns the store's failure into one line naming the environment.
func TestCheckSaysTheStoreCannotKeepTokens(t *testing.T) {
	tests := []struct {
		name     string
		checkErr error
		want     string // "" for no error
	}{
		{"the store can keep tokens", nil, ""},
		{"the tokens folder cannot be written", errors.New("tokens folder read-only"), "env staging: tokens cannot be stored: tokens folder read-only"},
		{"no keychain", &store.KeychainError{Kind: store.ErrKeychainUnavailable, Err: errors.New("no Secret Service")},
			"env staging: the OS keychain is not available (no Secret Service)"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			st := &memStore{b: bundle("a1", "r1", time.Hour), checkErr: tt.checkErr}
			f := newFixture(t, st)
			err := f.g.Check()
			switch {
			case tt.want == "" && err != nil:
				t.Errorf("Check = %v; want nil", err)
			case tt.want != "" && (err == nil || !strings.HasPrefix(err.Error(), tt.want)):
				t.Errorf("Check = %v; want an error starting %q", err, tt.want)
			}
			if failure.KindOf(err) == failure.LoginRequired {
				t.Errorf("Check = %v: a store that cannot keep tokens is not a login to redo", err)
			}
			if len(f.presented) != 0 || len(st.writes) != 0 {
				t.Errorf("Check sent %d requests and wrote %d times; want neither", len(f.presented), len(st.writes))
			}
		})
	}
}
