// Command pleoauth is an OAuth 2.0 client for Pleo's API. See "pleoauth --help".
package main

import (
	"context"
	"os"
	"os/signal"
	"syscall"

	"github.com/pleoauth/pleoauth/internal/cli"
)

// version is stamped by the release build (-ldflags "-X main.version=...").
var version = "dev"

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := cli.Main(ctx, os.Args[1:], cli.SystemDeps(version))
	stop()
	os.Exit(code)
}
