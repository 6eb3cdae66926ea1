package store

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"time"

	"github.com/pleoauth/pleoauth/internal/crashpoint"
)

// EnsurePrivateDir creates dir with mode 0700 when missing and refuses one that others can
// read or write, or a symbolic link, naming the chmod to run.
func EnsurePrivateDir(dir string) error {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return explain(fmt.Errorf("create %s: %w", dir, err))
	}
	return checkMode(dir, 0o700)
}

// explain adds the next step to the file system errors a person can act on.
func explain(err error) error {
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

// CheckPrivate refuses a file or folder that is a symbolic link or grants anything to group or
// others; a missing one is reported as [fs.ErrNotExist].
func CheckPrivate(path string, want fs.FileMode) error { return checkMode(path, want) }

// CheckNotWritableByOthers refuses a folder that users other than its owner can write to: they
// could swap the files pleoauth reads in it (PLEOAUTH_HOME's config.yaml says where the client
// secret is sent). A symbolic link to such a folder is followed; a missing one is
// [fs.ErrNotExist].
func CheckNotWritableByOthers(path string) error {
	fi, err := os.Stat(path)
	if err != nil {
		return err
	}
	if perm := fi.Mode().Perm(); perm&0o022 != 0 {
		return fmt.Errorf("%s has mode %04o, writable by other users; run \"chmod go-w %s\" (or chmod 700) after checking its files", path, perm, path)
	}
	return nil
}

// probeWrite proves that a file can be created in dir and removed again — on the real folder,
// with its real file system, permissions and free space — before pleoauth spends something it
// cannot get back (a refresh token, a login's code) on a result it must then keep.
func probeWrite(dir string) error {
	if err := EnsurePrivateDir(dir); err != nil {
		return err
	}
	f, err := os.CreateTemp(dir, ".probe-*")
	if err != nil {
		return explain(fmt.Errorf("write in %s: %w", dir, err))
	}
	name := f.Name()
	_, err = f.Write(make([]byte, 4096)) // a bundle's worth: a full disk fails here
	if err == nil {
		err = f.Sync()
	}
	f.Close()
	if rmErr := os.Remove(name); err == nil {
		err = rmErr
	}
	if err != nil {
		return explain(fmt.Errorf("write in %s: %w", dir, err))
	}
	return nil
}

// checkMode refuses a file or folder that grants anything to group or others: a token that others
// could have read must not be trusted silently.
func checkMode(path string, want fs.FileMode) error {
	fi, err := os.Lstat(path)
	if err != nil {
		return err
	}
	if fi.Mode()&fs.ModeSymlink != 0 {
		return fmt.Errorf("%s is a symbolic link; pleoauth keeps tokens only in plain files (remove the link)", path)
	}
	if perm := fi.Mode().Perm(); perm&0o077 != 0 {
		return fmt.Errorf("%s has mode %04o, looser than %04o; run \"chmod %o %s\" after checking nobody else read it", path, perm, want, want, path)
	}
	return nil
}

// writeFileAtomic replaces path, in a private folder, with data (see [WritePrivateFile]).
func writeFileAtomic(path string, data []byte) error {
	if err := EnsurePrivateDir(filepath.Dir(path)); err != nil {
		return err
	}
	if err := WritePrivateFile(path, data); err != nil {
		return err
	}
	removeLeftovers(path)
	return nil
}

// WritePrivateFile replaces path with data, mode 0600, so that a crash at any point leaves either
// the old file or the new one, never a torn one: write a temporary file in the same folder, fsync
// it, rename it over path, fsync the folder. It is also for files that hold a token outside the
// store, such as a Postman environment.
func WritePrivateFile(path string, data []byte) (err error) {
	dir := filepath.Dir(path)
	tmp, err := os.CreateTemp(dir, "."+filepath.Base(path)+".tmp-*")
	if err != nil {
		return explain(fmt.Errorf("write %s: %w", path, err))
	}
	defer func() {
		if err != nil {
			_ = os.Remove(tmp.Name())
			err = explain(err)
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
	if err := os.Rename(tmp.Name(), path); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	if d, err := os.Open(dir); err == nil {
		_ = d.Sync() // make the rename itself durable
		d.Close()
	}
	return nil
}

// removeLeftovers deletes temporary files that a writer killed before its rename left behind.
// Writers of one environment hold its refresh lock, so none of these is in use.
func removeLeftovers(path string) {
	for _, f := range leftovers(path) {
		_ = os.Remove(f)
	}
}

// leftovers are the temporary files of path's writers, newest first.
func leftovers(path string) []string {
	// One read of the folder's names (filepath.Glob would stat the folder, sort and match): this
	// runs on every cached "pleoauth token".
	dir, prefix := filepath.Dir(path), "."+filepath.Base(path)+".tmp-"
	d, err := os.Open(dir)
	if err != nil {
		return nil
	}
	names, _ := d.Readdirnames(-1)
	d.Close()
	var found []string
	for _, n := range names {
		if strings.HasPrefix(n, prefix) {
			found = append(found, filepath.Join(dir, n))
		}
	}
	mtime := func(f string) time.Time {
		fi, err := os.Lstat(f)
		if err != nil {
			return time.Time{}
		}
		return fi.ModTime()
	}
	slices.SortFunc(found, func(a, b string) int { return mtime(b).Compare(mtime(a)) })
	return found
}

// rollForward finishes a save that a crash interrupted between writing its temporary file and
// renaming it into place: the newest leftover that opens (valid reports whether it does) is
// renamed over path, and the others are removed. A leftover is always newer than path, since
// every save writes its temporary file first and removes the leftovers after its rename. After
// a refresh the server has already rotated the refresh token, so the leftover holds the only
// refresh token that still works. The caller holds the login's lock, so no writer is between
// its write and its rename.
func rollForward(path string, valid func(data []byte) bool) (bool, error) {
	adopted := false
	for _, f := range leftovers(path) {
		if !adopted {
			data, err := readPrivateFile(f)
			if err == nil && valid(data) {
				if err := os.Rename(f, path); err != nil {
					return false, explain(fmt.Errorf("finish the interrupted save of %s: %w", path, err))
				}
				if d, err := os.Open(filepath.Dir(path)); err == nil {
					_ = d.Sync()
					d.Close()
				}
				adopted = true
				continue
			}
		}
		_ = os.Remove(f)
	}
	return adopted, nil
}
