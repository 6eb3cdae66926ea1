package cli

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
	"golang.org/x/oauth2"

	"github.com/pleoauth/pleoauth/internal/config"
	"github.com/pleoauth/pleoauth/internal/failure"
	"github.com/pleoauth/pleoauth/internal/store"
	"github.com/pleoauth/pleoauth/internal/tokenendpoint"
	"github.com/pleoauth/pleoauth/internal/tokens"
)

// loadConfig resolves the configuration; settings that make no sense are usage errors.
func loadConfig(flags *pflag.FlagSet) (*config.Config, error) {
	cfg, err := config.Load(flags)
	return cfg, asUsage(err)
}

// asUsage marks the configuration's usage errors — an unknown environment, a setting that makes
// no sense — for exit code 2.
func asUsage(err error) error {
	var unknown *config.UnknownEnvError
	var usage *config.UsageError
	if errors.As(err, &unknown) || errors.As(err, &usage) {
		return failure.Wrap(failure.Usage, err)
	}
	return err
}

// resolve loads the configuration and the environment a command works on; forLogin also checks
// what a login needs.
func resolve(cmd *cobra.Command, forLogin bool) (*config.Config, config.Environment, error) {
	cfg, err := loadConfig(cmd.Flags())
	if err != nil {
		return nil, config.Environment{}, err
	}
	env, err := environment(cfg, forLogin)
	return cfg, env, err
}

// validToken resolves the environment and returns its access token, valid for --min-ttl and
// refreshed first when needed (or always, with force), through the refresh protocol.
func validToken(cmd *cobra.Command, d *Deps, force bool) (config.Environment, *store.Bundle, error) {
	cfg, env, err := resolve(cmd, false)
	if err != nil {
		return env, nil, err
	}
	res, err := tokenSource(d, cfg, env, openStore(cfg, d)).Token(cmd.Context(), tokens.Request{MinTTL: cfg.MinTTL, Force: force})
	return env, res.Bundle, err
}

// environment returns the selected environment; login also checks what a login needs.
func environment(cfg *config.Config, forLogin bool) (config.Environment, error) {
	get := cfg.Environment
	if forLogin {
		get = cfg.LoginEnvironment
	}
	env, err := get()
	return env, asUsage(err)
}

// secretSource finds the client secret, never from argv: PLEOAUTH_CLIENT_SECRET, then stdin when
// asked to, then the keychain (where a typed secret is kept), then a prompt without echo when a
// person is at the terminal.
type secretSource struct {
	d           *Deps
	cfg         *config.Config
	env         config.Environment
	useKeychain bool
	// stdin, when set, is read for the secret (--client-secret-stdin).
	stdin *bufio.Reader
}

func (s secretSource) get(prompt bool) (string, error) {
	if s.env.ClientSecret != "" {
		return s.env.ClientSecret, nil
	}
	name := s.env.Name
	if s.stdin != nil {
		line, err := s.stdin.ReadString('\n')
		line = strings.TrimRight(line, "\r\n")
		if line == "" {
			return "", fmt.Errorf("env %s: --client-secret-stdin read no secret from stdin (%v); pipe the secret in, followed by a newline", name, err)
		}
		return line, nil
	}
	if s.useKeychain {
		secret, err := clientSecrets(s.cfg, s.d).Load(name)
		if err == nil && secret != "" {
			return secret, nil
		}
	}
	if prompt && s.d.Interactive() {
		secret, err := s.d.ReadSecret(fmt.Sprintf("Client secret for %s (client ID %s): ", name, s.env.ClientID))
		if err != nil {
			return "", fmt.Errorf("env %s: read the client secret: %w", name, err)
		}
		if secret = strings.TrimSpace(secret); secret != "" {
			if s.useKeychain {
				if err := clientSecrets(s.cfg, s.d).Save(name, secret); err != nil {
					fmt.Fprintf(s.d.Stderr, "pleoauth: the client secret was not kept in the keychain (%v); you will be asked again.\n", err)
				}
			}
			return secret, nil
		}
	}
	if prompt {
		return "", fmt.Errorf("env %s has no client secret: set PLEOAUTH_CLIENT_SECRET, pipe it with --client-secret-stdin, or run \"pleoauth login --env %s\" in a terminal to be asked for it", name, name)
	}
	return "", fmt.Errorf("env %s: no client secret to refresh the token with; set PLEOAUTH_CLIENT_SECRET, or run \"pleoauth login --env %s\" in a terminal to keep it in the keychain", name, name)
}

// tokenSource builds the refresh protocol for the selected environment. The client secret is
// looked up only when a refresh is actually needed, so the cached path touches nothing but the
// store.
func tokenSource(d *Deps, cfg *config.Config, env config.Environment, st tokenStore) *tokens.Source {
	secrets := secretSource{d: d, cfg: cfg, env: env, useKeychain: st.Name() == config.StoreKeyring}
	return &tokens.Source{
		Env:     env.Name,
		Store:   st,
		Lock:    lockDir(cfg),
		Now:     d.Now,
		Scopes:  env.Scopes,
		Seed:    d.Getenv("PLEOAUTH_REFRESH_TOKEN"),
		Rotated: onRotate(d, env),
		Refresh: func(ctx context.Context, refreshToken string) (*oauth2.Token, error) {
			if err := config.CheckServerURL(env.TokenURL); err != nil {
				return nil, fmt.Errorf("env %s: token_url %w", env.Name, err)
			}
			secret, err := secrets.get(false)
			if err != nil {
				return nil, err
			}
			client, err := httpClientFor(d, env)
			if err != nil {
				return nil, err
			}
			ctx = context.WithValue(ctx, oauth2.HTTPClient, client)
			cfg := tokenendpoint.OAuth2Config(env, secret)
			tok, err := cfg.TokenSource(ctx, &oauth2.Token{RefreshToken: refreshToken}).Token()
			if err != nil {
				return nil, tokenendpoint.Classify(env.TokenURL, err)
			}
			return tok, nil
		},
	}
}
