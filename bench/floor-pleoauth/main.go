// Command floor-pleoauth is floor-bare linked with all of pleoauth's own code: the linker keeps
// everything "pleoauth" keeps (cli.Main is reachable), so the same packages initialise, the same
// interface tables load and the same binary maps in, but main only reads and prints a file.
// The difference to floor-linked, whose libraries the linker mostly drops because nothing uses
// them, is what using those libraries costs at start-up; the difference to "pleoauth token" is
// the work of pleoauth's main.
package main

import (
	"context"
	"os"

	"github.com/pleoauth/pleoauth/internal/cli"
)

func main() {
	if len(os.Args) > 2 { // never, in the benchmark; but the linker cannot know
		os.Exit(cli.Main(context.Background(), os.Args[2:], cli.SystemDeps(cli.Build{})))
	}
	data, err := os.ReadFile(os.Args[1])
	if err != nil {
		os.Exit(1)
	}
	_, _ = os.Stdout.Write(data)
}
