package serve

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"strconv"
	"strings"

	"github.com/gofrs/flock"

	"github.com/pleoauth/pleoauth/internal/privatefile"
)

// Claim makes this process the one serve of a login, by an advisory lock (flock(2)) on
// lockFile that it holds until release — or until it ends: the kernel lets go even after
// SIGKILL, so a crashed serve never blocks the next. Its pid is written there for a second one
// to name. A second serve of the same login would overwrite the first one's key file, so that the
// first answers its own clients 401, and would remove it when it stops: it gets an
// [*AlreadyServedError] instead. The file stays behind, as the refresh locks do: removing it
// could let two serves each lock a file of that name.
func Claim(lockFile string) (release func(), err error) {
	if fi, err := os.Lstat(lockFile); err == nil && !fi.Mode().IsRegular() {
		// A FIFO would block the open, a link would lock (and write) a file elsewhere.
		return nil, fmt.Errorf("%s is not a regular file; remove it and start serve again", lockFile)
	} else if err == nil {
		if err := privatefile.Check(lockFile, 0o600); err != nil {
			return nil, err
		}
	} else if !errors.Is(err, fs.ErrNotExist) {
		return nil, err
	}
	fl := flock.New(lockFile, flock.SetPermissions(0o600))
	ok, err := fl.TryLock()
	if err != nil {
		return nil, privatefile.Explain(fmt.Errorf("lock %s: %w", lockFile, err))
	}
	if !ok {
		return nil, &AlreadyServedError{Lock: lockFile, PID: holderPID(lockFile)}
	}
	_ = os.WriteFile(lockFile, []byte(strconv.Itoa(os.Getpid())+"\n"), 0o600)
	return func() { _ = fl.Unlock() }, nil
}

// AlreadyServedError says that another serve of the login runs.
type AlreadyServedError struct {
	Lock string
	PID  int // 0 when it could not be read
}

func (e *AlreadyServedError) Error() string {
	if e.PID > 0 {
		return fmt.Sprintf("another pleoauth serve (pid %d) already serves this login", e.PID)
	}
	return fmt.Sprintf("another pleoauth serve already serves this login (it holds %s)", e.Lock)
}

// holderPID reads the pid the lock's holder wrote, or 0.
func holderPID(lockFile string) int {
	data, err := os.ReadFile(lockFile)
	if err != nil {
		return 0
	}
	pid, err := strconv.Atoi(strings.TrimSpace(string(data)))
	if err != nil || pid <= 0 {
		return 0
	}
	return pid
}
