package exitcode

import (
	"context"
	"errors"
	"fmt"
	"testing"

	"github.com/pleoauth/pleoauth/internal/failure"
)

func TestOf(t *testing.T) {
	plain := errors.New("boom")
	tests := []struct {
		err         error
		interrupted bool
		want        int
	}{
		{nil, false, OK},
		{plain, false, Error},
		{failure.Wrap(failure.Usage, plain), false, Usage},
		{fmt.Errorf("env x: %w", failure.Wrap(failure.LoginRequired, plain)), false, LoginRequired},
		{failure.Wrap(failure.Temporary, plain), false, Temporary},
		{fmt.Errorf("login: %w", context.Canceled), true, Interrupted},
		{fmt.Errorf("login: %w", context.Canceled), false, Error},
		// Interrupted, whatever the error became on its way up: the HTTP client's network error
		// carrying the signal as the cause (once exit 5, so scripts retried what the user
		// stopped), a failure worded as a plain error, a usage or login error that raced it.
		{failure.Wrap(failure.Temporary, fmt.Errorf("env x: https://api could not be reached (%w)", errors.New("interrupted by interrupt"))), true, Interrupted},
		{plain, true, Interrupted},
		{failure.Wrap(failure.LoginRequired, plain), true, Interrupted},
		{context.DeadlineExceeded, true, Interrupted},
		// A command that finished all the same (a refresh seen through, then printed): the user
		// asked it to stop, so "pleoauth token && deploy" must not deploy.
		{nil, true, Interrupted},
		{&Status{Code: 0}, true, OK}, // exec: the child got the signal and succeeded
		{&Status{Code: 7}, true, 7},
	}
	for _, tt := range tests {
		if got := Of(tt.err, tt.interrupted); got != tt.want {
			t.Errorf("Of(%v, %v) = %d; want %d", tt.err, tt.interrupted, got, tt.want)
		}
	}
}

// TestOfEveryKindByInterruption crosses every kind of error with an interrupted run and
// one that was not, so that changing any one branch of Of — a kind mapped to another code,
// the interruption rule dropped or narrowed to some errors, exec's code not passed on, or
// success not 0 — fails at least one row.
func TestOfEveryKindByInterruption(t *testing.T) {
	plain := errors.New("boom")
	tests := []struct {
		name            string
		err             error
		calm, signalled int // the code when not interrupted, and when interrupted
	}{
		{"nil", nil, OK, Interrupted},
		{"plain", plain, Error, Interrupted},
		{"usage", failure.Wrap(failure.Usage, plain), Usage, Interrupted},
		{"login required", fmt.Errorf("env x: %w", failure.Wrap(failure.LoginRequired, plain)), LoginRequired, Interrupted},
		{"temporary", failure.Wrap(failure.Temporary, plain), Temporary, Interrupted},
		{"cancelled", fmt.Errorf("login: %w", context.Canceled), Error, Interrupted},
		{"exec 0", &Status{Code: 0}, OK, OK},
		{"exec 3", &Status{Code: 3}, 3, 3},
		{"exec 126", &Status{Code: 126, Message: "cannot run"}, 126, 126},
		{"exec 127", fmt.Errorf("exec: %w", &Status{Code: 127, Message: "not found"}), 127, 127},
		{"exec 130", &Status{Code: 130}, 130, 130},
	}
	for _, tt := range tests {
		for _, interrupted := range []bool{false, true} {
			want := tt.calm
			if interrupted {
				want = tt.signalled
			}
			if got := Of(tt.err, interrupted); got != want {
				t.Errorf("%s: Of(%v, interrupted %t) = %d; want %d", tt.name, tt.err, interrupted, got, want)
			}
		}
	}
}
