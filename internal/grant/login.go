package grant

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net/url"

	"golang.org/x/oauth2"

	"github.com/pleoauth/pleoauth/internal/authcode"
	"github.com/pleoauth/pleoauth/internal/store"
	"github.com/pleoauth/pleoauth/internal/tokenendpoint"
)

// LoginOptions are the parts of a login that the command line chooses: how the person is
// reached (browser, paste, progress) and what the authorization request carries.
type LoginOptions struct {
	// Verifier is the PKCE code verifier; a fresh one is made when empty.
	Verifier string
	// AuthParams are extra parameters of the authorization request, such as Pleo's
	// urn_pleo_params_oauth_subject.
	AuthParams url.Values
	// OpenBrowser opens the authorization URL; nil only prints it.
	OpenBrowser func(url string) error
	// Paste, when set, is read for a redirect address pasted by hand; a redirect URI off this
	// machine needs it.
	Paste io.Reader
	// Waiting, when set, runs while the login waits for the browser.
	Waiting func(ctx context.Context)
	// Stderr, when set, carries the login's messages instead of the Deps' stderr: a progress
	// display that erases its line before each.
	Stderr io.Writer
	// SecretIn, when set, is read for the client secret (--client-secret-stdin).
	SecretIn *bufio.Reader
	// Force replaces a login sealed under another store key.
	Force bool
}

// Login runs the authorization code flow for this login and keeps the tokens it brings.
//
// The lock is taken after the browser's redirect arrived and before its code is exchanged:
// the code is spent by the exchange, so the login's entry is written first (a login being
// replaced records the spend, a new one holds only the spend) — the proof that the tokens
// have a place to go — and the answer is journalled on this machine before it is saved. The
// lock keeps a concurrent refresh from interleaving with this login's write.
func (g *Grant) Login(ctx context.Context, o LoginOptions) (*store.Bundle, error) {
	secret, fresh, err := g.loginSecret(ctx, o.SecretIn)
	if err != nil {
		return nil, err
	}
	client, err := g.HTTPClient()
	if err != nil {
		return nil, err
	}
	stderr := o.Stderr
	if stderr == nil {
		stderr = g.d.Stderr
	}
	flow := &authcode.Login{
		OAuth2:      tokenendpoint.OAuth2Config(g.Env, secret),
		Issuer:      g.Env.Issuer,
		Verifier:    o.Verifier,
		AuthParams:  o.AuthParams,
		HTTPClient:  client,
		Stderr:      stderr,
		OpenBrowser: o.OpenBrowser,
		Paste:       o.Paste,
		Waiting:     o.Waiting,
	}

	var (
		unlock  func()
		current *store.Bundle
		spend   *store.Spend
		key     store.JournalKey
		kept    *store.Bundle
		marked  bool
	)
	defer func() {
		if unlock != nil {
			unlock()
		}
	}()
	flow.BeforeExchange = func(ctx context.Context) error {
		var err error
		if unlock, err = g.lock(ctx); err != nil {
			return err
		}
		if current, err = g.replaceable(o.Force, func(*store.Bundle) error { return nil }); err != nil {
			return err
		}
		if key, err = g.store.JournalKey(g.Name); err != nil {
			return fmt.Errorf("env %s: tokens cannot be stored: %w", g.Name, err)
		}
		spend = g.newSpend(store.SpendCode)
		if err := g.markReplacing(current, spend, &store.Bundle{}); err != nil {
			return fmt.Errorf("env %s: tokens cannot be stored: %w", g.Name, err)
		}
		marked = true
		return nil
	}
	flow.Keep = func(ctx context.Context, tok *oauth2.Token) error {
		b := NewBundle(tok, g.d.Now(), g.Env.Scopes)
		if err := g.keep(ctx, key, &store.JournalEntry{Answers: spend.ID, Bundle: b}, "logged in"); err != nil {
			return fmt.Errorf("the login worked but the tokens could not be stored: %w", err)
		}
		kept = b
		return nil
	}
	_, err = flow.Run(ctx)
	if err != nil {
		if marked && kept == nil && !g.journal.Holds(g.Name) {
			_ = g.undoReplacing(current) // the code brought nothing to keep
		}
		return nil, err
	}
	// Still under the lock, which both stores on this machine share.
	g.forgetElsewhere()
	if err := g.keepSecret(secret, fresh); err != nil {
		return kept, err
	}
	if hook := g.onRotate(); hook != nil && kept.RefreshToken != "" {
		if err := hook(kept); err != nil {
			return kept, fmt.Errorf("env %s: logged in, but %w", g.Name, err)
		}
	}
	return kept, nil
}
