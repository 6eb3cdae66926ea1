package grant

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"golang.org/x/oauth2"

	"github.com/pleoauth/pleoauth/internal/failure"
	"github.com/pleoauth/pleoauth/internal/store"
)

// TestExport: the refresh token is handed out only from a login that can still refresh, and the
// login here is forgotten only once it was handed out (two holders of one rotating refresh
// token spend each other's, and Pleo revokes the login on the replay); with keep it stays.
func TestExport(t *testing.T) {
	unsaved := bundle("a1", "r1", time.Hour)
	unsaved.Spent = &store.Spend{ID: "s", Grant: store.SpendRefresh, Host: "host-b", PID: 7, At: t0}
	refused := bundle("a1", "r1", 0)
	refused.Refused = &store.Refusal{At: t0, Reason: "invalid_grant"}
	tests := []struct {
		name     string
		stored   *store.Bundle
		loadErr  error
		keep     bool
		writeErr error
		// deleteFails fails the store's first write, the removal of the exported login.
		deleteFails bool
		want        string // "" for success
		kind        failure.Kind
		handedOut   bool
		// forgotten: the store holds nothing afterwards.
		forgotten bool
	}{
		{name: "a working login is handed out and forgotten", stored: bundle("a1", "r1", time.Hour), handedOut: true, forgotten: true},
		{name: "with keep, it stays", stored: bundle("a1", "r1", time.Hour), keep: true, handedOut: true},
		{name: "not logged in", want: "env staging: not logged in", kind: failure.LoginRequired},
		{name: "the store cannot be read", loadErr: errors.New("redis: connection refused"), want: "env staging: redis: connection refused", kind: failure.Other},
		{name: "a refresh whose answer is not saved yet", stored: unsaved, want: "has not been saved yet", kind: failure.Temporary},
		{name: "a refused login", stored: refused, want: "the server refused this login's refresh token (invalid_grant), so there is nothing worth exporting", kind: failure.LoginRequired},
		{name: "no refresh token", stored: bundle("a1", "", time.Hour), want: "the server issued no refresh token, so there is nothing to export", kind: failure.Other},
		{name: "the token could not be written out: the login stays", stored: bundle("a1", "r1", time.Hour), writeErr: errors.New("stdout closed"), want: "stdout closed", kind: failure.Other},
		{name: "handed out, but not removed here", stored: bundle("a1", "r1", time.Hour), deleteFails: true, want: "the refresh token was handed out, but the login here could not be removed", kind: failure.Other, handedOut: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			st := &memStore{b: tt.stored, loadErr: tt.loadErr}
			if tt.deleteFails {
				st.failWrite = func(int, *store.Bundle) error { return errors.New("disk full") }
			}
			var before store.Bundle
			if tt.stored != nil {
				before = *tt.stored
			}
			f := newFixture(t, st)
			var written []string
			err := f.g.Export(context.Background(), tt.keep, func(rt string) error {
				written = append(written, rt)
				return tt.writeErr
			})
			switch {
			case tt.want == "" && err != nil:
				t.Fatalf("Export = %v; want success", err)
			case tt.want != "" && (err == nil || !strings.Contains(err.Error(), tt.want) || failure.KindOf(err) != tt.kind):
				t.Fatalf("Export = %v (kind %v); want kind %v saying %q", err, failure.KindOf(err), tt.kind, tt.want)
			}
			if handed := len(written) == 1 && written[0] == "r1"; handed != (tt.handedOut || tt.writeErr != nil) {
				t.Errorf("written %q; want r1 handed out: %v", written, tt.handedOut)
			}
			got := st.stored()
			switch {
			case tt.forgotten && got != nil:
				t.Errorf("store %+v; want the login forgotten here", got)
			case !tt.forgotten && tt.stored != nil && (got == nil || *got != before):
				t.Errorf("store %+v; want the login unchanged", got)
			}
			if f.lock.held != 0 {
				t.Errorf("%d holds of the lock left", f.lock.held)
			}
		})
	}
}

// TestImportFailures: a failed import never costs the login already there, and says so; with
// none there, a refused refresh token, or one whose answer was lost, means a login is needed. A
// lost answer is never "temporary": importing the same token again would replay a spent one.
func TestImportFailures(t *testing.T) {
	tests := []struct {
		name          string
		stored        *store.Bundle
		answer        func(string) (*oauth2.Token, error)
		journalKeyErr error
		failFirst     bool
		want          string
		kind          failure.Kind
		sent          int
	}{
		{name: "refused, nothing stored", answer: failing(400, "invalid_grant", 0),
			want: "the imported refresh token was refused (invalid_grant): it is expired, revoked or already used", kind: failure.LoginRequired, sent: 1},
		{name: "refused, a login stored", stored: bundle("a1", "r1", 0), answer: failing(400, "invalid_grant", 0),
			want: "the imported refresh token was refused (invalid_grant); the login stored before is unchanged", kind: failure.Other, sent: 1},
		{name: "the answer lost, a login stored", stored: bundle("a1", "r1", 0), answer: timedOut,
			want: "the imported refresh token was sent but the answer was lost, so it is spent; the login stored before is unchanged", kind: failure.Other, sent: 1},
		{name: "the answer lost, nothing stored", answer: timedOut,
			want: "the imported refresh token was sent but the answer was lost, so it is spent: ", kind: failure.LoginRequired, sent: 1},
		{name: "the server is down, a login stored", stored: bundle("a1", "r1", 0), answer: failing(503, "", 0),
			want: "env staging: refresh: token endpoint https://auth.example/oauth/token failed with HTTP 503; try again later; the login stored before is unchanged", kind: failure.Temporary, sent: 3},
		{name: "the journal cannot be sealed", stored: bundle("a1", "r1", 0), answer: issued("a2", "r2", 900), journalKeyErr: errors.New("keychain locked"),
			want: "not imported, as the tokens could not be kept: keychain locked", kind: failure.Other},
		{name: "the spend cannot be recorded", stored: bundle("a1", "r1", 0), answer: issued("a2", "r2", 900), failFirst: true,
			want: "not imported, as the tokens could not be saved: disk full", kind: failure.Other},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			st := &memStore{b: tt.stored, journalKeyErr: tt.journalKeyErr}
			if tt.failFirst {
				st.failWrite = func(n int, _ *store.Bundle) error {
					if n == 1 {
						return errors.New("disk full")
					}
					return nil
				}
			}
			var before *store.Bundle
			if tt.stored != nil {
				c := *tt.stored
				before = &c
			}
			f := newFixture(t, st, tt.answer)
			got, err := f.g.Import(context.Background(), "imported", true)
			if err == nil || got != nil || !strings.Contains(err.Error(), tt.want) || failure.KindOf(err) != tt.kind {
				t.Fatalf("Import = %+v, %v (kind %v); want kind %v saying %q", got, err, failure.KindOf(err), tt.kind, tt.want)
			}
			if len(f.presented) != tt.sent {
				t.Errorf("sent %q; want %d requests", f.presented, tt.sent)
			}
			after := st.stored()
			if (after == nil) != (before == nil) || after != nil && *after != *before {
				t.Errorf("store %+v; want %+v, as before the import", after, before)
			}
		})
	}
}

// TestImportHandsTheNewRefreshTokenToOnRotate: an imported login's first refresh rotated the
// token; a failing on_rotate says so, and the tokens are kept here.
func TestImportHandsTheNewRefreshTokenToOnRotate(t *testing.T) {
	st := &memStore{}
	f := newFixture(t, st, issued("a2", "r2", 900))
	f.g.Env.OnRotate = "exit 3"
	got, err := f.g.Import(context.Background(), "imported", false)
	if err == nil || !strings.Contains(err.Error(), "env staging: imported and saved here, but the on_rotate command failed") {
		t.Fatalf("Import = %v; want the failed write-back said", err)
	}
	if got == nil || got.RefreshToken != "r2" || st.stored() == nil || st.stored().RefreshToken != "r2" {
		t.Errorf("Import = %+v, store %+v; want r2 returned and kept", got, st.stored())
	}
}

// TestStatus: status reads the login as stored, without asking any server, and says why a login
// with a spend awaiting its answer cannot be used; an answer kept in this machine's journal is
// saved first, under the lock.
func TestStatus(t *testing.T) {
	unsaved := bundle("a1", "r1", time.Hour)
	unsaved.Spent = &store.Spend{ID: "s", Grant: store.SpendRefresh, Host: "host-b", PID: 7, At: t0}
	tests := []struct {
		name    string
		stored  *store.Bundle
		loadErr error
		journal bool // an answer waits in the journal
		lockErr error
		want    string // the error; "" for none
		access  string // the access token shown; "" for no bundle
		unsaved string // what Unsaved says; "" for nothing
	}{
		{name: "a working login", stored: bundle("a1", "r1", time.Hour), access: "a1"},
		{name: "not logged in", access: ""},
		{name: "a refresh not saved yet", stored: unsaved, access: "a1", unsaved: "has not been saved yet"},
		{name: "an answer in the journal is saved first", stored: bundle("a1", "r1", 0), journal: true, access: "a2"},
		{name: "an answer in the journal, the lock cannot be had", stored: bundle("a1", "r1", 0), journal: true, lockErr: errors.New("lock_timeout passed"), want: "env staging: lock_timeout passed"},
		{name: "sealed under another store key", loadErr: &store.WrongKeyError{Have: "k1", Want: "k2"}, want: "sealed under store key k1"},
		{name: "the store cannot be read", loadErr: errors.New("redis: connection refused"), want: "env staging: redis: connection refused"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFixture(t, &memStore{b: tt.stored, loadErr: tt.loadErr})
			if tt.journal {
				key, _ := f.st.JournalKey("staging")
				if err := f.g.journal.Write("staging", key, &store.JournalEntry{Answers: "s1", Spends: store.TokenHash("r1"), Bundle: bundle("a2", "r2", 15*time.Minute)}); err != nil {
					t.Fatal(err)
				}
			}
			f.lock.err = tt.lockErr
			st, err := f.g.Status(context.Background())
			if st.Store != "memory" {
				t.Errorf("Status.Store = %q; want the store's name", st.Store)
			}
			if tt.want != "" {
				if err == nil || !strings.Contains(err.Error(), tt.want) {
					t.Fatalf("Status = %v; want an error saying %q", err, tt.want)
				}
				return
			}
			if err != nil {
				t.Fatalf("Status = %v", err)
			}
			if got := st.Bundle; (got == nil) != (tt.access == "") || got != nil && got.AccessToken != tt.access {
				t.Errorf("Status.Bundle = %+v; want access token %q", got, tt.access)
			}
			if (st.Unsaved == nil) != (tt.unsaved == "") || st.Unsaved != nil && !strings.Contains(st.Unsaved.Error(), tt.unsaved) {
				t.Errorf("Status.Unsaved = %v; want %q", st.Unsaved, tt.unsaved)
			}
			if len(f.presented) != 0 {
				t.Errorf("status sent %q", f.presented)
			}
		})
	}
}
