package authcode

import (
	"bufio"
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

// watchedStdin is a login's stdin that tells when it is first read and otherwise never ends,
// as a terminal nobody types at.
type watchedStdin struct {
	once sync.Once
	read chan struct{}
	r    io.Reader
}

func newWatchedStdin(r io.Reader) *watchedStdin {
	return &watchedStdin{read: make(chan struct{}), r: r}
}

func (s *watchedStdin) Read(p []byte) (int, error) {
	s.once.Do(func() { close(s.read) })
	return s.r.Read(p)
}

func (s *watchedStdin) wasRead() bool {
	select {
	case <-s.read:
		return true
	default:
		return false
	}
}

// TestStdinReadOnlyWhenPasteIsNeeded: stdin is read for a paste only when a paste is needed or
// asked for — no browser to open, a redirect URI off this machine, the redirect port held by
// another program, a browser that could not open — and never while a browser opened fine and
// the listener waits: a calling script's input stays its own, and a login in a terminal's
// background is not stopped for reading the terminal.
func TestStdinReadOnlyWhenPasteIsNeeded(t *testing.T) {
	follow := func(authURL string) error {
		loc, err := landing(authURL)
		if err != nil {
			return err
		}
		resp, err := http.Get(loc)
		if err != nil {
			return err
		}
		resp.Body.Close()
		return nil
	}
	tests := []struct {
		name      string
		pasteBack bool
		portHeld  bool
		browser   func(stdin *watchedStdin) func(string) error
		wantRead  bool
	}{
		{"the browser opens and the listener gets the redirect", false, false, func(stdin *watchedStdin) func(string) error {
			return func(authURL string) error {
				// Give a stdin reader, were one started, the time to start.
				time.Sleep(200 * time.Millisecond)
				go follow(authURL)
				return nil
			}
		}, false},
		{"no browser (--no-browser)", false, false, nil, true},
		{"the browser cannot open", false, false, func(*watchedStdin) func(string) error {
			return func(string) error { return errors.New("xdg-open: no method available") }
		}, true},
		{"the redirect port is held by another program", false, true, func(*watchedStdin) func(string) error {
			return func(string) error { return nil }
		}, true},
		{"a redirect URI off this machine", true, false, func(*watchedStdin) func(string) error {
			return func(string) error { return nil }
		}, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			redirect := fmt.Sprintf("http://localhost:%d/callback", oauthtest.FreePort(t))
			if tt.pasteBack {
				redirect = postmanCallback
			}
			if tt.portHeld {
				u, _ := url.Parse(redirect)
				blocker, err := net.Listen("tcp", "127.0.0.1:"+u.Port())
				if err != nil {
					t.Fatal(err)
				}
				defer blocker.Close()
			}
			w := newFlowWorld(t, redirect)
			var stderr oauthtest.SyncBuffer
			pr, pw := io.Pipe()
			defer pw.Close()
			stdin := newWatchedStdin(pr)
			l := w.login(redirect, &stderr)
			l.Paste = stdin
			if tt.browser != nil {
				l.OpenBrowser = tt.browser(stdin)
			}
			ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
			defer cancel()
			if tt.wantRead {
				go func() {
					select {
					case <-stdin.read:
					case <-time.After(5 * time.Second):
					}
					cancel()
				}()
				_, _ = l.Run(ctx)
				if !stdin.wasRead() {
					t.Fatalf("stdin was not read for a paste:\n%s", stderr.String())
				}
				return
			}
			if _, err := l.Run(ctx); err != nil {
				t.Fatalf("Run: %v\n%s", err, stderr.String())
			}
			if stdin.wasRead() {
				t.Errorf("stdin was read while the browser opened fine and the listener waited:\n%s", stderr.String())
			}
		})
	}
}

// TestPasteLongLine: a pasted line longer than any address is refused with a line that says
// so, and the paste input goes on: the address pasted next logs in.
func TestPasteLongLine(t *testing.T) {
	for _, size := range []int{maxPasteLine + 1, 70 << 10, 1 << 20} {
		t.Run(fmt.Sprint(size), func(t *testing.T) {
			w := newFlowWorld(t, postmanCallback)
			var stderr oauthtest.SyncBuffer
			r, pw := io.Pipe()
			l := w.login(postmanCallback, &stderr)
			l.Paste = r
			l.OpenBrowser = pastingBrowser(pw, func(s string) string { return strings.Repeat("x", size) + "\n" + s })
			ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
			defer cancel()
			if _, err := l.Run(ctx); err != nil {
				t.Fatalf("Run: %v\n%s", err, stderr.String())
			}
			if n := strings.Count(stderr.String(), "That line is too long to be the address; paste it again.\n"); n != 1 {
				t.Errorf("the long line was reported %d times; want once:\n%.2000s", n, stderr.String())
			}
			if got := w.exchanges(); len(got) != 1 {
				t.Errorf("%d codes exchanged; want one", len(got))
			}
		})
	}
}

func TestReadLine(t *testing.T) {
	const max = 10
	in := "short\r\n" + strings.Repeat("a", max) + "\n" + strings.Repeat("b", max+1) + "\n" + strings.Repeat("c", 5000) + "\n\nlast"
	r := bufio.NewReaderSize(strings.NewReader(in), 16)
	type line struct {
		s       string
		tooLong bool
		err     error
	}
	want := []line{{"short", false, nil}, {strings.Repeat("a", max), false, nil}, {"", true, nil}, {"", true, nil}, {"", false, nil}, {"last", false, io.EOF}, {"", false, io.EOF}}
	for i, w := range want {
		s, tooLong, err := readLine(r, max)
		if s != w.s || tooLong != w.tooLong || err != w.err {
			t.Errorf("line %d: readLine = %q, %v, %v; want %q, %v, %v", i, s, tooLong, err, w.s, w.tooLong, w.err)
		}
	}
}

// TestListenerRefusesRepeatedState: a redirect to the listener carrying state twice — even with
// this login's state first — is not this login's: it is answered as a stranger's, its code is
// never used, and the wait goes on for the browser's real redirect.
func TestListenerRefusesRepeatedState(t *testing.T) {
	redirect := fmt.Sprintf("http://localhost:%d/callback", oauthtest.FreePort(t))
	w := newFlowWorld(t, redirect)
	var stderr oauthtest.SyncBuffer
	l := w.login(redirect, &stderr)
	strayStatus := make(chan int, 1)
	l.OpenBrowser = func(authURL string) error {
		loc, err := landing(authURL)
		if err != nil {
			return err
		}
		go func() {
			resp, err := oauthtest.NoRedirects().Get(loc + "&state=zzz")
			if err != nil {
				strayStatus <- 0
				return
			}
			resp.Body.Close()
			strayStatus <- resp.StatusCode
			if resp, err := http.Get(loc); err == nil {
				resp.Body.Close()
			}
		}()
		return nil
	}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	if _, err := l.Run(ctx); err != nil {
		t.Fatalf("Run: %v\n%s", err, stderr.String())
	}
	if got := <-strayStatus; got != http.StatusBadRequest {
		t.Errorf("the redirect with two states was answered %d; want %d", got, http.StatusBadRequest)
	}
	if !strings.Contains(stderr.String(), "Ignored a request to the redirect address that is not this login's: it carries state more than once (RFC 6749 §3.1)") {
		t.Errorf("stderr does not report the refused redirect:\n%s", stderr.String())
	}
	if got := w.exchanges(); len(got) != 1 {
		t.Errorf("%d codes exchanged; want one", len(got))
	}
}
