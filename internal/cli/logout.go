package cli

import (
	"fmt"

	"github.com/spf13/cobra"

	"github.com/pleoauth/pleoauth/internal/config"
)

type logoutOptions struct {
	ForgetSecret bool
}

func newLogoutCmd(d *Deps) *cobra.Command {
	o := &logoutOptions{}
	cmd := &cobra.Command{
		Use:   "logout",
		Short: "Forget an environment's tokens",
		Long: `Logout removes the environment's stored tokens and, for the keychain store, their key
in the OS keychain. Other environments are untouched. Pleo documents no endpoint to revoke a
single token, so the tokens stay valid at Pleo until they expire; to revoke every token of the
installation, call DELETE /v1/installations/me.`,
		Example: `  pleoauth logout --env staging
  pleoauth logout --env staging --forget-secret`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return runLogout(cmd, d, o)
		},
	}
	cmd.Flags().BoolVar(&o.ForgetSecret, "forget-secret", false, "also remove the client secret kept in the keychain")
	return cmd
}

func runLogout(cmd *cobra.Command, d *Deps, o *logoutOptions) error {
	cfg, env, err := resolve(cmd, false)
	if err != nil {
		return err
	}
	// Under the lock, so a refresh in flight is not undone by this delete or the other way round.
	unlock, err := lockDir(cfg).Lock(cmd.Context(), env.Name)
	if err != nil {
		return fmt.Errorf("logout %s: %w", env.Name, err)
	}
	defer unlock()
	st := openStore(cfg, d)
	if err := st.Delete(env.Name); err != nil {
		return fmt.Errorf("logout %s: %w", env.Name, err)
	}
	if o.ForgetSecret && st.Name() == config.StoreKeyring {
		if err := clientSecrets(cfg, d).Delete(env.Name); err != nil {
			return fmt.Errorf("logout %s: the tokens are gone, but the client secret could not be removed: %w", env.Name, err)
		}
	}
	fmt.Fprintf(d.Stderr, "Logged out of %s (%s store).\n", env.Name, st.Name())
	return nil
}
