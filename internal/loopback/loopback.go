// Package loopback receives the authorization server's redirect on the loopback interface, as
// RFC 8252 §7.3 describes for native apps: an HTTP listener on the exact host, port and path of
// the registered redirect URI, which serves one callback and then stops.
package loopback

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"sync"
	"syscall"
	"time"
)

// Server listens for the redirect. Create it with [Listen] before the browser is opened, so that
// the redirect can never arrive before something listens.
type Server struct {
	path      string
	listeners []net.Listener

	// mu guards what Receive's handler and Close share.
	mu          sync.Mutex
	srv         *http.Server
	resultShown chan struct{}
	decided     bool  // the first callback arrived
	result      error // check's verdict on it
	shown       bool  // the result page was served
}

// Listen binds the redirect URI's port on the loopback addresses its host names: 127.0.0.1 and,
// when the machine has IPv6, ::1 for "localhost" (a browser may resolve it to either); exactly
// the given address for 127.0.0.1 or ::1. It never binds a non-loopback address.
func Listen(redirect *url.URL) (*Server, error) {
	port := redirect.Port()
	var addrs []string
	switch redirect.Hostname() {
	case "localhost":
		addrs = []string{"127.0.0.1", "::1"}
	case "127.0.0.1", "::1":
		addrs = []string{redirect.Hostname()}
	default:
		return nil, fmt.Errorf("redirect URI %s is not on a loopback host", redirect.Redacted())
	}
	s := &Server{path: redirect.EscapedPath()}
	if s.path == "" {
		s.path = "/"
	}
	for i, host := range addrs {
		l, err := net.Listen("tcp", net.JoinHostPort(host, port))
		if err != nil {
			// ::1 missing on an IPv4-only machine is fine when 127.0.0.1 is bound: a browser
			// cannot reach an address the machine does not have either.
			if i > 0 && host == "::1" && noIPv6(err) {
				continue
			}
			for _, l := range s.listeners {
				_ = l.Close()
			}
			if errors.Is(err, syscall.EADDRINUSE) {
				return nil, &PortInUseError{Addr: net.JoinHostPort(host, port), RedirectURI: redirect.String()}
			}
			return nil, fmt.Errorf("listen on %s for redirect URI %s: %w", net.JoinHostPort(host, port), redirect, err)
		}
		s.listeners = append(s.listeners, l)
	}
	return s, nil
}

// PortInUseError reports that another program holds the redirect URI's port.
type PortInUseError struct {
	Addr        string
	RedirectURI string
}

func (e *PortInUseError) Error() string {
	return fmt.Sprintf("port %s of redirect URI %s is already in use; stop the program using it (another pleoauth login?) or register another redirect_uri", e.Addr, e.RedirectURI)
}

func noIPv6(err error) bool {
	return errors.Is(err, syscall.EADDRNOTAVAIL) || errors.Is(err, syscall.EAFNOSUPPORT) || errors.Is(err, syscall.EPROTONOSUPPORT)
}

// ResultPath is where the browser is sent after the redirect: the page that says how the login
// went is served there, so the address bar, the history and any Referer no longer carry the
// authorization code (RFC 9700 §4.2.4).
const ResultPath = "/pleoauth/result"

// Receive serves until the first request on the redirect path, hands its query to check, sends
// the browser on to [ResultPath] — a success page when check returned nil, a failure page
// showing the error otherwise — and returns the query and check's error. Requests are handled
// one at a time, so the first callback is decided before a second one (a double click, a reload)
// is looked at; later ones get 410, other paths 404, and none ends the wait. Receive returns
// ctx's error when ctx ends first. [Server.Close] stops the listener once the result page was
// shown.
func (s *Server) Receive(ctx context.Context, check func(url.Values) error) (url.Values, error) {
	type outcome struct {
		query url.Values
		err   error
	}
	done := make(chan outcome, 1)
	shown := make(chan struct{})
	s.mu.Lock()
	s.resultShown = shown
	s.mu.Unlock()
	handler := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.mu.Lock()
		defer s.mu.Unlock()
		switch path := r.URL.EscapedPath(); {
		case path == s.path && s.decided:
			writePage(w, http.StatusGone, failurePage, "This login has already finished; close this tab.")
		case path == s.path:
			s.decided = true
			q := r.URL.Query()
			s.result = check(q)
			http.Redirect(w, r, ResultPath, http.StatusSeeOther)
			done <- outcome{q, s.result}
		case path == ResultPath && s.decided && !s.shown:
			if s.result != nil {
				writePage(w, http.StatusBadRequest, failurePage, s.result.Error())
			} else {
				writePage(w, http.StatusOK, successPage, "")
			}
			s.shown = true
			close(shown)
		default:
			http.NotFound(w, r)
		}
	})

	srv := &http.Server{Handler: handler, ReadHeaderTimeout: 10 * time.Second}
	s.mu.Lock()
	s.srv = srv
	s.mu.Unlock()
	for _, l := range s.listeners {
		go func() { _ = srv.Serve(l) }()
	}

	select {
	case o := <-done:
		return o.query, o.err
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

// Close stops listening. After a decided login it first gives the browser up to two seconds to
// fetch the result page, so the person sees how it went.
func (s *Server) Close() {
	s.mu.Lock()
	srv, shown, decided := s.srv, s.resultShown, s.decided
	s.srv = nil
	s.mu.Unlock()
	if srv == nil {
		for _, l := range s.listeners {
			_ = l.Close()
		}
		return
	}
	if decided {
		select {
		case <-shown:
		case <-time.After(2 * time.Second):
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	if err := srv.Shutdown(ctx); err != nil {
		_ = srv.Close()
	}
}
