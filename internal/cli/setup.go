package cli

import (
	"context"

	"github.com/spf13/cobra"

	"github.com/pleoauth/pleoauth/internal/config"
	"github.com/pleoauth/pleoauth/internal/grant"
)

// loadConfig resolves the configuration; settings that make no sense are usage errors.
func loadConfig(cmd *cobra.Command, d *Deps) (*config.Config, error) {
	cfg, err := config.Load(cmd.Flags(), d.Getenv)
	return cfg, config.MarkUsage(err)
}

// openGrant resolves the configuration and opens the selected environment's login; forLogin
// also checks what a login needs.
func openGrant(cmd *cobra.Command, d *Deps, forLogin bool) (*grant.Grant, error) {
	return grant.OpenSelected(cmd.Flags(), d.Getenv, d.grantDeps(), forLogin)
}

// withGrant is the RunE of a command that works on a login: it opens the selected login and
// hands it to run, so that a command is flags → options → run(ctx, deps, login, options).
func withGrant(d *Deps, forLogin bool, run func(ctx context.Context, g *grant.Grant, args []string) error) func(*cobra.Command, []string) error {
	return func(cmd *cobra.Command, args []string) error {
		g, err := openGrant(cmd, d, forLogin)
		if err != nil {
			return err
		}
		return run(cmd.Context(), g, args)
	}
}
