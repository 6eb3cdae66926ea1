package cli

import (
	"bufio"
	"errors"
	"fmt"
	"path/filepath"
	"strings"

	"github.com/spf13/pflag"

	"github.com/pleoauth/pleoauth/internal/config"
	"github.com/pleoauth/pleoauth/internal/failure"
	"github.com/pleoauth/pleoauth/internal/store"
)

// loadConfig resolves the configuration; a config file that cannot be read is an error, not a
// default.
func loadConfig(flags *pflag.FlagSet) (*config.Config, error) {
	return config.Load(flags)
}

// environment returns the selected environment; login also checks what a login needs.
func environment(cfg *config.Config, forLogin bool) (config.Environment, error) {
	get := cfg.Environment
	if forLogin {
		get = cfg.LoginEnvironment
	}
	env, err := get()
	var unknown *config.UnknownEnvError
	if errors.As(err, &unknown) {
		return env, failure.Wrap(failure.Usage, err)
	}
	return env, err
}

// tokenStore is where the environment's tokens live.
func tokenStore(cfg *config.Config) store.File {
	return store.File{Dir: filepath.Join(cfg.Home, "tokens")}
}

// clientSecret finds the client secret without ever reading it from argv: the environment
// variable, then stdin when asked to, then a prompt without echo when a person is there.
func clientSecret(d *Deps, env config.Environment, fromStdin bool) (string, error) {
	if env.ClientSecret != "" {
		return env.ClientSecret, nil
	}
	if fromStdin {
		line, err := bufio.NewReader(d.Stdin).ReadString('\n')
		line = strings.TrimRight(line, "\r\n")
		if line == "" {
			return "", fmt.Errorf("env %s: --client-secret-stdin read no secret from stdin (%v); pipe the secret in, followed by a newline", env.Name, err)
		}
		return line, nil
	}
	if d.Interactive() {
		s, err := d.ReadSecret(fmt.Sprintf("Client secret for %s (client ID %s): ", env.Name, env.ClientID))
		if err != nil {
			return "", fmt.Errorf("env %s: read the client secret: %w", env.Name, err)
		}
		if s = strings.TrimSpace(s); s != "" {
			return s, nil
		}
	}
	return "", fmt.Errorf("env %s has no client secret: set PLEOAUTH_CLIENT_SECRET, pipe it with --client-secret-stdin, or run \"pleoauth login --env %s\" in a terminal to be asked for it", env.Name, env.Name)
}
