//go:build !unix

package bench

import "time"

var started = time.Now()

// cpuTime is, where getrusage(2) is missing, the wall time since the process started: the
// in-process figures are then wall times, which a busy machine inflates.
func cpuTime() time.Duration { return time.Since(started) }
