package cli

import (
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/spf13/cobra"

	"github.com/pleoauth/pleoauth/internal/clidocs"
	"github.com/pleoauth/pleoauth/internal/config"
)

var update = flag.Bool("update", false, "rewrite docs/cli from the command tree")

// TestReferenceDocsMatchTheCode regenerates the Markdown reference and compares it with
// docs/cli, so the committed docs cannot drift from the commands. "go test ./internal/cli -run
// TestReferenceDocs -update" (or "make docs") refreshes them.
func TestReferenceDocsMatchTheCode(t *testing.T) {
	committed := filepath.Join("..", "..", "docs", "cli")
	dir := t.TempDir()
	if *update {
		dir = committed
	}
	if err := clidocs.WriteMarkdown(NewRootCmd(&Deps{}), dir); err != nil {
		t.Fatal(err)
	}
	if *update {
		return
	}
	want, _ := filepath.Glob(filepath.Join(dir, "*.md"))
	have, _ := filepath.Glob(filepath.Join(committed, "*.md"))
	if len(want) != len(have) {
		t.Errorf("docs/cli has %d pages; the commands make %d; run make docs", len(have), len(want))
	}
	for _, w := range want {
		got, err := os.ReadFile(filepath.Join(committed, filepath.Base(w)))
		generated, _ := os.ReadFile(w)
		if err != nil || string(got) != string(generated) {
			t.Errorf("docs/cli/%s differs from the code; run make docs", filepath.Base(w))
		}
	}
}

// TestEveryCommandIsDocumented: each command and help topic has a one-line summary, a paragraph
// and an example; the help topics list the exit codes and the environment variables.
func TestEveryCommandIsDocumented(t *testing.T) {
	root := NewRootCmd(&Deps{})
	var walk func(c *cobra.Command)
	walk = func(c *cobra.Command) {
		if c.Hidden {
			return
		}
		if c.Short == "" || strings.Contains(c.Short, "\n") {
			t.Errorf("%s: no one-line summary", c.CommandPath())
		}
		if c.Long == "" {
			t.Errorf("%s: no paragraph (Long)", c.CommandPath())
		}
		if c.Example == "" {
			t.Errorf("%s: no example", c.CommandPath())
		}
		for _, sub := range c.Commands() {
			walk(sub)
		}
	}
	walk(root)
	for topic, wants := range map[string][]string{
		"exit-codes":  {"Exit codes:", "  2 ", "  4 ", "  5 ", "130"},
		"environment": append(config.Variables(), "CI", "BROWSER"),
	} {
		c, _, err := root.Find([]string{topic})
		if err != nil || c == root || !c.IsAdditionalHelpTopicCommand() {
			t.Errorf("no help topic %q", topic)
			continue
		}
		for _, want := range wants {
			if !strings.Contains(c.Long, want) {
				t.Errorf("help topic %s lacks %q", topic, want)
			}
		}
	}
}
