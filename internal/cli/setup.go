package cli

import (
	"errors"

	"github.com/spf13/cobra"

	"github.com/pleoauth/pleoauth/internal/config"
	"github.com/pleoauth/pleoauth/internal/failure"
	"github.com/pleoauth/pleoauth/internal/grant"
	"github.com/pleoauth/pleoauth/internal/store"
)

// loadConfig resolves the configuration; settings that make no sense are usage errors.
func loadConfig(cmd *cobra.Command, d *Deps) (*config.Config, error) {
	cfg, err := config.Load(cmd.Flags(), d.Getenv)
	return cfg, asUsage(err)
}

// asUsage marks the configuration's usage errors — an unknown environment, a setting that makes
// no sense — for exit code 2.
func asUsage(err error) error {
	var unknown *config.UnknownEnvError
	var usage *config.UsageError
	if errors.As(err, &unknown) || errors.As(err, &usage) {
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

// validToken opens the selected login and returns its access token, valid for --min-ttl and
// refreshed first when needed (or always, with force).
func validToken(cmd *cobra.Command, d *Deps, force bool) (*grant.Grant, *store.Bundle, error) {
	g, err := openGrant(cmd, d, false)
	if err != nil {
		return nil, nil, err
	}
	b, err := g.Token(cmd.Context(), grant.Request{MinTTL: g.MinTTL(), Force: force})
	return g, b, err
}
