//go:build crashpoints && unix

package crashpoint

import (
	"os"
	"os/signal"
	"syscall"
)

// Hit kills the process with SIGKILL — no deferred function, no flush, as in a crash or a kill
// by the OOM killer — when PLEOAUTH_CRASH_AT names point, and stops it (SIGSTOP, as a
// debugger, a suspended laptop or a starved VM would) when PLEOAUTH_STOP_AT does.
func Hit(point string) {
	if os.Getenv("PLEOAUTH_CRASH_AT") == point {
		_ = syscall.Kill(os.Getpid(), syscall.SIGKILL)
		select {} // the signal is delivered before this returns
	}
	if os.Getenv("PLEOAUTH_STOP_AT") == point {
		// A signal sent to oneself may land a moment after Kill returns: wait for the SIGCONT
		// that can only come after the stop, so nothing of the point's sequel runs before it.
		cont := make(chan os.Signal, 1)
		signal.Notify(cont, syscall.SIGCONT)
		_ = syscall.Kill(os.Getpid(), syscall.SIGSTOP)
		<-cont
		signal.Stop(cont)
	}
}
