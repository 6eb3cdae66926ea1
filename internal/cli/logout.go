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
	Revoke       bool
}

func newLogoutCmd(d *Deps) *cobra.Command {
	o := &logoutOptions{}
	cmd := &cobra.Command{
		Use:   "logout",
		Short: "Forget an environment's tokens; --revoke revokes them at Pleo first",
		Long: `Logout removes the environment's stored tokens and, for the keychain store, their key
in the OS keychain; for the file store, also the client secret kept beside them. Other
environments are untouched. Pleo documents no endpoint to revoke a
single token, so without --revoke the tokens stay valid at Pleo until they expire.

--revoke first calls Pleo's DELETE {api_url}/v1/installations/me with the login's access token
(refreshed first when needed). That revokes EVERY access and refresh token of the client's
installation for the login's company, not only this login's: every machine, CI job and fleet
member (a redis store) logged in with the same client to the same company is logged out too.
Pleo answers 204; a 404 means there was nothing to revoke, and the login is forgotten all the
same. When the call fails (the network, a 5xx, a refused refresh token), nothing was revoked and
the login is kept here: run it again, or logout without --revoke to forget the login here only.
With --all, each profile's installation is revoked once, its company named by the login.`,
		Example: `  pleoauth logout --env staging
  pleoauth logout --env staging --revoke
  pleoauth logout --env staging --forget-secret`,
		Args: cobra.NoArgs,
		RunE: withGrant(d, false, func(ctx context.Context, g *grant.Grant, _ []string) error {
			return runLogout(ctx, d, g, o)
		}),
	}
	cmd.Flags().BoolVar(&o.ForgetSecret, "forget-secret", false, "also remove the client secret kept in the keychain (the file store's goes with the login)")
	cmd.Flags().BoolVar(&o.All, "all", false, "log out of every profile of the environment")
	cmd.Flags().BoolVar(&o.Force, "force", false, "remove a login sealed under another store key (the machines with that key lose it)")
	cmd.Flags().BoolVar(&o.Revoke, "revoke", false, "first revoke at Pleo EVERY access and refresh token of the client's installation (DELETE /v1/installations/me), every machine's; the login is kept when that fails")
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
	revoked := map[string]string{} // the profile whose revocation covered each company
	for _, l := range logins {
		if o.Revoke {
			if err := revokeOnce(ctx, d, l, revoked); err != nil {
				return err
			}
		}
		err := l.Logout(ctx, o.ForgetSecret, o.Force)
		switch {
		case errors.Is(err, grant.ErrAlreadyLoggedOut):
			fmt.Fprintf(d.Stderr, "Already logged out of %s, profile %s (%s store).\n", l.Env.Name, l.Profile, l.StoreName())
			continue
		case err != nil && o.Revoke:
			return fmt.Errorf("%w (its tokens are revoked at Pleo already)", err)
		case err != nil:
			return err
		}
		if o.Revoke {
			fmt.Fprintf(d.Stderr, "Logged out of %s, profile %s (%s store).\n", l.Env.Name, l.Profile, l.StoreName())
		} else {
			fmt.Fprintf(d.Stderr, "Logged out of %s, profile %s (%s store). The tokens are forgotten here but stay valid at Pleo until they expire; \"pleoauth logout --revoke\" revokes every token of the installation.\n", l.Env.Name, l.Profile, l.StoreName())
		}
		if where := l.SecretKeptAfterLogout(); where != "" && !o.ForgetSecret {
			fmt.Fprintf(d.Stderr, "The client secret stays in %s for the next login; \"pleoauth logout --env %s --forget-secret\" removes it.\n", where, l.Env.Name)
		}
	}
	return nil
}
