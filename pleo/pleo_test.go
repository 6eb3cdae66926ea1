package pleo_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/pleoauth/pleoauth/internal/config"
	"github.com/pleoauth/pleoauth/internal/devserver"
	"github.com/pleoauth/pleoauth/internal/grant"
	"github.com/pleoauth/pleoauth/internal/oauthtest"
	"github.com/pleoauth/pleoauth/internal/store"
	"github.com/pleoauth/pleoauth/pleo"
)

// login is a login of a test's own, against a devserver of its own, configured through
// Options alone: its Getenv reads vars, not the process environment.
type login struct {
	srv  *devserver.Server
	hs   *httptest.Server
	vars map[string]string
	opts pleo.Options
}

func newLogin(t *testing.T, accessTTL time.Duration, vars ...string) *login {
	t.Helper()
	srv, err := devserver.New(devserver.Options{ClientID: config.LocalClientID, ClientSecret: "test-secret",
		RedirectURIs: []string{config.DefaultRedirectURI}, AccessTTL: accessTTL, RefreshTTL: time.Hour, AutoApprove: true})
	if err != nil {
		t.Fatal(err)
	}
	hs := httptest.NewServer(srv)
	t.Cleanup(hs.Close)
	l := &login{srv: srv, hs: hs, vars: map[string]string{"PLEOAUTH_ENV": "local", "PLEOAUTH_STORE": "file",
		"PLEOAUTH_CLIENT_SECRET": "test-secret", "PLEOAUTH_AUTH_SERVER_URL": hs.URL, "PLEOAUTH_API_URL": hs.URL}}
	for i := 0; i+1 < len(vars); i += 2 {
		l.vars[vars[i]] = vars[i+1]
	}
	l.opts = pleo.Options{Home: t.TempDir(), Getenv: l.getenv}
	if err := importLogin(l.getenvWithHome, hs.URL, "test-secret"); err != nil {
		t.Fatal(err)
	}
	return l
}

func (l *login) getenv(name string) string { return l.vars[name] }

func (l *login) getenvWithHome(name string) string {
	if name == "PLEOAUTH_HOME" {
		return l.opts.Home
	}
	return l.vars[name]
}

// anotherProcess is a process of its own on the same login, as "pleoauth token" runs it.
func (l *login) anotherProcess(t *testing.T) *grant.Grant {
	t.Helper()
	g, err := grant.OpenSelected(nil, l.getenvWithHome, grant.Deps{Stderr: io.Discard, Getenv: l.getenvWithHome, Now: time.Now,
		Keychain: store.OSKeychain{}, HTTPClient: oauthtest.NoRedirects, Interactive: func() bool { return false }}, false)
	if err != nil {
		t.Fatal(err)
	}
	return g
}

// refreshes counts the refresh requests the server answered.
func (l *login) refreshes() int { return l.srv.Stats().TokensIssued["refresh_token"] }

// checkNoReplay fails the test when the server saw a refresh token presented twice, or revoked
// a login.
func (l *login) checkNoReplay(t *testing.T) {
	t.Helper()
	st := l.srv.Stats()
	if st.FamiliesRevoked != 0 || len(st.TokenErrors) != 0 {
		t.Errorf("the server revoked %d logins and refused %v", st.FamiliesRevoked, st.TokenErrors)
	}
}

// TestGoroutinesShareOneRefreshPerExpiry: goroutines of two sources on one login — two
// programs' worth, in one process — get tokens valid for the min TTL whenever they ask, and the
// login is refreshed once per expiry between them, with no refresh token sent twice.
func TestGoroutinesShareOneRefreshPerExpiry(t *testing.T) {
	const accessTTL, minTTL, run = 2 * time.Second, time.Second, 5 * time.Second
	l := newLogin(t, accessTTL, "PLEOAUTH_MIN_TTL", minTTL.String())
	before := l.refreshes()
	ctx := context.Background()
	var wg sync.WaitGroup
	var mu sync.Mutex
	var failures []string
	handedOut := 0
	start := time.Now()
	for range 2 {
		ts, err := pleo.TokenSource(ctx, l.opts)
		if err != nil {
			t.Fatal(err)
		}
		for range 8 {
			wg.Go(func() {
				for time.Since(start) < run {
					tok, err := ts.Token()
					var left time.Duration
					if err == nil {
						left = time.Until(tok.Expiry) // at once: a busy machine may stall what follows
					}
					mu.Lock()
					switch {
					case err != nil:
						failures = append(failures, err.Error())
					case left < minTTL/2:
						// Handed out with the min TTL left; half of it is room for a goroutine
						// stalled between the return and this reading, and still catches a
						// token kept past its time, which soon has nothing left.
						failures = append(failures, "a token valid for "+left.String())
					default:
						handedOut++
					}
					mu.Unlock()
					time.Sleep(5 * time.Millisecond)
				}
			})
		}
	}
	wg.Wait()
	elapsed := time.Since(start)
	if len(failures) > 0 {
		t.Fatalf("%d failures, the first: %s", len(failures), failures[0])
	}
	// A token is refreshed when less than the min TTL is left of it: once per (lifetime − min
	// TTL) at most, the lifetime being the access TTL (the devserver announces up to 0.6 s more).
	// Two more for the rounding at each end of the run.
	refreshed := l.refreshes() - before
	if limit := int(elapsed/(accessTTL-minTTL)) + 2; refreshed > limit || refreshed < 2 {
		t.Errorf("%d refreshes in %s for %d tokens handed out; want between 2 and %d, one per expiry", refreshed, elapsed.Round(time.Millisecond), handedOut, limit)
	}
	l.checkNoReplay(t)
	t.Logf("%d tokens handed out by 16 goroutines in %s, %d refreshes", handedOut, elapsed.Round(time.Millisecond), refreshed)
}

// TestClientAfterAnotherProcessRefreshed: another process's refresh invalidates the token a
// client holds in memory (Pleo's rotation); the API's 401 to that young token is answered by
// sending the request again with the token the store holds now — no refresh of its own — and
// the next request uses that one too.
func TestClientAfterAnotherProcessRefreshed(t *testing.T) {
	l := newLogin(t, time.Hour)
	client, err := pleo.Client(context.Background(), l.opts)
	if err != nil {
		t.Fatal(err)
	}
	get := func() int {
		t.Helper()
		resp, err := client.Get("/v2/employees")
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	if s := get(); s != http.StatusOK {
		t.Fatalf("first GET: %d", s)
	}
	before := l.refreshes()
	if _, err := l.anotherProcess(t).TokenResult(context.Background(), grant.Request{MinTTL: time.Minute, Force: true}); err != nil {
		t.Fatal(err)
	}
	apiBefore := l.srv.Stats().APIRequests["/v2/employees"]
	if s := get(); s != http.StatusOK {
		t.Fatalf("GET after another process refreshed: %d; want 200 with the token held now", s)
	}
	if s := get(); s != http.StatusOK {
		t.Fatalf("the next GET: %d", s)
	}
	if got, sent := l.refreshes()-before, l.srv.Stats().APIRequests["/v2/employees"]-apiBefore; got != 1 || sent != 3 {
		t.Errorf("%d refreshes and %d API requests; want the other process's 1, and 3 requests (a 401 sent again once, then one)", got, sent)
	}
	l.checkNoReplay(t)
}

// TestErrors: each failure is of the kind a program branches on, one line that names the
// environment and the next step, and leaves the stored login as it was.
func TestErrors(t *testing.T) {
	l := newLogin(t, time.Hour)
	tests := []struct {
		name    string
		opts    func() pleo.Options
		atOpen  bool // the failure is TokenSource's, not Token's
		kind    error
		message string
	}{
		{"an unknown environment", func() pleo.Options { o := l.opts; o.Env = "stagin"; return o }, true, pleo.ErrConfiguration, `unknown environment "stagin" (did you mean "staging"?)`},
		{"a relative home", func() pleo.Options { o := l.opts; o.Home = "tokens"; return o }, true, pleo.ErrConfiguration, `PLEOAUTH_HOME "tokens" is a relative path`},
		{"a profile with a bad name", func() pleo.Options { o := l.opts; o.Profile = "Acme Corp"; return o }, true, pleo.ErrConfiguration, "profile"},
		{"a min TTL below zero", func() pleo.Options { o := l.opts; o.MinTTL = -time.Second; return o }, true, pleo.ErrConfiguration, "min_ttl"},
		{"the redis store without its URL", func() pleo.Options {
			o := l.opts
			o.Getenv = func(n string) string {
				if n == "PLEOAUTH_STORE" {
					return "redis"
				}
				return l.getenv(n)
			}
			return o
		}, true, pleo.ErrConfiguration, "the redis store needs PLEOAUTH_REDIS_URL"},
		{"a profile not logged in", func() pleo.Options { o := l.opts; o.Profile = "acme"; return o }, false, pleo.ErrLoginRequired,
			`env local@acme: not logged in; profiles logged in to local: default; run "pleoauth login --env local --profile acme"`},
		{"another home, not logged in", func() pleo.Options { o := l.opts; o.Home = t.TempDir(); return o }, false, pleo.ErrLoginRequired, `run "pleoauth login --env local"`},
	}
	stored, _ := os.ReadFile(filepath.Join(l.opts.Home, "tokens", "local.json"))
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ts, err := pleo.TokenSource(context.Background(), tt.opts())
			if !tt.atOpen {
				if err != nil {
					t.Fatalf("TokenSource: %v", err)
				}
				_, err = ts.Token()
			}
			if !errors.Is(err, tt.kind) || !strings.Contains(err.Error(), tt.message) || strings.Contains(err.Error(), "\n") {
				t.Errorf("got %v; want %v saying %q, in one line", err, tt.kind, tt.message)
			}
		})
	}
	if after, _ := os.ReadFile(filepath.Join(l.opts.Home, "tokens", "local.json")); !bytes.Equal(stored, after) {
		t.Error("a failure changed the stored login")
	}
}

// TestTemporaryWhileTheServerIsDown: a token that needs a refresh the token endpoint cannot
// answer is a temporary failure, and the login stays, so the next call once the server is back
// gets a token.
func TestTemporaryWhileTheServerIsDown(t *testing.T) {
	l := newLogin(t, time.Second, "PLEOAUTH_MIN_TTL", "1s")
	ts, err := pleo.TokenSource(context.Background(), l.opts)
	if err != nil {
		t.Fatal(err)
	}
	var down bool
	var mu sync.Mutex
	l.hs.Config.Handler = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		d := down
		mu.Unlock()
		if d {
			http.Error(w, "down for maintenance", http.StatusServiceUnavailable)
			return
		}
		l.srv.ServeHTTP(w, r)
	})
	mu.Lock()
	down = true
	mu.Unlock()
	time.Sleep(2 * time.Second) // the 1 s token (1.6 s as announced) expires
	_, err = ts.Token()
	if !errors.Is(err, pleo.ErrTemporary) {
		t.Fatalf("got %v; want ErrTemporary", err)
	}
	mu.Lock()
	down = false
	mu.Unlock()
	if _, err := ts.Token(); err != nil {
		t.Fatalf("once the server is back: %v", err)
	}
	l.checkNoReplay(t)
}

// TestNoOutput: the package writes nothing to stdout or stderr; what "pleoauth token" would
// say there — here, that the server's tokens live less than the min TTL — goes to the logger.
func TestNoOutput(t *testing.T) {
	l := newLogin(t, 2*time.Second) // the min TTL stays the default minute
	var logged bytes.Buffer
	opts := l.opts
	opts.Logger = slog.New(slog.NewTextHandler(&logged, nil))
	stdout, stderr := captureStdio(t)
	ts, err := pleo.TokenSource(context.Background(), opts)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := ts.Token(); err != nil {
		t.Fatal(err)
	}
	out, errOut := stdout(), stderr()
	if out != "" || errOut != "" {
		t.Errorf("stdout %q, stderr %q; want nothing", out, errOut)
	}
	if !strings.Contains(logged.String(), "level=WARN") || !strings.Contains(logged.String(), "less than --min-ttl") {
		t.Errorf("the logger got %q; want the warning that the tokens live less than the min TTL", logged.String())
	}
}

// captureStdio points os.Stdout and os.Stderr at files until the returned readers are called.
func captureStdio(t *testing.T) (stdout, stderr func() string) {
	t.Helper()
	capture := func(f **os.File) func() string {
		orig := *f
		tmp, err := os.CreateTemp(t.TempDir(), "stdio")
		if err != nil {
			t.Fatal(err)
		}
		*f = tmp
		t.Cleanup(func() { *f = orig })
		return func() string {
			*f = orig
			data, _ := os.ReadFile(tmp.Name())
			return string(data)
		}
	}
	return capture(&os.Stdout), capture(&os.Stderr)
}

// TestClientRedirects: with pleoauth's own HTTP client a 3xx from the API comes back as the
// answer, as with "pleoauth api"; with the caller's, its CheckRedirect rules — and the token
// goes along only while the redirect stays on the API's origin.
func TestClientRedirects(t *testing.T) {
	l := newLogin(t, time.Hour)
	other := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Authorization") != "" {
			t.Error("the token went to another host")
		}
		w.WriteHeader(http.StatusTeapot)
	}))
	defer other.Close()
	l.hs.Config.Handler = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/moved":
			http.Redirect(w, r, "/v2/employees", http.StatusFound)
		case "/away":
			http.Redirect(w, r, other.URL+"/x", http.StatusTemporaryRedirect)
		default:
			l.srv.ServeHTTP(w, r)
		}
	})
	tests := []struct {
		name   string
		client *http.Client
		path   string
		want   int
	}{
		{"pleoauth's client, same origin", nil, "/moved", http.StatusFound},
		{"the caller's client, same origin", &http.Client{}, "/moved", http.StatusOK},
		{"the caller's client, another host", &http.Client{}, "/away", http.StatusTeapot},
		{"the caller's client that follows none", &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}, "/moved", http.StatusFound},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			opts := l.opts
			opts.HTTPClient = tt.client
			client, err := pleo.Client(context.Background(), opts)
			if err != nil {
				t.Fatal(err)
			}
			resp, err := client.Get(tt.path)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			if resp.StatusCode != tt.want {
				t.Errorf("GET %s: %d; want %d", tt.path, resp.StatusCode, tt.want)
			}
		})
	}
	l.checkNoReplay(t)
}

// TestAValidTokenIsReadNotRefreshed: a source hands out the stored token while it is valid for
// the min TTL, reading the store once; nothing is refreshed.
func TestAValidTokenIsReadNotRefreshed(t *testing.T) {
	l := newLogin(t, time.Hour)
	before := l.refreshes()
	ts, err := pleo.TokenSource(context.Background(), l.opts)
	if err != nil {
		t.Fatal(err)
	}
	var first string
	for i := range 3 {
		tok, err := ts.Token()
		if err != nil {
			t.Fatal(err)
		}
		if i == 0 {
			first = tok.AccessToken
		}
		if tok.AccessToken != first || tok.RefreshToken != "" || tok.Type() != "Bearer" {
			t.Errorf("call %d: %q (refresh token %q, type %q); want the same access token, no refresh token, Bearer", i, tok.AccessToken, tok.RefreshToken, tok.Type())
		}
	}
	if got := l.refreshes() - before; got != 0 {
		t.Errorf("%d refreshes; want none for a valid token", got)
	}
}

// TestClientRefreshesOnA401ToAnOldToken: the API refuses the held token, issued more than a
// minute ago (revoked, or expired early): the client refreshes once and sends the request
// again with the new token.
func TestClientRefreshesOnA401ToAnOldToken(t *testing.T) {
	l := newLogin(t, time.Hour)
	// The held token is made old: issued two minutes ago, as the file store records it.
	file := filepath.Join(l.opts.Home, "tokens", "local.json")
	data, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	var b map[string]any
	if err := json.Unmarshal(data, &b); err != nil {
		t.Fatal(err)
	}
	b["obtained_at"] = time.Now().Add(-2 * time.Minute).UTC().Format(time.RFC3339Nano)
	old := b["access_token"].(string)
	data, _ = json.Marshal(b)
	if err := os.WriteFile(file, data, 0o600); err != nil {
		t.Fatal(err)
	}
	l.hs.Config.Handler = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/v2/employees" && r.Header.Get("Authorization") == "Bearer "+old {
			w.WriteHeader(http.StatusUnauthorized) // revoked at the API, though not expired
			return
		}
		l.srv.ServeHTTP(w, r)
	})
	client, err := pleo.Client(context.Background(), l.opts)
	if err != nil {
		t.Fatal(err)
	}
	before := l.refreshes()
	resp, err := client.Get("/v2/employees")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK || l.refreshes()-before != 1 {
		t.Errorf("GET: %d after %d refreshes; want 200 after one", resp.StatusCode, l.refreshes()-before)
	}
	l.checkNoReplay(t)
}

// TestWaitersShareAFailure: while the token endpoint fails, goroutines that waited for one
// goroutine's refresh get its failure, temporary, at once, rather than each trying again in
// turn — which would multiply the requests to a failing server, and the wait, by the waiters.
func TestWaitersShareAFailure(t *testing.T) {
	l := newLogin(t, time.Second, "PLEOAUTH_MIN_TTL", "1s")
	var requests atomic.Int32
	l.hs.Config.Handler = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/oauth/token" {
			requests.Add(1)
			http.Error(w, `{"error":"temporarily_unavailable"}`, http.StatusServiceUnavailable)
			return
		}
		l.srv.ServeHTTP(w, r)
	})
	ts, err := pleo.TokenSource(context.Background(), l.opts)
	if err != nil {
		t.Fatal(err)
	}
	time.Sleep(2 * time.Second) // the 1 s token (1.6 s as announced) expires
	const waiters = 10
	errs := make(chan error, waiters)
	var wg sync.WaitGroup
	for range waiters {
		wg.Go(func() {
			_, err := ts.Token()
			errs <- err
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if !errors.Is(err, pleo.ErrTemporary) {
			t.Errorf("a waiter got %v; want ErrTemporary", err)
		}
	}
	// One ask of the login — its first try and the grant's retries — or, should a goroutine
	// come to the semaphore only after that ask ended, one more.
	if got, limit := requests.Load(), int32(2*(1+len(grant.DefaultBackoff))); got > limit {
		t.Errorf("%d token requests for %d goroutines; want at most %d: the waiters share the failure", got, waiters, limit)
	}
	l.checkNoReplay(t)
}

// TestAWaitersOwnEndIsNotShared: a request whose own context ends while it waits for the
// refresh lock fails alone; a request that waited behind it asks the login itself and gets its
// answer once the lock is free.
func TestAWaitersOwnEndIsNotShared(t *testing.T) {
	l := newLogin(t, time.Second, "PLEOAUTH_MIN_TTL", "1s")
	var logged oauthtest.SyncBuffer
	opts := l.opts
	opts.Logger = slog.New(slog.NewTextHandler(&logged, nil))
	client, err := pleo.Client(context.Background(), opts)
	if err != nil {
		t.Fatal(err)
	}
	time.Sleep(2 * time.Second) // the token expires: the next request needs the lock
	// Another process holds the refresh lock.
	unlock, err := store.FileLock{Dir: filepath.Join(l.opts.Home, "locks")}.Lock(context.Background(), "local")
	if err != nil {
		t.Fatal(err)
	}
	get := func(ctx context.Context, done chan<- error) {
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, "/v2/employees", nil)
		resp, err := client.Do(req)
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode != http.StatusOK {
				err = errors.New(resp.Status)
			}
		}
		done <- err
	}
	short, cancel := context.WithTimeout(context.Background(), 4*time.Second)
	defer cancel()
	first, second := make(chan error, 1), make(chan error, 1)
	go get(short, first)
	// It waits for the lock once the login says so (after a second).
	for deadline := time.Now().Add(30 * time.Second); !strings.Contains(logged.String(), "waiting for another pleoauth"); time.Sleep(20 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatal("the first request never waited for the lock")
		}
	}
	go get(context.Background(), second) // behind the first
	if err := <-first; !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("the impatient request: %v; want its deadline", err)
	}
	unlock()
	select {
	case err := <-second:
		if err != nil {
			t.Errorf("the patient request: %v; want 200 once the lock was free, not the other's deadline", err)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("the patient request never returned")
	}
	l.checkNoReplay(t)
}

// TestAnEndedContextOpensNothing: TokenSource and Client given a context that has already
// ended say so, alike, and open nothing.
func TestAnEndedContextOpensNothing(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, err1 := pleo.TokenSource(ctx, pleo.Options{Home: "relative, never read"})
	_, err2 := pleo.Client(ctx, pleo.Options{Home: "relative, never read"})
	for _, err := range []error{err1, err2} {
		var e *pleo.Error
		if !errors.Is(err, context.Canceled) || !errors.As(err, &e) {
			t.Errorf("got %v; want an *Error holding context.Canceled", err)
		}
	}
}
