package cli

import (
	"bytes"
	"crypto/tls"
	"io"
	"log"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"

	"github.com/pleoauth/pleoauth/internal/devserver"
)

// wireLog keeps every request pleoauth sends, as the server receives it.
type wireLog struct {
	next http.RoundTripper
	mu   sync.Mutex
	reqs []seenRequest
}

type seenRequest struct {
	url  *url.URL
	head http.Header
	body string
}

func (w *wireLog) RoundTrip(r *http.Request) (*http.Response, error) {
	var body []byte
	if r.Body != nil {
		body, _ = io.ReadAll(r.Body)
		r.Body = io.NopCloser(bytes.NewReader(body))
	}
	w.mu.Lock()
	w.reqs = append(w.reqs, seenRequest{r.URL, r.Header.Clone(), string(body)})
	w.mu.Unlock()
	return w.next.RoundTrip(r)
}

// TestCredentialsOnlyWhereTheyBelong walks a login, a refresh and an API call and checks each
// request: the client secret travels only in the Basic header of token requests; the PKCE
// verifier only in the code exchange, never in the authorization URL; "plain" is never sent; the
// access token only as a Bearer header to the API, never in a URL.
func TestCredentialsOnlyWhereTheyBelong(t *testing.T) {
	const secret = "devserver-test-secret"
	h := newHarness(t)
	_, hs := h.startDevserver(devserver.Options{AutoApprove: true})
	var authURLs []*url.URL
	h.browser = func(u string) error {
		parsed, _ := url.Parse(u)
		authURLs = append(authURLs, parsed)
		return followRedirects(u)
	}
	wire := &wireLog{next: http.DefaultTransport}
	h.transport = wire
	for _, args := range [][]string{{"login"}, {"token", "--force-refresh"}, {"api", "/v2/employees"}} {
		if r := h.main(append(args, "--env", "local")...); r.code != 0 {
			t.Fatalf("%v: %+v", args, r)
		}
	}

	for _, u := range authURLs {
		q := u.Query()
		if q.Get("code_challenge_method") != "S256" || q.Has("code_verifier") || q.Has("client_secret") || strings.Contains(u.String(), secret) {
			t.Errorf("authorization URL %s: want S256, no verifier, no secret", u)
		}
	}
	var tokenReqs, apiReqs int
	for _, r := range wire.reqs {
		if strings.Contains(r.url.String(), secret) || strings.Contains(r.url.RawQuery, "access_token") {
			t.Errorf("a credential is in the URL %s", r.url)
		}
		form, _ := url.ParseQuery(r.body)
		switch {
		case r.url.Path == "/oauth/token":
			tokenReqs++
			req := &http.Request{Header: r.head}
			if _, pw, ok := req.BasicAuth(); !ok || pw != secret {
				t.Errorf("token request without the client's Basic header")
			}
			if strings.Contains(r.body, secret) || form.Has("client_secret") || form.Has("client_id") {
				t.Errorf("token request body carries client credentials: %s", r.body)
			}
			if form.Get("code_challenge_method") == "plain" {
				t.Error("plain sent")
			}
			if form.Get("grant_type") == "authorization_code" {
				v := form.Get("code_verifier")
				if len(v) < 43 || len(v) > 128 || strings.Trim(v, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~") != "" {
					t.Errorf("code_verifier %q is not RFC 7636's 43-128 unreserved characters", v)
				}
			}
		case strings.HasPrefix(r.url.String(), hs.URL+"/v2/"):
			apiReqs++
			auth := r.head.Get("Authorization")
			if !strings.HasPrefix(auth, "Bearer ") || strings.Contains(auth, secret) || r.body != "" {
				t.Errorf("API request authorised with %q, body %q; want a Bearer token only", auth, r.body)
			}
		}
	}
	if tokenReqs != 2 || apiReqs != 1 {
		t.Errorf("saw %d token and %d API requests; want 2 and 1", tokenReqs, apiReqs)
	}
}

// TestTLSMinimum12: a server that offers at most TLS 1.1 is refused.
func TestTLSMinimum12(t *testing.T) {
	h := newHarness(t)
	srv := httptest.NewUnstartedServer(http.NotFoundHandler())
	srv.TLS = &tls.Config{MaxVersion: tls.VersionTLS11}
	srv.Config.ErrorLog = log.New(io.Discard, "", 0)
	srv.StartTLS()
	defer srv.Close()
	h.seedExpired("local")
	t.Setenv("PLEOAUTH_AUTH_SERVER_URL", srv.URL)
	t.Setenv("PLEOAUTH_CLIENT_SECRET", "s")
	r := h.main("token", "--env", "local")
	if r.code == 0 || !strings.Contains(r.stderr, "protocol version") {
		t.Errorf("token against a TLS 1.1 server: %+v", r)
	}
}
