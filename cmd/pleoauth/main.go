// Command pleoauth is an OAuth 2.0 client for Pleo's API. See "pleoauth --help".
package main

import (
	"context"
	"os"
	"os/signal"
	"syscall"

	"github.com/pleoauth/pleoauth/internal/cli"
)

// Stamped by the release build: -ldflags "-X main.version=... -X main.commit=... -X main.date=...".
// Left empty, "pleoauth version" reads the module's build information.
var version, commit, date string

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := cli.Main(ctx, os.Args[1:], cli.SystemDeps(cli.Build{Version: version, Commit: commit, Date: date}))
	stop()
	os.Exit(code)
}
