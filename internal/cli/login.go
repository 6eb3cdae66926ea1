package cli

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"net/url"
	"os"
	"time"

	"github.com/spf13/cobra"

	"github.com/pleoauth/pleoauth/internal/authcode"
	"github.com/pleoauth/pleoauth/internal/browser"
	"github.com/pleoauth/pleoauth/internal/config"
	"github.com/pleoauth/pleoauth/internal/failure"
	"github.com/pleoauth/pleoauth/internal/grant"
	"github.com/pleoauth/pleoauth/internal/progress"
	"github.com/pleoauth/pleoauth/internal/sanitize"
)

type loginOptions struct {
	NoBrowser         bool
	Timeout           time.Duration
	CodeVerifier      string
	Subject           string
	ClientSecretStdin bool
	Force             bool
}

func newLoginCmd(d *Deps) *cobra.Command {
	o := &loginOptions{}
	cmd := &cobra.Command{
		Use:   "login",
		Short: "Log in with the browser and keep the tokens",
		Long: `Log in runs the OAuth 2.0 authorization code flow with PKCE (S256): it listens on the
environment's loopback redirect URI, opens the browser on the authorization server's consent page,
checks the redirect's state, exchanges the code with the client authenticated by an HTTP Basic
header, and stores the tokens. The URL is always printed on stderr, so it can be opened by hand.

When the browser cannot open (no display, a failing $BROWSER or xdg-open), the same run asks for
the address the browser ends on: open the URL on any machine, log in, and paste that address on
stdin; the listener keeps waiting too, and whichever arrives first wins. --no-browser goes
straight to that, as does a redirect port held by another program. Stdin is read only then:
while a browser opened and the listener waits, it is left alone, so a script's own input is not
consumed and "pleoauth login &" is not stopped for reading the terminal. The address may be
pasted in quotes or angle brackets; a line over 16 KiB is refused, and you paste again.

A redirect_uri off this machine — an https page such as Postman's callback,
https://oauth.pstmn.io/v1/callback, so a client registered for Postman works as it is — is not
listened on: after you log in, the browser shows that page, and you paste its address. The
address must be the registered redirect URI's; its state and issuer are checked as for a
loopback redirect, and the code it carries is useless without the PKCE verifier, which never
leaves this machine. Paste the whole address there, not only its query. Plain http is allowed
only for localhost, 127.0.0.1 and [::1].

The client secret comes from PLEOAUTH_CLIENT_SECRET, from stdin with --client-secret-stdin (not
both: that is a usage error), or from a prompt without echo; never from the command line. A
secret typed or piped in is kept with the login, so that refreshes find it: in the OS keychain
(the keyring store), or in a 0600 file beside the tokens (the file store, which says so). Set
PLEOAUTH_CLIENT_SECRET to keep it out of both; the redis store keeps none, so every machine that
refreshes sets PLEOAUTH_CLIENT_SECRET.

The keyring store, the default, needs an OS keychain: without one, login stops before it asks for
anything, naming the ways out (--store file, or starting a Secret Service). The store a login
went to is where later commands find it, with no --store.`,
		Example: `  pleoauth login --env staging
  pleoauth login --env staging --scope "users:read export-jobs:read"
  pleoauth login --env local --no-browser
  PLEOAUTH_REDIRECT_URI=https://oauth.pstmn.io/v1/callback pleoauth login --env staging`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			// Refused before anything is opened or read: which secret counts would be a guess,
			// and the piped line would otherwise be read as a pasted address.
			if o.ClientSecretStdin && d.Getenv("PLEOAUTH_CLIENT_SECRET") != "" {
				return failure.Wrap(failure.Usage, grant.ErrTwoSecrets)
			}
			return withGrant(d, true, func(ctx context.Context, g *grant.Grant, _ []string) error {
				return runLogin(ctx, d, g, o)
			})(cmd, args)
		},
	}
	f := cmd.Flags()
	config.AddFlags(f, "scopes")
	f.BoolVar(&o.NoBrowser, "no-browser", false, "print the login URL but do not open a browser; paste the address the browser ends on")
	f.DurationVar(&o.Timeout, "timeout", 5*time.Minute, "how long to wait for the browser's redirect")
	f.StringVar(&o.CodeVerifier, "code-verifier", "", "PKCE code verifier to use instead of a fresh one (43-128 characters of A-Z a-z 0-9 - . _ ~); for debugging only: other users of the machine can read a command line")
	f.StringVar(&o.Subject, "subject", "", "Pleo subject URN to pass as urn_pleo_params_oauth_subject, e.g. urn:pleo:company:<uuid>")
	f.BoolVar(&o.ClientSecretStdin, "client-secret-stdin", false, "read the client secret from the first line of stdin (not with PLEOAUTH_CLIENT_SECRET set)")
	f.BoolVar(&o.Force, "force", false, "replace a login sealed under another store key (the machines with that key lose it)")
	return cmd
}

func runLogin(ctx context.Context, d *Deps, g *grant.Grant, o *loginOptions) error {
	if o.CodeVerifier != "" {
		if err := authcode.CheckVerifier(o.CodeVerifier); err != nil {
			return failure.Wrap(failure.Usage, fmt.Errorf("--code-verifier: %w", err))
		}
	}
	if o.Timeout <= 0 {
		return failure.Wrap(failure.Usage, fmt.Errorf("--timeout must be positive, got %s", o.Timeout))
	}
	if o.Subject != "" && !sanitize.IsSubjectURN(o.Subject) {
		return failure.Wrap(failure.Usage, fmt.Errorf("--subject %q is not a Pleo subject URN such as urn:pleo:company:<uuid>", o.Subject))
	}
	env := g.Env
	// A CI job has nobody to log in: fail at once rather than wait for a browser, unless a
	// $BROWSER was set up to answer.
	if config.IsCI(d.Getenv) && d.Getenv("BROWSER") == "" && d.OpenBrowser == nil {
		return failure.Wrap(failure.LoginRequired, fmt.Errorf(
			"env %s: CI is set, so there is no browser to log in with; log in on a workstation and move the login with PLEOAUTH_REFRESH_TOKEN, or set BROWSER to a command that completes the login", env.Name))
	}
	if err := g.Check(); err != nil {
		return err
	}
	// One reader for stdin: the secret's line, then pasted addresses, are read from it in turn.
	stdin := bufio.NewReader(d.Stdin)
	lo := grant.LoginOptions{Verifier: o.CodeVerifier, Force: o.Force}
	if o.ClientSecretStdin {
		lo.SecretIn = stdin
	}
	if o.Subject != "" {
		lo.AuthParams = url.Values{"urn_pleo_params_oauth_subject": {o.Subject}}
	}
	// The address the browser ends on can be pasted: it is how a redirect off this machine
	// arrives, and how a login goes on without a browser, when the browser cannot open, or when
	// the redirect port is taken. authcode reads stdin only in those cases, never while a browser
	// opened and the listener waits, so a calling script's input is left to it. The loopback
	// listener, when there is one, keeps waiting too.
	lo.Paste = stdin
	// Every message of the login goes through the progress line, which erases itself first.
	line := progress.New(d.Stderr, d.Now)
	lo.Stderr = line
	if o.NoBrowser {
		if d.Getenv("SSH_CONNECTION") != "" && !config.IsPasteBack(env.RedirectURI) {
			port := redirectPort(env.RedirectURI)
			fmt.Fprintf(d.Stderr, "You are connected over SSH. To let the browser on your computer reach this machine, log in from a shell started with:\n    ssh -L %s:localhost:%s %s\n", port, port, sshTarget(d))
		}
	} else {
		lo.OpenBrowser = d.OpenBrowser
		if lo.OpenBrowser == nil {
			opener := browser.Opener{Command: d.Getenv("BROWSER"), Getenv: d.Getenv}
			if d.Environ != nil { // the browser gets no secret of pleoauth's, as exec's command does
				opener.Env = config.ChildEnv(d.Environ())
			}
			lo.OpenBrowser = opener.Open
		}
		if drawsProgress(d) {
			lo.Waiting = line.Run(o.Timeout)
		}
	}

	waitCtx, cancel := context.WithTimeout(ctx, o.Timeout)
	defer cancel()
	bundle, err := g.Login(waitCtx, lo)
	switch {
	case errors.Is(err, context.DeadlineExceeded) && ctx.Err() == nil && bundle == nil && config.IsPasteBack(env.RedirectURI):
		return fmt.Errorf("login %s: no address was pasted within %s; log in again (--timeout waits longer)", env.Name, o.Timeout)
	case errors.Is(err, context.DeadlineExceeded) && ctx.Err() == nil && bundle == nil:
		return fmt.Errorf("login %s: no redirect reached %s within %s; log in again (--timeout waits longer)", env.Name, env.RedirectURI, o.Timeout)
	case err != nil && bundle == nil:
		return fmt.Errorf("login %s: %w", env.Name, err)
	case err != nil:
		return err // logged in, but the on_rotate command failed
	}
	subject := recordSubject(ctx, d, g, o.Subject)
	who := ""
	if subject != "" {
		who = " as " + subject
	}
	// The scope is the server's, kept as scope-tokens only (grant.NewBundle); the subject is
	// a URN or nothing. Nothing else the server sent is printed.
	fmt.Fprintf(d.Stderr, "Logged in to %s (profile %s)%s. Access token valid until %s (scope: %s); refresh token %s. Stored in the %s store.\n",
		env.Name, g.Profile, who, bundle.Expiry.Format(time.RFC3339), bundle.Scope, held(bundle.RefreshToken != ""), g.StoreName())
	return nil
}

// recordSubject keeps whose login this is, as the API says (Pleo: GET /v1/introspect), for
// status, and returns it; a server without that route leaves the subject the login asked for,
// if any. A subject that is not urn:pleo:<kind>:<uuid> is not recorded nor printed as the
// login's: a line says so, with the value escaped.
func recordSubject(ctx context.Context, d *Deps, g *grant.Grant, asked string) string {
	subject := asked
	if c, err := apiClient(d, g); err == nil {
		askCtx, cancel := context.WithTimeout(ctx, 10*time.Second) // a slow API must not hold a finished login
		if id, err := c.Introspect(askCtx); err == nil && id.SubjectURN != "" {
			subject = id.SubjectURN
		}
		cancel()
	}
	if subject == "" {
		return ""
	}
	if err := g.RecordSubject(ctx, subject); err != nil {
		fmt.Fprintf(d.Stderr, "pleoauth: the login's subject was not recorded (%v)\n", err)
		if errors.Is(err, grant.ErrNotSubject) {
			return ""
		}
	}
	return subject
}

func held(ok bool) string {
	if ok {
		return "held"
	}
	return "not issued"
}

func redirectPort(redirectURI string) string {
	u, err := url.Parse(redirectURI)
	if err != nil {
		return "8765"
	}
	return u.Port()
}

// sshTarget names this machine for the ssh -L hint.
func sshTarget(d *Deps) string {
	host, err := os.Hostname()
	if err != nil || host == "" {
		return "<this host>"
	}
	if user := d.Getenv("USER"); user != "" {
		return user + "@" + host
	}
	return host
}

// drawsProgress reports whether a progress line may be drawn: only on a terminal that can
// return to the line's start and erase it — not when stderr is a file or pipe (a log would fill
// with redraws), and not under TERM=dumb (an editor's shell, which prints the escape codes).
func drawsProgress(d *Deps) bool {
	return d.StderrIsTerminal != nil && d.StderrIsTerminal() && d.Getenv("TERM") != "dumb"
}
