//go:build crashpoints && unix

package crashpoint

import (
	"os"
	"syscall"
)

// Hit kills the process with SIGKILL — no deferred function, no flush, as in a crash or a kill
// by the OOM killer — when PLEOAUTH_CRASH_AT names point.
func Hit(point string) {
	if os.Getenv("PLEOAUTH_CRASH_AT") == point {
		_ = syscall.Kill(os.Getpid(), syscall.SIGKILL)
		select {} // the signal is delivered before this returns
	}
}
