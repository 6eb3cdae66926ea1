package devserver

import (
	"context"
	"net/http"
	"testing"

	"golang.org/x/oauth2"
)

// call sends method path to the server's API with the bearer token and returns the status.
func call(t *testing.T, base, method, path, token string) int {
	t.Helper()
	req, _ := http.NewRequest(method, base+path, nil)
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	return resp.StatusCode
}

// loginAs logs in for subject, as Pleo's urn_pleo_params_oauth_subject chooses the company.
func loginAs(t *testing.T, cfg *oauth2.Config, subject string) *oauth2.Token {
	t.Helper()
	verifier := oauth2.GenerateVerifier()
	_, loc := authorize(t, cfg.AuthCodeURL("state-123456789", oauth2.S256ChallengeOption(verifier),
		oauth2.SetAuthURLParam("urn_pleo_params_oauth_subject", subject)))
	tok, err := cfg.Exchange(context.Background(), loc.Query().Get("code"), oauth2.VerifierOption(verifier))
	if err != nil {
		t.Fatal(err)
	}
	return tok
}

// TestDisconnectRevokesTheInstallation: DELETE /v1/installations/me answers 204 and revokes every
// access and refresh token of the installation — both logins of the company, the refreshed one
// too — at the API (401) and at the token endpoint (invalid_grant, not counted as a replay),
// while another company's installation of the same client keeps working.
func TestDisconnectRevokesTheInstallation(t *testing.T) {
	s, hs, cfg := start(t, Options{})
	first := login(t, cfg)
	second := login(t, cfg)
	rotated, err := refresh(cfg, second.RefreshToken)
	if err != nil {
		t.Fatal(err)
	}
	other := loginAs(t, cfg, "urn:pleo:company:00000000-0000-4000-8000-0000000000aa")

	if got := call(t, hs.URL, http.MethodDelete, "/v1/installations/me", rotated.AccessToken); got != http.StatusNoContent {
		t.Fatalf("DELETE /v1/installations/me = %d; want 204", got)
	}
	for name, tok := range map[string]*oauth2.Token{"first": first, "rotated": rotated} {
		if got := call(t, hs.URL, http.MethodGet, "/v1/introspect", tok.AccessToken); got != http.StatusUnauthorized {
			t.Errorf("the %s login's access token after the disconnect: %d; want 401", name, got)
		}
		if _, err := refresh(cfg, tok.RefreshToken); oauthError(err) != "invalid_grant" {
			t.Errorf("the %s login's refresh token after the disconnect: %v; want invalid_grant", name, err)
		}
	}
	if got := call(t, hs.URL, http.MethodGet, "/v1/introspect", other.AccessToken); got != http.StatusOK {
		t.Errorf("another company's access token after the disconnect: %d; want 200", got)
	}
	if _, err := refresh(cfg, other.RefreshToken); err != nil {
		t.Errorf("another company's refresh token after the disconnect: %v", err)
	}
	// Revoked tokens die quietly: presenting one is not a replay that revokes a family.
	if st := s.Stats(); st.Disconnects != 1 || st.FamiliesRevoked != 0 {
		t.Errorf("stats = %+v; want 1 disconnect, no family revoked", st)
	}
	// A revoked token cannot disconnect again; a new login can.
	if got := call(t, hs.URL, http.MethodDelete, "/v1/installations/me", rotated.AccessToken); got != http.StatusUnauthorized {
		t.Errorf("DELETE with a revoked token = %d; want 401", got)
	}
	s.InjectFault(FaultAPINotFound, 1, 0)
	if got := call(t, hs.URL, http.MethodDelete, "/v1/installations/me", login(t, cfg).AccessToken); got != http.StatusNotFound {
		t.Errorf("DELETE with the api-404 fault = %d; want 404", got)
	}
	if got := call(t, hs.URL, http.MethodDelete, "/v1/installations/me", ""); got != http.StatusUnauthorized {
		t.Errorf("DELETE without a token = %d; want 401", got)
	}
}
