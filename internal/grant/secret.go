package grant

import (
	"bufio"
	"errors"
	"fmt"
	"strings"

	"github.com/pleoauth/pleoauth/internal/config"
)

// ErrNoSecretOnStdin means the secret was to come from stdin and none did.
var ErrNoSecretOnStdin = errors.New("no client secret on stdin")

// clientSecret finds the client secret, never from argv: PLEOAUTH_CLIENT_SECRET, then stdin
// when given, then the keychain (where a typed secret is kept), then — when prompt is set and a
// person is at the terminal — a prompt without echo, whose answer is kept in the keychain.
func (g *Grant) clientSecret(prompt bool, stdin *bufio.Reader) (string, error) {
	name := g.Env.Name
	if g.Env.ClientSecret != "" {
		return g.Env.ClientSecret, nil
	}
	if stdin != nil {
		line, err := stdin.ReadString('\n')
		line = strings.TrimRight(line, "\r\n")
		if line == "" {
			return "", fmt.Errorf("env %s: %w (%v); pipe the secret in, followed by a newline", name, ErrNoSecretOnStdin, err)
		}
		return line, nil
	}
	useKeychain := g.store.Name() == config.StoreKeyring
	if useKeychain {
		if secret, err := g.clientSecrets().Load(name); err == nil && secret != "" {
			return secret, nil
		}
	}
	if prompt && g.d.Interactive() {
		secret, err := g.d.ReadSecret(fmt.Sprintf("Client secret for %s (client ID %s): ", name, g.Env.ClientID))
		if err != nil {
			return "", fmt.Errorf("env %s: read the client secret: %w", name, err)
		}
		if secret = strings.TrimSpace(secret); secret != "" {
			if useKeychain {
				if err := g.clientSecrets().Save(name, secret); err != nil {
					fmt.Fprintf(g.d.Stderr, "pleoauth: the client secret was not kept in the keychain (%v); you will be asked again.\n", err)
				}
			}
			return secret, nil
		}
	}
	if prompt {
		return "", fmt.Errorf("env %s has no client secret: set PLEOAUTH_CLIENT_SECRET, pipe it with --client-secret-stdin, or log in from a terminal to be asked for it", name)
	}
	return "", fmt.Errorf("env %s: no client secret to refresh the token with; set PLEOAUTH_CLIENT_SECRET, or log in once from a terminal to keep it in the keychain", name)
}

// SecretSource says where the client secret would come from, without reading it out: "" when
// none is found.
func (g *Grant) SecretSource() string {
	if g.Env.ClientSecret != "" {
		return "PLEOAUTH_CLIENT_SECRET"
	}
	if g.store.Name() == config.StoreKeyring {
		if s, _ := g.clientSecrets().Load(g.Env.Name); s != "" {
			return "the keychain"
		}
	}
	return ""
}
