package store

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
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
	// No timeout set is the default, minutes: the context ends the wait first; no notice set is
	// the default, a second: a wait of a tenth of one is not worth telling.
	told := false
	waiter := FileLock{Dir: l.Dir, Waiting: func(int) { told = true }}
	if _, err := waiter.Lock(ctx, "local"); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("a second lock while the first is held = %v; want the context's end", err)
	}
	if told {
		t.Error("a waiter was told of a wait shorter than the default notice, a second")
	}
	// The timeout bounds the wait too, and says who held the lock.
	_, err = FileLock{Dir: l.Dir, Timeout: 100 * time.Millisecond}.Lock(context.Background(), "local")
	var lt *LockTimeoutError
	if !errors.As(err, &lt) || failure.KindOf(err) != failure.Temporary {
		t.Fatalf("Lock past its timeout = %v; want a temporary LockTimeoutError", err)
	}
	if want := fmt.Sprintf("pid %d", os.Getpid()); lt.Holder != want || !strings.Contains(err.Error(), want) {
		t.Errorf("the timeout names the holder %q (%v); want %q", lt.Holder, err, want)
	}
	// A holder that wrote no process id (one between taking the lock and writing it) is
	// named as no process at all, never as "pid 0".
	if err := os.WriteFile(filepath.Join(l.Dir, "local.lock"), nil, 0o600); err != nil {
		t.Fatal(err)
	}
	_, err = FileLock{Dir: l.Dir, Timeout: 100 * time.Millisecond}.Lock(context.Background(), "local")
	if !errors.As(err, &lt) || lt.Holder != "" || strings.Contains(err.Error(), "pid") {
		t.Errorf("Lock past its timeout, holder unknown = %v; want a LockTimeoutError naming no pid", err)
	}
}

// TestLockGivenUpIsNotKept: a waiter that gave up (its context ended) leaves its flock call
// behind; when that call gets the lock after the holder lets go, it lets go at once, so the
// next command takes the lock.
func TestLockGivenUpIsNotKept(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "locks")
	unlock, err := FileLock{Dir: dir}.Lock(context.Background(), "local")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	// Told it waits, the waiter is blocked in flock: then it gives up.
	waiter := FileLock{Dir: dir, NoticeAfter: time.Millisecond, Waiting: func(int) { cancel() }}
	if _, err := waiter.Lock(ctx, "local"); !errors.Is(err, context.Canceled) {
		t.Fatalf("the waiter = %v; want it to give up", err)
	}
	unlock()
	for i := range 3 {
		next, err := FileLock{Dir: dir, Timeout: 5 * time.Second}.Lock(context.Background(), "local")
		if err != nil {
			t.Fatalf("lock %d after the holder let go and the waiter gave up: %v", i+1, err)
		}
		next()
	}
}

// TestLockWaiterIsToldAndThenServed: a waiter still waiting after NoticeAfter is told once
// who holds the lock (its process id), and takes the lock as soon as the holder lets go.
func TestLockWaiterIsToldAndThenServed(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "locks")
	unlock, err := FileLock{Dir: dir}.Lock(context.Background(), "local")
	if err != nil {
		t.Fatal(err)
	}
	told := make(chan int, 2)
	got := make(chan error, 1)
	go func() {
		l := FileLock{Dir: dir, Timeout: time.Minute, NoticeAfter: 10 * time.Millisecond, Waiting: func(pid int) { told <- pid }}
		unlock2, err := l.Lock(context.Background(), "local")
		if err == nil {
			unlock2()
		}
		got <- err
	}()
	select {
	case pid := <-told:
		if pid != os.Getpid() {
			t.Errorf("the waiter was told pid %d; want the holder's, %d", pid, os.Getpid())
		}
	case err := <-got:
		t.Fatalf("the waiter returned %v while the lock was held", err)
	case <-time.After(10 * time.Second):
		t.Fatal("the waiter was not told who holds the lock")
	}
	unlock()
	select {
	case err := <-got:
		if err != nil {
			t.Errorf("the waiter after the release = %v; want the lock", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("the waiter did not get the lock after its release")
	}
	if len(told) != 0 {
		t.Error("the waiter was told more than once")
	}
}
