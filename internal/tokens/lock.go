package tokens

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/gofrs/flock"

	"github.com/pleoauth/pleoauth/internal/failure"
	"github.com/pleoauth/pleoauth/internal/store"
)

// DefaultLockTimeout is how long a command waits for another process's refresh by default: far
// longer than a refresh with its retries, so only a stuck holder (a hung on_rotate command, a
// stopped process) makes a waiter give up.
const DefaultLockTimeout = 2 * time.Minute

// FileLock serialises refreshes of one login across processes with an advisory lock (flock(2))
// on a file in Dir. The kernel releases it when the holder exits, even by SIGKILL, so a crashed
// refresh never blocks the next caller; the file left behind is harmless.
type FileLock struct {
	Dir string
	// Poll is how often a waiter retries; zero means 5ms.
	Poll time.Duration
	// Timeout bounds the wait; zero means [DefaultLockTimeout].
	Timeout time.Duration
	// Waiting, when set, is called once if the lock is still held by another process after
	// NoticeAfter (zero: one second), with the holder's process id (0 when unknown), so that a
	// person is never left staring at a silent command.
	Waiting     func(holderPID int)
	NoticeAfter time.Duration
}

// Lock waits for name's lock until ctx ends or the timeout passes, and returns the function that
// releases it. The lock folder must be private and the lock file a plain file: a symbolic link
// planted there would make pleoauth create or truncate a file elsewhere.
func (l FileLock) Lock(ctx context.Context, name string) (func(), error) {
	if err := store.EnsurePrivateDir(l.Dir); err != nil {
		return nil, err
	}
	path := filepath.Join(l.Dir, name+".lock")
	if err := store.CheckPrivate(path, 0o600); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return nil, err
	}
	fl := flock.New(path, flock.SetPermissions(0o600))
	ok, err := fl.TryLock()
	if err == nil && !ok {
		ok, err = l.wait(ctx, fl, path)
	}
	if err != nil {
		return nil, err
	}
	if !ok {
		return nil, fmt.Errorf("lock %s: not acquired", path)
	}
	// Who holds it, for a waiter's message.
	_ = os.WriteFile(path, []byte(strconv.Itoa(os.Getpid())+"\n"), 0o600)
	return func() { _ = fl.Unlock() }, nil
}

func (l FileLock) wait(ctx context.Context, fl *flock.Flock, path string) (bool, error) {
	timeout := l.Timeout
	if timeout <= 0 {
		timeout = DefaultLockTimeout
	}
	poll := l.Poll
	if poll == 0 {
		poll = 5 * time.Millisecond
	}
	notice := l.NoticeAfter
	if notice <= 0 {
		notice = time.Second
	}
	waitCtx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	if l.Waiting != nil && notice < timeout {
		// Wait quietly for a moment, then say so once, from this goroutine.
		quiet, cancelQuiet := context.WithTimeout(waitCtx, notice)
		ok, err := fl.TryLockContext(quiet, poll)
		cancelQuiet()
		if err == nil {
			return ok, nil
		}
		if ctx.Err() == nil {
			l.Waiting(holderPID(path))
		}
	}
	ok, err := fl.TryLockContext(waitCtx, poll)
	switch {
	case err == nil:
		return ok, nil
	case ctx.Err() != nil:
		return false, ctx.Err()
	case errors.Is(err, context.DeadlineExceeded):
		holder := ""
		if pid := holderPID(path); pid > 0 {
			holder = fmt.Sprintf("pid %d", pid)
		}
		return false, failure.Wrap(failure.Temporary, &store.LockTimeoutError{Lock: path, Waited: timeout, Holder: holder})
	default:
		return false, fmt.Errorf("lock %s: %w", path, err)
	}
}

// holderPID reads the process id the lock's holder wrote, or 0.
func holderPID(path string) int {
	data, err := os.ReadFile(path)
	if err != nil {
		return 0
	}
	pid, err := strconv.Atoi(strings.TrimSpace(string(data)))
	if err != nil || pid <= 0 {
		return 0
	}
	return pid
}
