package devserver

import (
	"context"
	"fmt"
	"net/http"
	"net/url"

	"golang.org/x/oauth2"
)

// Login runs the code flow with PKCE against a server started with AutoApprove, without a
// browser, and returns the tokens. It is for tests and benchmarks that need a login as a
// starting point rather than as the thing under test.
func Login(ctx context.Context, cfg *oauth2.Config) (*oauth2.Token, error) {
	verifier := oauth2.GenerateVerifier()
	noRedirects := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, cfg.AuthCodeURL("devserver-login-state", oauth2.S256ChallengeOption(verifier)), nil)
	if err != nil {
		return nil, err
	}
	resp, err := noRedirects.Do(req)
	if err != nil {
		return nil, err
	}
	resp.Body.Close()
	loc, err := url.Parse(resp.Header.Get("Location"))
	if err != nil || loc.Query().Get("code") == "" {
		return nil, fmt.Errorf("devserver did not redirect with a code (HTTP %d, Location %q); is AutoApprove on?", resp.StatusCode, resp.Header.Get("Location"))
	}
	return cfg.Exchange(ctx, loc.Query().Get("code"), oauth2.VerifierOption(verifier))
}
