package cli

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/pleoauth/pleoauth/internal/devserver"
	"github.com/pleoauth/pleoauth/internal/exitcode"
	"github.com/pleoauth/pleoauth/internal/oauthtest"
	"github.com/pleoauth/pleoauth/internal/store"
)

// seedExpired stores, as an earlier login would have, a bundle whose access token has expired.
func (h *harness) seedExpired(env string) []byte {
	h.t.Helper()
	b := &store.Bundle{AccessToken: "old-access", RefreshToken: "old-refresh", TokenType: "bearer",
		Scope: "users:read", Expiry: time.Now().Add(-time.Minute)}
	if err := (store.File{Dir: filepath.Join(h.home, "tokens")}).Save(env, b); err != nil {
		h.t.Fatal(err)
	}
	data, _ := os.ReadFile(h.tokenFile(env))
	return data
}

func TestTokenRefreshesAndFormats(t *testing.T) {
	h := newHarness(t)
	dev, _ := h.startDevserver(devserver.Options{AutoApprove: true})
	h.browser = followRedirects
	if r := h.main("login", "--env", "local"); r.code != 0 {
		t.Fatalf("login: %s", r.stderr)
	}
	first := h.main("token", "--env", "local")
	forced := h.main("token", "--env", "local", "--force-refresh")
	if first.code != 0 || forced.code != 0 || first.stdout == forced.stdout {
		t.Fatalf("token then --force-refresh: %+v %+v", first, forced)
	}
	if got := dev.Stats().TokensIssued["refresh_token"]; got != 1 {
		t.Errorf("%d refreshes; want 1", got)
	}
	// --min-ttl beyond the tokens' life: the freshest token, with a warning, and one refresh
	// per half lifetime rather than per call: the server cannot do better.
	for range 3 {
		if r := h.main("token", "--env", "local", "--min-ttl", "2h"); r.code != 0 || r.stdout == "" || !strings.Contains(r.stderr, "less than --min-ttl 2h0m0s") {
			t.Errorf("--min-ttl 2h: %+v; want a token and a warning", r)
		}
	}
	if got := dev.Stats().TokensIssued["refresh_token"]; got != 1 {
		t.Errorf("%d refreshes after three calls with --min-ttl 2h; want still 1", got)
	}
	tok := strings.TrimSpace(h.main("token", "--env", "local").stdout)

	for format, want := range map[string]string{
		"raw":         tok + "\n",
		"header":      "Authorization: Bearer " + tok + "\n",
		"env":         "export PLEO_ACCESS_TOKEN='" + tok + "'\n",
		"curl-config": `header = "Authorization: Bearer ` + tok + `"` + "\n",
	} {
		if r := h.main("token", "--env", "local", "--format", format); r.stdout != want || r.stderr != "" {
			t.Errorf("--format %s = %q (stderr %q); want %q", format, r.stdout, r.stderr, want)
		}
	}
	r := h.main("token", "--env", "local", "--format", "json")
	var j struct {
		AccessToken string `json:"access_token"`
		TokenType   string `json:"token_type"`
		ExpiresAt   string `json:"expires_at"`
		ExpiresIn   int64  `json:"expires_in"`
		Scope       string `json:"scope"`
		Env         string `json:"env"`
	}
	if err := json.Unmarshal([]byte(r.stdout), &j); err != nil {
		t.Fatal(err)
	}
	exp, err := time.Parse(time.RFC3339, j.ExpiresAt)
	if j.AccessToken != tok || j.Env != "local" || j.Scope != "users:read" || err != nil || j.ExpiresIn < 800 || exp.Location() != time.UTC {
		t.Errorf("--format json = %s", r.stdout)
	}
	if strings.Contains(r.stdout, "refresh") {
		t.Error("the JSON output names the refresh token")
	}
	if r := h.main("token", "--env", "local", "--format", "yaml"); r.code != exitcode.Usage {
		t.Errorf("--format yaml: exit %d; want 2", r.code)
	}
}

// fakeTokenEndpoint answers every request with the handler, counting requests.
func fakeTokenEndpoint(t *testing.T, h http.HandlerFunc) (*httptest.Server, *atomic.Int32) {
	var n atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		n.Add(1)
		h(w, r)
	}))
	t.Cleanup(srv.Close)
	return srv, &n
}

func respond(status int, contentType, body string, headers ...string) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		for i := 0; i+1 < len(headers); i += 2 {
			w.Header().Set(headers[i], headers[i+1])
		}
		w.Header().Set("Content-Type", contentType)
		w.WriteHeader(status)
		fmt.Fprint(w, body)
	}
}

func TestTokenRefreshFailures(t *testing.T) {
	const js = "application/json"
	tests := []struct {
		name     string
		handler  http.HandlerFunc
		code     int
		want     []string
		requests int32
	}{
		{"invalid_grant", respond(400, js, `{"error":"invalid_grant"}`), exitcode.LoginRequired,
			[]string{"env local", "refresh token refused (invalid_grant)", `run "pleoauth login --env local"`}, 1},
		{"invalid_client", respond(401, js, `{"error":"invalid_client"}`), exitcode.Error,
			[]string{"env local", "invalid_client", "client secret"}, 1},
		{"500", respond(500, "text/html", "<h1>oops</h1>"), exitcode.Temporary,
			[]string{"env local", "HTTP 500", "try again later"}, 3},
		{"429 with Retry-After", respond(429, js, `{}`, "Retry-After", "1"), exitcode.Temporary,
			[]string{"env local", "HTTP 429"}, 3},
		// A 2xx says the server carried the refresh out: its refresh token is spent, however
		// unusable the answer (a proxy's page, a body cut or bloated on the way).
		{"not JSON", respond(200, "text/html", "<html>login</html>"), exitcode.Error,
			[]string{"env local", "without a usable token", "check token_url", "is spent"}, 1},
		{"JSON without access_token", respond(200, js, `{"token_type":"bearer","expires_in":60}`), exitcode.Error,
			[]string{"env local", "without a usable token", "is spent"}, 1},
		{"10 MB body", respond(200, js, `{"access_token":"`+strings.Repeat("a", 10<<20)+`"}`), exitcode.Error,
			[]string{"env local", "without a usable token", "is spent"}, 1},
		// Not retried: the server may have rotated the refresh token before the answer was lost.
		{"slow past the timeout", func(w http.ResponseWriter, r *http.Request) { time.Sleep(1500 * time.Millisecond) }, exitcode.LoginRequired,
			[]string{"env local", "could not be reached (timed out)", "answer was lost"}, 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := newHarness(t)
			srv, n := fakeTokenEndpoint(t, tt.handler)
			t.Setenv("PLEOAUTH_AUTH_SERVER_URL", srv.URL)
			t.Setenv("PLEOAUTH_CLIENT_SECRET", "fake-secret")
			// Short only where the case is a slow server; a busy machine may take a while to read
			// a 10 MB body.
			h.timeout = 15 * time.Second
			if strings.HasPrefix(tt.name, "slow") {
				h.timeout = time.Second
			}
			before := h.seedExpired("local")

			r := h.main("token", "--env", "local")
			if r.code != tt.code {
				t.Fatalf("exit %d; want %d; stderr %s", r.code, tt.code, r.stderr)
			}
			if r.stdout != "" {
				t.Errorf("stdout = %q; want nothing", r.stdout)
			}
			oneLine(t, r.stderr)
			for _, w := range tt.want {
				if !strings.Contains(r.stderr, w) {
					t.Errorf("error %q does not contain %q", r.stderr, w)
				}
			}
			for _, secret := range []string{"fake-secret", "old-refresh", "old-access"} {
				if strings.Contains(r.stderr, secret) {
					t.Errorf("the error shows %q", secret)
				}
			}
			if got := n.Load(); got != tt.requests {
				t.Errorf("%d token requests; want %d", got, tt.requests)
			}
			if tt.name == "invalid_grant" {
				assertRefusalKept(t, h, n)
				return
			}
			if tt.code == exitcode.LoginRequired || slices.Contains(tt.want, "is spent") { // sent, and the answer lost: recorded as spent
				if b := h.loadBundle("local"); b.Spent == nil || b.RefreshToken != "old-refresh" {
					t.Errorf("after a lost answer the store holds %+v; want old-refresh recorded as spent", b)
				}
				if r := h.main("token", "--env", "local"); r.code != exitcode.LoginRequired || n.Load() != tt.requests {
					t.Errorf("the next command: %+v after %d requests; want exit 4 and nothing sent again", r, n.Load())
				}
				return
			}
			h.assertBundle("local", before)
		})
	}
}

// assertRefusalKept: after the server refused the refresh token, the store records it, and no
// command prints the dead access token, runs a child with it, or sends anything to the server
// again; status says a login is needed and why.
func assertRefusalKept(t *testing.T, h *harness, requests *atomic.Int32) {
	t.Helper()
	b := h.loadBundle("local")
	if b.Refused == nil || b.Refused.Reason != "invalid_grant" || b.RefreshToken != "old-refresh" {
		t.Fatalf("stored bundle after invalid_grant: %+v; want the refusal recorded", b)
	}
	sent := requests.Load()
	marker := filepath.Join(t.TempDir(), "child-ran")
	for _, args := range [][]string{
		{"token"}, {"token", "--force-refresh"}, {"api", "/v2/employees"},
		{"exec", "--", "touch", marker}, {"postman-env"}, {"status"}, {"status", "--json"},
	} {
		r := h.main(append([]string{args[0], "--env", "local"}, args[1:]...)...)
		if r.code != exitcode.LoginRequired {
			t.Errorf("%v after a refusal: exit %d; want 4 (%s)", args, r.code, r.stderr)
		}
		if !strings.Contains(r.stderr, "refused") || !strings.Contains(r.stderr, `run "pleoauth login --env local"`) {
			t.Errorf("%v after a refusal: stderr %q; want the refusal and the login command", args, r.stderr)
		}
		if strings.Contains(r.stdout, "old-access") {
			t.Errorf("%v printed the refused login's access token", args)
		}
	}
	if _, err := os.Stat(marker); err == nil {
		t.Error("exec ran the child after a refusal")
	}
	if got := requests.Load(); got != sent {
		t.Errorf("%d more token requests after the refusal; want none", got-sent)
	}
}

func TestTokenStoreProblems(t *testing.T) {
	t.Run("corrupt bundle", func(t *testing.T) {
		h := newHarness(t)
		h.seedExpired("local")
		os.WriteFile(h.tokenFile("local"), []byte("{not json"), 0o600)
		r := h.main("token", "--env", "local")
		if r.code != exitcode.LoginRequired || !strings.Contains(r.stderr, "unreadable") || !strings.Contains(r.stderr, `run "pleoauth login --env local"`) {
			t.Errorf("%+v", r)
		}
		oneLine(t, r.stderr)
	})
	t.Run("loose permissions", func(t *testing.T) {
		h := newHarness(t)
		before := h.seedExpired("local")
		os.Chmod(h.tokenFile("local"), 0o644)
		r := h.main("token", "--env", "local")
		if r.code != exitcode.Error || !strings.Contains(r.stderr, "mode 0644") || !strings.Contains(r.stderr, "chmod 600") {
			t.Errorf("%+v", r)
		}
		oneLine(t, r.stderr)
		h.assertBundle("local", before)
	})
	for _, tt := range []struct {
		name string
		err  error
		want string
	}{
		{"keychain locked", fmt.Errorf("failed to unlock correct collection '/org/freedesktop/secrets/collection/login'"), "keychain is locked"},
		{"keychain unavailable", fmt.Errorf(`exec: "dbus-launch": executable file not found in $PATH`), "keychain is not available"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			h := newHarness(t)
			t.Setenv("PLEOAUTH_STORE", "keyring")
			kc := &oauthtest.Keychain{}
			h.keychain = kc
			k := store.Keyring{Dir: filepath.Join(h.home, "tokens"), Scope: h.home, Keychain: kc}
			if err := k.Save("local", &store.Bundle{AccessToken: "a", RefreshToken: "r", Expiry: time.Now().Add(time.Hour)}); err != nil {
				t.Fatal(err)
			}
			kc.Fail(tt.err)
			r := h.main("token", "--env", "local")
			if r.code != exitcode.Error || !strings.Contains(r.stderr, "env local") || !strings.Contains(r.stderr, tt.want) || !strings.Contains(r.stderr, "--store file") {
				t.Errorf("%+v", r)
			}
			oneLine(t, r.stderr)
		})
	}
}

func TestStatusAndLogout(t *testing.T) {
	h := newHarness(t)
	t.Setenv("PLEOAUTH_CLIENT_SECRET", "s") // an expired token can be refreshed
	if r := h.main("status", "--env", "local", "--json"); r.code != exitcode.LoginRequired || !strings.Contains(r.stdout, `"logged_in":false`) {
		t.Errorf("status before login: %+v", r)
	}
	h.seedExpired("local")
	h.seedExpired("staging")
	r := h.main("status", "--env", "local")
	for _, want := range []string{"env:           local", "logged in:     yes", "(expired)", "refresh token: held", "store:         file"} {
		if !strings.Contains(r.stdout, want) {
			t.Errorf("status output lacks %q:\n%s", want, r.stdout)
		}
	}
	if r.code != 0 {
		t.Errorf("status exit %d; want 0 (expired but refreshable)", r.code)
	}
	if r := h.main("logout", "--env", "local"); r.code != 0 || !strings.Contains(r.stderr, "Logged out of local") || !strings.Contains(r.stderr, "stay valid at Pleo until they expire") {
		t.Fatalf("logout: %+v; want it to say the tokens stay valid at Pleo", r)
	}
	if _, err := os.Stat(h.tokenFile("local")); !os.IsNotExist(err) {
		t.Error("logout left the token file")
	}
	if r := h.main("logout", "--env", "local"); r.code != 0 || !strings.Contains(r.stderr, "Already logged out of local") {
		t.Errorf("a second logout: %+v; want exit 0 saying it was already done", r)
	}
	if _, err := os.Stat(h.tokenFile("staging")); err != nil {
		t.Error("logout of local removed staging's tokens")
	}
}
