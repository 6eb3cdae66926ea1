// Package cli is pleoauth's command tree: one file per command, each an options struct, a
// constructor that builds the cobra command, and a run function that tests can call directly.
package cli

import (
	"context"
	"errors"
	"fmt"
	"net/http"

	"github.com/spf13/cobra"

	"github.com/pleoauth/pleoauth/internal/debuglog"
	"github.com/pleoauth/pleoauth/internal/failure"
	"github.com/pleoauth/pleoauth/internal/tokens"
)

const envHelp = `Environment variables:
  PLEOAUTH_HOME           per-user folder for config.yaml and tokens (default: <user config dir>/pleoauth)
  PLEOAUTH_ENV            environment to use, like --env
  PLEOAUTH_CLIENT_ID      client ID, overriding the environment's
  PLEOAUTH_CLIENT_SECRET  client secret (never give it on the command line)
  PLEOAUTH_STORE          token store: keyring (default) or file
  PLEOAUTH_REFRESH_TOKEN  a refresh token to start from when the environment has no tokens (CI)
  PLEOAUTH_ON_ROTATE      like --on-rotate
  PLEOAUTH_DEBUG          "1": like --debug
  PLEOAUTH_MIN_TTL        how long a printed token must stay valid, like --min-ttl (default 60s)
  PLEOAUTH_LOCK_TIMEOUT   how long to wait for another pleoauth's refresh, like --lock-timeout (default 2m)
  PLEOAUTH_ON_ROTATE_TIMEOUT  how long the on_rotate command may run (default 1m)
  CI                      "true", "1" or "yes": never prompt or wait for a browser; file store if no keychain
  PLEOAUTH_AUTH_SERVER_URL, PLEOAUTH_API_URL, PLEOAUTH_REDIRECT_URI, PLEOAUTH_SCOPES,
  PLEOAUTH_CLIENT_AUTH    per-environment settings, overriding config.yaml
  BROWSER                 command that opens the login URL (the URL is its last argument)`

// Main runs pleoauth with args (without the program name) and returns the exit code.
func Main(ctx context.Context, args []string, d *Deps) int {
	root := NewRootCmd(d)
	root.SetArgs(args)
	root.SetIn(d.Stdin)
	root.SetOut(d.Stdout)
	root.SetErr(d.Stderr)
	err := root.ExecuteContext(ctx)
	code := exitCode(err, ctx.Err() != nil)
	switch {
	case code == ExitInterrupted:
		fmt.Fprintln(d.Stderr, "pleoauth: interrupted")
	case err != nil && !errors.As(err, new(*ExitStatus)):
		fmt.Fprintf(d.Stderr, "pleoauth: %v%s\n", err, nextStep(err))
	}
	return code
}

// nextStep is the command that gets the user past err, added here once rather than worded by
// every package that can fail that way.
func nextStep(err error) string {
	var login *failure.LoginRequiredError
	var lock *tokens.LockTimeoutError
	switch {
	case errors.As(err, &login):
		return fmt.Sprintf("; run \"pleoauth login --env %s\"", login.Env)
	case errors.As(err, &lock):
		return "; try again, or wait longer with --lock-timeout"
	}
	return ""
}

// globalOptions are the flags every command has.
type globalOptions struct {
	Env   string
	Debug bool
}

// NewRootCmd builds the whole command tree; the reference docs are generated from it.
func NewRootCmd(d *Deps) *cobra.Command {
	g := &globalOptions{}
	root := &cobra.Command{
		Use:   "pleoauth",
		Short: "OAuth 2.0 tokens for Pleo's API, from a terminal",
		Long: `pleoauth logs you in to Pleo's API with the OAuth 2.0 authorization code flow and PKCE,
keeps the tokens, and prints an access token that is valid right now, so that scripts can run
  curl -H "Authorization: Bearer $(pleoauth token)" https://external.staging.pleo.io/v2/employees

` + envHelp + "\n\n" + exitCodesHelp,
		Example: `  pleoauth login --env staging
  pleoauth token --env staging`,
		SilenceErrors: true,
		SilenceUsage:  true,
		Args:          cobra.ArbitraryArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if len(args) > 0 {
				return failure.Wrap(failure.Usage, fmt.Errorf("unknown command %q; run \"pleoauth --help\"", args[0]))
			}
			return cmd.Help()
		},
	}
	root.PersistentFlags().StringVarP(&g.Env, "env", "e", "", "environment to use (staging, production, local or one from config.yaml)")
	_ = root.RegisterFlagCompletionFunc("env", completeEnv)
	// Our own completion command, with examples; cobra's default has none.
	root.CompletionOptions.DisableDefaultCmd = true
	// Generated docs stay the same from one build to the next.
	root.DisableAutoGenTag = true
	root.PersistentFlags().BoolVar(&g.Debug, "debug", false, "trace every HTTP request on stderr, credentials replaced by fingerprints (PLEOAUTH_DEBUG=1)")
	root.PersistentFlags().String("on-rotate", "", "shell command that gets each new refresh token on stdin, after it is stored (PLEOAUTH_ON_ROTATE)")
	root.PersistentFlags().Duration("lock-timeout", 0, "how long to wait for another pleoauth's refresh of the same login (PLEOAUTH_LOCK_TIMEOUT; default 2m)")
	root.PersistentFlags().String("store", "", `where tokens are kept: "keyring" (OS keychain, the default) or "file" (PLEOAUTH_STORE)`)
	root.PersistentPreRun = func(*cobra.Command, []string) {
		if g.Debug || d.Getenv("PLEOAUTH_DEBUG") == "1" {
			traced := *d.HTTPClient
			next := traced.Transport
			if next == nil {
				next = http.DefaultTransport
			}
			traced.Transport = &debuglog.Transport{Next: next, W: d.Stderr, Now: d.Now}
			d.HTTPClient = &traced
		}
	}
	root.SetFlagErrorFunc(func(cmd *cobra.Command, err error) error {
		return failure.Wrap(failure.Usage, fmt.Errorf("%w; run \"%s --help\"", err, cmd.CommandPath()))
	})

	root.AddCommand(
		newLoginCmd(d),
		newTokenCmd(d),
		newStatusCmd(d),
		newAPICmd(d),
		newExecCmd(d),
		newExportCmd(d),
		newImportCmd(d),
		newConfigCmd(d),
		newEnvCmd(d),
		newDoctorCmd(d),
		newLogoutCmd(d),
		newVersionCmd(d),
		newCompletionCmd(d),
		newPostmanEnvCmd(d),
	)
	return root
}
