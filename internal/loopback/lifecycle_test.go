package loopback

import (
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"net/url"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/pleoauth/pleoauth/internal/oauthtest"
)

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

// startedLogin is a listener whose Receive waits, and a connection to it, taken by the server,
// that has begun a request and not finished it.
func startedLogin(t *testing.T) (s *Server, c net.Conn) {
	t.Helper()
	addr := "127.0.0.1:" + freePort(t)
	u, _ := url.Parse("http://" + addr + "/cb")
	s, err := Listen(u)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	go func() { _, _ = s.Receive(ctx, func(url.Values) error { return nil }, nil) }()
	// Receive serves once a whole request is answered; the listener takes connections in the
	// order they came, so once a request made after c is answered, c has been taken too.
	if c, err = net.Dial("tcp", addr); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	if _, err := io.WriteString(c, "GET /favicon.ico HTTP/1.1\r\nHost: "+addr+"\r\n"); err != nil {
		t.Fatal(err)
	}
	if status, _, _ := get(t, "http://"+addr+"/favicon.ico"); status != http.StatusNotFound {
		t.Fatalf("GET /favicon.ico: %d; want 404", status)
	}
	return s, c
}

// TestCloseCutsAStalledRequest: a connection that never finishes its request (a web page's
// half-sent one) does not outlive the login: Close cuts it off once its two seconds of grace
// are over, rather than leave it to the server's ten-second header timeout.
func TestCloseCutsAStalledRequest(t *testing.T) {
	s, c := startedLogin(t)
	closed := make(chan struct{})
	go func() { s.Close(); close(closed) }()
	select {
	case <-closed:
	case <-time.After(10 * time.Second):
		t.Fatal("Close did not return within 10 s with a stalled request")
	}
	_ = c.SetReadDeadline(time.Now().Add(3 * time.Second))
	if _, err := c.Read(make([]byte, 1)); !errors.Is(err, io.EOF) && !errors.Is(err, syscall.ECONNRESET) {
		t.Fatalf("the stalled connection after Close: %v; want it closed", err)
	}
}
