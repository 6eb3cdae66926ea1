package loopback

import (
	"context"
	"net"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/pleoauth/pleoauth/internal/oauthtest"
)

// TestRedirectWithoutPathIsRoot: a redirect URI registered without a path ("http://127.0.0.1:
// PORT") is answered at "/", where the browser sends it (RFC 3986 §6.2.3: an empty http path
// is "/").
func TestRedirectWithoutPathIsRoot(t *testing.T) {
	base := "http://127.0.0.1:" + freePort(t)
	u, _ := url.Parse(base)
	s, err := Listen(u)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(s.Close)
	done := make(chan url.Values, 1)
	go func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		q, _ := s.Receive(ctx, func(url.Values) error { return nil }, nil)
		done <- q
	}()
	resp, err := oauthtest.NoRedirects().Get(base + "/?code=x&state=y")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("the redirect to %s/: %d; want 303 to the result page", base, resp.StatusCode)
	}
	if q := <-done; q.Get("code") != "x" {
		t.Fatalf("Receive got %v; want code x", q)
	}
	s.Finish(nil)
	if status, _, _ := get(t, base+ResultPath); status != http.StatusOK {
		t.Fatalf("the result page: %d; want 200", status)
	}
}

// TestCloseBeforeAnyRedirect: a login that ends before the browser came back (the browser could
// not be opened, ^C) may report its outcome and close the listener, which frees the port for
// the next login.
func TestCloseBeforeAnyRedirect(t *testing.T) {
	for _, receive := range []bool{false, true} {
		port := freePort(t)
		u, _ := url.Parse("http://127.0.0.1:" + port + "/cb")
		s, err := Listen(u)
		if err != nil {
			t.Fatal(err)
		}
		if receive {
			ctx, cancel := context.WithCancel(context.Background())
			cancel()
			_, _ = s.Receive(ctx, func(url.Values) error { return nil }, nil)
		}
		s.Finish(context.Canceled)
		s.Close()
		deadline := time.Now().Add(10 * time.Second)
		for {
			l, err := net.Listen("tcp", "127.0.0.1:"+port)
			if err == nil {
				l.Close()
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("127.0.0.1:%s is still held after Close (Receive called: %v): %v", port, receive, err)
			}
			time.Sleep(20 * time.Millisecond)
		}
	}
}

// TestStoppedLoginIsNotLoggedIn: a login stopped after the redirect but before its outcome was
// reported (^C during the code exchange) tells the browser it was stopped — never "Logged in".
func TestStoppedLoginIsNotLoggedIn(t *testing.T) {
	base, done, srv := receive(t, func(url.Values) error { return nil })
	page := make(chan string, 1)
	go func() {
		_, _, body := get(t, base+"/cb?code=x&state=y")
		page <- body
	}()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	srv.Close()
	select {
	case body := <-page:
		if strings.Contains(body, "Logged in") || !strings.Contains(body, "stopped before it finished") {
			t.Fatalf("the result page of a stopped login: %q; want that it was stopped", body)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("no result page 10 s after the login was stopped")
	}
}
