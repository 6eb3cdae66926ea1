package store

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/gofrs/flock"

	"github.com/pleoauth/pleoauth/internal/failure"
	"github.com/pleoauth/pleoauth/internal/privatefile"
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
	if err := privatefile.EnsureDir(l.Dir); err != nil {
		return nil, err
	}
	if err := checkEnvName(name); err != nil {
		return nil, err
	}
	path := filepath.Join(l.Dir, name+".lock")
	if err := checkLockFile(path); err != nil {
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

// wait blocks in flock(2) until the holder lets go, ctx ends or the timeout passes. The kernel
// wakes a blocked waiter the moment the lock is released; polling instead left a gap of up to
// one poll between the release and the next try, and in a storm kept every waiter waking
// hundreds of times a second on the cores the one refresh needed. A wait given up leaves its
// flock call behind: should that call get the lock later, it lets go of it at once.
func (l FileLock) wait(ctx context.Context, fl *flock.Flock, path string) (bool, error) {
	timeout := l.Timeout
	if timeout <= 0 {
		timeout = DefaultLockTimeout
	}
	notice := l.NoticeAfter
	if notice <= 0 {
		notice = time.Second
	}
	var (
		mu     sync.Mutex
		gaveUp bool
		got    = make(chan error, 1)
	)
	go func() {
		err := fl.Lock()
		mu.Lock()
		defer mu.Unlock()
		if gaveUp {
			if err == nil {
				_ = fl.Unlock()
			}
			return
		}
		got <- err
	}()
	giveUp := func() (bool, error) {
		mu.Lock()
		defer mu.Unlock()
		select {
		case err := <-got: // it came as the wait ended: take it
			return err == nil, err
		default:
			gaveUp = true
			return false, nil
		}
	}

	deadline := time.NewTimer(timeout)
	defer deadline.Stop()
	var noticeAt <-chan time.Time
	if l.Waiting != nil && notice < timeout {
		t := time.NewTimer(notice)
		defer t.Stop()
		noticeAt = t.C
	}
	for {
		select {
		case err := <-got:
			if err != nil {
				return false, fmt.Errorf("lock %s: %w", path, err)
			}
			return true, nil
		case <-noticeAt:
			noticeAt = nil
			l.Waiting(holderPID(path))
		case <-ctx.Done():
			if ok, _ := giveUp(); ok {
				_ = fl.Unlock() // interrupted: nothing more is done under it
			}
			return false, ctx.Err()
		case <-deadline.C:
			if ok, err := giveUp(); ok || err != nil {
				return ok, err
			}
			holder := ""
			if pid := holderPID(path); pid > 0 {
				holder = fmt.Sprintf("pid %d", pid)
			}
			return false, failure.Wrap(failure.Temporary, &LockTimeoutError{Lock: path, Waited: timeout, Holder: holder})
		}
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

// checkLockFile refuses a lock path that is not a private regular file: opening a FIFO there
// would block before any timeout or signal could end the wait, and a device or a folder is no
// lock. A missing file is fine: the lock creates it.
func checkLockFile(path string) error {
	fi, err := os.Lstat(path)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return nil
	case err != nil:
		return failure.Wrap(failure.Temporary, fmt.Errorf("lock %s: %w", path, err))
	case fi.Mode()&fs.ModeSymlink == 0 && !fi.Mode().IsRegular():
		return failure.Wrap(failure.Temporary, fmt.Errorf("lock %s is not a regular file (%s); remove it with \"rm -r %s\" and run the command again", path, kindOf(fi.Mode()), path))
	}
	return privatefile.Check(path, 0o600)
}

func kindOf(m fs.FileMode) string {
	switch {
	case m&fs.ModeNamedPipe != 0:
		return "a named pipe"
	case m&fs.ModeSocket != 0:
		return "a socket"
	case m&fs.ModeDevice != 0:
		return "a device"
	case m.IsDir():
		return "a folder"
	}
	return m.Type().String()
}
