package grant

import (
	"cmp"
	"errors"
	"fmt"
	"io/fs"
	"path/filepath"
	"strings"

	"github.com/pleoauth/pleoauth/internal/config"
	"github.com/pleoauth/pleoauth/internal/failure"
	"github.com/pleoauth/pleoauth/internal/store"
)

// openStore returns the backend keeping this login. A store a flag, variable or config.yaml
// chose is used as chosen. Otherwise the login is found where it is: the file store or the
// keychain store, whichever folder file holds it (a stat, no keychain call, so a cached
// "pleoauth token" stays as fast as before) — so "login --store file" needs no --store after
// it. A login found nowhere goes to the keychain store, the default; or, in CI, to the file
// store when no keychain answers, which is said on stderr. Outside CI a missing keychain is an
// error naming the file store at login, never a silent downgrade to plaintext.
func (g *Grant) openStore() Store {
	file, keyring := g.localStores()
	if g.cfg.StoreChosen {
		if g.cfg.Store == config.StoreFile {
			return file
		}
		return keyring
	}
	switch store.Holder(file.Dir, g.Name) {
	case file.Name():
		return file
	case keyring.Name():
		return keyring
	}
	if config.IsCI(g.d.Getenv) {
		// What this home already holds decides without asking the keychain, so the cached
		// path of "pleoauth token" makes no keychain call beyond the one read.
		if holds(file.Dir, "*.json") {
			return file
		}
		if holds(file.Dir, "*.enc") {
			return keyring
		}
		if err := store.ProbeKeychain(g.d.Keychain); errors.Is(err, store.ErrKeychainUnavailable) {
			fmt.Fprintln(g.d.Stderr, "pleoauth: CI is set and no OS keychain answers; using the file store (0600 files in PLEOAUTH_HOME/tokens). Set PLEOAUTH_STORE=file to choose it explicitly.")
			return file
		}
	}
	return keyring
}

// localStores are the two stores on this machine, which share the tokens folder and the lock.
func (g *Grant) localStores() (store.File, store.Keyring) {
	dir := g.tokensDir()
	return store.File{Dir: dir}, store.Keyring{Dir: dir, Scope: g.keychainScope(), OldScope: g.cfg.Home, Keychain: g.d.Keychain}
}

// keychainScope names this home's items in the keychain: its real path, so that the folder is
// one login whichever symbolic link reaches it (a configuration built by hand has only Home).
func (g *Grant) keychainScope() string { return cmp.Or(g.cfg.RealHome, g.cfg.Home) }

func (g *Grant) tokensDir() string { return filepath.Join(g.cfg.Home, "tokens") }

// otherLocal is the local store that is not this login's, or nil for the redis store.
func (g *Grant) otherLocal() Store {
	file, keyring := g.localStores()
	switch g.store.Name() {
	case file.Name():
		return keyring
	case keyring.Name():
		return file
	}
	return nil
}

// OtherStoreError means the store a flag, variable or config.yaml named holds no login, and the
// other store on this machine does: the login is not missing, the setting points past it.
type OtherStoreError struct {
	Login       string
	Held, Named string
	// By is what named the store: "--store", "PLEOAUTH_STORE" or "store: in <file>".
	By string
}

func (e *OtherStoreError) Error() string {
	drop := "drop " + e.By
	switch {
	case e.By == "PLEOAUTH_STORE":
		drop = "unset PLEOAUTH_STORE"
	case e.By != "--store":
		drop = "remove " + e.By
	}
	return fmt.Sprintf("env %s: the login is in the %s store, not the %s store named by %s; %s, or run \"pleoauth login %s --store %s\" to log in there",
		e.Login, e.Held, e.Named, e.By, drop, loginFlags(e.Login), e.Named)
}

// loginFlags are the flags that name a login in a command: "--env local", or "--env local
// --profile acme" for the login named "local@acme".
func loginFlags(name string) string {
	if env, profile, ok := strings.Cut(name, "@"); ok {
		return "--env " + env + " --profile " + profile
	}
	return "--env " + name
}

// notFoundHere is what a command says when the store holds no login: [OtherStoreError] (a
// usage error) when the setting chose a store and the other store on this machine holds it,
// nil otherwise. The redis store is never second-guessed: a fleet names it on purpose, and a
// local login is not the fleet's.
func (g *Grant) notFoundHere() error {
	if !g.cfg.StoreChosen || g.otherLocal() == nil {
		return nil
	}
	held := store.Holder(g.tokensDir(), g.Name)
	if held == "" || held == g.store.Name() {
		return nil
	}
	return failure.Wrap(failure.Usage, &OtherStoreError{Login: g.Name, Held: held, Named: g.store.Name(), By: g.cfg.StoreFrom})
}

// forgetElsewhere removes this login from the other local store after a login kept it in
// this one, the lock held (both local stores share it): a login lives in one store, so that
// commands without --store find the one in use, and no stale copy of tokens (and of a kept
// client secret) stays behind in plain text.
func (g *Grant) forgetElsewhere() {
	other := g.otherLocal()
	if other == nil {
		return
	}
	// A missing file answers ErrNotFound before any keychain call.
	if _, err := other.Load(g.Name); errors.Is(err, store.ErrNotFound) {
		return
	}
	err := other.Delete(g.Name)
	if err == nil && other.Name() == config.StoreFile {
		err = store.FileSecret{Dir: g.tokensDir()}.Delete(g.Name)
	}
	if err == nil {
		err = g.journalOf(other).Remove(g.Name)
	}
	if err != nil {
		fmt.Fprintf(g.d.Stderr, "pleoauth: env %s: the earlier login in the %s store could not be removed (%v); run \"pleoauth logout %s --store %s\"\n", g.Name, other.Name(), err, loginFlags(g.Name), other.Name())
		return
	}
	fmt.Fprintf(g.d.Stderr, "pleoauth: env %s: the earlier login in the %s store is removed; this one in the %s store replaces it.\n", g.Name, other.Name(), g.store.Name())
}

// clientSecrets is where the keychain store keeps a client secret, per environment.
func (g *Grant) clientSecrets() store.ClientSecrets {
	return store.ClientSecrets{Scope: g.keychainScope(), OldScope: g.cfg.Home, Keychain: g.d.Keychain}
}

func holds(dir, pattern string) bool {
	m, _ := filepath.Glob(filepath.Join(dir, pattern))
	return len(m) > 0
}

func isNotExist(err error) bool { return errors.Is(err, fs.ErrNotExist) }
