package cli

import (
	"context"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/pleoauth/pleoauth/internal/config"
	"github.com/pleoauth/pleoauth/internal/failure"
	"github.com/pleoauth/pleoauth/internal/grant"
	"github.com/pleoauth/pleoauth/internal/sanitize"
	"github.com/pleoauth/pleoauth/internal/store"
)

type tokenOptions struct {
	Format       string
	ForceRefresh bool
	jsonOutput
}

func newTokenCmd(d *Deps) *cobra.Command {
	o := &tokenOptions{}
	cmd := &cobra.Command{
		Use:   "token",
		Short: "Print an access token valid right now, refreshing it when needed",
		Long: `Token prints the environment's access token on stdout, and nothing else, refreshed first
when it would expire within --min-ttl. Any number of pleoauth processes may run at once: a refresh
holds a per-environment lock, and a process that waited for it uses the token the first one got,
so the rotating refresh token is never presented twice (which would make Pleo revoke the login).

Token never opens a browser and never prompts. When no token is held, or the refresh token was
refused, it fails at once with exit code 4 and names the "pleoauth login" command to run.

--json prints {"access_token","token_type","expires_at","expires_in","scope","env"} (the
fields of docs/json.md); --jq filters it, for example --jq .expires_in.

Formats:
  raw          the token alone (default)
  header       Authorization: Bearer <token>
  json         the same as --json
  env          export PLEO_ACCESS_TOKEN=<token>
  curl-config  header = "Authorization: Bearer <token>", for "curl -K -", which keeps the
               token out of every process's argv`,
		Example: `  curl -H "Authorization: Bearer $(pleoauth token --env staging)" https://external.staging.pleo.io/v2/employees
  pleoauth token --format curl-config | curl -K - https://external.staging.pleo.io/v2/employees
  eval "$(pleoauth token --format env)"
  pleoauth token --min-ttl 10m --json
  pleoauth token --jq .expires_at`,
		Args: cobra.NoArgs,
		RunE: withGrant(d, false, func(ctx context.Context, g *grant.Grant, _ []string) error {
			return runToken(ctx, d, g, o)
		}),
	}
	f := cmd.Flags()
	config.AddFlags(cmd.Flags(), "min_ttl")
	f.StringVar(&o.Format, "format", "raw", "output format: raw, header, json, env or curl-config")
	_ = cmd.RegisterFlagCompletionFunc("format", cobra.FixedCompletions(tokenFormatNames, cobra.ShellCompDirectiveNoFileComp))
	f.BoolVar(&o.ForceRefresh, "force-refresh", false, "refresh even a valid token (unless another process just did)")
	addJSONFlags(cmd, &o.jsonOutput, "the token and its expiry")
	return cmd
}

func runToken(ctx context.Context, d *Deps, g *grant.Grant, o *tokenOptions) error {
	write, ok := tokenFormats[o.Format]
	switch {
	case o.Format == "json": // kept from before --json, for the scripts that use it
		o.JSON = true
	case !ok:
		return failure.Wrap(failure.Usage, fmt.Errorf("--format %q is not one of raw, header, json, env, curl-config", o.Format))
	case o.on() && o.Format != "raw":
		return failure.Wrap(failure.Usage, fmt.Errorf("--json and --jq print JSON, and --format %s does not; drop one", o.Format))
	}
	if err := o.prepare(); err != nil {
		return err
	}
	bundle, err := g.Token(ctx, grant.Request{MinTTL: g.MinTTL(), Force: o.ForceRefresh})
	if err != nil {
		return err
	}
	if o.on() {
		return o.write(ctx, d.Stdout, newTokenReport(g.Env.Name, bundle, d.Now()))
	}
	return write(d.Stdout, g.Env.Name, bundle, d.Now())
}

// tokenReport is what token --json prints: RFC 6749 §5.1's names for what the token endpoint
// sent, the expiry as a time too, and the environment.
type tokenReport struct {
	AccessToken string `json:"access_token"`
	TokenType   string `json:"token_type"`
	ExpiresAt   string `json:"expires_at"`
	ExpiresIn   int64  `json:"expires_in"`
	Scope       string `json:"scope"`
	Env         string `json:"env"`
}

func newTokenReport(env string, b *store.Bundle, now time.Time) tokenReport {
	tokenType := b.TokenType
	if tokenType == "" {
		tokenType = "Bearer"
	}
	return tokenReport{b.AccessToken, tokenType, b.Expiry.UTC().Format(time.RFC3339), int64(b.Expiry.Sub(now).Seconds()), sanitize.Scope(b.Scope), env}
}

// tokenFormatNames are the --format values in the order help and completion show them: the
// keys of tokenFormats, and json, which is --json.
var tokenFormatNames = []string{"raw", "header", "json", "env", "curl-config"}

// tokenFormats write a bundle's access token to stdout; none writes the refresh token. The
// json format is --json's [tokenReport].
var tokenFormats = map[string]func(w io.Writer, env string, b *store.Bundle, now time.Time) error{
	"raw": func(w io.Writer, _ string, b *store.Bundle, _ time.Time) error {
		_, err := fmt.Fprintln(w, b.AccessToken)
		return err
	},
	"header": func(w io.Writer, _ string, b *store.Bundle, _ time.Time) error {
		_, err := fmt.Fprintf(w, "Authorization: Bearer %s\n", b.AccessToken)
		return err
	},
	"env": func(w io.Writer, _ string, b *store.Bundle, _ time.Time) error {
		// Quoted for any POSIX shell whatever the value holds, though the store admits only
		// RFC 6750 b64tokens: a token must never become code under eval.
		_, err := fmt.Fprintf(w, "export PLEO_ACCESS_TOKEN=%s\n", shellQuote(b.AccessToken))
		return err
	},
	"curl-config": func(w io.Writer, _ string, b *store.Bundle, _ time.Time) error {
		_, err := fmt.Fprintf(w, "header = \"Authorization: Bearer %s\"\n", b.AccessToken)
		return err
	},
}

// shellQuote quotes s as one POSIX shell word: inside single quotes nothing is special, and a
// single quote is written as '\”.
func shellQuote(s string) string {
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}
