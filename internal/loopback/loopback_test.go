package loopback

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/pleoauth/pleoauth/internal/oauthtest"
)

func freePort(t *testing.T) string { return fmt.Sprint(oauthtest.FreePort(t)) }

func hasIPv6Loopback() bool {
	l, err := net.Listen("tcp", "[::1]:0")
	if err != nil {
		return false
	}
	l.Close()
	return true
}

func TestListenLocalhostBindsBothLoopbacks(t *testing.T) {
	port := freePort(t)
	u, _ := url.Parse("http://localhost:" + port + "/callback")
	s, err := Listen(u)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	want := []string{"127.0.0.1:" + port}
	if hasIPv6Loopback() {
		want = append(want, "[::1]:"+port)
	}
	// Each loopback answers; the netns test proves nothing else does.
	for _, addr := range want {
		c, err := net.Dial("tcp", addr)
		if err != nil {
			t.Errorf("nothing listens on %s: %v", addr, err)
			continue
		}
		c.Close()
	}
}

func TestListenRefusesOtherHosts(t *testing.T) {
	for _, raw := range []string{"http://example.com:8765/cb", "http://0.0.0.0:8765/cb", "http://192.168.0.1:8765/cb"} {
		u, _ := url.Parse(raw)
		if s, err := Listen(u); err == nil {
			s.Close()
			t.Errorf("Listen(%s) succeeded", raw)
		}
	}
}

func TestPortInUse(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	u, _ := url.Parse(fmt.Sprintf("http://127.0.0.1:%d/cb", l.Addr().(*net.TCPAddr).Port))
	_, err = within(t, "Listen("+u.String()+")", func() (*Server, error) { return Listen(u) })
	var inUse *PortInUseError
	if !errors.As(err, &inUse) {
		t.Fatalf("err = %v; want *PortInUseError", err)
	}
}

// get fetches a URL, following redirects, and returns status, headers and body.
func get(t *testing.T, u string) (int, http.Header, string) {
	t.Helper()
	resp, err := http.Get(u)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, resp.Header, string(b)
}

func receive(t *testing.T, check func(url.Values) error) (string, <-chan error, *Server) {
	t.Helper()
	base, done, s, _ := receiveStrays(t, check)
	return base, done, s
}

// receiveStrays is receive that also collects what Receive said of stray requests.
func receiveStrays(t *testing.T, check func(url.Values) error) (string, <-chan error, *Server, <-chan string) {
	t.Helper()
	base := "http://127.0.0.1:" + freePort(t)
	u, _ := url.Parse(base + "/cb")
	s, err := Listen(u)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(s.Close)
	done := make(chan error, 1)
	strays := make(chan string, 16)
	go func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		_, err := s.Receive(ctx, check, func(reason string) { strays <- reason })
		done <- err
	}()
	return base, done, s, strays
}

func TestReceiveSuccessThenStops(t *testing.T) {
	base, done, srv := receive(t, func(q url.Values) error { return nil })

	if status, _, _ := get(t, base+"/favicon.ico"); status != http.StatusNotFound {
		t.Errorf("other path: status %d; want 404", status)
	}
	// The browser is sent on, away from the address carrying the code.
	resp, err := oauthtest.NoRedirects().Get(base + "/cb?code=x&state=y")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != ResultPath {
		t.Errorf("callback answered %d to %q; want 303 to %s", resp.StatusCode, resp.Header.Get("Location"), ResultPath)
	}
	if status, _, _ := get(t, base+"/cb?code=again&state=y"); status != http.StatusGone {
		t.Errorf("a second callback: %d; want 410", status)
	}
	srv.Finish(nil) // the tokens are stored
	status, h, body := get(t, base+ResultPath)
	if status != http.StatusOK || !strings.Contains(body, "Logged in") {
		t.Errorf("result page: %d %q", status, body)
	}
	for k, want := range map[string]string{
		"Referrer-Policy": "no-referrer", "Cache-Control": "no-store", "Content-Type": "text/html; charset=utf-8",
	} {
		if got := h.Get(k); got != want {
			t.Errorf("%s = %q; want %q", k, got, want)
		}
	}
	if csp := h.Get("Content-Security-Policy"); !strings.Contains(csp, "default-src 'none'") {
		t.Errorf("Content-Security-Policy = %q", csp)
	}
	if err := <-done; err != nil {
		t.Fatalf("Receive = %v", err)
	}
	srv.Close()
	// The listener is gone after the login.
	if _, err := http.Get(base + "/cb?code=x&state=y"); err == nil {
		t.Error("the listener still answers after the login finished")
	}
}

func TestReceiveFailurePageEscapes(t *testing.T) {
	base, done, _ := receive(t, func(q url.Values) error { return errors.New(q.Get("error_description")) })
	status, _, body := get(t, base+"/cb?error_description="+url.QueryEscape(`<script>alert(1)</script>`))
	if status != http.StatusBadRequest {
		t.Errorf("status %d; want 400", status)
	}
	if strings.Contains(body, "<script>") || !strings.Contains(body, "&lt;script&gt;") {
		t.Errorf("failure page does not escape the error:\n%s", body)
	}
	if err := <-done; err == nil || err.Error() != "<script>alert(1)</script>" {
		t.Errorf("Receive = %v; want the check's error", err)
	}
}

func TestReceiveContextEnds(t *testing.T) {
	u, _ := url.Parse("http://127.0.0.1:" + freePort(t) + "/cb")
	s, err := Listen(u)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	if _, err := s.Receive(ctx, func(url.Values) error { return nil }, nil); !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("Receive = %v; want DeadlineExceeded", err)
	}
}

// TestStrayRequestsDoNotEndTheWait: a request with a wrong or missing state, one naming a
// foreign host (DNS rebinding), and one to another path each get a short page, and the login
// goes on to its real redirect.
func TestStrayRequestsDoNotEndTheWait(t *testing.T) {
	base, done, srv, strays := receiveStrays(t, func(q url.Values) error {
		if q.Get("state") != "right" {
			return &Stray{Reason: "its state does not match"}
		}
		return nil
	})
	for _, u := range []string{base + "/cb?code=forged&state=wrong", base + "/cb?code=forged", base + "/cb?error=access_denied&state=wrong"} {
		status, _, body := get(t, u)
		if status != http.StatusBadRequest || !strings.Contains(body, "not the login pleoauth is waiting for") {
			t.Errorf("%s: %d %q; want 400 saying it is not this login", u, status, body)
		}
	}
	req, _ := http.NewRequest(http.MethodGet, base+"/cb?code=x&state=right", nil)
	req.Host = "attacker.example:8765"
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusMisdirectedRequest {
		t.Errorf("a foreign Host header: %d; want 421", resp.StatusCode)
	}
	if status, _, _ := get(t, base+"/somewhere-else"); status != http.StatusNotFound {
		t.Errorf("another path: %d; want 404", status)
	}
	select {
	case err := <-done:
		t.Fatalf("a stray request ended the wait: %v", err)
	default:
	}
	if n := len(strays); n != 4 {
		t.Errorf("%d stray requests reported; want 4 (three wrong states, one foreign host)", n)
	}
	// The real redirect still completes the login.
	go srv.Finish(nil)
	if status, _, body := get(t, base+"/cb?code=real&state=right"); status != http.StatusOK || !strings.Contains(body, "Logged in") {
		t.Errorf("the real redirect after the strays: %d %q", status, body)
	}
	if err := <-done; err != nil {
		t.Errorf("Receive = %v", err)
	}
}

// TestResultPageTellsTheTruth: the browser is told "Logged in" only once the caller reports the
// tokens stored; a failed exchange shows its reason.
func TestResultPageTellsTheTruth(t *testing.T) {
	base, done, srv := receive(t, func(url.Values) error { return nil })
	page := make(chan string, 1)
	go func() {
		_, _, body := get(t, base+"/cb?code=x&state=y")
		page <- body
	}()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	select {
	case body := <-page:
		t.Fatalf("the result page answered before the outcome was known: %q", body)
	case <-time.After(200 * time.Millisecond):
	}
	srv.Finish(errors.New("token endpoint answered HTTP 500"))
	body := <-page
	if strings.Contains(body, "Logged in") || !strings.Contains(body, "HTTP 500") {
		t.Errorf("result page after a failed exchange: %q; want the failure and its reason", body)
	}
}
