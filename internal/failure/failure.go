// Package failure classifies errors by what the user should do next, so that the command line can
// map them to documented exit codes in one place (see internal/exitcode).
//
// Lower packages wrap an error with a [Kind]; everything else stays a plain error.
package failure

import (
	"errors"
	"strings"
)

// Kind is what a failure asks of the user.
type Kind int

const (
	// Other is any failure without a more precise class.
	Other Kind = iota
	// Usage means the command line or configuration named something that does not exist.
	Usage
	// LoginRequired means no usable token is held: a person must run "pleoauth login".
	LoginRequired
	// Temporary means the same command may succeed later: network, timeout, 5xx, 429.
	Temporary
)

// Error attaches a [Kind] to an error without changing its message.
type Error struct {
	Kind Kind
	Err  error
}

func (e *Error) Error() string { return e.Err.Error() }
func (e *Error) Unwrap() error { return e.Err }

// Wrap returns err marked with kind; a nil err stays nil.
func Wrap(kind Kind, err error) error {
	if err == nil {
		return nil
	}
	return &Error{Kind: kind, Err: err}
}

// KindOf returns the kind of the outermost marked error in err's chain, or [Other].
func KindOf(err error) Kind {
	var e *Error
	if errors.As(err, &e) {
		return e.Kind
	}
	return Other
}

// LoginRequiredError means no usable login is held for Env: a person must log in again (or a
// refresh token be imported). Why says what happened, in words for the user; the command line
// adds the command to run, once, where it prints the error.
type LoginRequiredError struct {
	Env string
	Why string
	Err error // the cause, when there is one
}

func (e *LoginRequiredError) Error() string {
	if e.Err != nil {
		return "env " + e.Env + ": " + e.Why + ": " + e.Err.Error()
	}
	return "env " + e.Env + ": " + e.Why
}

func (e *LoginRequiredError) Unwrap() error { return e.Err }

// Command is what a person runs to get past e: "pleoauth login --env staging", with
// "--profile p" for a login of a profile other than the default (Env is then "staging@p").
func (e *LoginRequiredError) Command() string {
	if env, profile, ok := strings.Cut(e.Env, "@"); ok {
		return "pleoauth login --env " + env + " --profile " + profile
	}
	return "pleoauth login --env " + e.Env
}

// NeedLogin returns a [LoginRequiredError] marked [LoginRequired].
func NeedLogin(env, why string, cause error) error {
	return &Error{Kind: LoginRequired, Err: &LoginRequiredError{Env: env, Why: why, Err: cause}}
}
