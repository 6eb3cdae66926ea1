package grant

import (
	"errors"
	"fmt"
	"io/fs"
	"path/filepath"

	"github.com/pleoauth/pleoauth/internal/config"
	"github.com/pleoauth/pleoauth/internal/store"
)

// openStore returns the configured backend. The keychain store is the default; the plain file
// store is used only when chosen, or — when nothing was chosen — in CI when no keychain answers,
// which is said on stderr. Outside CI a missing keychain is an error naming the file store at
// first use, never a silent downgrade to plaintext.
func (g *Grant) openStore() Store {
	dir := filepath.Join(g.cfg.Home, "tokens")
	if g.cfg.Store == config.StoreFile {
		return store.File{Dir: dir}
	}
	keyring := store.Keyring{Dir: dir, Scope: g.cfg.Home, Keychain: g.d.Keychain}
	if !g.cfg.StoreChosen && config.IsCI(g.d.Getenv) {
		// What this home already holds decides without asking the keychain, so the cached
		// path of "pleoauth token" makes no keychain call beyond the one read.
		if holds(dir, "*.json") {
			return store.File{Dir: dir}
		}
		if holds(dir, "*.enc") {
			return keyring
		}
		if err := store.ProbeKeychain(g.d.Keychain); errors.Is(err, store.ErrKeychainUnavailable) {
			fmt.Fprintln(g.d.Stderr, "pleoauth: CI is set and no OS keychain answers; using the file store (0600 files in PLEOAUTH_HOME/tokens). Set PLEOAUTH_STORE=file to choose it explicitly.")
			return store.File{Dir: dir}
		}
	}
	return keyring
}

// clientSecrets is where a typed client secret is kept.
func (g *Grant) clientSecrets() store.ClientSecrets {
	return store.ClientSecrets{Scope: g.cfg.Home, Keychain: g.d.Keychain}
}

func holds(dir, pattern string) bool {
	m, _ := filepath.Glob(filepath.Join(dir, pattern))
	return len(m) > 0
}

func isNotExist(err error) bool { return errors.Is(err, fs.ErrNotExist) }
