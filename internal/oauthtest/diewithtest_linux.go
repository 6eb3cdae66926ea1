package oauthtest

import (
	"os/exec"
	"syscall"
)

// DieWithTest makes cmd, not yet started, end when the test process does — killed by a
// timeout, a mutation run or Ctrl-C, when no cleanup runs — rather than live on as an orphan
// holding its port and folder. The kernel ties the child to the thread that starts it
// (PR_SET_PDEATHSIG), so it is for a child started where no goroutine is locked to its thread,
// such as TestMain.
func DieWithTest(cmd *exec.Cmd) {
	if cmd.SysProcAttr == nil {
		cmd.SysProcAttr = &syscall.SysProcAttr{}
	}
	cmd.SysProcAttr.Pdeathsig = syscall.SIGKILL
}
