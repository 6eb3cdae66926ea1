// Package grant owns one login — the tokens an environment's authorization granted — through
// its whole life: it chooses where the tokens are kept, the lock that serialises refreshes,
// where the client secret comes from, and who hears of a rotation; and it runs the refresh
// protocol, with the spend record and the journal that keep a rotating refresh token from
// being sent twice or its answer lost (spend.go). It is the only caller of the store package,
// so every way a login can change passes through here, under the lock.
package grant

import (
	"context"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"net/http"
	"path/filepath"
	"slices"
	"sync"
	"time"

	"github.com/pleoauth/pleoauth/internal/config"
	"github.com/pleoauth/pleoauth/internal/httpclient"
	"github.com/pleoauth/pleoauth/internal/interrupt"
	"github.com/pleoauth/pleoauth/internal/privatefile"
	"github.com/pleoauth/pleoauth/internal/store"
	"github.com/spf13/pflag"
	"golang.org/x/oauth2"
)

// Deps is the outside world a login touches.
type Deps struct {
	Stderr io.Writer
	Getenv func(string) string
	Now    func() time.Time
	// Sleep waits between retries of a refresh, or until ctx ends; nil means a timer.
	Sleep func(ctx context.Context, d time.Duration) error
	// HTTPClient sends token requests; [Grant.HTTPClient] adds the environment's CA file.
	HTTPClient func() *http.Client
	Keychain   store.Keychain
	// Interactive reports whether a person can be asked for a client secret.
	Interactive func() bool
	// ReadSecret asks for a secret without echo, until ctx ends (Ctrl-C at the prompt).
	ReadSecret func(ctx context.Context, prompt string) (string, error)
}

// Store is what a login needs of a store backend: the file, keyring and redis stores of
// package store.
type Store interface {
	Load(name string) (*store.Bundle, error)
	// Save replaces the login's entry; Delete removes it.
	Save(name string, b *store.Bundle) error
	Delete(name string) error
	// Name identifies the backend in messages: "keyring", "file" or "redis".
	Name() string
	// Check proves that tokens can be saved now, before a login starts.
	Check() error
	// Pending reports a save that a crash interrupted; Recover, under the lock, finishes it.
	Pending(name string) bool
	Recover(name string) (bool, error)
	// Profiles lists the profiles env has a login for ("" for the default).
	Profiles(env string) ([]string, error)
	// JournalKey seals the login's journal entries as the store seals its bundles.
	JournalKey(name string) (store.JournalKey, error)
}

// Grant is one environment's login.
type Grant struct {
	Env config.Environment
	// Profile names this login among the environment's; Name is the login's name in the store,
	// the lock and messages: the environment's name, with "@profile" for a profile other than
	// the default (so a login stored before profiles existed is the default profile's).
	Profile, Name string
	cfg           *config.Config
	d             Deps
	store         Store
	locks         locker
	journal       store.Journal
	// secrets is where this login's store keeps a client secret that came in at login; nil
	// for none (the redis store).
	secrets *keptSecret
	// spent lists the refresh tokens this machine sent, where PLEOAUTH_REFRESH_TOKEN is set.
	spent store.Spent
	// send sends one token request: a refresh, or an import's first refresh. It is
	// [Grant.sendRefresh] but in tests.
	send func(ctx context.Context, refreshToken string) (*oauth2.Token, error)
	// self names this process in the spends it records; [thisProcess] but in tests.
	self func() (host string, pid int)
	// caPool reads ca_file once per login (see [Grant.rootCAs]).
	caPool func() (*x509.CertPool, error)
	// backoff holds the waits before each retry of a transient refresh failure; its length is
	// the number of retries.
	backoff []time.Duration
}

// locker serialises the changes to one login: a file lock on one machine, a Redis lock across
// a fleet. Both are in package store, beside their stores.
type locker interface {
	Lock(ctx context.Context, name string) (unlock func(), err error)
}

// Open returns env's login as cfg configures it. It touches nothing yet but the folder
// checks: PLEOAUTH_HOME must not be writable by other users.
func Open(cfg *config.Config, env config.Environment, d Deps) (*Grant, error) {
	if err := privatefile.CheckNotWritableByOthers(cfg.Home); err != nil && !isNotExist(err) {
		return nil, fmt.Errorf("env %s: PLEOAUTH_HOME %w", env.Name, err)
	}
	g := &Grant{Env: env, cfg: cfg, d: d, Profile: cfg.Profile, Name: LoginName(env.Name, cfg.Profile),
		spent: store.Spent{Dir: filepath.Join(cfg.Home, "journal")}, self: thisProcess, backoff: DefaultBackoff}
	g.send = g.sendRefresh
	g.caPool = sync.OnceValues(func() (*x509.CertPool, error) { return httpclient.RootCAs(env.Name, env.CAFile, cfg.Origin("ca_file")) })
	waiting := func(holder string) {
		if holder != "" {
			holder = " (" + holder + ")"
		}
		fmt.Fprintf(d.Stderr, "pleoauth: waiting for another pleoauth%s to finish refreshing env %s…\n", holder, g.Name)
	}
	if cfg.Store == config.StoreRedis {
		r, err := g.openRedis()
		if err != nil {
			return nil, err
		}
		g.store = r
		g.locks = store.RedisLock{R: r, Timeout: cfg.LockTimeout, Waiting: waiting,
			// A release or extension that failed is said, not dropped: a lock lost to another
			// holder, or a Redis gone mid-refresh, explains what the fleet saw next.
			Failed: func(err error) { fmt.Fprintf(d.Stderr, "pleoauth: env %s: the Redis lock: %v\n", g.Name, err) }}
		g.journal = g.journalOf(r)
		g.secrets = g.keptSecretOf(r)
		return g, nil
	}
	g.store = g.openStore()
	g.journal = g.journalOf(g.store)
	g.secrets = g.keptSecretOf(g.store)
	g.locks = store.FileLock{
		Dir:     filepath.Join(cfg.Home, "locks"),
		Timeout: cfg.LockTimeout,
		Waiting: func(pid int) {
			holder := ""
			if pid > 0 {
				holder = fmt.Sprintf("pid %d", pid)
			}
			waiting(holder)
		},
	}
	return g, nil
}

// OpenSelected resolves the configuration as the command line does — flags (which may be nil),
// then the PLEOAUTH_* variables getenv reads, then config.yaml, then the defaults — and opens
// the selected environment's login. forLogin also checks what a login needs. A setting that
// makes no sense is a usage error.
func OpenSelected(flags *pflag.FlagSet, getenv func(string) string, d Deps, forLogin bool) (*Grant, error) {
	cfg, err := config.Load(flags, getenv)
	if err != nil {
		return nil, config.MarkUsage(err)
	}
	get := cfg.Environment
	if forLogin {
		get = cfg.LoginEnvironment
	}
	env, err := get()
	if err != nil {
		return nil, config.MarkUsage(err)
	}
	return Open(cfg, env, d)
}

// journalOf is the journal of the store st: one per store, so an entry sealed for one store
// is never read, nor set aside, by another (PLEOAUTH_STORE switched while an answer waits).
func (g *Grant) journalOf(st Store) store.Journal {
	return store.Journal{Dir: filepath.Join(g.cfg.Home, "journal", st.Name())}
}

// AllProfiles opens every login of the environment that has tokens stored, the default profile
// first.
func (g *Grant) AllProfiles() ([]*Grant, error) {
	profiles, err := g.Profiles()
	if err != nil {
		return nil, err
	}
	logins := make([]*Grant, 0, len(profiles))
	for _, p := range profiles {
		pg, err := g.ForProfile(p)
		if err != nil {
			return nil, err
		}
		logins = append(logins, pg)
	}
	return logins, nil
}

// NewStoreKey returns a fresh key for the redis store's PLEOAUTH_STORE_KEY, base64.
func NewStoreKey() string { return store.NewStoreKey() }

// ProfileChosen tells whether a flag, variable or config.yaml named the profile.
func (g *Grant) ProfileChosen() bool { return g.cfg.ProfileChosen }

// Profiles lists the profiles of the environment that have a login stored, sorted, the default
// one first.
func (g *Grant) Profiles() ([]string, error) {
	found, err := g.store.Profiles(g.Env.Name)
	if err != nil {
		return nil, fmt.Errorf("env %s: %w", g.Env.Name, err)
	}
	found = append(found, g.journal.Profiles(g.Env.Name)...)
	if other := g.otherLocal(); other != nil && !g.cfg.StoreChosen {
		// Each login is found where it is (see [Grant.openStore]), so a store nobody chose
		// lists the logins of both stores on this machine.
		more, _ := other.Profiles(g.Env.Name)
		found = append(found, more...)
	}
	slices.Sort(found)
	found = slices.Compact(found)
	out := make([]string, len(found))
	for i, p := range found {
		out[i] = p
		if p == "" {
			out[i] = config.DefaultProfile
		}
	}
	return out, nil
}

// ForProfile opens another profile's login of the same environment.
func (g *Grant) ForProfile(profile string) (*Grant, error) {
	cfg := *g.cfg
	cfg.Profile = profile
	return Open(&cfg, g.Env, g.d)
}

// LoginName is the name of env's login for profile: the environment's name for the default
// profile, "env@profile" for another.
func LoginName(env, profile string) string {
	if profile == "" || profile == config.DefaultProfile {
		return env
	}
	return env + "@" + profile
}

// MinTTL is how long a token handed out must stay valid (--min-ttl, PLEOAUTH_MIN_TTL).
func (g *Grant) MinTTL() time.Duration { return g.cfg.MinTTL }

// Home is PLEOAUTH_HOME, the per-user folder of config.yaml, tokens and locks.
func (g *Grant) Home() string { return g.cfg.Home }

// StoreName is the backend keeping this login: "keyring", "file" or "redis".
func (g *Grant) StoreName() string { return g.store.Name() }

// Check proves that a login's tokens could be kept now: the keychain answers (for the keyring
// store) and a file can be written in the tokens folder.
func (g *Grant) Check() error {
	err := g.store.Check()
	var keychain *store.KeychainError
	switch {
	case errors.As(err, &keychain) && keychain.Kind == store.ErrKeychainUnavailable:
		// Said before a login asks for anything or opens a browser: a login kept nowhere, or
		// one that could not refresh, is worse than none.
		return fmt.Errorf("env %s: the OS keychain is not available (%v), and the keyring store keeps the tokens' key there; log in with --store file to keep the tokens, and a client secret typed or piped at login, in 0600 files in %s (set PLEOAUTH_CLIENT_SECRET to keep the secret out of files), or start a Secret Service such as gnome-keyring",
			g.Name, keychain.Err, g.tokensDir())
	case err != nil:
		return fmt.Errorf("env %s: tokens cannot be stored: %w", g.Name, err)
	}
	return nil
}

// lock takes the login's refresh lock and, holding it, first finishes what an earlier process
// on this machine left unfinished: a save a crash interrupted (the store's temporary file), and
// an answer kept in the journal because the store could not take it. Whoever holds the lock
// next sees those tokens. Signals are caught from here on: whoever holds the lock may be
// spending a refresh token or a login code, and an interrupt or a hangup must let that be seen
// through and saved.
func (g *Grant) lock(ctx context.Context) (func(), error) {
	unlock, err := g.lockOnly(ctx)
	if err != nil {
		return nil, err
	}
	if _, err := g.store.Recover(g.Name); err != nil {
		unlock()
		return nil, fmt.Errorf("env %s: %w", g.Name, err)
	}
	if err := g.finishJournal(); err != nil {
		unlock()
		return nil, err
	}
	return unlock, nil
}

// lockOnly takes the login's lock and nothing more, naming the login in its errors.
func (g *Grant) lockOnly(ctx context.Context) (func(), error) {
	interrupt.Catch(ctx)
	unlock, err := g.locks.Lock(ctx, g.Name)
	if err != nil {
		return nil, fmt.Errorf("env %s: %w", g.Name, err)
	}
	return unlock, nil
}
