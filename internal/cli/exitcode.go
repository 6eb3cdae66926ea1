package cli

import (
	"context"
	"errors"
	"fmt"

	"github.com/pleoauth/pleoauth/internal/failure"
)

// Exit codes: the one mapping from errors to what a script sees. Documented in the root help.
const (
	ExitOK            = 0
	ExitError         = 1
	ExitUsage         = 2
	ExitLoginRequired = 4
	ExitTemporary     = 5
	ExitInterrupted   = 130
)

const exitCodesHelp = `Exit codes:
  0    success
  1    error (the message says what to fix)
  2    usage: unknown command, flag or environment, or a setting that makes no sense or is
       refused: a PLEOAUTH_HOME that is not an absolute path, a ca_file that cannot be used,
       a Redis that refuses PLEOAUTH_REDIS_PASSWORD or whose certificate is not trusted;
       the message names the setting and where it was set. Retrying cannot help.
  4    login required: no token, the refresh token was refused, or a refresh's answer was lost;
       run "pleoauth login"
  5    temporary failure: network, HTTP 5xx or 429, a Redis that does not answer, a lock held
       too long, or a refresh another machine has not saved yet; retry later
  126  exec: the command was found but cannot run
  127  exec: the command was not found
  130  interrupted (Ctrl-C)`

// ExitStatus is an exit code decided elsewhere — the command run by "pleoauth exec" — passed on
// as it is, with Message (when set) as the one line said; the codes a shell gives a command it
// cannot run (126) or find (127) are among them.
type ExitStatus struct {
	Code    int
	Message string
}

func (e *ExitStatus) Error() string { return fmt.Sprintf("exit status %d", e.Code) }

// exitCode maps err to the documented exit code. interrupted tells whether the run's context was
// cancelled by a signal.
func exitCode(err error, interrupted bool) int {
	if err == nil {
		return ExitOK
	}
	var status *ExitStatus
	if errors.As(err, &status) {
		return status.Code
	}
	if interrupted && errors.Is(err, context.Canceled) {
		return ExitInterrupted
	}
	switch failure.KindOf(err) {
	case failure.Usage:
		return ExitUsage
	case failure.LoginRequired:
		return ExitLoginRequired
	case failure.Temporary:
		return ExitTemporary
	default:
		return ExitError
	}
}
