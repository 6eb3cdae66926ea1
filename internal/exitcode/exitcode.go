// Package exitcode is the one mapping from an error to the exit code a script sees, and the
// table of those codes that the help prints. Lower packages say what a failure asks of the user
// with internal/failure; only the command line's entry point calls [Of].
package exitcode

import (
	"errors"
	"fmt"

	"github.com/pleoauth/pleoauth/internal/failure"
)

// Exit codes: the one mapping from errors to what a script sees. Documented in the root help.
const (
	OK            = 0
	Error         = 1
	Usage         = 2
	LoginRequired = 4
	Temporary     = 5
	CannotRun     = 126 // exec: the command was found but cannot run, as a shell says
	NotFound      = 127 // exec: the command was not found, as a shell says
	Interrupted   = 130
)

// Help is the table of exit codes, as "pleoauth help exit-codes" prints it.
const Help = `Exit codes:
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
  130  interrupted: Ctrl-C, SIGTERM or SIGHUP, whatever the command was doing`

// Status is an exit code decided elsewhere — the command run by "pleoauth exec" — passed on
// as it is, with Message (when set) as the one line said; the codes a shell gives a command it
// cannot run (126) or find (127) are among them.
type Status struct {
	Code    int
	Message string
}

func (e *Status) Error() string { return fmt.Sprintf("exit status %d", e.Code) }

// Of maps err to the documented exit code. interrupted tells whether the run's context was
// cancelled by a signal (INT, TERM or HUP): a command that then fails exits 130 whatever the
// error says, since what it was doing — a request, a body, a wait between pages, a code
// exchange, a --jq run — ended because of the signal, and a script that retries on 5 must not
// retry what the user stopped. The error itself is not enough to tell: the HTTP client reports
// the signal as the context's cause inside a network error, gojq as a plain cancellation, and a
// failure that raced the signal looks like any other. A command that finished all the same — a
// refresh already at the server is seen through and saved (docs/design.md), then "token" prints
// — exits 130 too: the user asked it to stop, and "pleoauth token && deploy" must not deploy.
// Only the code "pleoauth exec" passes on stays, as its command, which got the signal, decided
// how to end.
func Of(err error, interrupted bool) int {
	var status *Status
	if errors.As(err, &status) {
		return status.Code
	}
	if interrupted {
		return Interrupted
	}
	if err == nil {
		return OK
	}
	switch failure.KindOf(err) {
	case failure.Usage:
		return Usage
	case failure.LoginRequired:
		return LoginRequired
	case failure.Temporary:
		return Temporary
	default:
		return Error
	}
}
