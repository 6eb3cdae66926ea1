package main

import (
	"os"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// TestInterruptJQOnOwnOutput: a --jq expression over pleoauth's own JSON (here "version"'s),
// which sends no request, is ended by a signal too, with 130. The signal is sent once the
// process has spent a fifth of a second of CPU, long after start-up: it is then in the
// expression.
func TestInterruptJQOnOwnOutput(t *testing.T) {
	w := newWorld(t, 15*time.Minute, "PLEOAUTH_STORE=file")
	for _, sig := range []syscall.Signal{syscall.SIGINT, syscall.SIGTERM, syscall.SIGHUP} {
		t.Run(sig.String(), func(t *testing.T) {
			cmd := w.command("version", "--jq", "last(range(1e10))")
			var pid int
			interrupted(t, cmd, func() int {
				if pid == 0 && cmd.Process != nil {
					pid = cmd.Process.Pid
				}
				if cpuTicks(pid) >= 20 {
					return 1
				}
				return 0
			}, sig)
		})
	}
}

// cpuTicks is the user CPU time process pid has spent, in clock ticks (utime, /proc/PID/stat
// field 14; a tick is 10 ms on Linux), or 0 when it cannot be read.
func cpuTicks(pid int) int {
	if pid == 0 {
		return 0
	}
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return 0
	}
	// The command name, field 2, is in parentheses and may hold spaces: count after it.
	fields := strings.Fields(string(b[strings.LastIndexByte(string(b), ')')+1:]))
	if len(fields) < 12 {
		return 0
	}
	n, _ := strconv.Atoi(fields[11]) // field 14 overall: state is field 3, the first here
	return n
}
