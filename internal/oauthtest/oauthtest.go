// Package oauthtest is the kit the tests of every package share: free loopback ports, a
// "browser" that follows redirects, a login to start from, an in-memory keychain and a buffer
// safe to read while it is written. It is imported by tests only.
package oauthtest

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	mrand "math/rand/v2"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"sync"
	"testing"

	"golang.org/x/oauth2"
)

// FreePort returns a TCP port free on 127.0.0.1 and, where the machine has it, on ::1 — a
// redirect URI on localhost is received on both.
func FreePort(t testing.TB) int {
	t.Helper()
	port, err := PickPort()
	if err != nil {
		t.Fatal(err)
	}
	return port
}

// PickPort finds a port free on both loopbacks below Linux's ephemeral range (32768 and up):
// a port picked from that range could be handed meanwhile to any socket that binds port 0 —
// another test's server, an outgoing connection — before the test listens on it, which on a
// busy machine happens. Ports are tried in a random order, so tests that run at once rarely
// pick the same one.
func PickPort() (int, error) {
	for range 200 {
		port := 20000 + mrand.IntN(12000)
		l, err := net.Listen("tcp", net.JoinHostPort("127.0.0.1", strconv.Itoa(port)))
		if err != nil {
			continue
		}
		l6, err := net.Listen("tcp", net.JoinHostPort("::1", strconv.Itoa(port)))
		l.Close()
		if err == nil {
			l6.Close()
			return port, nil
		}
		if !hasIPv6Loopback() {
			return port, nil
		}
	}
	return 0, errors.New("no port below 32768 is free on both loopbacks")
}

func hasIPv6Loopback() bool {
	l, err := net.Listen("tcp", "[::1]:0")
	if err != nil {
		return false
	}
	l.Close()
	return true
}

// NoRedirects returns a client that stops at the first redirect, to read its Location.
func NoRedirects() *http.Client {
	return &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
}

// FollowRedirects is a "browser" that loads the URL and follows every redirect, as a browser
// does after an authorization the server approves without asking; it fails unless it ends on a
// 200 page.
func FollowRedirects(u string) error {
	resp, err := http.Get(u)
	if err != nil {
		return err
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("browser ended on HTTP %d", resp.StatusCode)
	}
	return nil
}

// Login runs the code flow with PKCE against a devserver started with AutoApprove, without a
// browser, and returns the tokens: for tests and benchmarks that need a login as a starting
// point rather than as the thing under test.
func Login(ctx context.Context, cfg *oauth2.Config) (*oauth2.Token, error) {
	verifier := oauth2.GenerateVerifier()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, cfg.AuthCodeURL("oauthtest-login-state", oauth2.S256ChallengeOption(verifier)), nil)
	if err != nil {
		return nil, err
	}
	resp, err := NoRedirects().Do(req)
	if err != nil {
		return nil, err
	}
	resp.Body.Close()
	loc, err := url.Parse(resp.Header.Get("Location"))
	if err != nil || loc.Query().Get("code") == "" {
		return nil, fmt.Errorf("no redirect with a code (HTTP %d, Location %q); is AutoApprove on?", resp.StatusCode, resp.Header.Get("Location"))
	}
	return cfg.Exchange(ctx, loc.Query().Get("code"), oauth2.VerifierOption(verifier))
}

// SyncBuffer is a bytes.Buffer safe for one writer and one reader at once.
type SyncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *SyncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *SyncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}
