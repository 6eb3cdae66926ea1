package cli

import (
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/spf13/cobra"
	"github.com/spf13/cobra/doc"
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
	root := NewRootCmd(&Deps{})
	if err := doc.GenMarkdownTree(root, dir); err != nil {
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

// TestEveryCommandIsDocumented: each command has a one-line summary, a paragraph and an example;
// the root help lists the exit codes and the environment variables.
func TestEveryCommandIsDocumented(t *testing.T) {
	root := NewRootCmd(&Deps{})
	var walk func(c *cobra.Command)
	walk = func(c *cobra.Command) {
		if c.Hidden || c.Name() == "help" {
			return
		}
		if c.Short == "" || strings.Contains(c.Short, "\n") {
			t.Errorf("%s: no one-line summary", c.CommandPath())
		}
		if c.Long == "" {
			t.Errorf("%s: no paragraph (Long)", c.CommandPath())
		}
		if c.Example == "" && c != root {
			t.Errorf("%s: no example", c.CommandPath())
		}
		for _, sub := range c.Commands() {
			walk(sub)
		}
	}
	walk(root)
	usage := root.Long
	for _, want := range []string{"Exit codes:", "130", "PLEOAUTH_HOME", "PLEOAUTH_CLIENT_SECRET", "PLEOAUTH_STORE"} {
		if !strings.Contains(usage, want) {
			t.Errorf("the root help lacks %q", want)
		}
	}
}
