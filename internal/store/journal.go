package store

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"

	"github.com/pleoauth/pleoauth/internal/privatefile"
)

// Journal keeps, on this machine, the answers to spends (a refresh, a login's code exchange,
// an import) until they are in the store. An answer is written here, and synced, before the
// store write is tried, so that a store that fails then (Redis gone, a disk filled, a lock
// lost while the process was stopped) or a crash between the two never loses it: whoever holds
// the login's lock next on this machine finishes the save first. One 0600 file per login in
// PLEOAUTH_HOME/journal, sealed as the login's store seals its bundles.
type Journal struct {
	Dir string
}

// JournalEntry is the answer to one spend.
type JournalEntry struct {
	// Answers is the ID of the [Spend] recorded in the store before it was sent.
	Answers string  `json:"answers"`
	Bundle  *Bundle `json:"bundle"`
}

// JournalKey seals and opens one login's journal entries as its store seals its bundles: not
// at all for the plain file store, under the keychain's key for the keyring store, under
// PLEOAUTH_STORE_KEY for the redis store. It is obtained before a spend is sent, so an answer
// can be journalled even when the keychain or Redis stopped answering since.
type JournalKey interface {
	seal(plain []byte) ([]byte, error)
	open(sealed []byte) ([]byte, error)
}

// journalMagic starts every sealed journal entry: an entry never opens as a bundle, nor a
// bundle as an entry.
const journalMagic = "pleoauth-journal-v1\n"

// plainJournal is the file store's journal key: entries are JSON in a 0600 file, as its
// bundles are.
type plainJournal struct{}

func (plainJournal) seal(plain []byte) ([]byte, error)  { return plain, nil }
func (plainJournal) open(sealed []byte) ([]byte, error) { return sealed, nil }

// sealedJournal seals entries with AES-256-GCM under a store's key, bound to the login.
type sealedJournal struct {
	key []byte
	aad string
}

func (k sealedJournal) seal(plain []byte) ([]byte, error) {
	return sealWith(k.key, plain, journalMagic, k.aad)
}

func (k sealedJournal) open(sealed []byte) ([]byte, error) {
	return unsealWith(k.key, sealed, journalMagic, k.aad)
}

func (j Journal) path(name string) (string, error) {
	if err := checkEnvName(name); err != nil {
		return "", err
	}
	return filepath.Join(j.Dir, name), nil
}

// Write keeps e for name, replacing any earlier entry, synced before it returns.
func (j Journal) Write(name string, key JournalKey, e *JournalEntry) error {
	path, err := j.path(name)
	if err != nil {
		return err
	}
	if err := e.Bundle.check(); err != nil {
		return fmt.Errorf("journal %s: %w", path, err)
	}
	plain, err := json.Marshal(e)
	if err != nil {
		return err
	}
	sealed, err := key.seal(plain)
	if err != nil {
		return fmt.Errorf("journal %s: %w", path, err)
	}
	if err := privatefile.EnsureDir(j.Dir); err != nil {
		return err
	}
	return privatefile.Write(path, sealed)
}

// Holds reports whether an entry for name is waiting: one stat, no reading.
func (j Journal) Holds(name string) bool {
	path, err := j.path(name)
	if err != nil {
		return false
	}
	_, err = os.Lstat(path)
	return err == nil
}

// Read returns name's entry, or [ErrNotFound]. An entry that does not open under key, or
// does not decode, is a [CorruptError].
func (j Journal) Read(name string, key JournalKey) (*JournalEntry, error) {
	path, err := j.path(name)
	if err != nil {
		return nil, err
	}
	sealed, err := readPrivateFile(path)
	if err != nil {
		return nil, err
	}
	plain, err := key.open(sealed)
	if err != nil {
		return nil, &CorruptError{Path: path}
	}
	var e JournalEntry
	if err := json.Unmarshal(plain, &e); err != nil || e.Bundle == nil || e.Answers == "" {
		return nil, &CorruptError{Path: path}
	}
	if err := e.Bundle.check(); err != nil {
		return nil, &CorruptError{Path: path, Why: err.Error()}
	}
	return &e, nil
}

// Remove forgets name's entry, once its answer is in the store (or the store moved past it).
func (j Journal) Remove(name string) error {
	path, err := j.path(name)
	if err != nil {
		return err
	}
	removeLeftovers(path)
	if err := os.Remove(path); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return privatefile.Explain(fmt.Errorf("remove %s: %w", path, err))
	}
	return nil
}
