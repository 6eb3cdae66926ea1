package cli

import (
	"bufio"
	"errors"
	"fmt"
	"strings"

	"github.com/spf13/cobra"

	"github.com/pleoauth/pleoauth/internal/failure"
	"github.com/pleoauth/pleoauth/internal/store"
	"github.com/pleoauth/pleoauth/internal/tokens"
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
		RunE: func(cmd *cobra.Command, _ []string) error {
			return runExport(cmd, d, o)
		},
	}
	cmd.Flags().BoolVar(&o.Keep, "keep", false, "keep the login on this machine too (see above before you do)")
	return cmd
}

func runExport(cmd *cobra.Command, d *Deps, o *exportOptions) error {
	cfg, env, err := resolve(cmd, false)
	if err != nil {
		return err
	}
	unlock, err := lockDir(cfg).Lock(cmd.Context(), env.Name)
	if err != nil {
		return fmt.Errorf("env %s: %w", env.Name, err)
	}
	defer unlock()
	st := openStore(cfg, d)
	b, err := st.Load(env.Name)
	switch {
	case errors.Is(err, store.ErrNotFound):
		return failure.Wrap(failure.LoginRequired, fmt.Errorf("env %s: not logged in; run \"pleoauth login --env %s\" first", env.Name, env.Name))
	case err != nil:
		return fmt.Errorf("env %s: %w", env.Name, err)
	case b.RefreshToken == "":
		return fmt.Errorf("env %s: the server issued no refresh token, so there is nothing to export", env.Name)
	}
	if _, err := fmt.Fprintln(d.Stdout, b.RefreshToken); err != nil {
		return err
	}
	if o.Keep {
		fmt.Fprintf(d.Stderr, "pleoauth: env %s: the login is also kept here; a refresh here or in CI spends the token for the other.\n", env.Name)
		return nil
	}
	if err := st.Delete(env.Name); err != nil {
		return fmt.Errorf("env %s: the refresh token was printed, but the login here could not be removed: %w; run \"pleoauth logout --env %s\"", env.Name, err, env.Name)
	}
	fmt.Fprintf(d.Stderr, "pleoauth: env %s: refresh token exported; this machine's login was removed so the two cannot spend each other's token.\n", env.Name)
	return nil
}

func newImportCmd(d *Deps) *cobra.Command {
	return &cobra.Command{
		Use:     "import-refresh-token",
		Aliases: []string{"import"},
		Short:   "Start from a refresh token read from stdin",
		Long: `Import-refresh-token reads a refresh token from the first line of stdin (never from the command
line), replaces the environment's stored login with it, and refreshes at once, so that a bad token
is found now and the token kept is a fresh one. The on_rotate command, if any, gets the new
refresh token.`,
		Example: `  pleoauth import-refresh-token --env staging < refresh-token.txt
  printenv PLEO_REFRESH_TOKEN | pleoauth import --env staging --store file`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return runImport(cmd, d)
		},
	}
}

func runImport(cmd *cobra.Command, d *Deps) error {
	cfg, env, err := resolve(cmd, false)
	if err != nil {
		return err
	}
	line, _ := bufio.NewReader(d.Stdin).ReadString('\n')
	refreshToken := strings.TrimSpace(line)
	if refreshToken == "" {
		return failure.Wrap(failure.Usage, fmt.Errorf("env %s: no refresh token on stdin; pipe it in, e.g. pleoauth import-refresh-token --env %s < token.txt", env.Name, env.Name))
	}
	st := openStore(cfg, d)
	if err := st.Check(); err != nil {
		return fmt.Errorf("env %s: tokens cannot be stored: %w", env.Name, err)
	}
	src := tokenSource(d, cfg, env, st)
	src.Seed = refreshToken
	unlock, err := lockDir(cfg).Lock(cmd.Context(), env.Name)
	if err != nil {
		return fmt.Errorf("env %s: %w", env.Name, err)
	}
	err = st.Delete(env.Name)
	unlock()
	if err != nil {
		return fmt.Errorf("env %s: %w", env.Name, err)
	}
	res, err := src.Token(cmd.Context(), tokens.Request{MinTTL: cfg.MinTTL})
	if err != nil {
		return err
	}
	fmt.Fprintf(d.Stderr, "Imported a login for %s; access token valid until %s (%s store).\n", env.Name, res.Bundle.Expiry.Format("2006-01-02T15:04:05Z07:00"), st.Name())
	return nil
}
