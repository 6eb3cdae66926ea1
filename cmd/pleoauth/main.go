// Command pleoauth is an OAuth 2.0 client for Pleo's API. See "pleoauth --help".
package main

import (
	"os"
	"syscall"

	"github.com/redis/go-redis/v9/logging"

	"github.com/pleoauth/pleoauth/internal/cli"
	"github.com/pleoauth/pleoauth/internal/interrupt"
)

// Stamped by the release build: -ldflags "-X main.version=... -X main.commit=... -X main.date=...".
// Left empty, "pleoauth version" reads the module's build information.
var version, commit, date string

func main() {
	// HUP too: a closed terminal or a dropped SSH session must not kill a refresh the server
	// may already have answered; the refresh is seen through and saved, then pleoauth stops.
	// The signals are caught once something waits or holds the refresh lock, not at start-up.
	ctx, stop := interrupt.Context(os.Interrupt, syscall.SIGTERM, syscall.SIGHUP)
	// go-redis logs its connection pool's failures to stderr on its own (a process-wide
	// setting of the library); pleoauth says what a Redis that does not answer means, once.
	logging.Disable()
	code := cli.Main(ctx, os.Args[1:], cli.SystemDeps(cli.Build{Version: version, Commit: commit, Date: date}))
	stop()
	os.Exit(code)
}
