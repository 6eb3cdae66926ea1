package cli

import (
	"cmp"
	"fmt"
	"strings"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/pleoauth/pleoauth/internal/config"
	"github.com/pleoauth/pleoauth/internal/exitcode"
	"github.com/pleoauth/pleoauth/internal/failure"
)

// commandGroups are the root help's groups of commands, in the order it shows them.
func commandGroups() []*cobra.Group {
	return []*cobra.Group{
		{ID: "core", Title: "Core commands:"},
		{ID: "scripting", Title: "Scripting commands:"},
		{ID: "settings", Title: "Settings and setup:"},
	}
}

const rootSummary = `pleoauth logs you in to Pleo's API with the OAuth 2.0 authorization code flow and PKCE,
keeps the tokens, and prints an access token that is valid right now.`

const rootFooter = `Variables: "pleoauth help environment" lists every PLEOAUTH_* variable.
Exit codes: "pleoauth help exit-codes" says what each means (2 usage, 4 login required, 5 retry).
Run "pleoauth <command> --help" for a command's flags and examples.`

// newHelpTopics are the help pages that are not commands: "pleoauth help environment" and
// "pleoauth help exit-codes". They have no Run, which makes them cobra help topics: listed under
// "Help topics", with their own man page and docs/cli page.
func newHelpTopics() []*cobra.Command {
	return []*cobra.Command{
		{
			Use:   "environment",
			Short: "The PLEOAUTH_* variables and the settings they give",
			Long: topicText("Every setting can be given by a flag, a PLEOAUTH_* variable or config.yaml, in that order of\n"+
				"precedence; \"pleoauth config list\" shows where each value comes from.", config.VariablesHelp()),
			Example: "  PLEOAUTH_ENV=production pleoauth token\n  PLEOAUTH_CLIENT_SECRET=… pleoauth login --env staging",
		},
		{
			Use:     "exit-codes",
			Short:   "What each exit code means",
			Long:    topicText("pleoauth's exit code tells a script what to do next.", exitcode.Help),
			Example: "  pleoauth token >/dev/null; [ $? -eq 4 ] && pleoauth login",
		},
	}
}

// topicText is a help topic's paragraph and its table, which starts with a title line; the table
// is indented four spaces after a blank line, so that the Markdown and man pages generated from
// the same text show it as a block, column for column, as the terminal does.
func topicText(paragraph, table string) string {
	title, rows, _ := strings.Cut(table, "\n")
	return paragraph + "\n\n" + title + "\n\n  " + strings.ReplaceAll(rows, "\n", "\n  ")
}

// newHelpCmd replaces cobra's help command, which shows the root's help for any word it does not
// know: here an unknown topic is a usage error naming the command it is a typo of.
func newHelpCmd() *cobra.Command {
	return &cobra.Command{
		Use:     "help [command]",
		Short:   "Help about any command or topic",
		Long:    `Help shows the help of a command or topic: "pleoauth help token", "pleoauth help exit-codes".`,
		Example: "  pleoauth help config set\n  pleoauth help environment",
		GroupID: "settings",
		ValidArgsFunction: func(cmd *cobra.Command, args []string, _ string) ([]string, cobra.ShellCompDirective) {
			parent, _, err := cmd.Root().Find(args)
			if err != nil {
				return nil, cobra.ShellCompDirectiveNoFileComp
			}
			var names []string
			for _, c := range parent.Commands() {
				if c.IsAvailableCommand() || c.IsAdditionalHelpTopicCommand() {
					names = append(names, c.Name())
				}
			}
			return names, cobra.ShellCompDirectiveNoFileComp
		},
		RunE: func(cmd *cobra.Command, args []string) error {
			target, rest, err := cmd.Root().Find(args)
			switch {
			case err != nil:
				return failure.Wrap(failure.Usage, err)
			case len(rest) > 0 && target.HasSubCommands():
				return unknownCommand(target, rest[0]) // "help tokn", "help config st"
			}
			return target.Help()
		},
	}
}

// unknownCommand is the usage error of a command name parent does not have, with the one it is
// a typo of.
func unknownCommand(parent *cobra.Command, name string) error {
	var names []string
	for _, c := range parent.Commands() {
		if c.IsAvailableCommand() || c.IsAdditionalHelpTopicCommand() {
			names = append(names, c.Name())
		}
	}
	return failure.Wrap(failure.Usage, fmt.Errorf("unknown command %q%s; run \"%s --help\"", name, config.DidYouMean(name, names), parent.CommandPath()))
}

// rootHelp is the root's help, commands first, as gh shows its own: the groups, then the help
// topics, the flags, examples and where to read on. The other commands keep cobra's layout.
func rootHelp(root *cobra.Command) func(*cobra.Command, []string) {
	return func(c *cobra.Command, _ []string) {
		w := c.OutOrStdout()
		if c != root {
			if text := strings.TrimRight(cmp.Or(c.Long, c.Short), " \n"); text != "" {
				fmt.Fprintf(w, "%s\n\n", text)
			}
			if c.Runnable() || c.HasSubCommands() {
				fmt.Fprint(w, c.UsageString())
			}
			return
		}
		fmt.Fprintf(w, "%s\n\nUsage:\n  pleoauth <command> [flags]\n", rootSummary)
		for _, g := range root.Groups() {
			fmt.Fprintf(w, "\n%s\n", g.Title)
			// In the table's order (most used first), not cobra's alphabetical one.
			for _, sub := range subcommands {
				if c, _, err := root.Find(sub.names[:1]); err == nil && c != root && sub.group == g.ID {
					fmt.Fprintf(w, "  %-22s %s\n", c.Name(), c.Short)
				}
			}
			if help, _, err := root.Find([]string{"help"}); err == nil && help.GroupID == g.ID {
				fmt.Fprintf(w, "  %-22s %s\n", help.Name(), help.Short)
			}
		}
		fmt.Fprint(w, "\nHelp topics:\n")
		for _, sub := range root.Commands() {
			if sub.IsAdditionalHelpTopicCommand() {
				fmt.Fprintf(w, "  %-22s %s\n", sub.Name(), sub.Short)
			}
		}
		fmt.Fprintf(w, "\nFlags:\n%s\n", strings.TrimRight(root.LocalFlags().FlagUsages(), " \n"))
		fmt.Fprintf(w, "\nExamples:\n%s\n\n%s\n", root.Example, rootFooter)
	}
}

// plainBooleans shows boolean flags as "--debug" rather than pflag's "--debug[=true|false]",
// on every command of the tree (help flags included, so they are added here first). The value
// is wrapped in a type without IsBoolFlag, which is all pflag looks at; NoOptDefVal "true"
// still lets "--debug" stand alone.
func plainBooleans(cmd *cobra.Command) {
	cmd.InitDefaultHelpFlag()
	wrap := func(f *pflag.Flag) {
		if _, ok := f.Value.(interface{ IsBoolFlag() bool }); ok && f.Value.Type() == "bool" {
			f.Value = plainBool{f.Value}
		}
	}
	cmd.LocalNonPersistentFlags().VisitAll(wrap)
	cmd.PersistentFlags().VisitAll(wrap)
	for _, sub := range cmd.Commands() {
		plainBooleans(sub)
	}
}

type plainBool struct{ pflag.Value }
