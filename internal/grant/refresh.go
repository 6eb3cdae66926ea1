package grant

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"runtime"
	"strings"
	"time"

	"golang.org/x/oauth2"

	"github.com/pleoauth/pleoauth/internal/backoff"
	"github.com/pleoauth/pleoauth/internal/config"
	"github.com/pleoauth/pleoauth/internal/failure"
	"github.com/pleoauth/pleoauth/internal/httpclient"
	"github.com/pleoauth/pleoauth/internal/store"
	"github.com/pleoauth/pleoauth/internal/tokenendpoint"
)

// DefaultBackoff is short and bounded: a script waiting on "pleoauth token" should learn within
// seconds that the server is down, with exit code 5. Only failures the server answered (5xx,
// 429) or that stopped before the request left (connection refused) are retried; a timeout or
// a dropped connection is not, because the server may have rotated the refresh token already.
var DefaultBackoff = []time.Duration{250 * time.Millisecond, time.Second}

// MaxRetryAfter caps how long a 429's Retry-After may hold a command.
const MaxRetryAfter = 5 * time.Second

// sendRefresh sends one refresh request (RFC 6749 §6) with the client authenticated as the
// environment says (Pleo: client_secret_basic only). The client secret is looked up only here,
// when a refresh is actually needed, so the cached path touches nothing but the store.
func (g *Grant) sendRefresh(ctx context.Context, refreshToken string) (*oauth2.Token, error) {
	env := g.Env
	secret, err := g.refreshSecret()
	if err != nil {
		return nil, err
	}
	client, err := g.HTTPClient()
	if err != nil {
		return nil, err
	}
	ctx = context.WithValue(ctx, oauth2.HTTPClient, client)
	tok, err := tokenendpoint.OAuth2Config(env, secret).TokenSource(ctx, &oauth2.Token{RefreshToken: refreshToken}).Token()
	if err != nil {
		return nil, tokenendpoint.Classify(env.TokenURL, err, append(tokenendpoint.CredentialForms(env.ClientID, secret), refreshToken)...)
	}
	return tok, nil
}

// refusalError is the server's refusal of a refresh token (invalid_grant), before it is recorded.
type refusalError struct{ reason string }

func (e *refusalError) Error() string { return "the refresh token was refused (" + e.reason + ")" }

// lostAnswerError is a refresh the server may have carried out — it rotated the refresh token
// — whose answer did not arrive whole or cannot be kept: the refresh token is spent.
type lostAnswerError struct {
	err error
	// unusable: the server answered 2xx with what no client can use (a wrong token type, an
	// expired token), which points at a wrong token_url as much as at a lost login.
	unusable bool
}

func (e *lostAnswerError) Error() string { return e.err.Error() }
func (e *lostAnswerError) Unwrap() error { return e.err }

// refresh sends the refresh request for refreshToken, retrying transient failures that the
// server answered or that never left, with a bounded backoff; previous is the bundle the
// answer replaces (its refresh token and scope are kept when the answer names none).
func (g *Grant) refresh(ctx context.Context, previous *store.Bundle) (*store.Bundle, error) {
	for attempt := 0; ; attempt++ {
		// Once sent, a refresh is seen through even if the user presses Ctrl-C: the server may
		// already have rotated the refresh token, and only saving the answer keeps the login.
		// The HTTP client's timeout still bounds it.
		//
		// The expiry is counted from just before this attempt was sent, not from when its
		// answer arrived: RFC 6749 §5.1's expires_in runs from when the server issued the
		// response, and a process stopped (SIGSTOP, a paused VM) or slow while the request was
		// at the server would otherwise record an expiry later than the server's by as long as
		// it was stopped — and save it to the store, whose other readers (on other machines,
		// with Redis) would hand the token out after the server considers it expired.
		sent := g.d.Now()
		tok, err := g.send(context.WithoutCancel(ctx), previous.RefreshToken)
		if err == nil {
			b, err := g.answer(tok, sent, g.d.Now(), previous)
			if err != nil {
				return nil, &lostAnswerError{err: err, unusable: true}
			}
			return b, nil
		}
		var te *tokenendpoint.Error
		isTE := errors.As(err, &te)
		switch {
		case isTE && te.Refused():
			return nil, &refusalError{reason: te.Reason()}
		case isTE && (te.Unusable != "" || te.Status >= 200 && te.Status < 300):
			// A 2xx says the server carried the refresh out, and rotated: its answer was
			// damaged on the way (a proxy, a cut), is not a token response, or even names an
			// OAuth error (which RFC 6749 §5.2 sends with a 400), but the refresh token is
			// spent all the same, and sending it again would be a replay.
			return nil, &lostAnswerError{err: fmt.Errorf("env %s: refresh: %w", g.Name, err), unusable: true}
		case isTE && te.MaybeProcessed:
			// Never sent again: if the server did rotate, presenting the same refresh token
			// would be a replay and Pleo would revoke the login.
			return nil, &lostAnswerError{err: err}
		case errors.As(err, new(*noSecretError)), errors.As(err, new(*httpclient.CAFileError)):
			return nil, err // they name the login already, and the setting to fix
		case failure.KindOf(err) != failure.Temporary || attempt >= len(g.backoff) || ctx.Err() != nil:
			return nil, fmt.Errorf("env %s: refresh: %w", g.Name, err)
		}
		wait := g.backoff[attempt]
		if isTE && te.RetryAfter > 0 {
			wait = min(te.RetryAfter, MaxRetryAfter)
		}
		if err := g.sleep(ctx, wait); err != nil {
			return nil, err
		}
	}
}

// answer turns a token response to a request sent at sent, which arrived at arrived, into the
// bundle that replaces previous, refusing one that no client could use. An answer that is
// valid but expired by the time it arrived (this process was stopped while it was at the
// server) is kept: it holds the new refresh token, and the old one is spent at the server.
func (g *Grant) answer(tok *oauth2.Token, sent, arrived time.Time, previous *store.Bundle) (*store.Bundle, error) {
	if err := tokenendpoint.CheckTokenType(tok.TokenType); err != nil {
		return nil, fmt.Errorf("env %s: token endpoint %w", g.Name, err)
	}
	if err := tokenendpoint.CheckAccessToken(tok.AccessToken); err != nil {
		return nil, fmt.Errorf("env %s: token endpoint %w", g.Name, err)
	}
	b := newBundle(tok, sent, arrived, g.Env.Scopes)
	// Against sent, where the expiry is counted from: this refuses expires_in not positive,
	// not an answer that merely arrived late.
	if !b.Expiry.After(sent) {
		return nil, fmt.Errorf("env %s: the token endpoint issued an access token that is already expired (expires_in not positive); report it to the server's operators", g.Name)
	}
	if b.RefreshToken == "" {
		b.RefreshToken = previous.RefreshToken // RFC 6749 §6: the server may keep the old one
	}
	if b.Scope == "" {
		b.Scope = previous.Scope
	}
	b.Subject, b.Seed, b.Replacing = previous.Subject, previous.Seed, previous.Replacing
	return b, nil
}

// sleep waits d or until ctx ends: Deps' sleep (a test's clock), else [backoff.Sleep].
func (g *Grant) sleep(ctx context.Context, d time.Duration) error {
	if g.d.Sleep != nil {
		return g.d.Sleep(ctx, d)
	}
	return backoff.Sleep(ctx, d)
}

// onRotate returns the hook that hands each new refresh token to the environment's on_rotate
// command, or nil when there is none. Pleo rotates the refresh token on every refresh, so a CI
// job that keeps it in a secret must write the new one back, or the next job starts from a spent
// token. The token goes to the command's stdin, never its argv; the command's output goes to
// stderr, so stdout keeps carrying only pleoauth's data. The command runs while the refresh lock
// is held, after the tokens were saved here, and is bounded by on_rotate_timeout.
func (g *Grant) onRotate() func(*store.Bundle) error {
	env := g.Env
	if env.OnRotate == "" {
		return nil
	}
	timeout := g.cfg.OnRotateTimeout
	if timeout <= 0 {
		timeout = config.DefaultOnRotateTimeout
	}
	return func(b *store.Bundle) error {
		ctx, cancel := context.WithTimeout(context.Background(), timeout)
		defer cancel()
		shell, flag := "sh", "-c"
		if runtime.GOOS == "windows" {
			shell, flag = "cmd", "/C"
		}
		cmd := exec.CommandContext(ctx, shell, flag, env.OnRotate)
		// The command needs the new refresh token (on stdin), not the secrets pleoauth runs on.
		cmd.Env = config.ChildEnv(os.Environ(), "PLEOAUTH_ENV="+env.Name, "PLEOAUTH_PROFILE="+g.Profile)
		cmd.Stdin = strings.NewReader(b.RefreshToken + "\n")
		cmd.Stdout, cmd.Stderr = g.d.Stderr, g.d.Stderr
		// The command's children may hold its output open; stop waiting for them with it.
		cmd.WaitDelay = time.Second
		err := cmd.Run()
		if ctx.Err() == context.DeadlineExceeded {
			err = fmt.Errorf("did not finish within %s (on_rotate_timeout)", timeout)
		}
		if err != nil {
			return fmt.Errorf("the on_rotate command failed (%v), so the new refresh token was not written back; it is stored here, and export-refresh-token prints it", err)
		}
		return nil
	}
}
