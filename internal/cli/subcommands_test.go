package cli

import (
	"slices"
	"testing"

	"github.com/spf13/cobra"
)

// TestSubcommandNames: the names Main finds a command by are the command's own name and aliases,
// so that building only the command that runs builds the one cobra then runs.
func TestSubcommandNames(t *testing.T) {
	for _, sub := range subcommands {
		cmd := sub.build(SystemDeps(Build{}))
		if got := append([]string{cmd.Name()}, cmd.Aliases...); !slices.Equal(got, sub.names) {
			t.Errorf("the table names %v; the command is %v", sub.names, got)
		}
	}
	if n := len(commandNames(NewRootCmd(SystemDeps(Build{})))); n != len(subcommands) {
		t.Errorf("the whole tree has %d commands; the table %d", n, len(subcommands))
	}
}

// TestOnlyTheChosenCommandIsBuilt: arguments that run a command build that one alone, flags and
// their values before it skipped as cobra skips them; arguments that run none build them all.
func TestOnlyTheChosenCommandIsBuilt(t *testing.T) {
	d := SystemDeps(Build{})
	for _, tc := range []struct {
		args []string
		want []string // the names of the commands built; nil means all of them
	}{
		{[]string{"token"}, []string{"token"}},
		{[]string{"--env", "token", "token", "--format", "json"}, []string{"token"}},
		{[]string{"-e", "staging", "--debug", "api", "/v2/employees"}, []string{"api"}},
		{[]string{"--profile=acme", "config", "get", "env"}, []string{"config"}},
		{[]string{"import"}, []string{"import-refresh-token"}},
		{[]string{"help", "token"}, nil},
		{[]string{"__complete", "token", "--f"}, nil},
		{[]string{"tokne"}, nil},
		{[]string{"--help"}, nil},
		{[]string{}, nil},
	} {
		built := commandNames(newRootCmd(d, tc.args))
		if tc.want == nil && len(built) != len(subcommands) || tc.want != nil && !slices.Equal(built, tc.want) {
			t.Errorf("%q built %v; want %v (nil: all)", tc.args, built, tc.want)
		}
	}
}

// commandNames are the root's commands, without help and the help topics, which are always there.
func commandNames(root *cobra.Command) []string {
	var names []string
	for _, c := range root.Commands() {
		if c.Name() != "help" && !c.IsAdditionalHelpTopicCommand() {
			names = append(names, c.Name())
		}
	}
	return names
}
