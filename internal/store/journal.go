package store

import (
	"crypto/sha256"
	"encoding/hex"
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
	Answers string `json:"answers"`
	// Spends is the [TokenHash] of the refresh token that was sent ("" for a login's code): a
	// store that holds that token again without its spend record went back in time (a Redis
	// restored from an older snapshot), and the answer is then the only live token.
	Spends string  `json:"spends,omitempty"`
	Bundle *Bundle `json:"bundle"`
}

// TokenHash names a refresh token without revealing it: the first 16 bytes of its SHA-256, hex.
func TokenHash(token string) string {
	sum := sha256.Sum256([]byte(token))
	return hex.EncodeToString(sum[:16])
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

// Holds reports whether an entry for name is waiting, written whole or still in the temporary
// file of a writer killed before its rename: one stat, and one read of the folder's names when
// there is no entry.
func (j Journal) Holds(name string) bool {
	path, err := j.path(name)
	if err != nil {
		return false
	}
	if _, err := os.Lstat(path); err == nil {
		return true
	}
	return len(privatefile.Leftovers(path)) > 0
}

// Waiting reports whether a whole entry for name is in place: one stat, for the cached path
// (an entry still in a temporary file comes with a spend record in the store, which sends
// that path the locked way anyway).
func (j Journal) Waiting(name string) bool {
	path, err := j.path(name)
	if err != nil {
		return false
	}
	_, err = os.Lstat(path)
	return err == nil
}

// Read returns name's entry, or [ErrNotFound]. An entry a killed writer left in its temporary
// file (written and synced: it holds an answer too) is put in place first; one that does not
// open under key, or does not decode, is a [CorruptError].
func (j Journal) Read(name string, key JournalKey) (*JournalEntry, error) {
	path, err := j.path(name)
	if err != nil {
		return nil, err
	}
	decode := func(sealed []byte) (*JournalEntry, error) {
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
	// Leftovers are newer than the entry in place: each write writes its temporary file first.
	adopted := false
	for _, f := range privatefile.Leftovers(path) {
		if !adopted {
			if sealed, err := readPrivateFile(f); err == nil {
				if _, err := decode(sealed); err == nil {
					if err := privatefile.ReplaceWith(path, f, sealed); err != nil {
						return nil, err
					}
					adopted = true
					continue
				}
			}
		}
		_ = os.Remove(f)
	}
	sealed, err := readPrivateFile(path)
	if err != nil {
		return nil, err
	}
	return decode(sealed)
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

// Profiles lists the profiles of env with an entry waiting here ("" is the default profile):
// a login whose store lost it (Redis restarted empty) is still listed, so that the command
// that lists logins finishes its save too.
func (j Journal) Profiles(env string) []string {
	return logins(env, globNames(j.Dir, env, ""))
}
