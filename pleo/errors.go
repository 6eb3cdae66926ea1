package pleo

import (
	"errors"

	"github.com/pleoauth/pleoauth/internal/failure"
)

// The kinds of failure, for errors.Is; they are the command line's exit codes 4, 5 and 2.
var (
	// ErrLoginRequired: no usable login is held — none was made, its refresh token was refused,
	// or a refresh's answer was lost. A person must run [Error.Command]; retrying cannot help.
	ErrLoginRequired = errors.New("pleo: login required")
	// ErrTemporary: the same call may succeed later — the network, the token endpoint's 5xx or
	// 429, a Redis that does not answer, a refresh lock held too long, or a refresh another
	// machine has not saved yet.
	ErrTemporary = errors.New("pleo: temporary failure")
	// ErrConfiguration: a setting names something that does not exist or makes no sense — an
	// unknown environment, a Home that is not absolute, a malformed config.yaml, a redis store
	// without its URL or key. The message names the setting and where it was set.
	ErrConfiguration = errors.New("pleo: configuration")
)

// errNoPrompt answers where the command line would ask a person for a client secret.
var errNoPrompt = errors.New("a program cannot be asked for a client secret; set PLEOAUTH_CLIENT_SECRET")

// Error is a failure of this package: what happened, in one line that names the environment
// and the next step, and its kind.
type Error struct {
	// Kind is [ErrLoginRequired], [ErrTemporary], [ErrConfiguration], or nil for another failure
	// (a store that cannot be written, say: the message says what to fix).
	Kind error
	// Command, for ErrLoginRequired, is what a person runs to log in again, such as
	// "pleoauth login --env staging".
	Command string
	err     error
}

func (e *Error) Error() string {
	if e.Command != "" {
		return e.err.Error() + `; run "` + e.Command + `"`
	}
	return e.err.Error()
}

// Unwrap returns the kind and the cause, so that errors.Is finds either (context.Canceled,
// say, for a read stopped by its context).
func (e *Error) Unwrap() []error {
	if e.Kind == nil {
		return []error{e.err}
	}
	return []error{e.Kind, e.err}
}

// classify gives err, from the login, its kind.
func classify(err error) error {
	if err == nil {
		return nil
	}
	e := &Error{err: err}
	switch failure.KindOf(err) {
	case failure.LoginRequired:
		e.Kind = ErrLoginRequired
		var login *failure.LoginRequiredError
		if errors.As(err, &login) {
			e.Command = login.Command()
		}
	case failure.Temporary:
		e.Kind = ErrTemporary
	case failure.Usage:
		e.Kind = ErrConfiguration
	}
	return e
}
