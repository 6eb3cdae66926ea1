package cli

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/pleoauth/pleoauth/internal/failure"
	"github.com/pleoauth/pleoauth/internal/grant"
)

type exportOptions struct {
	Keep bool
}

func newExportCmd(d *Deps) *cobra.Command {
	o := &exportOptions{}
	cmd := &cobra.Command{
		Use:   "export-refresh-token",
		Short: "Move a login to CI: print its refresh token and forget it here",
		Long: `Export-refresh-token prints the environment's refresh token on stdout, to be stored as a CI
secret (PLEOAUTH_REFRESH_TOKEN), and then forgets the login on this machine.

It moves the login rather than copying it because Pleo rotates the refresh token on every refresh
and revokes the whole login when a spent one is presented: if this machine and a CI job both kept
using the same login, the first refresh on one side would log the other out, and then both.
--keep leaves the login here too, for a machine that will not refresh it again.`,
		Example: `  pleoauth export-refresh-token --env staging | gh secret set PLEO_REFRESH_TOKEN
  pleoauth export-refresh-token --env staging > refresh-token.txt`,
		Args: cobra.NoArgs,
		RunE: withGrant(d, false, func(ctx context.Context, g *grant.Grant, _ []string) error {
			return runExport(ctx, d, g, o)
		}),
	}
	cmd.Flags().BoolVar(&o.Keep, "keep", false, "keep the login on this machine too (see above before you do)")
	return cmd
}

func runExport(ctx context.Context, d *Deps, g *grant.Grant, o *exportOptions) error {
	err := g.Export(ctx, o.Keep, func(refreshToken string) error {
		_, err := fmt.Fprintln(d.Stdout, refreshToken)
		return err
	})
	if err != nil {
		return err
	}
	if o.Keep {
		fmt.Fprintf(d.Stderr, "pleoauth: env %s: the login is also kept here; a refresh here or in CI spends the token for the other.\n", g.Env.Name)
		return nil
	}
	fmt.Fprintf(d.Stderr, "pleoauth: env %s: refresh token exported; this machine's login was removed so the two cannot spend each other's token.\n", g.Env.Name)
	return nil
}

type importOptions struct {
	Force bool
}

func newImportCmd(d *Deps) *cobra.Command {
	o := &importOptions{}
	cmd := &cobra.Command{
		Use:     "import-refresh-token",
		Aliases: []string{"import"},
		Short:   "Start from a refresh token read from stdin",
		Long: `Import-refresh-token reads a refresh token from the first line of stdin (never from the command
line) and refreshes with it at once, so that a bad token is found now and the token kept is a fresh
one. Only when that worked does it replace the environment's stored login; a refused or unusable
token leaves the login there untouched. Replacing a working login needs --force. The on_rotate
command, if any, gets the new refresh token.`,
		Example: `  pleoauth import-refresh-token --env staging < refresh-token.txt
  printenv PLEO_REFRESH_TOKEN | pleoauth import --env staging --store file --force`,
		Args: cobra.NoArgs,
		RunE: withGrant(d, false, func(ctx context.Context, g *grant.Grant, _ []string) error {
			return runImport(ctx, d, g, o)
		}),
	}
	cmd.Flags().BoolVar(&o.Force, "force", false, "replace a working login, or one sealed under another store key (only after the imported token has worked)")
	return cmd
}

func runImport(ctx context.Context, d *Deps, g *grant.Grant, o *importOptions) error {
	line, _ := bufio.NewReader(d.Stdin).ReadString('\n')
	refreshToken := strings.TrimSpace(line)
	if refreshToken == "" {
		return failure.Wrap(failure.Usage, fmt.Errorf("env %s: no refresh token on stdin; pipe it in, e.g. pleoauth import-refresh-token --env %s < token.txt", g.Env.Name, g.Env.Name))
	}
	if err := g.Check(); err != nil {
		return err
	}
	b, err := g.Import(ctx, refreshToken, o.Force)
	var exists *grant.LoginExistsError
	if errors.As(err, &exists) {
		return failure.Wrap(failure.Usage, fmt.Errorf("%w; pass --force to replace it once the imported token has worked", err))
	}
	if err != nil {
		return err
	}
	fmt.Fprintf(d.Stderr, "Imported a login for %s; access token valid until %s (%s store).\n", g.Env.Name, b.Expiry.Format(time.RFC3339), g.StoreName())
	return nil
}
