//go:build crashpoints && unix

package crashpoint

import (
	"os"
	"os/signal"
	"strconv"
	"strings"
	"sync"
	"syscall"
)

// hits counts how often each point was passed, for "point@N".
var (
	mu   sync.Mutex
	hits = map[string]int{}
)

// matches reports whether setting ("point", or "point@N" for its N-th passing) names this
// passing of point. The temporary-file points are passed by every private write — the spend
// record, the journal entry, the answer's save — so a test names which one it means.
func matches(setting, point string, n int) bool {
	name, nth, counted := strings.Cut(setting, "@")
	if name != point {
		return false
	}
	if !counted {
		return true
	}
	want, err := strconv.Atoi(nth)
	return err == nil && want == n
}

// Hit kills the process with SIGKILL — no deferred function, no flush, as in a crash or a kill
// by the OOM killer — when PLEOAUTH_CRASH_AT names point, and stops it (SIGSTOP, as a
// debugger, a suspended laptop or a starved VM would) when PLEOAUTH_STOP_AT does.
func Hit(point string) {
	mu.Lock()
	hits[point]++
	n := hits[point]
	mu.Unlock()
	if matches(os.Getenv("PLEOAUTH_CRASH_AT"), point, n) {
		_ = syscall.Kill(os.Getpid(), syscall.SIGKILL)
		select {} // the signal is delivered before this returns
	}
	if matches(os.Getenv("PLEOAUTH_STOP_AT"), point, n) {
		// A signal sent to oneself may land a moment after Kill returns: wait for the SIGCONT
		// that can only come after the stop, so nothing of the point's sequel runs before it.
		cont := make(chan os.Signal, 1)
		signal.Notify(cont, syscall.SIGCONT)
		_ = syscall.Kill(os.Getpid(), syscall.SIGSTOP)
		<-cont
		signal.Stop(cont)
	}
}
