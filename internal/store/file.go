package store

import (
	"github.com/pleoauth/pleoauth/internal/privatefile"

	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
)

// File keeps each environment's bundle as plain JSON in a 0600 file in a 0700 folder. It is for
// machines without a keychain (CI), chosen explicitly, never as a silent fallback.
type File struct {
	// Dir holds one file per environment.
	Dir string
}

// Name identifies the backend in messages and status output.
func (f File) Name() string { return "file" }

func (f File) path(env string) (string, error) {
	if err := checkEnvName(env); err != nil {
		return "", err
	}
	return filepath.Join(f.Dir, env+".json"), nil
}

// Check reports whether the store can keep tokens: a file can be written and removed in its
// private folder.
func (f File) Check() error { return probeWrite(f.Dir) }

// JournalKey keeps env's journal entries as plain JSON, as the bundles are.
func (f File) JournalKey(env string) (JournalKey, error) {
	return plainJournal{}, checkEnvName(env)
}

// Load returns the environment's bundle, or [ErrNotFound].
func (f File) Load(env string) (*Bundle, error) {
	path, err := f.path(env)
	if err != nil {
		return nil, err
	}
	data, err := readPrivateFile(path)
	if err != nil {
		return nil, err
	}
	return decodeBundle(path, data)
}

// Save replaces the environment's bundle atomically.
func (f File) Save(env string, b *Bundle) error {
	path, err := f.path(env)
	if err != nil {
		return err
	}
	if err := b.check(); err != nil {
		return fmt.Errorf("save %s: %w", path, err)
	}
	data, err := json.Marshal(b)
	if err != nil {
		return err
	}
	return writeFileAtomic(path, data)
}

// Pending reports a save that a crash interrupted; [File.Recover] finishes it.
func (f File) Pending(env string) bool {
	path, err := f.path(env)
	return err == nil && len(privatefile.Leftovers(path)) > 0
}

// Recover finishes a save of env's bundle that a crash interrupted, if there is one; the
// caller holds the login's lock.
func (f File) Recover(env string) (bool, error) {
	path, err := f.path(env)
	if err != nil {
		return false, err
	}
	return rollForward(path, func(data []byte) (*Bundle, error) { return decodeBundle(path, data) },
		func(b *Bundle) ([]byte, error) { return json.Marshal(b) })
}

// Delete forgets the environment's bundle, and any save a crash interrupted; deleting nothing
// is not an error.
func (f File) Delete(env string) error {
	path, err := f.path(env)
	if err != nil {
		return err
	}
	return removePrivate(path)
}

// CorruptError reports a stored bundle that cannot be read back, or that holds what no server
// may issue.
type CorruptError struct {
	Path string
	Why  string // empty: unreadable
}

func (e *CorruptError) Error() string {
	if e.Why != "" {
		return fmt.Sprintf("stored tokens in %s are refused: %s", e.Path, e.Why)
	}
	return fmt.Sprintf("stored tokens in %s are unreadable", e.Path)
}

// readPrivateFile reads a store file after checking it is private; a missing one is
// [ErrNotFound]. It reads at most [MaxBundleSize] bytes and one more, so a larger file is seen
// as corrupt rather than read whole.
func readPrivateFile(path string) ([]byte, error) {
	// The folder first: a symbolic link in its place could point anywhere.
	if err := privatefile.Check(filepath.Dir(path), 0o700); err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return nil, ErrNotFound
		}
		return nil, err
	}
	if err := privatefile.Check(path, 0o600); err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return nil, ErrNotFound
		}
		return nil, err
	}
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", path, err)
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, MaxBundleSize+1))
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", path, err)
	}
	return data, nil
}

// decodeBundle parses a bundle, which must at least hold an access token, or record a spend
// whose answer will bring one.
func decodeBundle(path string, data []byte) (*Bundle, error) {
	var b Bundle
	if len(data) > MaxBundleSize || unmarshalBundle(data, &b) != nil || b.AccessToken == "" && b.Spent == nil {
		return nil, &CorruptError{Path: path}
	}
	if err := b.check(); err != nil {
		return nil, &CorruptError{Path: path, Why: err.Error()}
	}
	return &b, nil
}

// removePrivate removes a private file and what an interrupted write of it left beside it;
// removing nothing is not an error.
func removePrivate(path string) error {
	removeLeftovers(path)
	if err := os.Remove(path); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("delete %s: %w", path, err)
	}
	return nil
}
