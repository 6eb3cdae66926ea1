// Package privatefile writes and checks the files pleoauth keeps secrets in: private to their
// owner (0600 files in 0700 folders, no symbolic links), replaced whole so that a crash leaves
// the old content or the new, never a torn file. The token stores, the journal, config.yaml,
// serve's key and Postman environments all go through it.
package privatefile

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"syscall"

	"github.com/pleoauth/pleoauth/internal/crashpoint"
)

// EnsureDir creates dir with mode 0700 when missing and refuses one that others can read or
// write, or a symbolic link, naming the chmod to run.
func EnsureDir(dir string) error {
	if err := MakeDir(dir); err != nil {
		return err
	}
	return Check(dir, 0o700)
}

// MakeDir creates dir (and its parents) with mode 0700 when missing, as the first command run
// with a new PLEOAUTH_HOME does; an existing folder is left as it is, for [Check] or
// [CheckNotWritableByOthers] to judge (a PLEOAUTH_HOME of mode 0755 is accepted, its tokens
// folder is not).
func MakeDir(dir string) error {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return Explain(fmt.Errorf("create %s: %w", dir, err))
	}
	return nil
}

// Explain adds the next step to the file system errors a person can act on.
func Explain(err error) error {
	switch {
	case errors.Is(err, syscall.EROFS):
		return fmt.Errorf("%w; the folder is on a read-only file system: point PLEOAUTH_HOME at a writable folder", err)
	case errors.Is(err, syscall.ENOSPC):
		return fmt.Errorf("%w; the disk is full: free some space (the tokens stored before are intact)", err)
	case errors.Is(err, fs.ErrPermission):
		return fmt.Errorf("%w; pleoauth cannot write there: fix the folder's owner and mode, or point PLEOAUTH_HOME elsewhere", err)
	}
	return err
}

// Check refuses a file or folder that is a symbolic link or grants anything to group or
// others: a token that others could have read must not be trusted silently. A missing one is
// reported as [fs.ErrNotExist].
func Check(path string, want fs.FileMode) error {
	fi, err := os.Lstat(path)
	if err != nil {
		return err
	}
	if fi.Mode()&fs.ModeSymlink != 0 {
		return fmt.Errorf("%s is a symbolic link; pleoauth keeps tokens only in plain files (remove the link)", path)
	}
	if err := shared(path, fi.Mode()); err != nil {
		return err
	}
	if perm := fi.Mode().Perm(); perm&0o077 != 0 {
		return fmt.Errorf("%s has mode %04o, looser than %04o; run \"chmod %o %s\" after checking nobody else read it", path, perm, want, want, path)
	}
	return nil
}

// CheckNotWritableByOthers refuses a folder that users other than its owner can write to: they
// could swap the files pleoauth reads in it (PLEOAUTH_HOME's config.yaml says where the client
// secret is sent). A symbolic link to such a folder is followed; a missing one is
// [fs.ErrNotExist].
func CheckNotWritableByOthers(path string) error {
	fi, err := os.Stat(path)
	if err != nil {
		return err
	}
	if err := shared(path, fi.Mode()); err != nil {
		return err
	}
	if perm := fi.Mode().Perm(); perm&0o022 != 0 {
		return fmt.Errorf("%s has mode %04o, writable by other users; run \"chmod go-w %s\" (or chmod 700) after checking its files", path, perm, path)
	}
	return nil
}

// shared refuses a sticky folder others can write to (/tmp, /var/tmp) with the only advice that
// helps: such a folder is shared on purpose, and changing its mode would break every other
// program that uses it, so pleoauth needs a private folder of its own.
func shared(path string, m fs.FileMode) error {
	if !m.IsDir() || m&fs.ModeSticky == 0 || m.Perm()&0o022 == 0 {
		return nil
	}
	return fmt.Errorf("%s is a folder shared by all users (mode %04o); use a private folder instead, e.g. mkdir -m 700 \"$HOME/.pleoauth\" and set PLEOAUTH_HOME to it (never change the mode of %s)",
		path, uint32(m.Perm())|0o1000, path)
}

// Write replaces path with data, mode 0600, so that a crash at any point leaves either the old
// file or the new one, never a torn one: write a temporary file in the same folder, fsync it,
// rename it over path, fsync the folder. The temporary file is named
// "."+base(path)+".tmp-*", which [Leftovers] finds again.
//
// A path that cannot be renamed over but can be written — a single file bind-mounted into a
// container (rename(2) answers EBUSY) — is written in place (see [ReplaceWith]).
func Write(path string, data []byte) (err error) {
	tmp, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".tmp-*")
	if err != nil {
		return Explain(fmt.Errorf("write %s: %w", path, err))
	}
	defer func() {
		if err != nil {
			_ = os.Remove(tmp.Name())
			err = Explain(err)
		}
	}()
	// CreateTemp makes the file 0600 already; Chmod guards against an unusual umask handling.
	if err := tmp.Chmod(0o600); err != nil {
		tmp.Close()
		return fmt.Errorf("write %s: %w", path, err)
	}
	if _, err := tmp.Write(data); err != nil {
		tmp.Close()
		return fmt.Errorf("write %s: %w", path, err)
	}
	crashpoint.Hit(crashpoint.TempWritten)
	if err := tmp.Sync(); err != nil {
		tmp.Close()
		return fmt.Errorf("write %s: %w", path, err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	crashpoint.Hit(crashpoint.BeforeRename)
	return ReplaceWith(path, tmp.Name(), data)
}
