package cli

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"os/signal"
	"syscall"

	"github.com/spf13/cobra"

	"github.com/pleoauth/pleoauth/internal/config"
	"github.com/pleoauth/pleoauth/internal/exitcode"
	"github.com/pleoauth/pleoauth/internal/grant"
)

func newExecCmd(d *Deps) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "exec [flags] -- COMMAND [ARGS...]",
		Short: "Run a command with a fresh access token in its environment",
		Long: `Exec runs COMMAND with PLEO_ACCESS_TOKEN (valid for at least --min-ttl) and PLEO_API_URL in its
environment. The token is never put on a command line, where other users of the machine could read
it in the process list. The command gets pleoauth's own environment without the secrets
pleoauth reads (PLEOAUTH_CLIENT_SECRET, PLEOAUTH_REFRESH_TOKEN, PLEOAUTH_REDIS_PASSWORD,
PLEOAUTH_STORE_KEY, PLEOAUTH_SERVE_KEY, and PLEOAUTH_REDIS_URL when it holds a password); an
on_rotate command gets the same. Exec passes on the command's exit code, and forwards SIGINT,
SIGTERM and SIGHUP to it.`,
		Example: `  pleoauth exec -- sh -c 'curl -H "Authorization: Bearer $PLEO_ACCESS_TOKEN" "$PLEO_API_URL/v2/employees"'
  pleoauth exec --env production --min-ttl 30m -- ./nightly-export.py`,
		Args: cobra.MinimumNArgs(1),
		RunE: withGrant(d, false, func(ctx context.Context, g *grant.Grant, args []string) error {
			return runExec(ctx, d, g, args)
		}),
	}
	config.AddFlags(cmd.Flags(), "min_ttl")
	// Flags after COMMAND are COMMAND's: "pleoauth exec ls -la" works without "--".
	cmd.Flags().SetInterspersed(false)
	return cmd
}

func runExec(ctx context.Context, d *Deps, g *grant.Grant, args []string) error {
	// As a shell does: 127 for a command not found, 126 for one found that cannot run.
	path, err := exec.LookPath(args[0])
	switch {
	case errors.Is(err, fs.ErrPermission):
		return &exitcode.Status{Code: exitcode.CannotRun, Message: fmt.Sprintf("exec: %s cannot be run (permission denied); check its mode", args[0])}
	case err != nil:
		return &exitcode.Status{Code: exitcode.NotFound, Message: fmt.Sprintf("exec: %s is not a command found on PATH; check its name", args[0])}
	}
	bundle, err := g.Token(ctx, grant.Request{MinTTL: g.MinTTL()})
	if err != nil {
		return err
	}

	child := exec.Command(path, args[1:]...)
	// The command gets the access token, never what mints new ones (config.SecretVariables).
	child.Env = config.ChildEnv(os.Environ(), "PLEO_ACCESS_TOKEN="+bundle.AccessToken, "PLEO_API_URL="+g.Env.APIURL)
	child.Stdin, child.Stdout, child.Stderr = d.Stdin, d.Stdout, d.Stderr

	// The signals go to the child, which decides how to end; pleoauth waits for it.
	signals := make(chan os.Signal, 4)
	signal.Notify(signals, syscall.SIGINT, syscall.SIGTERM, syscall.SIGHUP)
	defer signal.Stop(signals)
	if err := child.Start(); err != nil {
		cause := errors.Unwrap(err) // the errno, without "fork/exec" and the path again
		if cause == nil {
			cause = err
		}
		return &exitcode.Status{Code: exitcode.CannotRun, Message: fmt.Sprintf("exec: %s cannot be run (%v); check that it is a program for this machine", args[0], cause)}
	}
	done := make(chan error, 1)
	go func() { done <- child.Wait() }()
	for {
		select {
		case s := <-signals:
			_ = child.Process.Signal(s)
		case err := <-done:
			return childExit(err)
		}
	}
}

// childExit turns the child's end into pleoauth's exit code: its own code, or 128+signal as a
// shell reports it. A child that succeeded gives 0 as an [exitcode.Status] too: the signals went to
// it, and its 0 stands even when one of them also reached pleoauth.
func childExit(err error) error {
	if err == nil {
		return &exitcode.Status{Code: exitcode.OK}
	}
	var ee *exec.ExitError
	if !errors.As(err, &ee) {
		return err
	}
	code := ee.ExitCode()
	if ws, ok := ee.Sys().(syscall.WaitStatus); ok && ws.Signaled() {
		code = 128 + int(ws.Signal())
	}
	return &exitcode.Status{Code: code}
}
