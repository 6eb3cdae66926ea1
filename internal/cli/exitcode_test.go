package cli

import (
	"context"
	"errors"
	"fmt"
	"testing"

	"github.com/pleoauth/pleoauth/internal/config"
	"github.com/pleoauth/pleoauth/internal/failure"
)

func TestExitCode(t *testing.T) {
	plain := errors.New("boom")
	tests := []struct {
		err         error
		interrupted bool
		want        int
	}{
		{nil, false, ExitOK},
		{plain, false, ExitError},
		{failure.Wrap(failure.Usage, plain), false, ExitUsage},
		{fmt.Errorf("env x: %w", failure.Wrap(failure.LoginRequired, plain)), false, ExitLoginRequired},
		{failure.Wrap(failure.Temporary, plain), false, ExitTemporary},
		{fmt.Errorf("login: %w", context.Canceled), true, ExitInterrupted},
		{fmt.Errorf("login: %w", context.Canceled), false, ExitError},
		// Interrupted, whatever the error became on its way up: the HTTP client's network error
		// carrying the signal as the cause (once exit 5, so scripts retried what the user
		// stopped), a failure worded as a plain error, a usage or login error that raced it.
		{failure.Wrap(failure.Temporary, fmt.Errorf("env x: https://api could not be reached (%w)", errors.New("interrupted by interrupt"))), true, ExitInterrupted},
		{plain, true, ExitInterrupted},
		{failure.Wrap(failure.LoginRequired, plain), true, ExitInterrupted},
		{context.DeadlineExceeded, true, ExitInterrupted},
		// A command that finished all the same (a refresh seen through, then printed): the user
		// asked it to stop, so "pleoauth token && deploy" must not deploy.
		{nil, true, ExitInterrupted},
		{&ExitStatus{Code: 0}, true, ExitOK}, // exec: the child got the signal and succeeded
		{&ExitStatus{Code: 7}, true, 7},
		// A config file that cannot be read as written is the user's to fix: a usage error.
		{asUsage(fmt.Errorf("load: %w", &config.FileError{Path: "config.yaml", Line: 3, Msg: "unknown key"})), false, ExitUsage},
		{asUsage(&config.UsageError{Msg: "x"}), false, ExitUsage},
	}
	for _, tt := range tests {
		if got := exitCode(tt.err, tt.interrupted); got != tt.want {
			t.Errorf("exitCode(%v, %v) = %d; want %d", tt.err, tt.interrupted, got, tt.want)
		}
	}
}

// TestExitCodeEveryKindByInterruption crosses every kind of error with an interrupted run and
// one that was not, so that changing any one branch of exitCode — a kind mapped to another code,
// the interruption rule dropped or narrowed to some errors, exec's code not passed on, or
// success not 0 — fails at least one row.
func TestExitCodeEveryKindByInterruption(t *testing.T) {
	plain := errors.New("boom")
	tests := []struct {
		name            string
		err             error
		calm, signalled int // the code when not interrupted, and when interrupted
	}{
		{"nil", nil, ExitOK, ExitInterrupted},
		{"plain", plain, ExitError, ExitInterrupted},
		{"usage", failure.Wrap(failure.Usage, plain), ExitUsage, ExitInterrupted},
		{"login required", fmt.Errorf("env x: %w", failure.Wrap(failure.LoginRequired, plain)), ExitLoginRequired, ExitInterrupted},
		{"temporary", failure.Wrap(failure.Temporary, plain), ExitTemporary, ExitInterrupted},
		{"cancelled", fmt.Errorf("login: %w", context.Canceled), ExitError, ExitInterrupted},
		{"exec 0", &ExitStatus{Code: 0}, ExitOK, ExitOK},
		{"exec 3", &ExitStatus{Code: 3}, 3, 3},
		{"exec 126", &ExitStatus{Code: 126, Message: "cannot run"}, 126, 126},
		{"exec 127", fmt.Errorf("exec: %w", &ExitStatus{Code: 127, Message: "not found"}), 127, 127},
		{"exec 130", &ExitStatus{Code: 130}, 130, 130},
	}
	for _, tt := range tests {
		for _, interrupted := range []bool{false, true} {
			want := tt.calm
			if interrupted {
				want = tt.signalled
			}
			if got := exitCode(tt.err, interrupted); got != want {
				t.Errorf("%s: exitCode(%v, interrupted %t) = %d; want %d", tt.name, tt.err, interrupted, got, want)
			}
		}
	}
}
