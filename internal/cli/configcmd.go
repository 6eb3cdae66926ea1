package cli

import (
	"fmt"

	"github.com/pleoauth/pleoauth/internal/config"
	"github.com/spf13/cobra"
)

func newConfigCmd(d *Deps) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "config",
		Short: "Show and change settings, and where each comes from",
		Long: `Config shows the selected environment's settings with where each value comes from — a flag,
a PLEOAUTH_* variable, config.yaml, a built-in default, or derived from auth_server_url — and
writes settings to config.yaml. The client secret is never shown and never written.`,
		Example: `  pleoauth config list --env staging
  pleoauth config get token_url
  pleoauth config set client_id 3f2c6d1e-0000-4000-8000-000000000000 --env staging
  pleoauth config set default_env staging
  pleoauth config unset default_env
  pleoauth config path`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error { return cmd.Help() },
	}
	cmd.AddCommand(
		newConfigListCmd(d),
		&cobra.Command{
			Use: "get KEY", Short: "Print one setting's value", Args: cobra.ExactArgs(1),
			Long:              "Get prints the resolved value of one setting of the selected environment, for scripts.",
			Example:           "  pleoauth config get token_url --env staging",
			ValidArgsFunction: completeSetting(d, false),
			RunE: func(cmd *cobra.Command, args []string) error {
				cfg, err := loadConfig(cmd, d)
				if err != nil {
					return err
				}
				s, err := cfg.Get(args[0])
				if err != nil {
					return config.MarkUsage(err)
				}
				_, err = fmt.Fprintln(d.Stdout, s.Value)
				return err
			},
		},
		&cobra.Command{
			Use: "set KEY VALUE", Short: "Write a setting to config.yaml", Args: cobra.ExactArgs(2),
			Long: `Set checks the value and writes it to config.yaml: default_env and store at the top, every
other setting under the selected environment. Only that setting's line changes: comments, blank
lines and the order of the other keys stay as they are, and a new key goes at the end of its
environment. The file is replaced atomically, mode 0600. The client secret is refused: it never
goes in a file pleoauth reads.`,
			Example:           "  pleoauth config set scopes \"users:read export-jobs:read\" --env staging",
			ValidArgsFunction: completeSetting(d, true),
			RunE: func(cmd *cobra.Command, args []string) error {
				cfg, err := loadConfig(cmd, d)
				if err != nil {
					return err
				}
				path, err := cfg.Set(args[0], args[1])
				if err != nil {
					return config.MarkUsage(err)
				}
				fmt.Fprintf(d.Stderr, "Set %s in %s.\n", path, cfg.File)
				return nil
			},
		},
		&cobra.Command{
			Use: "unset KEY", Short: "Remove a setting from config.yaml", Args: cobra.ExactArgs(1),
			Long: `Unset removes a setting from config.yaml — a top-level one, or one of the selected environment —
so that its built-in default applies again. Only that setting's lines go, with the environment
if it was its last setting; comments and everything else stay. It says so when the file did not
set it.`,
			Example:           "  pleoauth config unset redirect_uri --env staging\n  pleoauth config unset default_env",
			ValidArgsFunction: completeSetting(d, true),
			RunE: func(cmd *cobra.Command, args []string) error {
				cfg, err := loadConfig(cmd, d)
				if err != nil {
					return err
				}
				path, was, err := cfg.Unset(args[0])
				switch {
				case err != nil:
					return config.MarkUsage(err)
				case !was:
					fmt.Fprintf(d.Stderr, "%s is not set in %s; nothing to remove.\n", path, cfg.File)
				default:
					fmt.Fprintf(d.Stderr, "Removed %s from %s.\n", path, cfg.File)
				}
				return nil
			},
		},
		&cobra.Command{
			Use: "path", Short: "Print the config file's path", Args: cobra.NoArgs,
			Long:    "Path prints where config.yaml is read from: PLEOAUTH_HOME/config.yaml.",
			Example: "  $EDITOR \"$(pleoauth config path)\"",
			RunE: func(cmd *cobra.Command, _ []string) error {
				cfg, err := loadConfig(cmd, d)
				if err != nil {
					return err
				}
				_, err = fmt.Fprintln(d.Stdout, cfg.File)
				return err
			},
		},
	)
	return cmd
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}
