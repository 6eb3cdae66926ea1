package authcode

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"golang.org/x/oauth2"

	"github.com/pleoauth/pleoauth/internal/loopback"
	"github.com/pleoauth/pleoauth/internal/oauthtest"
)

// authServer is an authorization server that approves every request at once with the code
// "the-code", answers the code exchange with token, and keeps what it was sent.
type authServer struct {
	url   string
	token http.HandlerFunc

	mu        sync.Mutex
	authorize url.Values // the last authorization request's query
	exchanges []*http.Request
}

func newAuthServer(t *testing.T, token http.HandlerFunc) *authServer {
	t.Helper()
	s := &authServer{token: token}
	hs := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/oauth/authorize":
			q := r.URL.Query()
			s.mu.Lock()
			s.authorize = q
			s.mu.Unlock()
			to, _ := url.Parse(q.Get("redirect_uri"))
			to.RawQuery = url.Values{"code": {"the-code"}, "state": {q.Get("state")}}.Encode()
			http.Redirect(w, r, to.String(), http.StatusFound)
		case "/oauth/token":
			_ = r.ParseForm()
			s.mu.Lock()
			s.exchanges = append(s.exchanges, r)
			s.mu.Unlock()
			s.token(w, r)
		default:
			http.NotFound(w, r)
		}
	}))
	t.Cleanup(hs.Close)
	s.url = hs.URL
	return s
}

func (s *authServer) sent() (url.Values, []*http.Request) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.authorize, append([]*http.Request(nil), s.exchanges...)
}

// tokenAnswer answers the code exchange with status and a JSON body.
func tokenAnswer(status int, body string) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(status)
		io.WriteString(w, body)
	}
}

const goodToken = `{"access_token":"at-1","refresh_token":"rt-1","token_type":"Bearer","expires_in":900}`

// loopbackLogin is a login against s on a free loopback port.
func (s *authServer) loopbackLogin(t *testing.T, stderr io.Writer) *Login {
	return &Login{
		OAuth2: &oauth2.Config{
			ClientID: "c", ClientSecret: "s", RedirectURL: fmt.Sprintf("http://localhost:%d/callback", oauthtest.FreePort(t)),
			Scopes: []string{"users:read", "expenses:read"},
			Endpoint: oauth2.Endpoint{AuthURL: s.url + "/oauth/authorize", TokenURL: s.url + "/oauth/token",
				AuthStyle: oauth2.AuthStyleInHeader},
		},
		HTTPClient: &http.Client{Timeout: 10 * time.Second},
		Stderr:     stderr,
	}
}

// followingBrowser opens the authorization URL as a browser would: it follows every redirect,
// through the loopback listener to the result page, and reports the status that page ends with.
func followingBrowser(result chan<- int) func(string) error {
	return func(authURL string) error {
		go func() {
			resp, err := http.Get(authURL)
			if err != nil {
				result <- 0
				return
			}
			resp.Body.Close()
			result <- resp.StatusCode
		}()
		return nil
	}
}

// TestAuthorizationRequest: the authorization request asks for a code (RFC 6749 §4.1.1) with
// the client, redirect URI, scopes, Pleo's extra parameters, a fresh state, and the S256
// challenge of the verifier (RFC 7636 §4.3, checked with Appendix B's pair); the code exchange
// sends that code, the same redirect URI and the verifier (RFC 6749 §4.1.3, RFC 7636 §4.5), with
// the client authenticated by HTTP Basic (§2.3.1).
func TestAuthorizationRequest(t *testing.T) {
	s := newAuthServer(t, tokenAnswer(200, goodToken))
	var stderr oauthtest.SyncBuffer
	l := s.loopbackLogin(t, &stderr)
	l.Verifier = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk"
	l.AuthParams = url.Values{"urn_pleo_params_oauth_subject": {"company:42"}}
	result := make(chan int, 1)
	l.OpenBrowser = followingBrowser(result)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	tok, err := l.Run(ctx)
	if err != nil {
		t.Fatalf("Run: %v\n%s", err, stderr.String())
	}
	if tok.AccessToken != "at-1" || tok.RefreshToken != "rt-1" {
		t.Errorf("token %+v; want the exchange's", tok)
	}
	authorize, exchanges := s.sent()
	for k, want := range map[string]string{
		"response_type":                 "code",
		"client_id":                     "c",
		"redirect_uri":                  l.OAuth2.RedirectURL,
		"scope":                         "users:read expenses:read",
		"code_challenge":                "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM",
		"code_challenge_method":         "S256",
		"urn_pleo_params_oauth_subject": "company:42",
	} {
		if got := authorize.Get(k); got != want {
			t.Errorf("authorization request %s = %q; want %q", k, got, want)
		}
	}
	if st := authorize.Get("state"); len(st) < 43 || authorize.Has("code_verifier") {
		t.Errorf("authorization request %v: want a state of 256 bits and no verifier", authorize)
	}
	if len(exchanges) != 1 {
		t.Fatalf("%d code exchanges; want one", len(exchanges))
	}
	ex := exchanges[0]
	for k, want := range map[string]string{
		"grant_type":    "authorization_code",
		"code":          "the-code",
		"redirect_uri":  l.OAuth2.RedirectURL,
		"code_verifier": l.Verifier,
	} {
		if got := ex.PostForm.Get(k); got != want {
			t.Errorf("code exchange %s = %q; want %q", k, got, want)
		}
	}
	if id, secret, ok := ex.BasicAuth(); !ok || id != "c" || secret != "s" || ex.PostForm.Has("client_secret") {
		t.Errorf("the client authenticated with %q, %q, %v and form %v; want HTTP Basic only", id, secret, ok, ex.PostForm)
	}
	if got := <-result; got != http.StatusOK {
		t.Errorf("the browser's result page answered %d; want %d", got, http.StatusOK)
	}
	if !strings.Contains(stderr.String(), "Waiting for the redirect to "+l.OAuth2.RedirectURL+" ...") {
		t.Errorf("stderr does not say where the redirect is awaited:\n%s", stderr.String())
	}
}

// TestExchangeOutcomes: a valid redirect's code is exchanged only once the caller is ready to
// keep the tokens; a token endpoint's refusal, a token pleoauth cannot present as Bearer
// (RFC 6750), or one it cannot put in a header fails the login, nothing is kept, and the
// browser's result page says the login failed; only tokens kept make it say "Logged in".
func TestExchangeOutcomes(t *testing.T) {
	errNoStore := errors.New("the keychain is locked")
	tests := []struct {
		name          string
		token         http.HandlerFunc
		before        error // what BeforeExchange returns
		keep          error // what Keep returns
		wantErr       string
		wantExchanges int
		wantKept      bool
	}{
		{"tokens kept", tokenAnswer(200, goodToken), nil, nil, "", 1, true},
		{"the code refused", tokenAnswer(400, `{"error":"invalid_grant","error_description":"code used"}`), nil, nil,
			"/oauth/token refused the request: invalid_grant (code used)", 1, false},
		{"a token of another type", tokenAnswer(200, `{"access_token":"at-1","token_type":"mac"}`), nil, nil,
			`/oauth/token: issued a "mac" token, but pleoauth only handles Bearer tokens`, 1, false},
		{"a token that is not a b64token", tokenAnswer(200, `{"access_token":"at 1","token_type":"Bearer"}`), nil, nil,
			"/oauth/token: issued an access token with characters outside RFC 6750's b64token", 1, false},
		{"nowhere to keep the tokens", tokenAnswer(200, goodToken), errNoStore, nil, "the keychain is locked", 0, false},
		{"the tokens not kept", tokenAnswer(200, goodToken), nil, errNoStore, "the keychain is locked", 1, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := newAuthServer(t, tt.token)
			var stderr oauthtest.SyncBuffer
			l := s.loopbackLogin(t, &stderr)
			result := make(chan int, 1)
			l.OpenBrowser = followingBrowser(result)
			var kept *oauth2.Token
			l.BeforeExchange = func(context.Context) error { return tt.before }
			l.Keep = func(_ context.Context, tok *oauth2.Token) error {
				kept = tok
				return tt.keep
			}
			ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
			defer cancel()
			tok, err := l.Run(ctx)
			if tt.wantErr == "" {
				if err != nil || tok == nil {
					t.Fatalf("Run = %v, %v\n%s", tok, err, stderr.String())
				}
			} else {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) || tok != nil {
					t.Fatalf("Run = %v, %v; want no token and an error containing %q", tok, err, tt.wantErr)
				}
			}
			if _, exchanges := s.sent(); len(exchanges) != tt.wantExchanges {
				t.Errorf("%d code exchanges; want %d", len(exchanges), tt.wantExchanges)
			}
			if (kept != nil) != tt.wantKept || kept != nil && kept.AccessToken != "at-1" {
				t.Errorf("Keep got %+v; want it called: %v", kept, tt.wantKept)
			}
			wantPage := http.StatusOK
			if tt.wantErr != "" {
				wantPage = http.StatusBadRequest
			}
			if got := <-result; got != wantPage {
				t.Errorf("the browser's result page answered %d; want %d", got, wantPage)
			}
		})
	}
}

// TestRunCannotStart: a login that cannot receive its redirect says why at once — a redirect
// URI that does not parse, or a redirect port another program holds when nothing can be pasted
// — and when the port is held and stdin ends unpasted, the error names both.
func TestRunCannotStart(t *testing.T) {
	s := newAuthServer(t, tokenAnswer(200, goodToken))
	t.Run("a redirect URI that does not parse", func(t *testing.T) {
		var stderr oauthtest.SyncBuffer
		l := s.loopbackLogin(t, &stderr)
		l.OAuth2.RedirectURL = "http://[::1/callback"
		if _, err := l.Run(context.Background()); err == nil || !strings.Contains(err.Error(), `redirect URI "http://[::1/callback"`) {
			t.Errorf("Run = %v; want the redirect URI named", err)
		}
	})
	for _, tt := range []struct {
		name    string
		paste   io.Reader
		wantErr []string
	}{
		{"a held port and nothing to paste from", nil, nil},
		{"a held port and stdin that ends", strings.NewReader("\n"), []string{", and stdin ended before an address was pasted"}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			var stderr oauthtest.SyncBuffer
			l := s.loopbackLogin(t, &stderr)
			l.Paste = tt.paste
			u, _ := url.Parse(l.OAuth2.RedirectURL)
			blocker, err := net.Listen("tcp", "127.0.0.1:"+u.Port())
			if err != nil {
				t.Fatal(err)
			}
			defer blocker.Close()
			ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
			defer cancel()
			_, err = l.Run(ctx)
			var inUse *loopback.PortInUseError
			if !errors.As(err, &inUse) {
				t.Fatalf("Run = %v; want the port named as held", err)
			}
			for _, want := range tt.wantErr {
				if !strings.Contains(err.Error(), want) {
					t.Errorf("Run = %v; want %q in it", err, want)
				}
			}
			if _, exchanges := s.sent(); len(exchanges) != 0 {
				t.Errorf("%d code exchanges; want none", len(exchanges))
			}
		})
	}
}

// TestBrowserFailureWithoutPaste: a browser that cannot open, with nothing to paste from, is
// reported once with what to do — open the URL by hand — and the listener keeps waiting for
// that browser.
func TestBrowserFailureWithoutPaste(t *testing.T) {
	s := newAuthServer(t, tokenAnswer(200, goodToken))
	var stderr oauthtest.SyncBuffer
	l := s.loopbackLogin(t, &stderr)
	result := make(chan int, 1)
	l.OpenBrowser = func(authURL string) error {
		go func() {
			// The person reads the message and opens the URL by hand.
			for deadline := time.Now().Add(10 * time.Second); !strings.Contains(stderr.String(), "open the URL above yourself"); {
				if time.Now().After(deadline) {
					result <- 0
					return
				}
				time.Sleep(5 * time.Millisecond)
			}
			_ = followingBrowser(result)(authURL)
		}()
		return errors.New("xdg-open: no method available")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	if _, err := l.Run(ctx); err != nil {
		t.Fatalf("Run: %v\n%s", err, stderr.String())
	}
	if n := strings.Count(stderr.String(), "Could not open a browser (xdg-open: no method available); open the URL above yourself.\n"); n != 1 {
		t.Errorf("the browser's failure was reported %d times; want once:\n%s", n, stderr.String())
	}
	if got := <-result; got != http.StatusOK {
		t.Errorf("the browser's result page answered %d; want %d", got, http.StatusOK)
	}
}

// TestListenerIgnoresAnotherState: a request to the listener with another login's state — a
// stale tab, or a page poking the port — is answered as a stranger's and reported once; its
// code is never used, and the browser's real redirect still logs in (RFC 6749 §10.12).
func TestListenerIgnoresAnotherState(t *testing.T) {
	s := newAuthServer(t, tokenAnswer(200, goodToken))
	var stderr oauthtest.SyncBuffer
	l := s.loopbackLogin(t, &stderr)
	strayStatus, result := make(chan int, 1), make(chan int, 1)
	l.OpenBrowser = func(authURL string) error {
		go func() {
			resp, err := http.Get(l.OAuth2.RedirectURL + "?code=foreign&state=another-login")
			if err != nil {
				strayStatus <- 0
			} else {
				resp.Body.Close()
				strayStatus <- resp.StatusCode
			}
			_ = followingBrowser(result)(authURL)
		}()
		return nil
	}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	if _, err := l.Run(ctx); err != nil {
		t.Fatalf("Run: %v\n%s", err, stderr.String())
	}
	if got := <-strayStatus; got != http.StatusBadRequest {
		t.Errorf("the request with another state was answered %d; want %d", got, http.StatusBadRequest)
	}
	if !strings.Contains(stderr.String(), "Ignored a request to the redirect address that is not this login's: its state does not match (a stale browser tab, or a forged request). Still waiting for the browser.\n") {
		t.Errorf("stderr does not report the stranger's request:\n%s", stderr.String())
	}
	if _, exchanges := s.sent(); len(exchanges) != 1 || exchanges[0].PostForm.Get("code") != "the-code" {
		t.Errorf("code exchanges %d; want one, of the login's own code", len(exchanges))
	}
	if got := <-result; got != http.StatusOK {
		t.Errorf("the browser's result page answered %d; want %d", got, http.StatusOK)
	}
}

// TestPasteSkipsBlankLines: empty or blank lines before the address — an Enter pressed too
// soon — are passed over without a complaint.
func TestPasteSkipsBlankLines(t *testing.T) {
	w := newFlowWorld(t, postmanCallback)
	var stderr oauthtest.SyncBuffer
	r, pw := io.Pipe()
	l := w.login(postmanCallback, &stderr)
	l.Paste = r
	l.OpenBrowser = pastingBrowser(pw, func(s string) string { return "\n  \r\n\t\n" + s })
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	if _, err := l.Run(ctx); err != nil {
		t.Fatalf("Run: %v\n%s", err, stderr.String())
	}
	if strings.Contains(stderr.String(), "not accepted") {
		t.Errorf("a blank line was complained about:\n%s", stderr.String())
	}
	if got := w.exchanges(); len(got) != 1 {
		t.Errorf("%d codes exchanged; want one", len(got))
	}
}

// TestPastedAddressMatchesRedirectURI: a pasted address is the redirect URI's when it names the
// same scheme, host and port — a default port written or not — and the same path, an empty
// path being "/"; any other port is another address.
func TestPastedAddressMatchesRedirectURI(t *testing.T) {
	tests := []struct {
		redirect, pasted string
		want             bool
	}{
		{"http://localhost/callback", "http://localhost:80/callback?code=abc&state=s", true},
		{"http://localhost:80/callback", "http://localhost/callback?code=abc&state=s", true},
		{"https://oauth.pstmn.io/v1/callback", "https://oauth.pstmn.io:443/v1/callback?code=abc&state=s", true},
		{"http://localhost:8765", "http://localhost:8765/?code=abc&state=s", true},
		{"http://localhost:8765/", "http://localhost:8765?code=abc&state=s", true},
		{"HTTP://LocalHost:8765/callback", "http://localhost:8765/callback?code=abc&state=s", true},
		{"http://localhost/callback", "http://localhost:8080/callback?code=abc&state=s", false},
		{"http://localhost/callback", "http://localhost:443/callback?code=abc&state=s", false},
		{"https://oauth.pstmn.io/v1/callback", "https://oauth.pstmn.io:80/v1/callback?code=abc&state=s", false},
		{"http://localhost:8765", "http://localhost:8765/x?code=abc&state=s", false},
		{"http://localhost:8765/callback", "http://localhost:8765/Callback?code=abc&state=s", false},
		{"app://localhost/callback", "app://localhost/callback?code=abc&state=s", true},
		{"app://localhost/callback", "app://localhost:80/callback?code=abc&state=s", false},
	}
	for _, tt := range tests {
		redirect, _ := url.Parse(tt.redirect)
		q, err := ParsePasted(tt.pasted, redirect)
		if got := err == nil && q.Get("code") == "abc"; got != tt.want {
			t.Errorf("ParsePasted(%q) with redirect URI %s = %v, %v; want accepted: %v", tt.pasted, tt.redirect, q, err, tt.want)
		}
	}
}

// TestLoopbackPastePrompt: on a loopback redirect URI, the person is told they may paste the
// address when a paste is read from the start — no browser to open, or the redirect port held
// by another program — and not while a browser opened and the listener waits, nor when nothing
// can be pasted; a redirect URI off this machine has its own instructions.
func TestLoopbackPastePrompt(t *testing.T) {
	tests := []struct {
		name                       string
		pasteBack, portHeld, paste bool
		browser                    bool
		want                       bool
	}{
		{"a browser and the listener", false, false, true, true, false},
		{"no browser", false, false, true, false, true},
		{"the port held", false, true, true, true, true},
		{"nothing to paste from", false, false, false, true, false},
		{"a redirect URI off this machine", true, false, true, true, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := newAuthServer(t, tokenAnswer(200, goodToken))
			var stderr oauthtest.SyncBuffer
			l := s.loopbackLogin(t, &stderr)
			if tt.pasteBack {
				l.OAuth2.RedirectURL = postmanCallback
			}
			if tt.portHeld {
				u, _ := url.Parse(l.OAuth2.RedirectURL)
				blocker, err := net.Listen("tcp", "127.0.0.1:"+u.Port())
				if err != nil {
					t.Fatal(err)
				}
				defer blocker.Close()
			}
			// Everything is said before the browser opens or stdin is read: either ends the test.
			ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
			defer cancel()
			pr, pw := io.Pipe()
			defer pw.Close()
			stdin := newWatchedStdin(pr)
			if tt.paste {
				l.Paste = stdin
				go func() {
					select {
					case <-stdin.read:
						cancel()
					case <-ctx.Done():
					}
				}()
			}
			if tt.browser {
				l.OpenBrowser = func(string) error { cancel(); return nil }
			}
			if _, err := l.Run(ctx); !errors.Is(err, context.Canceled) {
				t.Fatalf("Run = %v; want it stopped\n%s", err, stderr.String())
			}
			prompt := "If the browser cannot reach this machine, paste the address it ends on (" + l.OAuth2.RedirectURL + "?...) here and press Enter.\n"
			if got := strings.Contains(stderr.String(), prompt); got != tt.want {
				t.Errorf("prompt shown: %v; want %v\n%s", got, tt.want, stderr.String())
			}
		})
	}
}
