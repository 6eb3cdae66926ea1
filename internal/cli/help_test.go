package cli

import (
	"slices"
	"strings"
	"testing"

	"github.com/pleoauth/pleoauth/internal/exitcode"
	"github.com/spf13/cobra"
)

// TestRootHelpLayout: "pleoauth --help" shows the commands first, in their groups and the
// table's order, then the help topics, flags and examples, and sends variables and exit codes
// to their topics.
func TestRootHelpLayout(t *testing.T) {
	h := newHarness(t)
	for _, args := range [][]string{{"--help"}, {}, {"help"}} {
		r := h.main(args...)
		if r.code != exitcode.OK {
			t.Fatalf("%q: %+v", args, r)
		}
		out := r.stdout
		sections := []string{"Usage:", "Core commands:\n  login ", "\n  token ", "\n  status ", "\n  logout ", "\n  whoami ",
			"Scripting commands:\n  api ", "Settings and setup:\n  config ", "\n  help ",
			"Help topics:\n  environment ", "\n  exit-codes ", "Flags:", "Examples:", `"pleoauth help environment"`, `"pleoauth help exit-codes"`}
		at := 0
		for _, s := range sections {
			i := strings.Index(out[at:], s)
			if i < 0 {
				t.Fatalf("%q: %q missing, or out of order, after byte %d:\n%s", args, s, at, out)
			}
			at += i + len(s)
		}
		for _, gone := range []string{"PLEOAUTH_CLIENT_SECRET", "Exit codes:\n", "130"} {
			if strings.Contains(out, gone) {
				t.Errorf("%q: the root help still holds %q", args, gone)
			}
		}
	}
}

// TestFlagHelp: on every command, booleans read "--debug" (not pflag's "--debug[=true|false]"),
// durations "--lock-timeout duration", and no default reads "default default".
func TestFlagHelp(t *testing.T) {
	root := NewRootCmd(&Deps{})
	var walk func(c *cobra.Command)
	walk = func(c *cobra.Command) {
		usage := c.UsageString()
		for _, bad := range []string{"[=true|false]", "default default", "; default "} {
			if strings.Contains(usage, bad) {
				t.Errorf("%s --help shows %q:\n%s", c.CommandPath(), bad, usage)
			}
		}
		for _, sub := range c.Commands() {
			walk(sub)
		}
	}
	walk(root)
	c, _, _ := root.Find([]string{"token"})
	usage := c.UsageString()
	for _, want := range []string{"--lock-timeout duration", "--min-ttl duration", "(default 1m0s)", "      --debug   ", "      --force-refresh   "} {
		if !strings.Contains(usage, want) {
			t.Errorf("token --help lacks %q:\n%s", want, usage)
		}
	}
}

// TestVersionFlag: "pleoauth --version" prints what "pleoauth version" prints.
func TestVersionFlag(t *testing.T) {
	h := newHarness(t)
	flag, cmd := h.main("--version"), h.main("version")
	if flag.code != exitcode.OK || flag.stdout != cmd.stdout || !strings.HasPrefix(flag.stdout, "pleoauth ") {
		t.Errorf("--version = %+v; version = %+v", flag, cmd)
	}
}

// TestDidYouMean: a mistyped command, help topic, subcommand or setting is a usage error (exit 2)
// naming what it is a typo of.
func TestDidYouMean(t *testing.T) {
	h := newHarness(t)
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"tokn"}, `pleoauth: unknown command "tokn" (did you mean "token"?); run "pleoauth --help"`},
		{[]string{"help", "tokn"}, `pleoauth: unknown command "tokn" (did you mean "token"?); run "pleoauth --help"`},
		{[]string{"help", "exit-code"}, `pleoauth: unknown command "exit-code" (did you mean "exit-codes"?); run "pleoauth --help"`},
		{[]string{"help", "config", "st"}, `pleoauth: unknown command "st" (did you mean "set"?); run "pleoauth config --help"`},
		{[]string{"config", "unst", "x"}, `pleoauth: unknown command "unst" (did you mean "unset"?); run "pleoauth config --help"`},
		{[]string{"config", "set", "lock_timout", "1s"}, `pleoauth: unknown setting "lock_timout" (did you mean "lock_timeout"?)`},
		{[]string{"config", "get", "clent_id"}, `pleoauth: unknown setting "clent_id" (did you mean "client_id"?)`},
		{[]string{"config", "unset", "defalt_env"}, `pleoauth: unknown setting "defalt_env" (did you mean "default_env"?)`},
		{[]string{"frobnicate"}, `pleoauth: unknown command "frobnicate"; run "pleoauth --help"`},
	} {
		r := h.main(tc.args...)
		if r.code != exitcode.Usage || strings.TrimSpace(r.stderr) != tc.want || r.stdout != "" {
			t.Errorf("%q = exit %d, stderr %q, stdout %q; want exit 2, %q", tc.args, r.code, r.stderr, r.stdout, tc.want)
		}
	}
}

// TestCompletions: every flag or argument with a known set of values completes them.
func TestCompletions(t *testing.T) {
	h := newHarness(t)
	for _, tc := range []struct {
		args []string
		want []string
	}{
		{[]string{"__complete", "token", "--format", ""}, tokenFormatNames},
		{[]string{"__complete", "token", "--store", ""}, []string{"keyring", "file", "redis"}},
		{[]string{"__complete", "--env", ""}, []string{"local", "production", "staging"}},
		{[]string{"__complete", "config", "set", "lock"}, []string{"lock_timeout", "lock_ttl"}},
		{[]string{"__complete", "config", "unset", "client_"}, []string{"client_id", "client_auth"}},
		{[]string{"__complete", "config", "get", "client_"}, []string{"client_id", "client_auth", "client_secret"}},
		{[]string{"__complete", "config", "set", "client_auth", ""}, []string{"basic", "body"}},
		{[]string{"__complete", "config", "set", "default_env", ""}, []string{"local", "production", "staging"}},
		{[]string{"__complete", "api", "--method", ""}, []string{"GET", "POST", "PUT", "PATCH", "DELETE"}},
		{[]string{"__complete", "help", "exit"}, []string{"exit-codes", "exec"}},
	} {
		r := h.main(tc.args...)
		got := strings.Split(strings.TrimSpace(r.stdout), "\n")
		got = got[:len(got)-1] // the directive
		prefix := tc.args[len(tc.args)-1]
		got = slices.DeleteFunc(got, func(s string) bool { return !strings.HasPrefix(s, prefix) })
		want := slices.DeleteFunc(slices.Clone(tc.want), func(s string) bool { return !strings.HasPrefix(s, prefix) })
		slices.Sort(got)
		slices.Sort(want)
		if !slices.Equal(got, want) {
			t.Errorf("%q completes %q; want %q", tc.args, got, want)
		}
	}
}
