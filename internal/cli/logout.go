package cli

import (
	"context"
	"errors"
	"fmt"

	"github.com/pleoauth/pleoauth/internal/grant"
	"github.com/spf13/cobra"
)

type logoutOptions struct {
	ForgetSecret bool
	All          bool
	Force        bool
}

func newLogoutCmd(d *Deps) *cobra.Command {
	o := &logoutOptions{}
	cmd := &cobra.Command{
		Use:   "logout",
		Short: "Forget an environment's tokens",
		Long: `Logout removes the environment's stored tokens and, for the keychain store, their key
in the OS keychain; for the file store, also the client secret kept beside them. Other
environments are untouched. Pleo documents no endpoint to revoke a
single token, so the tokens stay valid at Pleo until they expire; to revoke every token of the
installation, call DELETE /v1/installations/me.`,
		Example: `  pleoauth logout --env staging
  pleoauth logout --env staging --forget-secret`,
		Args: cobra.NoArgs,
		RunE: withGrant(d, false, func(ctx context.Context, g *grant.Grant, _ []string) error {
			return runLogout(ctx, d, g, o)
		}),
	}
	cmd.Flags().BoolVar(&o.ForgetSecret, "forget-secret", false, "also remove the client secret kept in the keychain (the file store's goes with the login)")
	cmd.Flags().BoolVar(&o.All, "all", false, "log out of every profile of the environment")
	cmd.Flags().BoolVar(&o.Force, "force", false, "remove a login sealed under another store key (the machines with that key lose it)")
	return cmd
}

func runLogout(ctx context.Context, d *Deps, g *grant.Grant, o *logoutOptions) error {
	logins := []*grant.Grant{g}
	if o.All {
		var err error
		if logins, err = g.AllProfiles(); err != nil {
			return err
		}
	}
	for _, l := range logins {
		err := l.Logout(ctx, o.ForgetSecret, o.Force)
		switch {
		case errors.Is(err, grant.ErrAlreadyLoggedOut):
			fmt.Fprintf(d.Stderr, "Already logged out of %s, profile %s (%s store).\n", l.Env.Name, l.Profile, l.StoreName())
			continue
		case err != nil:
			return err
		}
		fmt.Fprintf(d.Stderr, "Logged out of %s, profile %s (%s store). The tokens are forgotten here but stay valid at Pleo until they expire; DELETE /v1/installations/me revokes every token of the installation.\n", l.Env.Name, l.Profile, l.StoreName())
	}
	return nil
}
