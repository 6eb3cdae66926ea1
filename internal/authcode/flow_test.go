package authcode

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"golang.org/x/oauth2"

	"github.com/pleoauth/pleoauth/internal/devserver"
	"github.com/pleoauth/pleoauth/internal/oauthtest"
)

const postmanCallback = "https://oauth.pstmn.io/v1/callback"

// flowWorld is a devserver that approves at once, with the redirect_uri of every code exchange
// it was sent.
type flowWorld struct {
	url       string
	mu        sync.Mutex
	exchanged []string
}

func newFlowWorld(t *testing.T, redirects ...string) *flowWorld {
	t.Helper()
	dev, err := devserver.New(devserver.Options{
		ClientID: "c", ClientSecret: "s", RedirectURIs: redirects,
		AccessTTL: time.Minute, RefreshTTL: time.Hour, AutoApprove: true,
	})
	if err != nil {
		t.Fatal(err)
	}
	w := &flowWorld{}
	hs := httptest.NewServer(http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/oauth/token" && r.FormValue("grant_type") == "authorization_code" {
			w.mu.Lock()
			w.exchanged = append(w.exchanged, r.PostFormValue("redirect_uri"))
			w.mu.Unlock()
		}
		dev.ServeHTTP(rw, r)
	}))
	t.Cleanup(hs.Close)
	w.url = hs.URL
	return w
}

func (w *flowWorld) login(redirect string, stderr io.Writer) *Login {
	return &Login{
		OAuth2: &oauth2.Config{
			ClientID: "c", ClientSecret: "s", RedirectURL: redirect, Scopes: []string{"users:read"},
			Endpoint: oauth2.Endpoint{AuthURL: w.url + "/oauth/authorize", TokenURL: w.url + "/oauth/token", AuthStyle: oauth2.AuthStyleInHeader},
		},
		HTTPClient: http.DefaultClient,
		Stderr:     stderr,
	}
}

func (w *flowWorld) exchanges() []string {
	w.mu.Lock()
	defer w.mu.Unlock()
	return append([]string(nil), w.exchanged...)
}

// landing is where the browser is sent after the server approves: the redirect's address.
func landing(authURL string) (string, error) {
	resp, err := oauthtest.NoRedirects().Get(authURL)
	if err != nil {
		return "", err
	}
	resp.Body.Close()
	if loc := resp.Header.Get("Location"); loc != "" {
		return loc, nil
	}
	return "", fmt.Errorf("authorization answered %d without a redirect", resp.StatusCode)
}

// pastingBrowser is a browser that stops on the redirect's page and a person who pastes its
// address, changed by edit, on the login's stdin; it then closes stdin.
func pastingBrowser(paste *io.PipeWriter, edit func(string) string) func(string) error {
	return func(authURL string) error {
		loc, err := landing(authURL)
		if err != nil {
			return err
		}
		go func() {
			fmt.Fprintln(paste, edit(loc))
			paste.Close()
		}()
		return nil
	}
}

// TestPasteBackLogin: a redirect URI off this machine (Postman's callback) is not listened on;
// the address the browser ends on is pasted, checked, and its code exchanged with the
// registered redirect_uri.
func TestPasteBackLogin(t *testing.T) {
	w := newFlowWorld(t, postmanCallback)
	var stderr oauthtest.SyncBuffer
	r, pw := io.Pipe()
	l := w.login(postmanCallback, &stderr)
	l.Paste = r
	l.OpenBrowser = pastingBrowser(pw, func(s string) string { return s })
	l.Waiting = func(context.Context) { t.Error("a progress display ran while the person is asked to paste") }
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	tok, err := l.Run(ctx)
	if err != nil {
		t.Fatalf("Run: %v\n%s", err, stderr.String())
	}
	if tok.AccessToken == "" {
		t.Error("no access token")
	}
	if got := w.exchanges(); len(got) != 1 || got[0] != postmanCallback {
		t.Errorf("code exchanges sent redirect_uri %q; want one with %q", got, postmanCallback)
	}
	out := stderr.String()
	if n := strings.Count(out, "protected by PKCE"); n != 1 {
		t.Errorf("the PKCE notice was said %d times; want once:\n%s", n, out)
	}
	for _, want := range []string{"The redirect goes to " + postmanCallback, "paste the address your browser ends on here", "never leaves this machine"} {
		if !strings.Contains(out, want) {
			t.Errorf("stderr lacks %q:\n%s", want, out)
		}
	}
	if strings.Contains(out, "Waiting for the redirect") {
		t.Errorf("a paste-back login claims to wait for the redirect:\n%s", out)
	}
}

// TestPasteBackRefusals: a paste-back login whose pasted address is not this login's redirect
// never exchanges a code, and ends with a clear error when stdin ends; one that comes with this
// login's state and the server's error ends the login at once.
func TestPasteBackRefusals(t *testing.T) {
	tests := []struct {
		name       string
		edit       func(string) string
		wantErr    string
		wantStderr string
	}{
		{"tampered state", func(s string) string { return strings.Replace(s, "state=", "state=x", 1) },
			"stdin ended before the address", "state does not match"},
		{"wrong host", func(s string) string { return strings.Replace(s, "oauth.pstmn.io", "evil.example", 1) },
			"stdin ended before the address", "https://evil.example/v1/callback is not the registered redirect URI"},
		{"wrong path", func(s string) string { return strings.Replace(s, "/v1/callback", "/v1/browser-callback", 1) },
			"stdin ended before the address", "not the registered redirect URI"},
		{"another issuer", func(s string) string { return s + "&iss=https%3A%2F%2Fevil.example" },
			`names issuer "https://evil.example"`, ""},
		{"refused", func(s string) string {
			u, _ := url.Parse(s)
			q := u.Query()
			q.Del("code")
			q.Set("error", "access_denied")
			u.RawQuery = q.Encode()
			return u.String()
		}, "refused: access_denied", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w := newFlowWorld(t, postmanCallback)
			var stderr oauthtest.SyncBuffer
			r, pw := io.Pipe()
			l := w.login(postmanCallback, &stderr)
			l.Issuer = w.url
			l.Paste = r
			l.OpenBrowser = pastingBrowser(pw, tt.edit)
			ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
			defer cancel()
			_, err := l.Run(ctx)
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Fatalf("Run = %v; want an error containing %q\n%s", err, tt.wantErr, stderr.String())
			}
			if strings.Contains(err.Error(), "\n") {
				t.Errorf("a message of more than one line: %q", err)
			}
			if !strings.Contains(stderr.String(), tt.wantStderr) {
				t.Errorf("stderr lacks %q:\n%s", tt.wantStderr, stderr.String())
			}
			if got := w.exchanges(); len(got) != 0 {
				t.Errorf("%d codes exchanged; want none", len(got))
			}
		})
	}
}

// TestPasteBackWithoutPaste: a redirect off this machine with nothing to paste from fails at
// once, before a URL is shown.
func TestPasteBackWithoutPaste(t *testing.T) {
	w := newFlowWorld(t, postmanCallback)
	var stderr oauthtest.SyncBuffer
	_, err := w.login(postmanCallback, &stderr).Run(context.Background())
	if err == nil || !strings.Contains(err.Error(), "nothing can be pasted here") || !strings.Contains(err.Error(), postmanCallback) {
		t.Fatalf("Run = %v; want the redirect named and that nothing can be pasted", err)
	}
	if stderr.String() != "" {
		t.Errorf("stderr = %q; want nothing", stderr.String())
	}
}

// TestBrowserFailureFallsBackToPaste: when the browser cannot open, the same run asks for the
// address to be pasted, the progress display stopped and its line cleared first; the listener
// keeps waiting too, and the pasted address wins here.
func TestBrowserFailureFallsBackToPaste(t *testing.T) {
	redirect := fmt.Sprintf("http://localhost:%d/callback", oauthtest.FreePort(t))
	w := newFlowWorld(t, redirect)
	var stderr oauthtest.SyncBuffer
	r, pw := io.Pipe()
	l := w.login(redirect, &stderr)
	l.Paste = r
	l.Waiting = func(ctx context.Context) {
		fmt.Fprint(&stderr, "[progress]")
		<-ctx.Done()
		fmt.Fprint(&stderr, "[cleared]")
	}
	l.OpenBrowser = func(authURL string) error {
		loc, err := landing(authURL)
		if err != nil {
			return err
		}
		// The person reads the prompt, opens the URL elsewhere and pastes the address.
		go func() {
			for !strings.Contains(stderr.String(), "paste the address your browser ends on here") {
				time.Sleep(5 * time.Millisecond)
			}
			fmt.Fprintln(pw, loc)
		}()
		for !strings.Contains(stderr.String(), "[progress]") {
			time.Sleep(5 * time.Millisecond)
		}
		return errors.New("xdg-open: no method available for opening the URL")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	if _, err := l.Run(ctx); err != nil {
		t.Fatalf("Run: %v\n%s", err, stderr.String())
	}
	out := stderr.String()
	cleared, failed := strings.Index(out, "[cleared]"), strings.Index(out, "Could not open a browser (xdg-open: no method available")
	if cleared < 0 || failed < 0 || cleared > failed {
		t.Errorf("the progress line was not cleared before the browser's failure was reported:\n%s", out)
	}
	if strings.Count(out, "[progress]") != 1 {
		t.Errorf("the progress display restarted after the paste prompt:\n%s", out)
	}
	if got := w.exchanges(); len(got) != 1 || got[0] != redirect {
		t.Errorf("code exchanges sent redirect_uri %q; want one with %q", got, redirect)
	}
}
