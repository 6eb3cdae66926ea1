package cli

import (
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/pleoauth/pleoauth/internal/devserver"
	"github.com/pleoauth/pleoauth/internal/exitcode"
	"github.com/pleoauth/pleoauth/internal/store"
)

// expect is what a command must do under a fault.
type expect struct {
	code int
	// want are substrings of the one-line error; besides, every error names the environment.
	want []string
}

// The fault matrix: login (code exchange), token (refresh) and api (refresh after a 401) through
// each misbehaviour of the devserver. Temporary faults are injected 3 times, as many as a
// refresh tries.
var faultMatrix = []struct {
	fault        devserver.Fault
	count        int
	login, token expect
	// refreshes is how many refresh requests the token command may send: one, or one and a
	// retry per backoff step where the fault is one worth retrying.
	refreshes int
}{
	{devserver.FaultDelay, 1, expect{exitcode.Temporary, []string{"timed out", "try again"}}, expect{exitcode.LoginRequired, []string{"timed out", "answer was lost"}}, 1},
	{devserver.FaultDrop, 1, expect{exitcode.Temporary, []string{"could not be reached", "try again"}}, expect{exitcode.LoginRequired, []string{"could not be reached", "answer was lost"}}, 1},
	{devserver.Fault500, 3, expect{exitcode.Temporary, []string{"server_error", "try again later"}}, expect{exitcode.Temporary, []string{"server_error"}}, 3},
	{devserver.Fault502, 3, expect{exitcode.Temporary, []string{"HTTP 502", "try again later"}}, expect{exitcode.Temporary, []string{"HTTP 502"}}, 3},
	{devserver.Fault503, 3, expect{exitcode.Temporary, []string{"temporarily_unavailable", "try again later"}}, expect{exitcode.Temporary, []string{"temporarily_unavailable"}}, 3},
	{devserver.FaultRateLimit, 3, expect{exitcode.Temporary, []string{"HTTP 429", "try again later"}}, expect{exitcode.Temporary, []string{"HTTP 429"}}, 3},
	{devserver.FaultMalformedJSON, 1, expect{exitcode.Error, []string{"without a usable token (its JSON is malformed)", "check token_url"}}, expect{exitcode.Error, []string{"its JSON is malformed", "is spent"}}, 1},
	{devserver.FaultHTMLError, 1, expect{exitcode.Error, []string{"HTTP 400", "check token_url"}}, expect{exitcode.Error, []string{"HTTP 400"}}, 1},
	{devserver.FaultTruncated, 1, expect{exitcode.Temporary, []string{"broke off", "try again"}}, expect{exitcode.LoginRequired, []string{"broke off (unexpected EOF)", "answer was lost"}}, 1},
	{devserver.FaultHugeBody, 1, expect{exitcode.Error, []string{"without a usable token"}}, expect{exitcode.Error, []string{"without a usable token", "is spent"}}, 1},
	{devserver.FaultWrongTokenType, 1, expect{exitcode.Error, []string{`"mac"`, "Bearer"}}, expect{exitcode.Error, []string{`"mac"`, "Bearer", "is spent"}}, 1},
	{devserver.FaultExpiresInString, 1, expect{exitcode.OK, nil}, expect{exitcode.OK, nil}, 1},
	{devserver.FaultExpiresInNegative, 1, expect{exitcode.OK, nil}, expect{exitcode.Error, []string{"already expired", "is spent"}}, 1},
	{devserver.FaultExpiresInMissing, 1, expect{exitcode.OK, nil}, expect{exitcode.OK, nil}, 1},
	{devserver.FaultNoRefreshToken, 1, expect{exitcode.OK, nil}, expect{exitcode.OK, nil}, 1},
	{devserver.FaultRedirect, 1, expect{exitcode.Error, []string{"redirect", "does not follow"}}, expect{exitcode.Error, []string{"redirect", "does not follow"}}, 1},
	{devserver.FaultInvalidGrant, 1, expect{exitcode.Error, []string{"invalid_grant"}}, expect{exitcode.LoginRequired, []string{"refresh token refused (invalid_grant", `run "pleoauth login --env local"`}}, 1},
	{devserver.FaultRotateThenDrop, 1, expect{exitcode.Temporary, []string{"could not be reached", "try again"}}, expect{exitcode.LoginRequired, []string{"could not be reached", "answer was lost"}}, 1},
	{devserver.FaultRotateThenTruncate, 1, expect{exitcode.Temporary, []string{"broke off", "try again"}}, expect{exitcode.LoginRequired, []string{"broke off (unexpected EOF)", "answer was lost"}}, 1},
}

// spends tells the failures after which the refresh token is recorded as spent: the request
// reached the server, which may have rotated, and no usable answer came back.
func spends(e expect) bool {
	for _, w := range e.want {
		if w == "answer was lost" || w == "is spent" {
			return true
		}
	}
	return false
}

// timeoutFor is the HTTP timeout of a fault's run: short where the fault is a delay past it, and
// roomy elsewhere, so a busy machine reading a 10 MB body is not mistaken for a timeout.
func timeoutFor(f devserver.Fault) time.Duration {
	if f == devserver.FaultDelay {
		return time.Second
	}
	return 15 * time.Second
}

// checkFailure asserts the exit code and, for a failure, a one-line message naming the
// environment and the expected words, with no credential in it.
func checkFailure(t *testing.T, r run, e expect, secrets ...string) {
	t.Helper()
	if r.code != e.code {
		t.Fatalf("exit %d; want %d; stderr:\n%s", r.code, e.code, r.stderr)
	}
	for _, s := range secrets {
		if s != "" && (strings.Contains(r.stderr, s) || strings.Contains(r.stdout, s) && e.code != exitcode.OK) {
			t.Errorf("the output shows a credential")
		}
	}
	if e.code == exitcode.OK {
		return
	}
	last := lastLine(r.stderr)
	oneLine(t, last)
	if n := strings.Count(last, "env local:"); n > 1 {
		t.Errorf("error %q names the environment %d times", last, n)
	}
	for _, w := range append([]string{"local"}, e.want...) {
		if !strings.Contains(last, w) {
			t.Errorf("error %q lacks %q", last, w)
		}
	}
}

func TestFaultMatrix(t *testing.T) {
	for _, tt := range faultMatrix {
		t.Run(string(tt.fault), func(t *testing.T) {
			t.Run("login", func(t *testing.T) {
				h := newHarness(t)
				h.timeout = timeoutFor(tt.fault)
				dev, hs := h.startDevserver(devserver.Options{AutoApprove: true})
				h.browser = followRedirects
				before := h.seedBundle("local")
				dev.InjectFault(tt.fault, tt.count, 1500*time.Millisecond)
				r := h.main("login", "--env", "local")
				checkFailure(t, r, tt.login, "devserver-test-secret")
				if tt.login.code != exitcode.OK {
					h.assertBundle("local", before)
				}
				hs.Close() // waits for every handler, a delayed one too
				if got := dev.Stats().TokenRequests["authorization_code"]; got != 1 {
					t.Errorf("%d code exchanges; want exactly 1 (a code is never sent twice)", got)
				}
			})
			t.Run("token", func(t *testing.T) {
				h, dev, before, secrets := loggedInAndExpired(t, timeoutFor(tt.fault))
				hs := h.server
				dev.InjectFault(tt.fault, tt.count, 1500*time.Millisecond)
				r := h.main("token", "--env", "local")
				checkFailure(t, r, tt.token, secrets...)
				if tt.fault == devserver.FaultInvalidGrant {
					if b := h.loadBundle("local"); b.Refused == nil {
						t.Error("the refusal was not recorded")
					}
					before, _ = os.ReadFile(h.tokenFile("local"))
				}
				hs.Close() // waits for every handler, a delayed one too
				if got := dev.Stats().TokenRequests["refresh_token"]; got != tt.refreshes {
					t.Errorf("%d refresh requests; want %d", got, tt.refreshes)
				}
				switch {
				case spends(tt.token):
					// The server may have rotated: the refresh token stays recorded as spent,
					// beside the same tokens, so no later command sends it again.
					if b := h.loadBundle("local"); b.Spent == nil || b.RefreshToken != secrets[1] {
						t.Errorf("after a lost answer the store holds %+v; want the old tokens recorded as spent", b)
					}
				case tt.token.code != exitcode.OK:
					h.assertBundle("local", before)
				}
				if tt.fault == devserver.FaultNoRefreshToken {
					if b := h.loadBundle("local"); b.RefreshToken != secrets[1] {
						t.Error("a response without a refresh token did not keep the old one")
					}
				}
				if st := dev.Stats(); st.FamiliesRevoked != 0 {
					t.Errorf("the fault led to a revoked login: %+v", st)
				}
			})
		})
	}
}

// TestFaultsThroughAPI: api refreshes after a 401; a temporary fault there exits 5, and a fault
// that clears lets the retry through.
func TestFaultsThroughAPI(t *testing.T) {
	for _, tt := range []struct {
		fault devserver.Fault
		count int
		want  expect
	}{
		{devserver.Fault503, 3, expect{exitcode.Temporary, []string{"temporarily_unavailable"}}},
		{devserver.FaultRateLimit, 1, expect{exitcode.OK, nil}},
		{devserver.FaultDrop, 1, expect{exitcode.LoginRequired, []string{"answer was lost"}}},
		{devserver.FaultHTMLError, 1, expect{exitcode.Error, []string{"HTTP 400"}}},
	} {
		t.Run(string(tt.fault), func(t *testing.T) {
			h, dev, before, secrets := loggedInAndExpired(t, timeoutFor(tt.fault))
			// The stored access token is still "valid" locally but the API refuses it.
			b := h.loadBundle("local")
			b.AccessToken, b.Expiry, b.ObtainedAt = "revoked-at-the-server", time.Now().Add(time.Hour), time.Now().Add(-time.Hour)
			if err := (store.File{Dir: filepath.Join(h.home, "tokens")}).Save("local", b); err != nil {
				t.Fatal(err)
			}
			before, _ = os.ReadFile(h.tokenFile("local"))
			dev.InjectFault(tt.fault, tt.count, 0)
			r := h.main("api", "--env", "local", "/v2/employees")
			checkFailure(t, r, tt.want, secrets...)
			if spends(tt.want) {
				if b := h.loadBundle("local"); b.Spent == nil {
					t.Errorf("after a lost answer the store holds %+v; want the refresh token recorded as spent", b)
				}
			} else if tt.want.code != exitcode.OK {
				h.assertBundle("local", before)
			} else if !strings.Contains(r.stdout, "Lovelace") {
				t.Errorf("api after the fault cleared: %+v", r)
			}
		})
	}
}

// TestAuthorizeFaults: a redirect with a second code, or naming another issuer, is refused and
// no code is exchanged.
func TestAuthorizeFaults(t *testing.T) {
	for fault, want := range map[devserver.Fault][]string{
		devserver.FaultSecondCode:  {"carries code more than once", "RFC 6749 §3.1"},
		devserver.FaultIssMismatch: {"names issuer", "RFC 9207"},
	} {
		t.Run(string(fault), func(t *testing.T) {
			h := newHarness(t)
			dev, _ := h.startDevserver(devserver.Options{AutoApprove: true})
			h.browser = func(u string) error { _ = followRedirects(u); return nil }
			before := h.seedBundle("local")
			dev.InjectFault(fault, 1, 0)
			r := h.main("login", "--env", "local")
			checkFailure(t, r, expect{exitcode.Error, want}, "devserver-test-secret")
			h.assertBundle("local", before)
			if got := dev.Stats().TokenRequests["authorization_code"]; got != 0 {
				t.Errorf("%d code exchanges after a refused redirect", got)
			}
		})
	}
}

// TestMatchingIssuerAccepted: a server that sends its own issuer as iss is accepted.
func TestMatchingIssuerAccepted(t *testing.T) {
	h := newHarness(t)
	var dev *devserver.Server
	hs := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { dev.ServeHTTP(w, r) }))
	defer hs.Close()
	dev, err := devserver.New(devserver.Options{ClientID: "pleoauth-local", ClientSecret: "s", RedirectURIs: []string{h.redirect},
		AccessTTL: time.Hour, RefreshTTL: time.Hour, AutoApprove: true, Issuer: hs.URL})
	if err != nil {
		t.Fatal(err)
	}
	t.Setenv("PLEOAUTH_AUTH_SERVER_URL", hs.URL)
	t.Setenv("PLEOAUTH_CLIENT_SECRET", "s")
	var sawIss bool
	h.browser = func(u string) error {
		resp, err := (&http.Client{CheckRedirect: func(r *http.Request, _ []*http.Request) error {
			sawIss = sawIss || r.URL.Query().Get("iss") == hs.URL
			return nil
		}}).Get(u)
		if err == nil {
			resp.Body.Close()
		}
		return err
	}
	if r := h.main("login", "--env", "local"); r.code != 0 || !sawIss {
		t.Fatalf("login with a matching iss (seen: %v): %+v", sawIss, r)
	}
}

// loggedInAndExpired logs in on a devserver and then makes the stored access token expired,
// so the next token or api call refreshes. It returns the store's bytes and the credentials.
func loggedInAndExpired(t *testing.T, timeout time.Duration) (*harness, *devserver.Server, []byte, []string) {
	t.Helper()
	h := newHarness(t)
	h.timeout = timeout
	dev, _ := h.startDevserver(devserver.Options{AutoApprove: true})
	h.browser = followRedirects
	if r := h.main("login", "--env", "local"); r.code != 0 {
		t.Fatalf("login: %+v", r)
	}
	b := h.loadBundle("local")
	b.Expiry = time.Now().Add(-time.Minute)
	if err := (store.File{Dir: filepath.Join(h.home, "tokens")}).Save("local", b); err != nil {
		t.Fatal(err)
	}
	data, _ := os.ReadFile(h.tokenFile("local"))
	return h, dev, data, []string{b.AccessToken, b.RefreshToken, "devserver-test-secret"}
}

func (h *harness) loadBundle(env string) *store.Bundle {
	h.t.Helper()
	b, err := (store.File{Dir: filepath.Join(h.home, "tokens")}).Load(env)
	if err != nil {
		h.t.Fatal(err)
	}
	return b
}
