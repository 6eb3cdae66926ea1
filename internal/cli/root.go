// Package cli is pleoauth's command tree: one file per command, each an options struct, a
// constructor that builds the cobra command, and a run function that tests can call directly.
package cli

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/spf13/cobra"

	"github.com/pleoauth/pleoauth/internal/config"
	"github.com/pleoauth/pleoauth/internal/exitcode"
	"github.com/pleoauth/pleoauth/internal/failure"
	"github.com/pleoauth/pleoauth/internal/httpclient"
	"github.com/pleoauth/pleoauth/internal/store"
)

// Main runs pleoauth with args (without the program name) and returns the exit code.
func Main(ctx context.Context, args []string, d *Deps) int {
	root := newRootCmd(d, args)
	root.SetArgs(args)
	root.SetIn(d.Stdin)
	root.SetOut(d.Stdout)
	root.SetErr(d.Stderr)
	err := root.ExecuteContext(ctx)
	code := exitcode.Of(err, ctx.Err() != nil)
	switch {
	case code == exitcode.Interrupted:
		fmt.Fprintln(d.Stderr, "pleoauth: interrupted")
	case err != nil && !errors.As(err, new(*exitcode.Status)):
		fmt.Fprintf(d.Stderr, "pleoauth: %v%s\n", err, nextStep(err))
	default:
		var status *exitcode.Status
		if errors.As(err, &status) && status.Message != "" {
			fmt.Fprintf(d.Stderr, "pleoauth: %s\n", status.Message)
		}
	}
	return code
}

// nextStep is the command that gets the user past err, added here once rather than worded by
// every package that can fail that way.
func nextStep(err error) string {
	var login *failure.LoginRequiredError
	var lock *store.LockTimeoutError
	switch {
	case errors.As(err, &login):
		return fmt.Sprintf("; run %q", login.Command())
	case errors.As(err, &lock):
		return "; try again, or wait longer with --lock-timeout"
	}
	return ""
}

// globalOptions are the flags every command has, and the root's own --version.
type globalOptions struct {
	Debug   bool
	Version bool
}

// NewRootCmd builds the whole command tree; the reference docs are generated from it.
func NewRootCmd(d *Deps) *cobra.Command { return newRootCmd(d, nil) }

// subcommands are the root's commands, by the names (and aliases) that run them. Main builds
// only the one its arguments run, with its flags, options and help: building all sixteen was a
// tenth of what a cached "pleoauth token" adds to the libraries it links (docs/performance.md).
// TestSubcommandNames keeps the names the commands' own.
var subcommands = []struct {
	names []string
	group string // the root help's group (commandGroups)
	build func(*Deps) *cobra.Command
}{
	{[]string{"login"}, "core", newLoginCmd},
	{[]string{"token"}, "core", newTokenCmd},
	{[]string{"status"}, "core", newStatusCmd},
	{[]string{"logout"}, "core", newLogoutCmd},
	{[]string{"whoami"}, "core", newWhoamiCmd},
	{[]string{"api"}, "scripting", newAPICmd},
	{[]string{"exec"}, "scripting", newExecCmd},
	{[]string{"serve"}, "scripting", newServeCmd},
	{[]string{"postman-env"}, "scripting", newPostmanEnvCmd},
	{[]string{"export-refresh-token"}, "scripting", newExportCmd},
	{[]string{"import-refresh-token", "import"}, "scripting", newImportCmd},
	{[]string{"config"}, "settings", newConfigCmd},
	{[]string{"env"}, "settings", newEnvCmd},
	{[]string{"store-key"}, "settings", newStoreKeyCmd},
	{[]string{"doctor"}, "settings", newDoctorCmd},
	{[]string{"completion"}, "settings", newCompletionCmd},
	{[]string{"version"}, "settings", newVersionCmd},
}

// newRootCmd builds the root command and the subcommands args may run: only the one they name,
// or every one when they name none (help, completion, an unknown command) or args is nil.
func newRootCmd(d *Deps, args []string) *cobra.Command {
	g := &globalOptions{}
	root := &cobra.Command{
		Use:   "pleoauth",
		Short: "OAuth 2.0 tokens for Pleo's API, from a terminal",
		Long:  rootSummary + "\n\n" + rootFooter, // the reference docs' and man page's text
		Example: `  pleoauth login --env staging
  curl -H "Authorization: Bearer $(pleoauth token)" https://external.staging.pleo.io/v2/employees`,
		SilenceErrors: true,
		SilenceUsage:  true,
		Args:          cobra.ArbitraryArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			switch {
			case len(args) > 0:
				return unknownCommand(cmd, args[0])
			case g.Version:
				return printVersion(d)
			}
			return cmd.Help()
		},
	}
	config.AddFlags(root.PersistentFlags(), "env", "profile", "store", "on_rotate", "lock_timeout")
	_ = root.RegisterFlagCompletionFunc("env", completeEnv(d))
	_ = root.RegisterFlagCompletionFunc("profile", completeProfile(d))
	// Our own completion command, with examples; cobra's default has none.
	root.CompletionOptions.DisableDefaultCmd = true
	// Generated docs stay the same from one build to the next.
	root.DisableAutoGenTag = true
	root.PersistentFlags().BoolVar(&g.Debug, "debug", false, "trace every HTTP request on stderr, credentials replaced by fingerprints (PLEOAUTH_DEBUG=1)")
	root.Flags().BoolVar(&g.Version, "version", false, `print what "pleoauth version" prints`)
	_ = root.RegisterFlagCompletionFunc("store", cobra.FixedCompletions(config.Choices("store"), cobra.ShellCompDirectiveNoFileComp))
	root.PersistentPreRun = func(*cobra.Command, []string) {
		if g.Debug || d.Getenv("PLEOAUTH_DEBUG") == "1" {
			d.HTTPClient = httpclient.Traced(d.httpClient(), d.Stderr, d.Now)
		}
	}
	root.SetFlagErrorFunc(func(cmd *cobra.Command, err error) error {
		return failure.Wrap(failure.Usage, fmt.Errorf("%w; run \"%s --help\"", err, cmd.CommandPath()))
	})

	chosen := chosenSubcommand(root, args)
	root.AddGroup(commandGroups()...)
	root.SetHelpCommand(newHelpCmd())
	root.SetHelpFunc(rootHelp(root))
	for i, sub := range subcommands {
		if chosen < 0 || chosen == i {
			cmd := sub.build(d)
			cmd.GroupID = sub.group
			root.AddCommand(cmd)
		}
	}
	if chosen < 0 {
		root.AddCommand(newHelpTopics()...)
	}
	root.InitDefaultHelpCmd()
	plainBooleans(root)
	usageArgs(root)
	return root
}

// chosenSubcommand is the index in subcommands of the command args run, found the way cobra
// will find it (root flags and their values skipped), or -1 when they run none of them.
func chosenSubcommand(root *cobra.Command, args []string) int {
	if args == nil {
		return -1
	}
	stubs := make([]*cobra.Command, len(subcommands))
	for i, sub := range subcommands {
		stubs[i] = &cobra.Command{Use: sub.names[0], Aliases: sub.names[1:]}
	}
	root.AddCommand(stubs...)
	found, _, err := root.Find(args)
	root.RemoveCommand(stubs...)
	if err != nil {
		return -1
	}
	return slices.Index(stubs, found)
}

// usageArgs makes a wrong number of arguments a usage error (exit 2) that names the command's
// help, on every command of the tree.
func usageArgs(cmd *cobra.Command) {
	if check := cmd.Args; check != nil {
		cmd.Args = func(c *cobra.Command, args []string) error {
			if check(c, args) == nil {
				return nil
			}
			if c.HasAvailableSubCommands() {
				return unknownCommand(c, args[0]) // "pleoauth config st"
			}
			var msg string
			switch want := strings.TrimSpace(strings.TrimPrefix(strings.Join(strings.Fields(c.Use)[1:], " "), "[flags]")); {
			case want == "":
				msg = fmt.Sprintf("%s takes no arguments, but got %q", c.CommandPath(), strings.Join(args, " "))
			default:
				msg = fmt.Sprintf("%s needs %s, but got %d argument(s)", c.CommandPath(), want, len(args))
			}
			return failure.Wrap(failure.Usage, fmt.Errorf("%s; run \"%s --help\"", msg, c.CommandPath()))
		}
	}
	for _, sub := range cmd.Commands() {
		usageArgs(sub)
	}
}
