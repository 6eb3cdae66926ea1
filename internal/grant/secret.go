package grant

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/pleoauth/pleoauth/internal/config"
	"github.com/pleoauth/pleoauth/internal/failure"
	"github.com/pleoauth/pleoauth/internal/store"
)

// ErrNoSecretOnStdin means the secret was to come from stdin and none did.
var ErrNoSecretOnStdin = errors.New("no client secret on stdin")

// keptSecret is where a login's store keeps a client secret that came in at login, typed at
// the prompt or piped with --client-secret-stdin, so that refreshes find it: a login whose
// secret is kept nowhere cannot refresh. The keychain store keeps it in the keychain, per
// environment (it belongs to the client), until logout --forget-secret; the file store in a
// 0600 file beside the login's tokens, forgotten with the login. The redis store keeps none:
// it shares tokens across machines, not the client's secret, which each machine that refreshes
// takes from PLEOAUTH_CLIENT_SECRET.
type keptSecret struct {
	keeper interface {
		Load(key string) (string, error)
		Save(key, secret string) error
		Delete(key string) error
	}
	key string
	// where names the place in messages and status: "the keychain", "the file store".
	where string
	// path, for the file store, is the file; the login says it once.
	path string
	// withLogin: forgotten with the login, not only with --forget-secret.
	withLogin bool
}

// keptSecretOf is where the store st keeps a client secret that came in at login; nil for
// none.
func (g *Grant) keptSecretOf(st Store) *keptSecret {
	switch st.Name() {
	case config.StoreKeyring:
		return &keptSecret{keeper: g.clientSecrets(), key: g.Env.Name, where: "the keychain"}
	case config.StoreFile:
		fs := store.FileSecret{Dir: g.tokensDir()}
		path, _ := fs.Path(g.Name)
		return &keptSecret{keeper: fs, key: g.Name, where: "the file store", path: path, withLogin: true}
	}
	return nil
}

// load returns the kept secret, "" when there is none or it cannot be read.
func (k *keptSecret) load() string {
	if k == nil {
		return ""
	}
	s, _ := k.keeper.Load(k.key)
	return s
}

// ErrTwoSecrets means the client secret was to come both from PLEOAUTH_CLIENT_SECRET and from
// stdin. Neither is picked: the line left unread on stdin would be read next as a pasted
// address, putting the secret through the paste checker and its messages.
var ErrTwoSecrets = errors.New("--client-secret-stdin and PLEOAUTH_CLIENT_SECRET both give the client secret; use one")

// loginSecret finds the client secret for a login, never from argv: PLEOAUTH_CLIENT_SECRET,
// or stdin when given (never both), then the secret this store keeps, then — when a person is
// at the terminal — a prompt without echo. fresh tells whether it came in now (stdin or
// prompt), to be kept with the login once it worked.
func (g *Grant) loginSecret(ctx context.Context, stdin *bufio.Reader) (secret string, fresh bool, err error) {
	name := g.Env.Name
	if g.Env.ClientSecret != "" && stdin != nil {
		return "", false, failure.Wrap(failure.Usage, ErrTwoSecrets)
	}
	if g.Env.ClientSecret != "" {
		return g.Env.ClientSecret, false, nil
	}
	if stdin != nil {
		line, err := stdin.ReadString('\n')
		line = strings.TrimRight(line, "\r\n")
		if line == "" {
			return "", false, fmt.Errorf("env %s: %w (%v); pipe the secret in, followed by a newline", name, ErrNoSecretOnStdin, err)
		}
		return line, true, nil
	}
	if s := g.secrets.load(); s != "" {
		return s, false, nil
	}
	if g.d.Interactive != nil && g.d.Interactive() {
		secret, err := g.d.ReadSecret(ctx, fmt.Sprintf("Client secret for %s (client ID %s): ", name, g.Env.ClientID))
		if err != nil {
			return "", false, fmt.Errorf("env %s: read the client secret: %w", name, err)
		}
		if secret = strings.TrimSpace(secret); secret != "" {
			return secret, true, nil
		}
		return "", false, fmt.Errorf("env %s: no client secret was typed; log in again and type the one Pleo sent with client ID %s, or set PLEOAUTH_CLIENT_SECRET", name, g.Env.ClientID)
	}
	return "", false, fmt.Errorf("env %s has no client secret: set PLEOAUTH_CLIENT_SECRET, pipe it with --client-secret-stdin, or log in from a terminal to be asked for it", name)
}

// refreshSecret finds the client secret for a refresh: PLEOAUTH_CLIENT_SECRET, then the
// secret this store keeps. Nobody is asked: a refresh runs in scripts.
func (g *Grant) refreshSecret() (string, error) {
	if g.Env.ClientSecret != "" {
		return g.Env.ClientSecret, nil
	}
	if s := g.secrets.load(); s != "" {
		return s, nil
	}
	return "", &noSecretError{fmt.Sprintf("env %s: no client secret to refresh the token with; %s", g.Name, g.noSecretAdvice())}
}

// noSecretError is a refresh that cannot be sent for want of a client secret. Its message
// names the login and the next step already, so [Grant.refresh] passes it on as it is rather
// than adding a second "env …: refresh:" before it.
type noSecretError struct{ msg string }

func (e *noSecretError) Error() string { return e.msg }

// noSecretAdvice is the next step when no client secret is found, as this login's store
// allows.
func (g *Grant) noSecretAdvice() string {
	switch {
	case g.secrets == nil:
		return fmt.Sprintf("set PLEOAUTH_CLIENT_SECRET (the %s store keeps no client secret)", g.store.Name())
	case g.secrets.withLogin:
		return fmt.Sprintf("set PLEOAUTH_CLIENT_SECRET, or log in again (pleoauth login %s) from a terminal or with --client-secret-stdin to keep it in the file store", loginFlags(g.Name))
	default:
		return fmt.Sprintf("set PLEOAUTH_CLIENT_SECRET, or log in again (pleoauth login %s) from a terminal or with --client-secret-stdin to keep it in the keychain", loginFlags(g.Name))
	}
}

// keepSecret keeps a secret that came in at login with the login that worked, or says where
// it went: once, on stderr, for the file store (a plain file, and how to avoid it), and for the
// redis store, which keeps none. A login whose secret came from PLEOAUTH_CLIENT_SECRET keeps
// none, and the file store forgets the one kept with the login it replaced.
func (g *Grant) keepSecret(secret string, fresh bool) error {
	k := g.secrets
	switch {
	case k == nil && fresh:
		fmt.Fprintf(g.d.Stderr, "pleoauth: env %s: the client secret is not kept: the %s store shares tokens, not the client's secret; set PLEOAUTH_CLIENT_SECRET on each machine that refreshes.\n", g.Name, g.store.Name())
		return nil
	case k == nil:
		return nil
	case !fresh && g.Env.ClientSecret != "" && k.withLogin:
		if err := k.keeper.Delete(k.key); err != nil {
			fmt.Fprintf(g.d.Stderr, "pleoauth: env %s: the client secret kept with the earlier login could not be removed (%v)\n", g.Name, err)
		}
		return nil
	case !fresh:
		return nil
	}
	if err := k.keeper.Save(k.key, secret); err != nil {
		return fmt.Errorf("env %s: logged in, but the client secret could not be kept in %s (%v), so refreshing needs PLEOAUTH_CLIENT_SECRET", g.Name, k.where, err)
	}
	if k.path != "" {
		fmt.Fprintf(g.d.Stderr, "pleoauth: the client secret is kept in %s (0600, plain text like the tokens beside it), so refreshes need no keychain; to keep it out of files, set PLEOAUTH_CLIENT_SECRET instead and log in again.\n", k.path)
	}
	return nil
}

// SecretSource says where the client secret of the next refresh would come from, without
// reading it out: "PLEOAUTH_CLIENT_SECRET", "the keychain" or "the file store"; "" when none
// is found.
func (g *Grant) SecretSource() string {
	if g.Env.ClientSecret != "" {
		return "PLEOAUTH_CLIENT_SECRET"
	}
	if g.secrets.load() != "" {
		return g.secrets.where
	}
	return ""
}

// NextRefresh is whether the next refresh of a login can be sent from here.
type NextRefresh struct {
	OK bool
	// Why says what the client secret comes from, or why no refresh can be sent: no refresh
	// token, a refresh token the server refused, or no client secret.
	Why string
	// Fix, when the refresh cannot be sent, is the next step.
	Fix string
}

// NextRefresh says whether the next refresh of the login b can be sent from here, reading no
// secret out.
func (g *Grant) NextRefresh(b *store.Bundle) NextRefresh {
	switch {
	case b == nil || b.AccessToken == "":
		return NextRefresh{Why: "not logged in", Fix: "run pleoauth login " + loginFlags(g.Name)}
	case b.Refused != nil:
		return NextRefresh{Why: "the server refused the refresh token", Fix: "run pleoauth login " + loginFlags(g.Name)}
	case b.RefreshToken == "":
		return NextRefresh{Why: "no refresh token is held", Fix: "run pleoauth login " + loginFlags(g.Name) + " when the access token expires"}
	}
	if from := g.SecretSource(); from != "" {
		return NextRefresh{OK: true, Why: "client secret from " + from}
	}
	return NextRefresh{Why: "no client secret", Fix: g.noSecretAdvice()}
}

// SecretKeptAfterLogout names where a client secret stays once the login is forgotten: the
// keychain keeps the environment's for its next login until logout --forget-secret; "" when
// none stays (the file store's goes with its login).
func (g *Grant) SecretKeptAfterLogout() string {
	if k := g.secrets; k != nil && !k.withLogin && k.load() != "" {
		return k.where
	}
	return ""
}
