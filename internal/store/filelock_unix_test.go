//go:build unix

package store

import (
	"context"
	"net"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/pleoauth/pleoauth/internal/failure"
	"github.com/pleoauth/pleoauth/internal/privatefile"
)

// TestLockPathThatIsNoFile: a named pipe, a folder or a socket where the lock file belongs is
// refused at once, as temporary (exit 5), naming the rm to run — never opened, so never a wait
// that no timeout or signal ends.
func TestLockPathThatIsNoFile(t *testing.T) {
	tests := []struct {
		name string
		make func(t *testing.T, path string) error
		want string
	}{
		{"named pipe", func(_ *testing.T, p string) error { return syscall.Mkfifo(p, 0o600) }, "a named pipe"},
		{"folder", func(_ *testing.T, p string) error { return syscall.Mkdir(p, 0o700) }, "a folder"},
		{"socket", func(t *testing.T, p string) error {
			l, err := net.Listen("unix", p)
			if err == nil {
				t.Cleanup(func() { l.Close() })
			}
			return err
		}, "a socket"},
		{"device", func(t *testing.T, p string) error {
			if os.Geteuid() != 0 {
				t.Skip("making a device needs root")
			}
			return syscall.Mknod(p, syscall.S_IFCHR|0o600, 1<<8|3) // never opened: its numbers do not matter
		}, "a device"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := filepath.Join(t.TempDir(), "locks")
			if err := privatefile.EnsureDir(dir); err != nil {
				t.Fatal(err)
			}
			path := filepath.Join(dir, "local.lock")
			if err := tt.make(t, path); err != nil {
				t.Fatal(err)
			}
			done := make(chan error, 1)
			go func() {
				_, err := FileLock{Dir: dir, Timeout: time.Second}.Lock(context.Background(), "local")
				done <- err
			}()
			select {
			case err := <-done:
				if err == nil || failure.KindOf(err) != failure.Temporary || !strings.Contains(err.Error(), tt.want) || !strings.Contains(err.Error(), "rm -r "+path) {
					t.Errorf("Lock = %v (kind %v); want a temporary error naming %s and the rm to run", err, failure.KindOf(err), tt.want)
				}
			case <-time.After(10 * time.Second):
				t.Fatal("Lock on a lock path that is no file did not return")
			}
		})
	}
}

// TestLockPathThatIsALink: a symbolic link planted where the lock file belongs is refused as a
// link, and what it points to is neither created nor written: taking the lock must never
// create or truncate a file elsewhere.
func TestLockPathThatIsALink(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "locks")
	if err := privatefile.EnsureDir(dir); err != nil {
		t.Fatal(err)
	}
	target := filepath.Join(t.TempDir(), "elsewhere")
	if err := os.Symlink(target, filepath.Join(dir, "local.lock")); err != nil {
		t.Fatal(err)
	}
	_, err := FileLock{Dir: dir, Timeout: time.Second}.Lock(context.Background(), "local")
	if err == nil || !strings.Contains(err.Error(), "symbolic link") {
		t.Errorf("Lock through a symbolic link = %v; want it refused as a link", err)
	}
	if _, err := os.Lstat(target); !os.IsNotExist(err) {
		t.Errorf("the link's target: %v; want it never created", err)
	}
}
