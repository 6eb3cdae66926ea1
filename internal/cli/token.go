package cli

import (
	"errors"
	"fmt"
	"time"

	"github.com/spf13/cobra"

	"github.com/pleoauth/pleoauth/internal/failure"
	"github.com/pleoauth/pleoauth/internal/store"
)

type tokenOptions struct {
	MinTTL time.Duration
}

func newTokenCmd(d *Deps) *cobra.Command {
	o := &tokenOptions{}
	cmd := &cobra.Command{
		Use:   "token",
		Short: "Print an access token valid right now",
		Long: `Token prints the environment's access token on stdout, and nothing else, so that
$(pleoauth token) can be used in a header. It never opens a browser: when no token is held it
fails with exit code 4.`,
		Example: `  curl -H "Authorization: Bearer $(pleoauth token --env staging)" https://external.staging.pleo.io/v2/employees`,
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return runToken(cmd, d, o)
		},
	}
	cmd.Flags().DurationVar(&o.MinTTL, "min-ttl", 60*time.Second, "the token printed stays valid at least this long")
	return cmd
}

func runToken(cmd *cobra.Command, d *Deps, o *tokenOptions) error {
	cfg, err := loadConfig(cmd.Flags())
	if err != nil {
		return err
	}
	env, err := environment(cfg, false)
	if err != nil {
		return err
	}
	b, err := tokenStore(cfg).Load(env.Name)
	if errors.Is(err, store.ErrNotFound) {
		return failure.Wrap(failure.LoginRequired, fmt.Errorf("env %s: not logged in; run \"pleoauth login --env %s\"", env.Name, env.Name))
	}
	if err != nil {
		return fmt.Errorf("env %s: %w", env.Name, err)
	}
	if !b.ValidFor(d.Now(), o.MinTTL) {
		return failure.Wrap(failure.LoginRequired, fmt.Errorf("env %s: the access token expires before --min-ttl %s; run \"pleoauth login --env %s\"", env.Name, o.MinTTL, env.Name))
	}
	_, err = fmt.Fprintln(d.Stdout, b.AccessToken)
	return err
}
