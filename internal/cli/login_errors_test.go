package cli

import (
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/pleoauth/pleoauth/internal/devserver"
	"github.com/pleoauth/pleoauth/internal/exitcode"
)

// fakeAuthServer is a deliberately broken authorization server: its authorize endpoint redirects
// at once with whatever callback query the test wants, and its token endpoint answers with a
// fixed status, content type and body.
type fakeAuthServer struct {
	callback    func(state string) url.Values
	status      int
	contentType string
	body        string
	delay       time.Duration
	tokenCalls  int
}

func (f *fakeAuthServer) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	switch r.URL.Path {
	case "/oauth/authorize":
		q := r.URL.Query()
		cb, _ := url.Parse(q.Get("redirect_uri"))
		cb.RawQuery = f.callback(q.Get("state")).Encode()
		http.Redirect(w, r, cb.String(), http.StatusFound)
	case "/oauth/token":
		f.tokenCalls++
		time.Sleep(f.delay)
		if f.status >= 300 && f.status < 400 {
			w.Header().Set("Location", "https://elsewhere.example/steal")
		}
		w.Header().Set("Content-Type", f.contentType)
		w.WriteHeader(f.status)
		fmt.Fprint(w, f.body)
	default:
		http.NotFound(w, r)
	}
}

func goodCallback(state string) url.Values { return url.Values{"code": {"c0de"}, "state": {state}} }

func TestLoginFailures(t *testing.T) {
	const jsonType = "application/json"
	tests := []struct {
		name string
		fake fakeAuthServer
		code int
		want []string // substrings of the one-line error
	}{
		{
			name: "no code",
			fake: fakeAuthServer{callback: func(s string) url.Values { return url.Values{"state": {s}} }},
			code: exitcode.Error, want: []string{"login local", "no authorization code"},
		},
		{
			name: "access denied with markup in the description",
			fake: fakeAuthServer{callback: func(s string) url.Values {
				return url.Values{"state": {s}, "error": {"access_denied"}, "error_description": {"The user said <b>no</b>\nnew line\x1b]52;c;ZXZpbA==\a"}}
			}},
			code: exitcode.Error, want: []string{"login local", "access_denied", `<b>no</b>\nnew line`},
		},
		{
			name: "token endpoint 400 invalid_grant",
			fake: fakeAuthServer{callback: goodCallback, status: 400, contentType: jsonType, body: `{"error":"invalid_grant","error_description":"code expired"}`},
			code: exitcode.Error, want: []string{"login local", "invalid_grant", "code expired"},
		},
		{
			name: "token endpoint 401 invalid_client",
			fake: fakeAuthServer{callback: goodCallback, status: 401, contentType: jsonType, body: `{"error":"invalid_client"}`},
			code: exitcode.Error, want: []string{"login local", "invalid_client", "client secret"},
		},
		{
			name: "token endpoint 500",
			fake: fakeAuthServer{callback: goodCallback, status: 500, contentType: "text/plain", body: "boom"},
			code: exitcode.Temporary, want: []string{"login local", "HTTP 500", "try again later"},
		},
		{
			name: "token endpoint HTML instead of JSON",
			fake: fakeAuthServer{callback: goodCallback, status: 200, contentType: "text/html", body: "<html><body>Sign in</body></html>"},
			code: exitcode.Error, want: []string{"login local", "without a usable token", "check token_url"},
		},
		{
			name: "token endpoint HTML error page",
			fake: fakeAuthServer{callback: goodCallback, status: 404, contentType: "text/html", body: "<html>Not Found</html>"},
			code: exitcode.Error, want: []string{"login local", "HTTP 404", "check token_url"},
		},
		{
			name: "token endpoint redirects",
			fake: fakeAuthServer{callback: goodCallback, status: 307, contentType: "text/html"},
			code: exitcode.Error, want: []string{"login local", "redirect", "does not follow"},
		},
		{
			name: "token of another type",
			fake: fakeAuthServer{callback: goodCallback, status: 200, contentType: jsonType, body: `{"access_token":"a","token_type":"mac","expires_in":60}`},
			code: exitcode.Error, want: []string{"login local", `"mac"`, "Bearer"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := newHarness(t)
			fake := tt.fake
			srv := httptest.NewServer(&fake)
			defer srv.Close()
			t.Setenv("PLEOAUTH_AUTH_SERVER_URL", srv.URL)
			t.Setenv("PLEOAUTH_CLIENT_SECRET", "fake-client-secret")
			h.browser = func(u string) error { _, err := http.Get(u); return err }
			previous := h.seedBundle("local")

			r := h.main("login", "--env", "local")
			if r.code != tt.code {
				t.Fatalf("exit %d; want %d; stderr:\n%s", r.code, tt.code, r.stderr)
			}
			last := lastLine(r.stderr)
			oneLine(t, last)
			for _, w := range tt.want {
				if !strings.Contains(last, w) {
					t.Errorf("error %q does not contain %q", last, w)
				}
			}
			if strings.Contains(r.stderr, "fake-client-secret") {
				t.Errorf("the client secret appears in the output")
			}
			h.assertBundle("local", previous)
		})
	}
}

// TestStrayRedirectsDoNotEndTheLogin: while a login waits, any local program or web page can
// reach the listener. Requests with a wrong or missing state (a forged code, a forged error),
// one naming a foreign host (DNS rebinding) and one to another path are answered with a short
// page, said once on stderr, and the login goes on to the real redirect; a forged code is never
// exchanged.
func TestStrayRedirectsDoNotEndTheLogin(t *testing.T) {
	h := newHarness(t)
	dev, _ := h.startDevserver(devserver.Options{AutoApprove: true})
	h.browser = func(u string) error {
		for _, q := range []string{"code=stolen&state=guess", "code=stolen", "error=access_denied&state=guess"} {
			if resp, err := http.Get(h.redirect + "?" + q); err == nil {
				resp.Body.Close()
			}
		}
		req, _ := http.NewRequest(http.MethodGet, h.redirect+"?code=x", nil)
		req.Host = "rebound.example"
		if resp, err := http.DefaultClient.Do(req); err == nil {
			resp.Body.Close()
		}
		if resp, err := http.Get(strings.Replace(h.redirect, "/callback", "/other", 1)); err == nil {
			resp.Body.Close()
		}
		return followRedirects(u)
	}
	r := h.main("login", "--env", "local", "--timeout", "30s")
	if r.code != exitcode.OK {
		t.Fatalf("login after stray requests: %+v", r)
	}
	if n := strings.Count(r.stderr, "not this login's"); n != 1 {
		t.Errorf("stray requests reported %d times on stderr; want once:\n%s", n, r.stderr)
	}
	if got := dev.Stats().TokenRequests["authorization_code"]; got != 1 {
		t.Errorf("%d code exchanges; want only the real one", got)
	}
}

// TestResultPageTellsTheTruth: when the code exchange fails, the browser is not told "Logged
// in": its page says the login failed and why, as the terminal does.
func TestResultPageTellsTheTruth(t *testing.T) {
	h := newHarness(t)
	fake := &fakeAuthServer{callback: goodCallback, status: 500, contentType: "text/plain", body: "boom"}
	srv := httptest.NewServer(fake)
	defer srv.Close()
	t.Setenv("PLEOAUTH_AUTH_SERVER_URL", srv.URL)
	t.Setenv("PLEOAUTH_CLIENT_SECRET", "s")
	page := make(chan string, 1)
	h.browser = func(u string) error {
		resp, err := http.Get(u)
		if err != nil {
			page <- err.Error()
			return err
		}
		defer resp.Body.Close()
		body, _ := io.ReadAll(resp.Body)
		page <- string(body)
		return nil
	}
	if r := h.main("login", "--env", "local"); r.code != exitcode.Temporary {
		t.Fatalf("login against a failing token endpoint: %+v", r)
	}
	body := <-page
	if strings.Contains(body, "Logged in") || !strings.Contains(body, "Login failed") || !strings.Contains(body, "HTTP 500") {
		t.Errorf("the browser's page after a failed exchange:\n%s", body)
	}
}

func TestLoginTimeout(t *testing.T) {
	h := newHarness(t)
	t.Setenv("PLEOAUTH_CLIENT_SECRET", "s")
	r := h.main("login", "--env", "local", "--no-browser", "--timeout", "200ms")
	if r.code != exitcode.Error {
		t.Fatalf("exit %d; want %d", r.code, exitcode.Error)
	}
	last := lastLine(r.stderr)
	oneLine(t, last)
	for _, w := range []string{"login local", "no redirect reached", "200ms", "--timeout"} {
		if !strings.Contains(last, w) {
			t.Errorf("error %q does not contain %q", last, w)
		}
	}
}

func TestLoginPortInUse(t *testing.T) {
	h := newHarness(t)
	t.Setenv("PLEOAUTH_CLIENT_SECRET", "s")
	u, _ := url.Parse(h.redirect)
	l, err := net.Listen("tcp", "127.0.0.1:"+u.Port())
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	h.browser = func(string) error { return nil }
	r := h.main("login", "--env", "local", "--timeout", "5s")
	if r.code != exitcode.Error {
		t.Fatalf("exit %d; want %d", r.code, exitcode.Error)
	}
	last := lastLine(r.stderr)
	oneLine(t, last)
	for _, w := range []string{"login local", "already in use", u.Port(), "redirect_uri"} {
		if !strings.Contains(last, w) {
			t.Errorf("error %q does not contain %q", last, w)
		}
	}
}

// TestLoginConfigErrors: each bad setting is refused before anything listens or is sent.
func TestLoginConfigErrors(t *testing.T) {
	tests := []struct {
		name string
		env  map[string]string
		args []string
		code int
		want []string
	}{
		{"unknown environment", nil, []string{"--env", "nowhere"}, exitcode.Usage,
			[]string{`unknown environment "nowhere"`, "local, production, staging", "config.yaml"}},
		{"missing client id", map[string]string{"PLEOAUTH_CLIENT_SECRET": "s"}, []string{"--env", "staging"}, exitcode.Error,
			[]string{"env staging has no client_id", "PLEOAUTH_CLIENT_ID", "config.yaml"}},
		{"plain http auth server", map[string]string{"PLEOAUTH_AUTH_SERVER_URL": "http://auth.example.com", "PLEOAUTH_CLIENT_SECRET": "s"},
			[]string{"--env", "local"}, exitcode.Usage, []string{"env local", "auth_server_url", "http://auth.example.com", "must use https", "fix PLEOAUTH_AUTH_SERVER_URL"}},
		{"redirect on another host", map[string]string{"PLEOAUTH_REDIRECT_URI": "http://example.com:8765/callback", "PLEOAUTH_CLIENT_SECRET": "s"},
			[]string{"--env", "local"}, exitcode.Usage, []string{"env local", "redirect_uri", "must use https", "fix PLEOAUTH_REDIRECT_URI"}},
		{"redirect without port", map[string]string{"PLEOAUTH_REDIRECT_URI": "http://localhost/callback", "PLEOAUTH_CLIENT_SECRET": "s"},
			[]string{"--env", "local"}, exitcode.Usage, []string{"env local", "explicit port"}},
		{"no client secret and no terminal", nil, []string{"--env", "local"}, exitcode.Error,
			[]string{"env local has no client secret", "PLEOAUTH_CLIENT_SECRET", "--client-secret-stdin"}},
		{"unknown flag", nil, []string{"--nope"}, exitcode.Usage, []string{"unknown flag: --nope", "pleoauth login --help"}},
		{"client auth typo", map[string]string{"PLEOAUTH_CLIENT_AUTH": "basik", "PLEOAUTH_CLIENT_SECRET": "s"},
			[]string{"--env", "local"}, exitcode.Usage, []string{"env local", `client_auth "basik"`}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := newHarness(t)
			for k, v := range tt.env {
				t.Setenv(k, v)
			}
			r := h.main(append([]string{"login", "--no-browser", "--timeout", "2s"}, tt.args...)...)
			if r.code != tt.code {
				t.Fatalf("exit %d; want %d; stderr:\n%s", r.code, tt.code, r.stderr)
			}
			oneLine(t, r.stderr)
			for _, w := range tt.want {
				if !strings.Contains(r.stderr, w) {
					t.Errorf("error %q does not contain %q", r.stderr, w)
				}
			}
			if strings.Contains(r.stderr, "Open this URL") {
				t.Errorf("a login started despite the bad configuration")
			}
		})
	}
}

// TestLoginSecretTwice: --client-secret-stdin with PLEOAUTH_CLIENT_SECRET set is a usage error
// before anything else — even an unknown environment — naming both, and the piped line is
// never read as a pasted address nor shown.
func TestLoginSecretTwice(t *testing.T) {
	for _, args := range [][]string{
		{"--env", "local", "--no-browser"},
		{"--env", "local"},
		{"--env", "nowhere"},
	} {
		t.Run(strings.Join(args, " "), func(t *testing.T) {
			h := newHarness(t)
			h.startDevserver(devserver.Options{AutoApprove: true})
			h.browser = func(string) error { return errors.New("no display") }
			h.stdin = "https://secret.example/s3cr3t?code=x&state=y\n"
			r := h.main(append([]string{"login", "--client-secret-stdin", "--timeout", "2s"}, args...)...)
			if r.code != exitcode.Usage {
				t.Fatalf("exit %d; want %d:\n%s", r.code, exitcode.Usage, r.stderr)
			}
			oneLine(t, r.stderr)
			if want := "pleoauth: --client-secret-stdin and PLEOAUTH_CLIENT_SECRET both give the client secret; use one"; strings.TrimSpace(r.stderr) != want {
				t.Errorf("stderr %q; want %q", r.stderr, want)
			}
			if strings.Contains(r.stderr, "s3cr3t") || strings.Contains(r.stderr, "Open this URL") {
				t.Errorf("the login went on or showed the piped secret:\n%s", r.stderr)
			}
		})
	}
}
