package privatefile

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"time"
)

// ReplaceWith puts tmp, a synced file holding data, in path's place: a rename, then an fsync of
// the folder so the rename itself is durable.
//
// When path cannot be renamed over — a single file bind-mounted into a container (Docker's -v
// FILE:FILE, a Kubernetes subPath) answers EBUSY, as does a mount point — the content is written
// into path itself (truncate, write, fsync) and tmp removed after. That write is not atomic, but
// tmp is removed only once it is synced, so a crash part way leaves tmp for the next holder of
// the lock to finish the same way ([Leftovers]). An immutable or read-only file fails here, and
// tmp is removed.
func ReplaceWith(path, tmp string, data []byte) error {
	err := os.Rename(tmp, path)
	if err == nil {
		syncDir(filepath.Dir(path))
		return nil
	}
	if !errors.Is(err, syscall.EBUSY) && !errors.Is(err, syscall.EXDEV) {
		_ = os.Remove(tmp)
		return Explain(fmt.Errorf("write %s: %w", path, err))
	}
	if err := writeInPlace(path, data); err != nil {
		_ = os.Remove(tmp)
		return Explain(fmt.Errorf("write %s (a file that cannot be replaced by a rename, such as a bind mount, so written in place): %w", path, err))
	}
	if err := os.Remove(tmp); err != nil {
		return Explain(fmt.Errorf("write %s: remove %s: %w", path, tmp, err))
	}
	syncDir(filepath.Dir(path))
	return nil
}

// writeInPlace overwrites path with data and syncs it. The file is opened without O_TRUNC and
// truncated after the write to the new length, so a shorter write never leaves a window in
// which the file is empty.
func writeInPlace(path string, data []byte) error {
	f, err := os.OpenFile(path, os.O_WRONLY, 0)
	if err != nil {
		return err
	}
	if _, err := f.WriteAt(data, 0); err != nil {
		f.Close()
		return err
	}
	if err := f.Truncate(int64(len(data))); err != nil {
		f.Close()
		return err
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

func syncDir(dir string) {
	if d, err := os.Open(dir); err == nil {
		_ = d.Sync()
		d.Close()
	}
}

// Leftovers are the temporary files that writers of path killed before their rename left
// behind, newest first.
func Leftovers(path string) []string {
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
