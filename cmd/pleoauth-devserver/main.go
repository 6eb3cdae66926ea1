// Command pleoauth-devserver runs a local OAuth 2.0 authorization server shaped like Pleo's, so
// that pleoauth can be tried, demonstrated and tested without Pleo credentials.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/pleoauth/pleoauth/internal/config"
	"github.com/pleoauth/pleoauth/internal/devserver"
)

// secretEnv names the variable carrying the client secret: secrets never go in argv.
const secretEnv = "PLEOAUTH_DEVSERVER_CLIENT_SECRET"

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, os.Args[1:], os.Getenv, os.Stdout, os.Stderr); err != nil {
		fmt.Fprintf(os.Stderr, "pleoauth-devserver: %v\n", err)
		stop()
		os.Exit(1)
	}
}

type redirectList []string

func (r *redirectList) String() string     { return strings.Join(*r, ",") }
func (r *redirectList) Set(v string) error { *r = append(*r, v); return nil }

func run(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("pleoauth-devserver", flag.ContinueOnError)
	fs.SetOutput(stderr)
	addr := fs.String("addr", strings.TrimPrefix(config.LocalAuthServerURL, "http://"), "loopback address to listen on (port 0 picks a free one)")
	o := devserver.Options{}
	fs.StringVar(&o.ClientID, "client-id", config.LocalClientID, "the registered client's ID")
	var redirects redirectList
	fs.Var(&redirects, "redirect-uri", "a registered redirect URI, matched exactly (repeatable; default "+config.DefaultRedirectURI+")")
	fs.DurationVar(&o.AccessTTL, "access-ttl", 15*time.Minute, "access token lifetime")
	fs.DurationVar(&o.RefreshTTL, "refresh-ttl", 60*24*time.Hour, "refresh token lifetime")
	fs.BoolVar(&o.AutoApprove, "auto-approve", false, "skip the login and consent page")
	fs.StringVar(&o.Username, "username", "demo", "the demo user's name on the login page")
	fs.StringVar(&o.Password, "password", "demo", "the demo user's password on the login page")
	fs.IntVar(&o.ListItems, "list-items", 2, "items in each paginated list (/v2/employees by cursor, /v1/expenses by offset), 10 a page unless limit= says otherwise")
	fs.Usage = func() {
		fmt.Fprintf(stderr, "Usage: %s=SECRET pleoauth-devserver [flags]\n\nA local OAuth 2.0 server shaped like Pleo's, in memory.\n\n", secretEnv)
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		return err
	}
	o.RedirectURIs = redirects
	if len(o.RedirectURIs) == 0 {
		o.RedirectURIs = []string{config.DefaultRedirectURI}
	}
	o.ClientSecret = getenv(secretEnv)
	if o.ClientSecret == "" {
		return fmt.Errorf("set %s to the client secret to register (the same value pleoauth gets in PLEOAUTH_CLIENT_SECRET)", secretEnv)
	}
	host, _, err := net.SplitHostPort(*addr)
	if err != nil || !config.IsLoopbackHost(host) {
		return fmt.Errorf("--addr %q must be a loopback host:port such as 127.0.0.1:8766", *addr)
	}
	srv, err := devserver.New(o)
	if err != nil {
		return err
	}
	l, err := net.Listen("tcp", *addr)
	if err != nil {
		return fmt.Errorf("listen on %s: %w", *addr, err)
	}
	hs := &http.Server{Handler: srv, ReadHeaderTimeout: 10 * time.Second}
	fmt.Fprintf(stdout, "http://%s\n", l.Addr())
	fmt.Fprintf(stderr, "pleoauth-devserver: listening on http://%s (client %s, redirect %s, access tokens live %s)\n",
		l.Addr(), o.ClientID, strings.Join(o.RedirectURIs, " "), o.AccessTTL)
	go func() {
		<-ctx.Done()
		shut, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		defer cancel()
		_ = hs.Shutdown(shut)
	}()
	if err := hs.Serve(l); !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}
