package grant

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"time"

	"golang.org/x/oauth2"

	"github.com/pleoauth/pleoauth/internal/authcode"
	"github.com/pleoauth/pleoauth/internal/failure"
	"github.com/pleoauth/pleoauth/internal/store"
	"github.com/pleoauth/pleoauth/internal/tokens"
)

// Request says what token the caller needs.
type Request = tokens.Request

// Token returns a bundle whose access token is valid for at least r.MinTTL, refreshed first
// when needed (or always, with r.Force) through the refresh protocol.
func (g *Grant) Token(ctx context.Context, r Request) (*store.Bundle, error) {
	b, _, err := g.TokenRefreshed(ctx, r)
	return b, err
}

// TokenRefreshed is [Grant.Token], also telling whether this call refreshed the token (rather
// than found one valid, or one another process had just refreshed).
func (g *Grant) TokenRefreshed(ctx context.Context, r Request) (*store.Bundle, bool, error) {
	res, err := g.source().Token(ctx, r)
	return res.Bundle, res.Refreshed, err
}

// Login runs flow and keeps the tokens it brings. The lock is taken, and the store proved
// writable, after the browser's redirect arrived and before its code is exchanged: a code is
// spent by the exchange, so its tokens must have a place to go; and the lock keeps a concurrent
// refresh from interleaving with this login's write.
func (g *Grant) Login(ctx context.Context, flow *authcode.Login) (*store.Bundle, error) {
	var unlock func()
	flow.BeforeExchange = func(ctx context.Context) error {
		var err error
		if unlock, err = g.lock(ctx); err != nil {
			return err
		}
		return g.Check()
	}
	defer func() {
		if unlock != nil {
			unlock()
		}
	}()
	var b *store.Bundle
	flow.Keep = func(_ context.Context, tok *oauth2.Token) error {
		b = tokens.NewBundle(tok, g.d.Now(), g.Env.Scopes)
		if err := g.store.Save(g.Name, b); err != nil {
			b = nil
			return fmt.Errorf("the login worked but the tokens could not be stored: %w", err)
		}
		return nil
	}
	if _, err := flow.Run(ctx); err != nil {
		return nil, err
	}
	if hook := g.onRotate(); hook != nil && b.RefreshToken != "" {
		if err := hook(b); err != nil {
			return b, fmt.Errorf("env %s: logged in, but %w", g.Name, err)
		}
	}
	return b, nil
}

// RecordSubject keeps whose login this is (a Pleo company or organisation) in the stored
// bundle, so that status shows it without asking the API.
func (g *Grant) RecordSubject(ctx context.Context, subject string) error {
	unlock, err := g.lock(ctx)
	if err != nil {
		return err
	}
	defer unlock()
	b, err := g.store.Load(g.Name)
	if err != nil {
		return fmt.Errorf("env %s: %w", g.Name, err)
	}
	b.Subject = subject
	return g.store.Save(g.Name, b)
}

// LoginSecret is the client secret for a login: as for a refresh, and else from stdin (when
// given) or a prompt.
func (g *Grant) LoginSecret(stdin *bufio.Reader) (string, error) {
	return g.clientSecret(true, stdin)
}

// Logout forgets the login's tokens and, with forgetSecret, the client secret kept in the
// keychain. It holds the lock, so a refresh in flight is not undone by the delete or the other
// way round.
func (g *Grant) Logout(ctx context.Context, forgetSecret bool) error {
	unlock, err := g.lock(ctx)
	if err != nil {
		return err
	}
	defer unlock()
	if err := g.store.Delete(g.Name); err != nil {
		return fmt.Errorf("env %s: %w", g.Name, err)
	}
	if forgetSecret && g.store.Name() == "keyring" {
		if err := g.clientSecrets().Delete(g.Env.Name); err != nil {
			return fmt.Errorf("env %s: the tokens are gone, but the client secret could not be removed: %w", g.Name, err)
		}
	}
	return nil
}

// ErrNoRefreshToken means the login holds no refresh token to export.
var ErrNoRefreshToken = errors.New("the server issued no refresh token")

// Export hands the login's refresh token to write and then, unless keep is set, forgets the
// login here: two holders of one rotating refresh token spend each other's token. Both happen
// under the lock, so no refresh here rotates the token between the two.
func (g *Grant) Export(ctx context.Context, keep bool, write func(refreshToken string) error) error {
	unlock, err := g.lock(ctx)
	if err != nil {
		return err
	}
	defer unlock()
	b, err := g.store.Load(g.Name)
	switch {
	case errors.Is(err, store.ErrNotFound):
		return failure.NeedLogin(g.Name, "not logged in", nil)
	case err != nil:
		return fmt.Errorf("env %s: %w", g.Name, err)
	case b.Refused != nil:
		return failure.NeedLogin(g.Name, "the server refused this login's refresh token ("+b.Refused.Reason+"), so there is nothing worth exporting", nil)
	case b.RefreshToken == "":
		return fmt.Errorf("env %s: %w, so there is nothing to export", g.Name, ErrNoRefreshToken)
	}
	if err := write(b.RefreshToken); err != nil {
		return err
	}
	if keep {
		return nil
	}
	if err := g.store.Delete(g.Name); err != nil {
		return fmt.Errorf("env %s: the refresh token was handed out, but the login here could not be removed: %w", g.Name, err)
	}
	return nil
}

// LoginExistsError means an import would replace a working login and was not told to.
type LoginExistsError struct{ Env string }

func (e *LoginExistsError) Error() string {
	return "env " + e.Env + " already holds a login; importing would replace it"
}

// Import starts the login over from refreshToken. The token is refreshed at once, so a bad one
// is found now and the one kept is fresh; only when that worked does it replace what the store
// holds, so a failed import never costs the login already there. A working login is replaced
// only with replace set; one that is missing, unreadable or refused always is.
func (g *Grant) Import(ctx context.Context, refreshToken string, replace bool, minTTL time.Duration) (*store.Bundle, error) {
	src := g.source()
	src.Seed = ""
	res, err := src.Import(ctx, refreshToken, minTTL, func(current *store.Bundle) error {
		if current != nil && current.Refused == nil && !replace {
			return failure.Wrap(failure.Usage, &LoginExistsError{Env: g.Name})
		}
		return nil
	})
	return res.Bundle, err
}

// Status is what is known of a login without asking any server.
type Status struct {
	Store string
	// Bundle is nil when no tokens are stored.
	Bundle *store.Bundle
}

// Status reads the login as stored, first finishing (under the lock) a save that a crash
// interrupted.
func (g *Grant) Status(ctx context.Context) (Status, error) {
	st := Status{Store: g.store.Name()}
	if g.store.Pending(g.Name) {
		unlock, err := g.lock(ctx)
		if err != nil {
			return st, err
		}
		unlock()
	}
	b, err := g.store.Load(g.Name)
	switch {
	case errors.Is(err, store.ErrNotFound):
		return st, nil
	case err != nil:
		return st, fmt.Errorf("env %s: %w", g.Name, err)
	}
	st.Bundle = b
	return st, nil
}
