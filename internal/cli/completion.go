package cli

import (
	"fmt"

	"github.com/spf13/cobra"

	"github.com/pleoauth/pleoauth/internal/config"
	"github.com/pleoauth/pleoauth/internal/failure"
	"github.com/pleoauth/pleoauth/internal/grant"
)

func newCompletionCmd(d *Deps) *cobra.Command {
	return &cobra.Command{
		Use:   "completion bash|zsh|fish|powershell",
		Short: "Print the shell completion script",
		Long: `Completion prints a script that teaches your shell to complete pleoauth's commands, flags and
environment names (--env completes from the built-in environments and config.yaml).`,
		Example: `  # bash, for this shell, then for good:
  source <(pleoauth completion bash)
  pleoauth completion bash > /etc/bash_completion.d/pleoauth
  # zsh:
  pleoauth completion zsh > "${fpath[1]}/_pleoauth"
  # fish:
  pleoauth completion fish > ~/.config/fish/completions/pleoauth.fish
  # PowerShell:
  pleoauth completion powershell | Out-String | Invoke-Expression`,
		Args:      cobra.ExactArgs(1),
		ValidArgs: []string{"bash", "zsh", "fish", "powershell"},
		RunE: func(cmd *cobra.Command, args []string) error {
			root := cmd.Root()
			switch args[0] {
			case "bash":
				return root.GenBashCompletionV2(d.Stdout, true)
			case "zsh":
				return root.GenZshCompletion(d.Stdout)
			case "fish":
				return root.GenFishCompletion(d.Stdout, true)
			case "powershell":
				return root.GenPowerShellCompletionWithDesc(d.Stdout)
			default:
				return failure.Wrap(failure.Usage, fmt.Errorf("no completion for %q; choose bash, zsh, fish or powershell", args[0]))
			}
		},
	}
}

// completeEnv offers the environments the configuration knows for --env.
func completeEnv(d *Deps) cobra.CompletionFunc {
	return func(cmd *cobra.Command, _ []string, _ string) ([]string, cobra.ShellCompDirective) {
		cfg, err := config.Load(nil, d.Getenv)
		if err != nil {
			return nil, cobra.ShellCompDirectiveNoFileComp
		}
		return cfg.Names(), cobra.ShellCompDirectiveNoFileComp
	}
}

// completeProfile offers the profiles that have a login stored for the selected environment.
func completeProfile(d *Deps) cobra.CompletionFunc {
	return func(cmd *cobra.Command, _ []string, _ string) ([]string, cobra.ShellCompDirective) {
		cfg, err := config.Load(cmd.Flags(), d.Getenv)
		if err != nil {
			return nil, cobra.ShellCompDirectiveNoFileComp
		}
		env, err := cfg.Environment()
		if err != nil {
			return nil, cobra.ShellCompDirectiveNoFileComp
		}
		g, err := grant.Open(cfg, env, d.grantDeps())
		if err != nil {
			return nil, cobra.ShellCompDirectiveNoFileComp
		}
		profiles, _ := g.Profiles()
		return profiles, cobra.ShellCompDirectiveNoFileComp
	}
}

// completeSetting offers the settings' keys for "config get" (and, writable, "config set" and
// "config unset"), then the values of the one named, when they can be listed.
func completeSetting(d *Deps, writable bool) cobra.CompletionFunc {
	return func(cmd *cobra.Command, args []string, _ string) ([]string, cobra.ShellCompDirective) {
		switch {
		case len(args) == 0:
			return config.Keys(writable), cobra.ShellCompDirectiveNoFileComp
		case len(args) == 1 && writable && cmd.Name() == "set":
			if args[0] == "env" || args[0] == "default_env" {
				return completeEnv(d)(cmd, nil, "")
			}
			return config.Choices(args[0]), cobra.ShellCompDirectiveNoFileComp
		}
		return nil, cobra.ShellCompDirectiveNoFileComp
	}
}
