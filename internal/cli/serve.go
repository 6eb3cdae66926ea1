package cli

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/pleoauth/pleoauth/internal/config"
	"github.com/pleoauth/pleoauth/internal/failure"
	"github.com/pleoauth/pleoauth/internal/grant"
	"github.com/pleoauth/pleoauth/internal/privatefile"
	"github.com/pleoauth/pleoauth/internal/serve"
	"github.com/pleoauth/pleoauth/internal/store"
)

type serveOptions struct {
	Addr       string
	PostmanEnv string
}

func newServeCmd(d *Deps) *cobra.Command {
	o := &serveOptions{}
	cmd := &cobra.Command{
		Use:   "serve",
		Short: "Serve always-fresh tokens on loopback, for Postman, Newman and local programs",
		Long: fmt.Sprintf(`Serve answers GET /token on a loopback address with the JSON of "pleoauth token --format
json": a token valid for at least min_ttl (query parameter, default --min-ttl), refreshed first
when needed through the same lock as every other pleoauth process. A Postman or Newman
pre-request script fetches it before each request, so a run can outlast any token (see the
README's Postman section). GET /healthz answers "ok".

Only the holder of the serve key may ask: every request sends "Authorization: Bearer <key>".
The key is random for each start, unless PLEOAUTH_SERVE_KEY gives one; serve writes it to
PLEOAUTH_HOME/serve.<env>.key (mode 0600, removed when serve stops) and, with --postman-env, into a
Postman environment (pleoauthUrl, pleoauthKey, baseUrl). One serve runs per login: a second one
for the same login refuses to start, naming the pid of the first (the lock is
PLEOAUTH_HOME/serve.<env>.lock). Requests naming another host (DNS rebinding), coming from a web
page (any Origin header) or naming a URL rather than a path in the request line are refused.
Wrong keys are answered one after another, each later than the last (up to 5 s apart), across
all requests, until a minute passes without one.

Serve listens on 127.0.0.1 and ::1, port %d unless --addr says otherwise (port 0 picks a free
one), never on another interface. It listens on every address --addr names or refuses to start
(exit 1), naming the address in use and, where it can tell, the program holding it: a client
that tries ::1 first for "localhost" (Node, so Newman; macOS) must never reach another program
instead. It runs in the foreground; Ctrl-C or SIGTERM stop it after the requests in flight, a
refresh already sent included, have been answered.

Answers: 200 the token; 401 {"error":"invalid_key"} or {"error":"login_required"} with the login
to run; 503 {"error":"temporarily_unavailable"} with Retry-After; 429 {"error":"too_many_requests"}
with Retry-After, for every request whatever its key, while more than 30 s of wrong-key answers
are queued. After three wrong keys, each makes every later request wait its turn, so an answer's
timing says nothing about the key. One line per request on stderr (time, method, path — /token,
/healthz or <other-path> — and of the query only a min_ttl that is a duration, URL-escaped;
status, env, refreshed, duration), never a token or the key.`, serve.DefaultPort),
		Example: `  pleoauth serve --env staging --postman-env pleo-staging.postman_environment.json
  curl -s -H "Authorization: Bearer $(cat ~/.config/pleoauth/serve.staging.key)" http://127.0.0.1:7536/token
  PLEOAUTH_SERVE_KEY=... pleoauth serve --addr 127.0.0.1:0`,
		Args: cobra.NoArgs,
		RunE: withGrant(d, false, func(ctx context.Context, g *grant.Grant, _ []string) error {
			return runServe(ctx, d, g, o)
		}),
	}
	config.AddFlags(cmd.Flags(), "min_ttl")
	cmd.Flags().StringVar(&o.Addr, "addr", "", fmt.Sprintf("loopback address to listen on: 127.0.0.1:PORT, [::1]:PORT, or :PORT or localhost:PORT for both (default :%d; port 0 picks one)", serve.DefaultPort))
	cmd.Flags().StringVar(&o.PostmanEnv, "postman-env", "", "also write a Postman environment with pleoauthUrl, pleoauthKey and baseUrl to this file (mode 0600)")
	return cmd
}

func runServe(ctx context.Context, d *Deps, g *grant.Grant, o *serveOptions) error {
	env := g.Env
	key := d.Getenv("PLEOAUTH_SERVE_KEY")
	switch {
	case key == "":
		key = serve.NewKey()
	case len(key) < 16:
		return failure.Wrap(failure.Usage, fmt.Errorf("env %s: PLEOAUTH_SERVE_KEY is %d characters; give at least 16 (or unset it for a random key)", env.Name, len(key)))
	case strings.IndexFunc(key, func(r rune) bool { return r <= ' ' || r == 0x7f }) >= 0:
		return failure.Wrap(failure.Usage, fmt.Errorf("env %s: PLEOAUTH_SERVE_KEY holds a space or control character, which no HTTP header can carry; set it without them", env.Name))
	}
	// One serve per login: its key file is its own, written and removed by it alone.
	keyFile := filepath.Join(g.Home(), "serve."+g.Name+".key")
	if err := privatefile.MakeDir(g.Home()); err != nil {
		return fmt.Errorf("env %s: %w", env.Name, err)
	}
	release, err := serve.Claim(filepath.Join(g.Home(), "serve."+g.Name+".lock"))
	var running *serve.AlreadyServedError
	switch {
	case errors.As(err, &running):
		return fmt.Errorf("env %s: %w, with its key in %s; send your requests to it, or stop it first", env.Name, err, keyFile)
	case err != nil:
		return fmt.Errorf("env %s: %w", env.Name, err)
	}
	defer release()
	listeners, hosts, err := serve.Listen(o.Addr)
	if err != nil {
		return fmt.Errorf("env %s: %w", env.Name, err)
	}
	url := "http://" + listeners[0].Addr().String()

	// The key goes where clients can read it and nobody else can; never to the terminal or a log.
	// One file per login, so that servers of two environments keep their own; the claim above
	// makes it this server's alone, and it is removed at the end unless a person changed it.
	if err := privatefile.Write(keyFile, []byte(key+"\n")); err != nil {
		return fmt.Errorf("env %s: %w", env.Name, err)
	}
	defer func() {
		if data, err := os.ReadFile(keyFile); err == nil && strings.TrimSpace(string(data)) == key {
			_ = os.Remove(keyFile)
		}
	}()
	if o.PostmanEnv != "" {
		if err := writeServePostmanEnv(d, o.PostmanEnv, env, url, key); err != nil {
			return fmt.Errorf("env %s: %w", env.Name, err)
		}
	}

	h := serve.Handler(serve.Options{
		Key: key, Env: g.Name, MinTTL: g.MinTTL(), Log: d.Stderr, Now: d.Now,
		Token: func(ctx context.Context, minTTL time.Duration) (*store.Bundle, bool, string, error) {
			res, err := g.TokenResult(ctx, grant.Request{MinTTL: minTTL})
			return res.Bundle, res.Refreshed, res.Warning, err
		},
		WriteToken: func(w io.Writer, b *store.Bundle) error {
			return json.NewEncoder(w).Encode(newTokenReport(g.Env.Name, b, d.Now()))
		},
		Explain: func(err error) string { return err.Error() + nextStep(err) },
	}, hosts)
	fmt.Fprintf(d.Stderr, "pleoauth serve: tokens of env %s at %s/token (key in %s", g.Name, url, keyFile)
	if o.PostmanEnv != "" {
		fmt.Fprintf(d.Stderr, " and %s", o.PostmanEnv)
	}
	fmt.Fprintln(d.Stderr, "); Ctrl-C stops it")
	if err := serve.Serve(ctx, listeners, h, time.Minute); err != nil {
		return fmt.Errorf("env %s: serve: %w", env.Name, err)
	}
	return ctx.Err()
}

// writeServePostmanEnv writes a Postman environment pointing at serve: its URL, its key (a
// secret variable) and the API's base URL. The pre-request script in the README reads them.
func writeServePostmanEnv(d *Deps, path string, env config.Environment, url, key string) error {
	pe := postmanEnvironment{
		ID:   stableUUID("pleoauth serve postman environment " + env.Name + " " + env.APIURL),
		Name: "pleoauth serve " + env.Name,
		Values: []postmanValue{
			{Key: "baseUrl", Value: strings.TrimSuffix(env.APIURL, "/"), Type: "default", Enabled: true},
			{Key: "pleoauthUrl", Value: url, Type: "default", Enabled: true},
			{Key: "pleoauthKey", Value: key, Type: "secret", Enabled: true},
		},
		Scope:      "environment",
		ExportedAt: d.Now().UTC().Format(time.RFC3339),
		ExportedBy: "pleoauth/" + d.Build.Resolve().Version,
	}
	return writePostmanFile(path, pe)
}
