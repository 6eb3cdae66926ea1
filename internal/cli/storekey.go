package cli

import (
	"fmt"

	"github.com/spf13/cobra"

	"github.com/pleoauth/pleoauth/internal/grant"
)

func newStoreKeyCmd(d *Deps) *cobra.Command {
	return &cobra.Command{
		Use:   "store-key",
		Short: "Print a new key for the redis store",
		Long: `Store-key prints a new random 32-byte key, base64, for PLEOAUTH_STORE_KEY. The redis store
seals every bundle with it (AES-256-GCM) before it reaches Redis, so Redis, its dumps and its
replicas never hold a usable token. Every machine of a fleet needs the same key: keep it as a CI
secret, never in config.yaml.`,
		Example: `  pleoauth store-key | gh secret set PLEOAUTH_STORE_KEY
  export PLEOAUTH_STORE_KEY="$(pleoauth store-key)"`,
		Args: cobra.NoArgs,
		RunE: func(*cobra.Command, []string) error {
			_, err := fmt.Fprintln(d.Stdout, grant.NewStoreKey())
			return err
		},
	}
}
