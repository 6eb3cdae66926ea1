package failure

import (
	"errors"
	"fmt"
	"testing"
)

// TestKindOf: the kind a lower package marks survives any wrapping on the way up, the outermost
// mark wins (a caller that knows better re-marks), and an unmarked error is Other — so the one
// exit-code mapping sees what the failure asks of the user.
func TestKindOf(t *testing.T) {
	plain := errors.New("boom")
	tests := []struct {
		name string
		err  error
		want Kind
	}{
		{"nil", nil, Other},
		{"plain", plain, Other},
		{"usage", Wrap(Usage, plain), Usage},
		{"temporary, wrapped twice", fmt.Errorf("env x: %w", fmt.Errorf("refresh: %w", Wrap(Temporary, plain))), Temporary},
		{"outermost mark wins", Wrap(Usage, Wrap(Temporary, plain)), Usage},
		{"login required", NeedLogin("staging", "no token", nil), LoginRequired},
	}
	for _, tt := range tests {
		if got := KindOf(tt.err); got != tt.want {
			t.Errorf("%s: KindOf(%v) = %d; want %d", tt.name, tt.err, got, tt.want)
		}
	}
}

// TestWrap: marking keeps the message and the chain as they were, and nil stays nil (a
// "return failure.Wrap(k, err)" must not turn success into a failure).
func TestWrap(t *testing.T) {
	if err := Wrap(Temporary, nil); err != nil {
		t.Fatalf("Wrap(Temporary, nil) = %v; want nil", err)
	}
	cause := errors.New("connection refused")
	err := Wrap(Temporary, cause)
	if err.Error() != "connection refused" || !errors.Is(err, cause) {
		t.Errorf("Wrap changed the error: %q, Is(cause) = %t", err, errors.Is(err, cause))
	}
}

// TestNeedLogin: the message names the environment and why, once, with the cause after it; the
// cause stays reachable for errors.Is.
func TestNeedLogin(t *testing.T) {
	cause := errors.New("invalid_grant")
	tests := []struct {
		err  error
		want string
	}{
		{NeedLogin("staging", "the refresh token was refused", cause), "env staging: the refresh token was refused: invalid_grant"},
		{NeedLogin("local", "not logged in", nil), "env local: not logged in"},
	}
	for _, tt := range tests {
		if got := tt.err.Error(); got != tt.want {
			t.Errorf("Error() = %q; want %q", got, tt.want)
		}
		var lr *LoginRequiredError
		if !errors.As(tt.err, &lr) {
			t.Errorf("%q is not a *LoginRequiredError", tt.err)
		}
	}
	if !errors.Is(NeedLogin("staging", "refused", cause), cause) {
		t.Error("NeedLogin's cause is not reachable with errors.Is")
	}
}

func TestLoginRequiredCommand(t *testing.T) {
	tests := []struct{ login, want string }{
		{"staging", "pleoauth login --env staging"},
		{"staging@acme", "pleoauth login --env staging --profile acme"},
		{"my-env@a_b", "pleoauth login --env my-env --profile a_b"},
	}
	for _, tt := range tests {
		var e *LoginRequiredError
		if !errors.As(NeedLogin(tt.login, "not logged in", nil), &e) {
			t.Fatalf("NeedLogin(%q) holds no LoginRequiredError", tt.login)
		}
		if got := e.Command(); got != tt.want {
			t.Errorf("Command() of login %q = %q; want %q", tt.login, got, tt.want)
		}
	}
}
