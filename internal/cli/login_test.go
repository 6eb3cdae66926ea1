package cli

import (
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/url"
	"os"
	"strings"
	"testing"

	"github.com/pleoauth/pleoauth/internal/devserver"
	"github.com/pleoauth/pleoauth/internal/exitcode"
	"github.com/pleoauth/pleoauth/internal/store"
)

func TestLoginAgainstDevserver(t *testing.T) {
	h := newHarness(t)
	srv, hs := h.startDevserver(devserver.Options{AutoApprove: true})
	h.browser = followRedirects

	r := h.main("login", "--env", "local")
	if r.code != exitcode.OK {
		t.Fatalf("login exit %d; stderr:\n%s", r.code, r.stderr)
	}
	if r.stdout != "" {
		t.Errorf("login wrote to stdout: %q", r.stdout)
	}
	if !strings.Contains(r.stderr, hs.URL+"/oauth/authorize?") {
		t.Errorf("stderr does not show the authorization URL:\n%s", r.stderr)
	}

	var b store.Bundle
	data, err := os.ReadFile(h.tokenFile("local"))
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(data, &b); err != nil {
		t.Fatal(err)
	}
	if b.AccessToken == "" || b.RefreshToken == "" || b.Scope != "users:read" {
		t.Errorf("stored bundle = %+v; want access and refresh token with scope users:read", b)
	}
	if fi, _ := os.Stat(h.tokenFile("local")); fi.Mode().Perm() != 0o600 {
		t.Errorf("token file mode = %v; want 0600", fi.Mode().Perm())
	}

	// The token works on the API, and "pleoauth token" prints exactly it.
	tr := h.main("token", "--env", "local")
	if tr.code != exitcode.OK || tr.stdout != b.AccessToken+"\n" {
		t.Fatalf("token = (%d, %q); want (0, the stored access token)", tr.code, tr.stdout)
	}
	req, _ := http.NewRequest("GET", hs.URL+"/v2/employees", nil)
	req.Header.Set("Authorization", "Bearer "+b.AccessToken)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK || !strings.Contains(string(body), "Lovelace") {
		t.Errorf("GET /v2/employees = %d %s", resp.StatusCode, body)
	}

	st := srv.Stats()
	if st.TokenRequests["authorization_code"] != 1 || st.TokensIssued["authorization_code"] != 1 {
		t.Errorf("devserver stats = %+v; want exactly one code exchange", st)
	}
}

// TestLoginSendsPleoShapedRequests records what pleoauth sends: S256 only, the verifier only at
// the token endpoint, the client authenticated by a Basic header and nowhere else.
func TestLoginSendsPleoShapedRequests(t *testing.T) {
	h := newHarness(t)
	_, hs := h.startDevserver(devserver.Options{AutoApprove: true})
	var authQuery url.Values
	var tokenReq *http.Request
	var tokenForm url.Values
	h.browser = func(u string) error {
		parsed, _ := url.Parse(u)
		authQuery = parsed.Query()
		return followRedirects(u)
	}
	recorder := &recordingTransport{next: http.DefaultTransport, onToken: func(r *http.Request, form url.Values) {
		tokenReq, tokenForm = r, form
	}}
	h.transport = recorder
	r := h.main("login", "--env", "local", "--subject", "urn:pleo:company:3f2c6d1e-0000-4000-8000-000000000abc")
	if r.code != exitcode.OK {
		t.Fatalf("login exit %d: %s", r.code, r.stderr)
	}
	if got := authQuery.Get("code_challenge_method"); got != "S256" {
		t.Errorf("code_challenge_method = %q; want S256", got)
	}
	if authQuery.Has("code_verifier") || authQuery.Has("client_secret") {
		t.Errorf("authorization URL carries a secret: %v", authQuery)
	}
	if got := authQuery.Get("urn_pleo_params_oauth_subject"); got != "urn:pleo:company:3f2c6d1e-0000-4000-8000-000000000abc" {
		t.Errorf("subject parameter = %q", got)
	}
	if len(authQuery.Get("state")) < 22 { // 128 bits in base64url
		t.Errorf("state %q is shorter than 128 bits", authQuery.Get("state"))
	}
	id, secret, ok := tokenReq.BasicAuth()
	if !ok || id != "pleoauth-local" || secret != "devserver-test-secret" {
		t.Errorf("token request Basic auth = (%q, %q, %v)", id, secret, ok)
	}
	if tokenForm.Has("client_secret") || tokenForm.Has("client_id") {
		t.Errorf("token request body carries client credentials: %v", tokenForm)
	}
	for k, want := range map[string]string{"grant_type": "authorization_code", "redirect_uri": h.redirect} {
		if got := tokenForm.Get(k); got != want {
			t.Errorf("token request %s = %q; want %q", k, got, want)
		}
	}
	if v := tokenForm.Get("code_verifier"); len(v) < 43 {
		t.Errorf("code_verifier %q too short", v)
	}
	if !strings.HasPrefix(tokenReq.URL.String(), hs.URL) {
		t.Errorf("token request went to %s", tokenReq.URL)
	}
}

func TestLoginCodeVerifierFlag(t *testing.T) {
	h := newHarness(t)
	h.startDevserver(devserver.Options{AutoApprove: true})
	h.browser = followRedirects
	verifier := strings.Repeat("a1-._~", 8)
	if r := h.main("login", "--env", "local", "--code-verifier", verifier); r.code != exitcode.OK {
		t.Fatalf("login with a valid --code-verifier: exit %d: %s", r.code, r.stderr)
	}
	r := h.main("login", "--env", "local", "--code-verifier", "short")
	if r.code != exitcode.Usage || !strings.Contains(r.stderr, "43 to 128") {
		t.Errorf("short --code-verifier = (%d, %q); want usage error naming 43 to 128", r.code, r.stderr)
	}
}

// TestLoginDenied: the user clicks Deny on the consent page.
func TestLoginDenied(t *testing.T) {
	h := newHarness(t)
	h.startDevserver(devserver.Options{})
	h.browser = func(u string) error {
		resp, err := http.PostForm(u, url.Values{"decision": {"deny"}})
		if err != nil {
			return err
		}
		resp.Body.Close()
		return nil
	}
	previous := h.seedBundle("local")
	r := h.main("login", "--env", "local")
	if r.code != exitcode.Error {
		t.Fatalf("exit %d; want %d", r.code, exitcode.Error)
	}
	last := lastLine(r.stderr)
	oneLine(t, last)
	for _, want := range []string{"login local", "access_denied"} {
		if !strings.Contains(last, want) {
			t.Errorf("error %q does not contain %q", last, want)
		}
	}
	h.assertBundle("local", previous)
}

type recordingTransport struct {
	next    http.RoundTripper
	onToken func(*http.Request, url.Values)
}

func (rt *recordingTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	if strings.HasSuffix(r.URL.Path, "/oauth/token") && r.Body != nil {
		body, _ := io.ReadAll(r.Body)
		r.Body.Close()
		form, _ := url.ParseQuery(string(body))
		rt.onToken(r, form)
		r.Body = io.NopCloser(strings.NewReader(string(body)))
	}
	return rt.next.RoundTrip(r)
}

func lastLine(s string) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	return lines[len(lines)-1]
}

// seedBundle stores a bundle as an earlier login would have, and returns the file's bytes.
func (h *harness) seedBundle(env string) []byte {
	h.t.Helper()
	b := &store.Bundle{AccessToken: "earlier-access", RefreshToken: "earlier-refresh", TokenType: "bearer"}
	if err := (store.File{Dir: h.home + "/tokens"}).Save(env, b); err != nil {
		h.t.Fatal(err)
	}
	data, err := os.ReadFile(h.tokenFile(env))
	if err != nil {
		h.t.Fatal(err)
	}
	return data
}

// assertBundle fails unless env's token file holds exactly want (nil: no file).
func (h *harness) assertBundle(env string, want []byte) {
	h.t.Helper()
	got, err := os.ReadFile(h.tokenFile(env))
	if want == nil {
		if !errors.Is(err, os.ErrNotExist) {
			h.t.Errorf("a token file was written for %s", env)
		}
		return
	}
	if string(got) != string(want) {
		h.t.Errorf("stored tokens of %s changed:\n got %s\nwant %s", env, got, want)
	}
}
