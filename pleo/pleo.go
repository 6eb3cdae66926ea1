// Package pleo gives a Go program the access tokens of a pleoauth login, refreshed centrally
// with every other user of the same login: the pleoauth command line, "pleoauth serve", and other
// programs using this package, on one machine or, through a Redis store, on many.
//
// Pleo rotates the refresh token on every refresh and revokes the whole login when a spent one
// is presented again, so a program must not keep its own copy of the tokens and refresh on its
// own (Pleo's integration guide: "centralised refresh", "race-condition prevention"). A
// [TokenSource] instead reads the login from pleoauth's store and refreshes it, when needed,
// under the store's lock, with the spend record and journal that keep a refresh token from being
// sent twice or its answer lost — the same code as "pleoauth token". A person logs in once with
// "pleoauth login"; the program never prompts and never opens a browser.
//
// The configuration is resolved as the command line resolves it: [Options], then the PLEOAUTH_*
// variables, then config.yaml in PLEOAUTH_HOME, then the defaults. A program that gives every
// setting itself sets [Options.Getenv].
//
// The package writes nothing to stdout or stderr; warnings go to [Options.Logger]. (With the
// redis store, go-redis logs a connection pool's failures to stderr through its own
// process-wide logger, which is the program's to set: logging.Disable of
// github.com/redis/go-redis/v9/logging silences it.) The values this package returns are safe
// for concurrent use. Errors can be told apart with errors.Is: [ErrLoginRequired],
// [ErrTemporary] and [ErrConfiguration]; their messages name settings as the command line
// does (--min-ttl for [Options.MinTTL], PLEOAUTH_HOME for [Options.Home]).
package pleo

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"os"
	"time"

	"github.com/spf13/pflag"
	"golang.org/x/oauth2"

	"github.com/pleoauth/pleoauth/internal/config"
	"github.com/pleoauth/pleoauth/internal/grant"
	"github.com/pleoauth/pleoauth/internal/httpclient"
	"github.com/pleoauth/pleoauth/internal/store"
)

// Options select a login and say how to use it. The zero value selects the login the command
// line would: PLEOAUTH_ENV or config.yaml's default_env (else staging), in the default profile.
type Options struct {
	// Env names the environment, as --env does: staging, production, local, or one from
	// config.yaml. Empty means the configured one.
	Env string
	// Profile names the login of the environment, as --profile does. Empty means the configured
	// one, or the default profile.
	Profile string
	// Home is the folder of config.yaml, token files and locks, as PLEOAUTH_HOME is: an absolute
	// path. Empty means PLEOAUTH_HOME, or the per-user config folder's pleoauth.
	Home string
	// MinTTL is how long a token handed out stays valid at least, as --min-ttl is: for a
	// server whose tokens live no longer, half a token's life, with a warning logged. Zero
	// means the configured one (PLEOAUTH_MIN_TTL, min_ttl, else a minute).
	MinTTL time.Duration
	// HTTPClient sends the token requests and, through [Client], the API requests; nil means
	// pleoauth's own (TLS 1.2 or newer, proxies from HTTPS_PROXY, a 30 s bound, no redirects
	// followed). Token requests never follow a redirect, whatever the client's CheckRedirect
	// says, as they carry credentials; and a refresh, once sent, is seen through whatever its
	// context says, so it is bounded by the client's Timeout, or 30 s when that is zero.
	HTTPClient *http.Client
	// Logger receives what the command line would say on stderr: a wait for another process's
	// refresh (level Info) and warnings (level Warn). Nil means they are dropped.
	Logger *slog.Logger
	// Getenv reads the PLEOAUTH_* variables (PLEOAUTH_STORE, PLEOAUTH_REDIS_URL,
	// PLEOAUTH_STORE_KEY, PLEOAUTH_CLIENT_SECRET, …; "pleoauth help environment" lists them);
	// nil means os.Getenv. A program that gives its configuration in full, rather than from
	// the process environment, passes its own.
	Getenv func(name string) string
}

// TokenSource returns a source of the login's access tokens, each valid for at least the min
// TTL when handed out: kept in memory while it is, read from the store or refreshed when not.
// ctx bounds every read and refresh the source makes: once it ends, no refresh starts. A
// refresh already sent to the token endpoint is seen through and saved even when ctx ends,
// since its answer holds the only live refresh token, and its token is handed out.
//
// It checks the configuration but reads no token yet: a login that is missing shows at the
// first Token, as [ErrLoginRequired]. Make one source per login and share it: each holds the
// store's connections (a Redis client, for the redis store).
func TokenSource(ctx context.Context, o Options) (oauth2.TokenSource, error) {
	if err := ctx.Err(); err != nil {
		return nil, classify(fmt.Errorf("pleo.TokenSource: %w", context.Cause(ctx)))
	}
	s, err := open(o)
	if err != nil {
		return nil, err
	}
	return &boundSource{ctx: ctx, s: s}, nil
}

// open resolves o's configuration and opens its login.
func open(o Options) (*source, error) {
	flags := pflag.NewFlagSet("pleo", pflag.ContinueOnError)
	config.AddFlags(flags, "env", "profile", "min_ttl")
	set := map[string]string{"env": o.Env, "profile": o.Profile}
	if o.MinTTL != 0 {
		set["min-ttl"] = o.MinTTL.String()
	}
	for name, value := range set {
		if value != "" {
			_ = flags.Set(name, value) // a text flag takes any text; Load checks it
		}
	}
	getenv := os.Getenv
	if o.Getenv != nil {
		getenv = o.Getenv
	}
	if o.Home != "" {
		outer := getenv
		getenv = func(name string) string {
			if name == "PLEOAUTH_HOME" {
				return o.Home
			}
			return outer(name)
		}
	}
	log := newLogWriter(o.Logger)
	login, err := grant.OpenSelected(flags, getenv, grant.Deps{
		Stderr:      log,
		Getenv:      getenv,
		Now:         time.Now,
		HTTPClient:  tokenClient(o.HTTPClient),
		Keychain:    store.OSKeychain{},
		Interactive: func() bool { return false },
		ReadSecret: func(context.Context, string) (string, error) {
			return "", errNoPrompt
		},
	}, false)
	if err != nil {
		return nil, classify(err)
	}
	return &source{login: login, minTTL: login.MinTTL(), log: log, sem: make(chan struct{}, 1), now: time.Now}, nil
}

// tokenClient is the client for token requests: c, or pleoauth's own, following no redirect.
func tokenClient(c *http.Client) func() *http.Client {
	if c == nil {
		base := httpclient.New()
		return func() *http.Client { return base }
	}
	noRedirects := *c
	noRedirects.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	if noRedirects.Timeout == 0 {
		// A refresh once sent is seen through whatever its context says (its answer holds the
		// only live refresh token), so only the client's timeout ends one that hangs.
		noRedirects.Timeout = tokenTimeout
	}
	return func() *http.Client { return &noRedirects }
}

// tokenTimeout bounds a token request when the caller's client sets no timeout: pleoauth's own
// client's bound.
const tokenTimeout = 30 * time.Second

// boundSource is the [oauth2.TokenSource] of [TokenSource]: source's tokens under one context.
type boundSource struct {
	ctx context.Context
	s   *source
}

// Token returns an access token valid for at least the min TTL. It never returns the refresh
// token, which stays in the store.
func (b *boundSource) Token() (*oauth2.Token, error) {
	t, err := b.s.token(b.ctx)
	if err != nil {
		return nil, err
	}
	return t.oauth2(), nil
}
