package cli

import (
	"context"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"golang.org/x/oauth2"

	"github.com/pleoauth/pleoauth/internal/devserver"
	"github.com/pleoauth/pleoauth/internal/exitcode"
	"github.com/pleoauth/pleoauth/internal/oauthtest"
	"github.com/pleoauth/pleoauth/internal/store"
)

// loggedIn is a harness logged in to the devserver's local environment, and the tokens it holds.
func loggedIn(t *testing.T) (*harness, *devserver.Server, *store.Bundle) {
	t.Helper()
	h := newHarness(t)
	dev, _ := h.startDevserver(devserver.Options{AutoApprove: true})
	h.browser = followRedirects
	if r := h.main("login", "--env", "local"); r.code != exitcode.OK {
		t.Fatalf("login: %+v", r)
	}
	return h, dev, h.loadBundle("local")
}

// apiStatus is the status the devserver's API answers a GET of path with token.
func apiStatus(t *testing.T, h *harness, path, token string) int {
	t.Helper()
	req, _ := http.NewRequest(http.MethodGet, h.server.URL+path, nil)
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	return resp.StatusCode
}

// refreshWith sends a refresh with refreshToken straight to the devserver's token endpoint.
func refreshWith(h *harness, refreshToken string) error {
	cfg := &oauth2.Config{
		ClientID: "pleoauth-local", ClientSecret: "devserver-test-secret",
		Endpoint: oauth2.Endpoint{TokenURL: h.server.URL + "/oauth/token", AuthStyle: oauth2.AuthStyleInHeader},
	}
	_, err := cfg.TokenSource(context.Background(), &oauth2.Token{RefreshToken: refreshToken}).Token()
	return err
}

// TestLogoutRevoke: logout --revoke warns that every token of the installation goes, calls
// DELETE /v1/installations/me, and forgets the login; afterwards the API refuses the old access
// token and the token endpoint the old refresh token. No token is printed anywhere.
func TestLogoutRevoke(t *testing.T) {
	h, dev, b := loggedIn(t)
	if apiStatus(t, h, "/v1/introspect", b.AccessToken) != http.StatusOK {
		t.Fatal("the access token does not work before the revocation")
	}
	r := h.main("logout", "--env", "local", "--revoke")
	if r.code != exitcode.OK || r.stdout != "" {
		t.Fatalf("logout --revoke: %+v", r)
	}
	for _, want := range []string{"warning: revoking at Pleo EVERY access and refresh token of this client's installation for " + devserver.DemoCompany, "Revoked at Pleo", "Logged out of local"} {
		if !strings.Contains(r.stderr, want) {
			t.Errorf("logout --revoke stderr lacks %q:\n%s", want, r.stderr)
		}
	}
	if strings.Contains(r.stderr, "stay valid at Pleo") {
		t.Errorf("logout --revoke says the tokens stay valid:\n%s", r.stderr)
	}
	for _, secret := range []string{b.AccessToken, b.RefreshToken, "devserver-test-secret"} {
		if strings.Contains(r.stderr, secret) {
			t.Errorf("logout --revoke printed a secret:\n%s", r.stderr)
		}
	}
	if dev.Stats().Disconnects != 1 {
		t.Errorf("disconnects = %d; want 1", dev.Stats().Disconnects)
	}
	if _, err := os.Stat(h.tokenFile("local")); !os.IsNotExist(err) {
		t.Error("logout --revoke left the token file")
	}
	if got := apiStatus(t, h, "/v1/introspect", b.AccessToken); got != http.StatusUnauthorized {
		t.Errorf("the old access token after the revocation: %d; want 401", got)
	}
	if err := refreshWith(h, b.RefreshToken); err == nil || !strings.Contains(err.Error(), "invalid_grant") {
		t.Errorf("the old refresh token after the revocation: %v; want invalid_grant", err)
	}
	if r := h.main("logout", "--env", "local", "--revoke"); r.code != exitcode.LoginRequired || !strings.Contains(r.stderr, "no token held here to revoke the installation with") {
		t.Errorf("logout --revoke with nothing held: %+v; want exit 4", r)
	}
}

// TestRevokeFailureKeepsTheLogin: when the revocation does not happen — the API down, busy or
// unreachable, a refresh token the server refused — the login is kept here and the one-line
// error says so, with the two ways on; a 404 (no installation) forgets the login all the same.
func TestRevokeFailureKeepsTheLogin(t *testing.T) {
	for _, tc := range []struct {
		name   string
		break_ func(h *harness, dev *devserver.Server)
		code   int
		want   string
		kept   bool
	}{
		{"api 503", func(_ *harness, dev *devserver.Server) { dev.InjectFault(devserver.FaultAPIUnavailable, 1, 0) },
			exitcode.Temporary, "answered 503 Service Unavailable; nothing was revoked and the login is kept here: run \"pleoauth logout --revoke --env local\" again, or \"pleoauth logout --env local\" to forget it here only", true},
		{"api unreachable", func(h *harness, _ *devserver.Server) {
			h.t.Setenv("PLEOAUTH_API_URL", "http://127.0.0.1:"+itoa(freePort(h.t)))
		}, exitcode.Temporary, "nothing was revoked and the login is kept here", true},
		{"refresh token refused", func(h *harness, dev *devserver.Server) {
			b := h.loadBundle("local")
			b.Expiry = time.Now().Add(-time.Minute)
			if err := (store.File{Dir: filepath.Join(h.home, "tokens")}).Save("local", b); err != nil {
				h.t.Fatal(err)
			}
			dev.InjectFault(devserver.FaultInvalidGrant, 1, 0)
		}, exitcode.LoginRequired, "nothing revoked, the login is kept: env local:", true},
		{"no installation", func(_ *harness, dev *devserver.Server) { dev.InjectFault(devserver.FaultAPINotFound, 1, 0) },
			exitcode.OK, "Nothing to revoke: Pleo has no installation of this client for env local (404).", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h, dev, b := loggedIn(t)
			tc.break_(h, dev)
			r := h.main("logout", "--env", "local", "--revoke")
			if r.code != tc.code || !strings.Contains(r.stderr, tc.want) {
				t.Errorf("logout --revoke = %+v; want exit %d saying %q", r, tc.code, tc.want)
			}
			if tc.code != exitcode.OK {
				oneLine(t, lastLine(r.stderr))
			}
			_, err := os.Stat(h.tokenFile("local"))
			if kept := err == nil; kept != tc.kept {
				t.Errorf("login kept = %v; want %v", kept, tc.kept)
			}
			for _, secret := range []string{b.AccessToken, b.RefreshToken} {
				if strings.Contains(r.stderr, secret) {
					t.Errorf("a token on stderr:\n%s", r.stderr)
				}
			}
			if dev.Stats().Disconnects != 0 {
				t.Errorf("the installation was revoked (%d)", dev.Stats().Disconnects)
			}
		})
	}
}

// TestLogoutAllRevokesEachInstallationOnce: two profiles of one company share an installation,
// so logout --all --revoke revokes it once and forgets both; a profile of another company is
// another installation, revoked on its own.
func TestLogoutAllRevokesEachInstallationOnce(t *testing.T) {
	h, dev, _ := loggedIn(t)
	for _, login := range [][]string{{"--profile", "ops"}, {"--profile", "acme", "--subject", acme}} {
		if r := h.main(append([]string{"login", "--env", "local"}, login...)...); r.code != exitcode.OK {
			t.Fatalf("login %v: %+v", login, r)
		}
	}
	r := h.main("logout", "--env", "local", "--all", "--revoke")
	if r.code != exitcode.OK || dev.Stats().Disconnects != 2 || !strings.Contains(r.stderr, "was revoked with profile") {
		t.Fatalf("logout --all --revoke = %+v; disconnects %d; want 2", r, dev.Stats().Disconnects)
	}
	if n := strings.Count(r.stderr, "Logged out of local"); n != 3 {
		t.Errorf("%d logins forgotten; want 3:\n%s", n, r.stderr)
	}
}

// TestRevokeFleetLogin: a login kept in redis and shared by two machines is revoked from either
// with the same command; the other machine's access token is refused by the API afterwards, and
// the shared login is gone from redis for both.
func TestRevokeFleetLogin(t *testing.T) {
	redis := oauthtest.StartRedis(t)
	h := newHarness(t)
	h.startDevserver(devserver.Options{AutoApprove: true})
	h.browser = followRedirects
	t.Setenv("PLEOAUTH_STORE", "redis")
	t.Setenv("PLEOAUTH_REDIS_URL", redis.URL())
	t.Setenv("PLEOAUTH_STORE_KEY", store.NewStoreKey())
	if r := h.main("login", "--env", "local"); r.code != exitcode.OK {
		t.Fatalf("login: %+v", r)
	}
	laptop, host := h.home, t.TempDir()
	t.Setenv("PLEOAUTH_HOME", host)
	tok := h.main("token", "--env", "local")
	if tok.code != exitcode.OK {
		t.Fatalf("token on the host: %+v", tok)
	}
	t.Setenv("PLEOAUTH_HOME", laptop)
	r := h.main("logout", "--env", "local", "--revoke")
	if r.code != exitcode.OK || !strings.Contains(r.stderr, "fleet member") || !strings.Contains(r.stderr, "(redis store)") {
		t.Fatalf("logout --revoke on the laptop: %+v", r)
	}
	if got := apiStatus(t, h, "/v1/introspect", strings.TrimSpace(tok.stdout)); got != http.StatusUnauthorized {
		t.Errorf("the host's access token after the revocation: %d; want 401", got)
	}
	t.Setenv("PLEOAUTH_HOME", host)
	if r := h.main("token", "--env", "local"); r.code != exitcode.LoginRequired {
		t.Errorf("token on the host after the revocation: %+v; want exit 4", r)
	}
}
