//go:build unix

package store

import (
	"context"
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
		make func(path string) error
		want string
	}{
		{"named pipe", func(p string) error { return syscall.Mkfifo(p, 0o600) }, "a named pipe"},
		{"folder", func(p string) error { return syscall.Mkdir(p, 0o700) }, "a folder"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := filepath.Join(t.TempDir(), "locks")
			if err := privatefile.EnsureDir(dir); err != nil {
				t.Fatal(err)
			}
			path := filepath.Join(dir, "local.lock")
			if err := tt.make(path); err != nil {
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
