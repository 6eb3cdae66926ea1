//go:build unix

// Command peak-rss runs a program and prints its peak resident set in KiB. The benchmark starts
// pleoauth through it because Linux reports, for a child started with vfork and exec (as Go's
// os/exec does), the larger of the child's peak and its parent's: measured straight from the
// benchmark process, the figure would be the benchmark's own size. This small process keeps the
// parent's share below anything pleoauth uses.
package main

import (
	"fmt"
	"os"
	"os/exec"
	"syscall"
)

func main() {
	cmd := exec.Command(os.Args[1], os.Args[2:]...)
	cmd.Stderr = os.Stderr
	if err := cmd.Run(); err != nil {
		fmt.Fprintln(os.Stderr, "peak-rss:", err)
		os.Exit(1)
	}
	fmt.Println(cmd.ProcessState.SysUsage().(*syscall.Rusage).Maxrss)
}
