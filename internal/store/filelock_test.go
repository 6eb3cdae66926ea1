package store

import (
	"context"
	"errors"
	"path/filepath"
	"testing"
	"time"

	"github.com/pleoauth/pleoauth/internal/failure"
)

// TestLockTimesOut: a waiter gives up when its context ends. That a dead holder's lock is
// released is proved with real processes in cmd/pleoauth.
func TestLockTimesOut(t *testing.T) {
	l := FileLock{Dir: filepath.Join(t.TempDir(), "locks")}
	unlock, err := l.Lock(context.Background(), "local")
	if err != nil {
		t.Fatal(err)
	}
	defer unlock()
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	if _, err := l.Lock(ctx, "local"); err == nil {
		t.Fatal("a second lock was granted while the first is held")
	}
	// The timeout bounds the wait too, and says who held the lock.
	_, err = FileLock{Dir: l.Dir, Timeout: 100 * time.Millisecond}.Lock(context.Background(), "local")
	var lt *LockTimeoutError
	if !errors.As(err, &lt) || failure.KindOf(err) != failure.Temporary {
		t.Fatalf("Lock past its timeout = %v; want a temporary LockTimeoutError", err)
	}
}
