package grant

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"runtime"
	"strings"
	"time"

	"golang.org/x/oauth2"

	"github.com/pleoauth/pleoauth/internal/config"
	"github.com/pleoauth/pleoauth/internal/store"
	"github.com/pleoauth/pleoauth/internal/tokenendpoint"
)

// refresh sends one refresh request (RFC 6749 §6) with the client authenticated as the
// environment says (Pleo: client_secret_basic only). The client secret is looked up only here,
// when a refresh is actually needed, so the cached path touches nothing but the store.
func (g *Grant) refresh(ctx context.Context, refreshToken string) (*oauth2.Token, error) {
	env := g.Env
	secret, err := g.clientSecret(false, nil)
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
		return nil, tokenendpoint.Classify(env.TokenURL, err)
	}
	return tok, nil
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
		cmd.Env = append(os.Environ(), "PLEOAUTH_ENV="+env.Name, "PLEOAUTH_PROFILE="+g.Profile)
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
