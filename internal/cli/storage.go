package cli

import (
	"errors"
	"fmt"
	"path/filepath"

	"github.com/pleoauth/pleoauth/internal/config"
	"github.com/pleoauth/pleoauth/internal/store"
	"github.com/pleoauth/pleoauth/internal/tokens"
)

// tokenStore is what the commands need of a store backend.
type tokenStore interface {
	Load(env string) (*store.Bundle, error)
	Save(env string, b *store.Bundle) error
	Delete(env string) error
	Name() string
	// Check reports whether the store can keep tokens, before a login spends a code on it.
	Check() error
}

// openStore returns the configured backend. The keychain store is the default; the plain file
// store is used only when chosen, or — when nothing was chosen — in CI (CI=true) when no keychain
// answers, which is said on stderr the first time. Outside CI a missing keychain is an error
// naming --store file at first use, never a silent downgrade to plaintext.
func openStore(cfg *config.Config, d *Deps) tokenStore {
	dir := filepath.Join(cfg.Home, "tokens")
	if cfg.Store == config.StoreFile {
		return store.File{Dir: dir}
	}
	keyring := store.Keyring{Dir: dir, Scope: cfg.Home, Keychain: d.Keychain}
	if !cfg.StoreChosen && d.Getenv("CI") == "true" {
		// What this home already holds decides without asking the keychain, so the cached
		// path of "pleoauth token" makes no keychain call beyond the one read.
		if holds(dir, "*.json") {
			return store.File{Dir: dir}
		}
		if holds(dir, "*.enc") {
			return keyring
		}
		if err := store.ProbeKeychain(d.Keychain); errors.Is(err, store.ErrKeychainUnavailable) {
			fmt.Fprintln(d.Stderr, "pleoauth: CI=true and no OS keychain answers; using the file store (0600 files in PLEOAUTH_HOME/tokens). Pass --store file to choose it explicitly.")
			return store.File{Dir: dir}
		}
	}
	return keyring
}

// lockDir holds the per-environment refresh locks.
func lockDir(cfg *config.Config) tokens.FileLock {
	return tokens.FileLock{Dir: filepath.Join(cfg.Home, "locks")}
}

// clientSecrets is where a typed client secret is kept.
func clientSecrets(cfg *config.Config, d *Deps) store.ClientSecrets {
	return store.ClientSecrets{Scope: cfg.Home, Keychain: d.Keychain}
}

func holds(dir, pattern string) bool {
	m, _ := filepath.Glob(filepath.Join(dir, pattern))
	return len(m) > 0
}
