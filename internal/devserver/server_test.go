package devserver

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"golang.org/x/oauth2"

	"github.com/pleoauth/pleoauth/internal/oauthtest"
)

const (
	testClient   = "client-1"
	testSecret   = "secret-1"
	testRedirect = "http://localhost:18765/callback"
)

func start(t *testing.T, o Options) (*Server, *httptest.Server, *oauth2.Config) {
	t.Helper()
	o.ClientID, o.ClientSecret, o.RedirectURIs = testClient, testSecret, []string{testRedirect}
	if o.AccessTTL == 0 {
		o.AccessTTL = time.Minute
	}
	o.RefreshTTL = time.Hour
	o.AutoApprove = true
	s, err := New(o)
	if err != nil {
		t.Fatal(err)
	}
	hs := httptest.NewServer(s)
	t.Cleanup(hs.Close)
	cfg := &oauth2.Config{
		ClientID: testClient, ClientSecret: testSecret, RedirectURL: testRedirect, Scopes: []string{"users:read"},
		Endpoint: oauth2.Endpoint{AuthURL: hs.URL + "/oauth/authorize", TokenURL: hs.URL + "/oauth/token", AuthStyle: oauth2.AuthStyleInHeader},
	}
	return s, hs, cfg
}

// authorize returns the redirect the server sends for an authorization URL.
func authorize(t *testing.T, authURL string) (int, *url.URL) {
	t.Helper()
	resp, err := oauthtest.NoRedirects().Get(authURL)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	loc, _ := url.Parse(resp.Header.Get("Location"))
	return resp.StatusCode, loc
}

func login(t *testing.T, cfg *oauth2.Config) *oauth2.Token {
	t.Helper()
	verifier := oauth2.GenerateVerifier()
	_, loc := authorize(t, cfg.AuthCodeURL("state-123456789", oauth2.S256ChallengeOption(verifier)))
	code := loc.Query().Get("code")
	if code == "" {
		t.Fatalf("no code in redirect %s", loc)
	}
	tok, err := cfg.Exchange(context.Background(), code, oauth2.VerifierOption(verifier))
	if err != nil {
		t.Fatal(err)
	}
	return tok
}

func refresh(cfg *oauth2.Config, rt string) (*oauth2.Token, error) {
	return cfg.TokenSource(context.Background(), &oauth2.Token{RefreshToken: rt}).Token()
}

func oauthError(err error) string {
	if re, ok := err.(*oauth2.RetrieveError); ok {
		return re.ErrorCode
	}
	return ""
}

// TestRefreshRotationAndReplay: every refresh returns a new refresh token and invalidates the
// old; presenting a used one revokes the whole family, as Pleo does.
func TestRefreshRotationAndReplay(t *testing.T) {
	s, _, cfg := start(t, Options{})
	tok := login(t, cfg)
	if tok.RefreshToken == "" {
		t.Fatal("no refresh token with the code exchange")
	}
	second, err := refresh(cfg, tok.RefreshToken)
	if err != nil {
		t.Fatal(err)
	}
	if second.RefreshToken == "" || second.RefreshToken == tok.RefreshToken || second.AccessToken == tok.AccessToken {
		t.Fatal("refresh did not rotate both tokens")
	}
	if s.Stats().FamiliesRevoked != 0 {
		t.Fatal("a family was revoked by a normal refresh")
	}
	// Replay the first refresh token: refused, and the newest one dies with it.
	if _, err := refresh(cfg, tok.RefreshToken); oauthError(err) != "invalid_grant" {
		t.Fatalf("replay = %v; want invalid_grant", err)
	}
	if _, err := refresh(cfg, second.RefreshToken); oauthError(err) != "invalid_grant" {
		t.Fatalf("refresh with the family's newest token after a replay = %v; want invalid_grant", err)
	}
	st := s.Stats()
	if st.FamiliesRevoked != 1 || st.TokenRequests["refresh_token"] != 3 || st.TokensIssued["refresh_token"] != 1 || st.TokenErrors["invalid_grant"] != 2 {
		t.Errorf("stats = %+v", st)
	}
}

func TestAuthorizeRefusals(t *testing.T) {
	_, hs, cfg := start(t, Options{})
	verifier := oauth2.GenerateVerifier()
	tests := []struct {
		name       string
		authURL    string
		wantStatus int
		wantError  string // error in the redirect; "" when no redirect is wanted
	}{
		{"plain PKCE", cfg.AuthCodeURL("state-123456789", oauth2.SetAuthURLParam("code_challenge", verifier),
			oauth2.SetAuthURLParam("code_challenge_method", "plain")), http.StatusSeeOther, "invalid_request"},
		{"no PKCE", cfg.AuthCodeURL("state-123456789"), http.StatusSeeOther, "invalid_request"},
		{"unregistered redirect port", strings.Replace(cfg.AuthCodeURL("state-123456789", oauth2.S256ChallengeOption(verifier)),
			"18765", "18766", 1), http.StatusBadRequest, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			status, loc := authorize(t, tt.authURL)
			if status != tt.wantStatus {
				t.Fatalf("status %d; want %d (Location %s)", status, tt.wantStatus, loc)
			}
			if tt.wantError != "" && loc.Query().Get("error") != tt.wantError {
				t.Errorf("redirect %s; want error=%s", loc, tt.wantError)
			}
			if tt.wantError == "" && loc.String() != "" {
				t.Errorf("redirected to %s for an unregistered redirect URI", loc)
			}
		})
	}
	_ = hs
}

func TestClientSecretPostRefused(t *testing.T) {
	_, _, cfg := start(t, Options{})
	verifier := oauth2.GenerateVerifier()
	_, loc := authorize(t, cfg.AuthCodeURL("state-123456789", oauth2.S256ChallengeOption(verifier)))
	cfg.Endpoint.AuthStyle = oauth2.AuthStyleInParams
	_, err := cfg.Exchange(context.Background(), loc.Query().Get("code"), oauth2.VerifierOption(verifier))
	if oauthError(err) != "invalid_client" {
		t.Errorf("client_secret_post exchange = %v; want invalid_client", err)
	}
}

func TestAPIRoutes(t *testing.T) {
	_, hs, cfg := start(t, Options{})
	tok := login(t, cfg)
	call := func(path, token string) (int, map[string]any) {
		req, _ := http.NewRequest("GET", hs.URL+path, nil)
		if token != "" {
			req.Header.Set("Authorization", "Bearer "+token)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var body map[string]any
		_ = json.NewDecoder(resp.Body).Decode(&body)
		return resp.StatusCode, body
	}
	if status, body := call("/v1/introspect", tok.AccessToken); status != 200 || body["data"].(map[string]any)["subjectURN"] != DemoCompany {
		t.Errorf("/v1/introspect = %d %v", status, body)
	}
	if status, _ := call("/v2/employees", tok.AccessToken); status != 200 {
		t.Errorf("/v2/employees = %d", status)
	}
	if status, _ := call("/v2/employees", ""); status != 401 {
		t.Errorf("/v2/employees without a token = %d; want 401", status)
	}
	if status, _ := call("/v2/employees?access_token="+tok.AccessToken, ""); status != 401 {
		t.Errorf("/v2/employees with the token in the query = %d; want 401", status)
	}
	cfg.Scopes = []string{"vendors:read"}
	other := login(t, cfg)
	if status, _ := call("/v2/employees", other.AccessToken); status != 403 {
		t.Errorf("/v2/employees without users:read = %d; want 403", status)
	}
}

func TestExpiredAccessToken(t *testing.T) {
	_, hs, cfg := start(t, Options{AccessTTL: 2 * time.Second})
	tok := login(t, cfg)
	// Announced at least as long as configured, and at most a second more.
	if tok.ExpiresIn < 2 || tok.ExpiresIn > 3 {
		t.Errorf("expires_in = %d; want 2 or 3", tok.ExpiresIn)
	}
	time.Sleep(3700 * time.Millisecond)
	req, _ := http.NewRequest("GET", hs.URL+"/v1/introspect", nil)
	req.Header.Set("Authorization", "Bearer "+tok.AccessToken)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 401 {
		t.Errorf("expired token: status %d; want 401", resp.StatusCode)
	}
}

func TestIntrospectionEndpoint(t *testing.T) {
	_, hs, cfg := start(t, Options{})
	tok := login(t, cfg)
	req, _ := http.NewRequest("POST", hs.URL+"/oauth/token/introspect", strings.NewReader(url.Values{"token": {tok.AccessToken}}.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.SetBasicAuth(testClient, testSecret)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var body struct {
		Active   bool   `json:"active"`
		ClientID string `json:"client_id"`
		Sub      string `json:"sub"`
	}
	_ = json.NewDecoder(resp.Body).Decode(&body)
	if !body.Active || body.ClientID != testClient || body.Sub != DemoCompany {
		t.Errorf("introspection = %+v", body)
	}
}

// TestFaultsAdminEndpoint: faults can be queued over HTTP from loopback, are shown once each,
// and can be cleared.
func TestFaultsAdminEndpoint(t *testing.T) {
	s, hs, cfg := start(t, Options{})
	tok := login(t, cfg)
	post := func(body string) int {
		resp, err := http.Post(hs.URL+"/debug/faults", "application/json", strings.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	if code := post(`{"fault":"status-503","count":2}`); code != http.StatusNoContent {
		t.Fatalf("POST /debug/faults = %d", code)
	}
	for i := range 2 {
		if _, err := refresh(cfg, tok.RefreshToken); oauthError(err) != "temporarily_unavailable" {
			t.Fatalf("refresh %d under the fault = %v; want temporarily_unavailable", i, err)
		}
	}
	fresh, err := refresh(cfg, tok.RefreshToken)
	if err != nil {
		t.Fatalf("refresh after the faults = %v; the refresh token must not have been spent by them", err)
	}
	post(`{"fault":"status-500","count":5}`)
	req, _ := http.NewRequest(http.MethodDelete, hs.URL+"/debug/faults", nil)
	if resp, err := http.DefaultClient.Do(req); err != nil || resp.StatusCode != http.StatusNoContent {
		t.Fatalf("DELETE /debug/faults = %v, %v", resp, err)
	}
	if st := s.Stats(); st.FaultsShown["status-503"] != 2 || st.FaultsShown["status-500"] != 0 {
		t.Errorf("faults shown: %v", st.FaultsShown)
	}
	for _, bad := range []string{`not json`, `{"fault":"no-such-fault"}`, `{"fault":"delay","delay":"soon"}`, `{"fault":"delay","delay":"-1s"}`} {
		if code := post(bad); code != http.StatusBadRequest {
			t.Errorf("POST /debug/faults %s = %d; want 400", bad, code)
		}
	}
	if st := s.Stats(); st.FaultsShown["delay"] != 0 {
		t.Errorf("a refused fault request queued a fault")
	}
	// invalid-grant refuses without spending the refresh token.
	if code := post(`{"fault":"invalid-grant"}`); code != http.StatusNoContent {
		t.Fatalf("POST invalid-grant = %d", code)
	}
	if _, err := refresh(cfg, fresh.RefreshToken); oauthError(err) != "invalid_grant" {
		t.Errorf("refresh under invalid-grant = %v; want invalid_grant", err)
	}
	if _, err := refresh(cfg, fresh.RefreshToken); err != nil {
		t.Errorf("refresh after invalid-grant = %v; the fault must not spend the refresh token", err)
	}
}

// TestSubjectChosenAtLogin: the server honours Pleo's urn_pleo_params_oauth_subject — the
// tokens it issues speak for that subject — and refuses a malformed one.
func TestSubjectChosenAtLogin(t *testing.T) {
	_, _, cfg := start(t, Options{})
	for subject, wantErr := range map[string]bool{"urn:pleo:company:nope": true, "company-1": true} {
		u := cfg.AuthCodeURL("state-0123456789", oauth2.S256ChallengeOption(oauth2.GenerateVerifier()),
			oauth2.SetAuthURLParam("urn_pleo_params_oauth_subject", subject))
		resp, err := oauthtest.NoRedirects().Get(u)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		loc, _ := url.Parse(resp.Header.Get("Location"))
		if got := loc.Query().Get("error"); wantErr && got != "invalid_request" {
			t.Errorf("subject %q: redirect %s; want error=invalid_request", subject, loc)
		}
	}
}
