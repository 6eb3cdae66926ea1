package tokens

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/gofrs/flock"

	"github.com/pleoauth/pleoauth/internal/failure"
)

// FileLock serialises refreshes of one environment across processes with an advisory lock
// (flock(2)) on a file in Dir. The kernel releases it when the holder exits, even by SIGKILL, so
// a crashed refresh never blocks the next caller; the file left behind is harmless.
type FileLock struct {
	Dir string
	// Poll is how often a waiter retries; zero means 5ms.
	Poll time.Duration
}

// Lock waits for env's lock until ctx ends and returns the function that releases it.
func (l FileLock) Lock(ctx context.Context, env string) (func(), error) {
	if err := os.MkdirAll(l.Dir, 0o700); err != nil {
		return nil, fmt.Errorf("create lock folder %s: %w", l.Dir, err)
	}
	path := filepath.Join(l.Dir, env+".lock")
	fl := flock.New(path, flock.SetPermissions(0o600))
	poll := l.Poll
	if poll == 0 {
		poll = 5 * time.Millisecond
	}
	ok, err := fl.TryLockContext(ctx, poll)
	if err != nil {
		if errors.Is(err, context.DeadlineExceeded) {
			return nil, failure.Wrap(failure.Temporary, fmt.Errorf("another pleoauth process held the lock %s too long; try again", path))
		}
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		return nil, fmt.Errorf("lock %s: %w", path, err)
	}
	if !ok {
		return nil, fmt.Errorf("lock %s: not acquired", path)
	}
	return func() { _ = fl.Unlock() }, nil
}
