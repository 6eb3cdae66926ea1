package grant

import (
	"context"
	"errors"
	"io"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"golang.org/x/oauth2"

	"github.com/pleoauth/pleoauth/internal/config"
	"github.com/pleoauth/pleoauth/internal/failure"
	"github.com/pleoauth/pleoauth/internal/store"
	"github.com/pleoauth/pleoauth/internal/tokenendpoint"
)

// memStore is a store in memory that records every write and fails the ones a test names.
type memStore struct {
	mu     sync.Mutex
	b      *store.Bundle
	writes []*store.Bundle // every Save, in order (nil for a Delete)
	// failWrite, when set, decides whether the n-th write (from 1) fails, and with what.
	failWrite func(n int, b *store.Bundle) error
	// loadErr, when set, is what Load answers.
	loadErr error
	// onLoad, when set, runs before each load (to simulate another process).
	onLoad func(*memStore)
	// name is the backend's name; "memory" when empty.
	name string
	// checkErr, when set, is what Check answers: the store cannot keep tokens now.
	checkErr error
	// journalKeyErr, when set, is what JournalKey answers: no answer could be journalled.
	journalKeyErr error
	// profiles is what Profiles answers; nil means the default profile's login only.
	profiles []string
}

func (m *memStore) Load(string) (*store.Bundle, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.onLoad != nil {
		m.onLoad(m)
	}
	if m.loadErr != nil {
		return nil, m.loadErr
	}
	if m.b == nil {
		return nil, store.ErrNotFound
	}
	c := *m.b
	return &c, nil
}

func (m *memStore) write(b *store.Bundle) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.writes = append(m.writes, b)
	if m.failWrite != nil {
		if err := m.failWrite(len(m.writes), b); err != nil {
			return err
		}
	}
	m.b = b
	return nil
}

func (m *memStore) Save(_ string, b *store.Bundle) error {
	c := *b
	return m.write(&c)
}

func (m *memStore) Delete(string) error { return m.write(nil) }
func (m *memStore) Name() string {
	if m.name == "" {
		return "memory"
	}
	return m.name
}
func (m *memStore) Check() error                 { return m.checkErr }
func (m *memStore) Pending(string) bool          { return false }
func (m *memStore) Recover(string) (bool, error) { return false, nil }
func (m *memStore) Profiles(string) ([]string, error) {
	if m.profiles == nil {
		return []string{""}, nil
	}
	return m.profiles, nil
}
func (m *memStore) JournalKey(name string) (store.JournalKey, error) {
	if m.journalKeyErr != nil {
		return nil, m.journalKeyErr
	}
	return store.File{}.JournalKey(name)
}

// stored returns what the store holds now.
func (m *memStore) stored() *store.Bundle {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.b
}

// countingLock counts acquisitions; it excludes nothing, as the unit tests run one call at a
// time (a lock taken again after its first hold was lost is one of the cases).
type countingLock struct {
	mu    sync.Mutex
	taken int
	// err, when set, is what every Lock answers: the lock cannot be had (lock_timeout passed,
	// Redis down).
	err error
	// held counts the holds not yet released.
	held int
}

func (l *countingLock) Lock(context.Context, string) (func(), error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.err != nil {
		return nil, l.err
	}
	l.taken++
	l.held++
	return func() {
		l.mu.Lock()
		defer l.mu.Unlock()
		l.held--
	}, nil
}

var t0 = time.Date(2026, 11, 29, 12, 0, 0, 0, time.UTC)

// fixture is a login over a memStore whose token endpoint answers with the given responses
// in turn and records the refresh tokens presented, and what the store held at each sending.
type fixture struct {
	g         *Grant
	st        *memStore
	lock      *countingLock
	presented []string
	atSend    []*store.Bundle // the store's content when each request was sent
	waits     []time.Duration
	now       time.Time
	stderr    syncBuffer
}

type syncBuffer struct {
	mu  sync.Mutex
	buf []byte
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.buf = append(b.buf, p...)
	return len(p), nil
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return string(b.buf)
}

func newFixture(t *testing.T, st *memStore, answers ...func(rt string) (*oauth2.Token, error)) *fixture {
	t.Helper()
	home := t.TempDir()
	f := &fixture{st: st, lock: &countingLock{}, now: t0}
	f.g = &Grant{
		Env: config.Environment{Name: "staging", Scopes: []string{"users:read"}}, Name: "staging", Profile: config.DefaultProfile,
		cfg:     &config.Config{Home: home},
		store:   st,
		locks:   f.lock,
		journal: store.Journal{Dir: filepath.Join(home, "journal", "memory")},
		spent:   store.Spent{Dir: filepath.Join(home, "journal")},
		self:    func() (string, int) { return "host-a", 4242 },
		backoff: DefaultBackoff,
		d: Deps{
			Stderr: &f.stderr,
			Getenv: func(string) string { return "" },
			Now:    func() time.Time { return f.now },
			Sleep: func(_ context.Context, d time.Duration) error {
				f.waits = append(f.waits, d)
				f.now = f.now.Add(d)
				return nil
			},
		},
	}
	f.g.send = func(_ context.Context, rt string) (*oauth2.Token, error) {
		f.presented = append(f.presented, rt)
		f.atSend = append(f.atSend, st.stored())
		if len(answers) == 0 {
			return nil, errors.New("no answer scripted")
		}
		a := answers[min(len(f.presented), len(answers))-1]
		return a(rt)
	}
	return f
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

// timedOut is a request that may have reached the server although no answer came.
func timedOut(string) (*oauth2.Token, error) {
	return nil, failure.Wrap(failure.Temporary, &tokenendpoint.Error{URL: "u", Err: errors.New("timed out"), MaybeProcessed: true})
}

// bundle is a login obtained 15 minutes before it expires, validFor after t0.
func bundle(access, refresh string, validFor time.Duration) *store.Bundle {
	return &store.Bundle{AccessToken: access, RefreshToken: refresh, Expiry: t0.Add(validFor), ObtainedAt: t0.Add(validFor - 15*time.Minute), Scope: "users:read"}
}

var _ io.Writer = (*syncBuffer)(nil)
