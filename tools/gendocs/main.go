// Command gendocs writes pleoauth's reference documentation from the real command tree:
// Markdown (committed under docs/cli, checked for drift by a test) and man pages (built, not
// committed). "make docs" runs it.
package main

import (
	"flag"
	"fmt"
	"os"

	"github.com/pleoauth/pleoauth/internal/cli"
	"github.com/pleoauth/pleoauth/internal/clidocs"
)

func main() {
	markdown := flag.String("markdown", "docs/cli", "folder for the Markdown reference (none when empty)")
	man := flag.String("man", "", "folder for man pages, written into its man1/ (none when empty)")
	flag.Parse()
	if err := run(*markdown, *man); err != nil {
		fmt.Fprintf(os.Stderr, "gendocs: %v\n", err)
		os.Exit(1)
	}
}

func run(markdown, man string) error {
	root := cli.NewRootCmd(cli.SystemDeps(cli.Build{}))
	if markdown != "" {
		if err := clidocs.WriteMarkdown(root, markdown); err != nil {
			return err
		}
	}
	if man == "" {
		return nil
	}
	return clidocs.WriteMan(root, man)
}
