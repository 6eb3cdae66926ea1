package tokens

import (
	"context"
	"errors"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"golang.org/x/oauth2"

	"github.com/pleoauth/pleoauth/internal/failure"
	"github.com/pleoauth/pleoauth/internal/store"
	"github.com/pleoauth/pleoauth/internal/tokenendpoint"
)

// memStore is a store in memory that counts saves.
type memStore struct {
	mu      sync.Mutex
	b       *store.Bundle
	saves   int
	saveErr error
	// checkErr is what Check answers: whether a save could happen.
	checkErr error
	// onLoad, when set, runs before each load (to simulate another process).
	onLoad func(*memStore)
}

func (m *memStore) Load(string) (*store.Bundle, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.onLoad != nil {
		m.onLoad(m)
	}
	if m.b == nil {
		return nil, store.ErrNotFound
	}
	c := *m.b
	return &c, nil
}

func (m *memStore) Check() error { return m.checkErr }

func (m *memStore) Pending(string) bool { return false }

func (m *memStore) Save(_ string, b *store.Bundle) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.saveErr != nil {
		return m.saveErr
	}
	c := *b
	m.b = &c
	m.saves++
	return nil
}

// countingLock is a process-local lock that counts acquisitions.
type countingLock struct {
	mu    sync.Mutex
	taken int
}

func (l *countingLock) Lock(context.Context, string) (func(), error) {
	l.mu.Lock()
	l.taken++
	return l.mu.Unlock, nil
}

var t0 = time.Date(2026, 11, 29, 12, 0, 0, 0, time.UTC)

// newSource returns a Source at clock t0 whose refresher answers with the given responses in
// turn and records the refresh tokens presented.
func newSource(st *memStore, answers ...func(rt string) (*oauth2.Token, error)) (*Source, *[]string, *[]time.Duration) {
	var presented []string
	var waits []time.Duration
	lock := &countingLock{}
	s := &Source{
		Env: "staging", Store: st, Lock: lock, Now: func() time.Time { return t0 }, Scopes: []string{"users:read"},
		Refresh: func(_ context.Context, rt string) (*oauth2.Token, error) {
			presented = append(presented, rt)
			a := answers[min(len(presented), len(answers))-1]
			return a(rt)
		},
		Sleep: func(_ context.Context, d time.Duration) error { waits = append(waits, d); return nil },
	}
	return s, &presented, &waits
}

func issued(access, refresh string, expiresIn int64) func(string) (*oauth2.Token, error) {
	return func(string) (*oauth2.Token, error) {
		return &oauth2.Token{AccessToken: access, RefreshToken: refresh, TokenType: "bearer", ExpiresIn: expiresIn}, nil
	}
}

func failing(status int, code string, retryAfter time.Duration) func(string) (*oauth2.Token, error) {
	return func(string) (*oauth2.Token, error) {
		e := &tokenendpoint.Error{URL: "https://auth.example/oauth/token", Status: status, Code: code, RetryAfter: retryAfter}
		if e.Temporary() {
			return nil, failure.Wrap(failure.Temporary, e)
		}
		return nil, e
	}
}

func bundle(access, refresh string, validFor time.Duration) *store.Bundle {
	return &store.Bundle{AccessToken: access, RefreshToken: refresh, Expiry: t0.Add(validFor), Scope: "users:read"}
}

func TestValidTokenNeedsNoLockNorRefresh(t *testing.T) {
	st := &memStore{b: bundle("a1", "r1", 10*time.Minute)}
	s, presented, _ := newSource(st, issued("a2", "r2", 900))
	res, err := s.Token(context.Background(), Request{MinTTL: time.Minute})
	if err != nil || res.Bundle.AccessToken != "a1" || res.Refreshed {
		t.Fatalf("Token = %+v, %v; want the stored a1", res, err)
	}
	if len(*presented) != 0 || s.Lock.(*countingLock).taken != 0 {
		t.Errorf("a valid token cost %d refreshes and %d locks", len(*presented), s.Lock.(*countingLock).taken)
	}
}

func TestRefreshRotatesAndSavesBoth(t *testing.T) {
	st := &memStore{b: bundle("a1", "r1", 30*time.Second)}
	s, presented, _ := newSource(st, issued("a2", "r2", 900))
	res, err := s.Token(context.Background(), Request{MinTTL: time.Minute})
	if err != nil {
		t.Fatal(err)
	}
	if !res.Refreshed || res.Bundle.AccessToken != "a2" || st.b.AccessToken != "a2" || st.b.RefreshToken != "r2" {
		t.Errorf("after refresh: result %+v, store %+v", res.Bundle, st.b)
	}
	if want := t0.Add(15 * time.Minute); !st.b.Expiry.Equal(want) {
		t.Errorf("expiry %v; want %v (arrival + expires_in)", st.b.Expiry, want)
	}
	if strings.Join(*presented, ",") != "r1" {
		t.Errorf("refresh tokens presented: %v; want [r1]", *presented)
	}
}

func TestResponseWithoutRefreshTokenKeepsTheOld(t *testing.T) {
	st := &memStore{b: bundle("a1", "r1", 0)}
	s, _, _ := newSource(st, issued("a2", "", 900))
	if _, err := s.Token(context.Background(), Request{MinTTL: time.Minute}); err != nil {
		t.Fatal(err)
	}
	if st.b.RefreshToken != "r1" || st.b.AccessToken != "a2" {
		t.Errorf("store = %+v; want a2 with the old r1", st.b)
	}
}

func TestResponseWithoutExpiresInIsShortLived(t *testing.T) {
	st := &memStore{b: bundle("a1", "r1", 0)}
	s, _, _ := newSource(st, issued("a2", "r2", 0))
	if _, err := s.Token(context.Background(), Request{MinTTL: time.Minute}); err != nil {
		t.Fatal(err)
	}
	if want := t0.Add(tokenendpoint.AssumedLifetime); !st.b.Expiry.Equal(want) {
		t.Errorf("expiry %v; want %v", st.b.Expiry, want)
	}
}

// TestAnotherProcessRefreshedWhileWaiting: the token found after taking the lock is used as is.
func TestAnotherProcessRefreshedWhileWaiting(t *testing.T) {
	loads := 0
	st := &memStore{b: bundle("a1", "r1", 0)}
	st.onLoad = func(m *memStore) {
		loads++
		if loads == 2 { // the re-read under the lock sees another process's refresh
			m.b = bundle("other", "r-other", 15*time.Minute)
		}
	}
	for _, force := range []bool{false, true} {
		loads = 0
		st.b = bundle("a1", "r1", 0)
		s, presented, _ := newSource(st, issued("a2", "r2", 900))
		res, err := s.Token(context.Background(), Request{MinTTL: time.Minute, Force: force})
		if err != nil || res.Bundle.AccessToken != "other" || len(*presented) != 0 {
			t.Errorf("force=%v: got %+v, %v after %d refreshes; want the other process's token and no refresh", force, res.Bundle, err, len(*presented))
		}
	}
}

func TestForceRefreshesAValidToken(t *testing.T) {
	st := &memStore{b: bundle("a1", "r1", time.Hour)}
	s, presented, _ := newSource(st, issued("a2", "r2", 900))
	res, err := s.Token(context.Background(), Request{MinTTL: time.Minute, Force: true})
	if err != nil || res.Bundle.AccessToken != "a2" || len(*presented) != 1 {
		t.Errorf("Force: %+v, %v, %d refreshes", res.Bundle, err, len(*presented))
	}
}

func TestFailures(t *testing.T) {
	tests := []struct {
		name      string
		stored    *store.Bundle
		answers   []func(string) (*oauth2.Token, error)
		kind      failure.Kind
		want      string
		attempts  int
		waits     []time.Duration
		saveError error
	}{
		{name: "not logged in", kind: failure.LoginRequired, want: `env staging: not logged in`},
		{name: "no refresh token", stored: bundle("a1", "", 0), kind: failure.LoginRequired, want: "no refresh token is held"},
		{name: "invalid_grant", stored: bundle("a1", "r1", 0), answers: []func(string) (*oauth2.Token, error){failing(400, "invalid_grant", 0)},
			kind: failure.LoginRequired, want: `refused (invalid_grant)`, attempts: 1},
		{name: "invalid_client is not retried", stored: bundle("a1", "r1", 0), answers: []func(string) (*oauth2.Token, error){failing(401, "invalid_client", 0)},
			kind: failure.Other, want: "invalid_client", attempts: 1},
		{name: "500 retried then temporary", stored: bundle("a1", "r1", 0), answers: []func(string) (*oauth2.Token, error){failing(500, "", 0)},
			kind: failure.Temporary, want: "HTTP 500", attempts: 3, waits: DefaultBackoff},
		{name: "a timeout is not retried", stored: bundle("a1", "r1", 0), answers: []func(string) (*oauth2.Token, error){
			func(string) (*oauth2.Token, error) {
				return nil, failure.Wrap(failure.Temporary, &tokenendpoint.Error{URL: "u", Err: errors.New("timed out"), MaybeProcessed: true})
			}}, kind: failure.Temporary, want: "not retried", attempts: 1},
		{name: "429 honours Retry-After, capped", stored: bundle("a1", "r1", 0),
			answers: []func(string) (*oauth2.Token, error){failing(429, "", 2*time.Second), failing(429, "", time.Hour), issued("a2", "r2", 900)},
			kind:    -1, attempts: 3, waits: []time.Duration{2 * time.Second, MaxRetryAfter}},
		{name: "save fails", stored: bundle("a1", "r1", 0), answers: []func(string) (*oauth2.Token, error){issued("a2", "r2", 900)},
			kind: failure.LoginRequired, want: "could not be saved", attempts: 1, saveError: errors.New("disk full")},
		{name: "token shorter than min-ttl", stored: bundle("a1", "r1", 0), answers: []func(string) (*oauth2.Token, error){issued("a2", "r2", 30)},
			kind: failure.Other, want: "shorter than --min-ttl", attempts: 1},
		{name: "token with a newline", stored: bundle("a1", "r1", 0), answers: []func(string) (*oauth2.Token, error){issued("a2\nX-Evil: 1", "r2", 900)},
			kind: failure.Other, want: "b64token", attempts: 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			st := &memStore{b: tt.stored, saveErr: tt.saveError}
			var before store.Bundle
			if tt.stored != nil {
				before = *tt.stored
			}
			s, presented, waits := newSource(st, tt.answers...)
			_, err := s.Token(context.Background(), Request{MinTTL: time.Minute})
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
				if tt.stored != nil && tt.name != "token shorter than min-ttl" && tt.name != "invalid_grant" && *st.b != before {
					t.Errorf("the store changed on failure: %+v", st.b)
				}
			}
			if len(*presented) != tt.attempts {
				t.Errorf("%d refresh requests; want %d", len(*presented), tt.attempts)
			}
			if tt.waits != nil && !slices.Equal(*waits, tt.waits) {
				t.Errorf("waits %v; want %v", *waits, tt.waits)
			}
		})
	}
}
