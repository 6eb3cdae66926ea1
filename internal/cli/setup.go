package cli

import (
	"context"
	"errors"

	"github.com/spf13/cobra"

	"github.com/pleoauth/pleoauth/internal/config"
	"github.com/pleoauth/pleoauth/internal/failure"
	"github.com/pleoauth/pleoauth/internal/grant"
)

// loadConfig resolves the configuration; settings that make no sense are usage errors.
func loadConfig(cmd *cobra.Command, d *Deps) (*config.Config, error) {
	cfg, err := config.Load(cmd.Flags(), d.Getenv)
	return cfg, asUsage(err)
}

// asUsage marks the configuration's usage errors — an unknown environment, a setting that makes
// no sense, a config file that cannot be read as written — for exit code 2.
func asUsage(err error) error {
	var unknown *config.UnknownEnvError
	var usage *config.UsageError
	var file *config.FileError
	if errors.As(err, &unknown) || errors.As(err, &usage) || errors.As(err, &file) {
		return failure.Wrap(failure.Usage, err)
	}
	return err
}

// openGrant resolves the configuration and opens the selected environment's login; forLogin
// also checks what a login needs.
func openGrant(cmd *cobra.Command, d *Deps, forLogin bool) (*grant.Grant, error) {
	cfg, err := loadConfig(cmd, d)
	if err != nil {
		return nil, err
	}
	get := cfg.Environment
	if forLogin {
		get = cfg.LoginEnvironment
	}
	env, err := get()
	if err != nil {
		return nil, asUsage(err)
	}
	return grant.Open(cfg, env, d.grantDeps())
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
