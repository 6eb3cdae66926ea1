//go:build !linux

package oauthtest

import "os/exec"

// DieWithTest does nothing where the kernel cannot tie a child's life to its parent's; the
// tests' cleanups stop what they start.
func DieWithTest(cmd *exec.Cmd) {}
