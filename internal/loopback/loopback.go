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
	"syscall"
	"time"
)

// Server listens for the redirect. Create it with [Listen] before the browser is opened, so that
// the redirect can never arrive before something listens.
type Server struct {
	path      string
	listeners []net.Listener
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
			s.close()
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

// Addrs returns the addresses listened on.
func (s *Server) Addrs() []net.Addr {
	addrs := make([]net.Addr, len(s.listeners))
	for i, l := range s.listeners {
		addrs[i] = l.Addr()
	}
	return addrs
}

// Receive serves until the first request on the redirect path, hands its query to check, answers
// the browser with a success page when check returns nil or a failure page showing the error
// otherwise, stops listening, and returns the query and check's error. Other paths get 404 and
// do not end the wait. Receive returns ctx's error when ctx ends first.
func (s *Server) Receive(ctx context.Context, check func(url.Values) error) (url.Values, error) {
	type outcome struct {
		query url.Values
		err   error
	}
	done := make(chan outcome, 1)
	var once bool
	handler := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.EscapedPath() != s.path {
			http.NotFound(w, r)
			return
		}
		if once {
			writePage(w, http.StatusGone, failurePage, "This login has already finished; close this tab.")
			return
		}
		once = true
		q := r.URL.Query()
		err := check(q)
		if err != nil {
			writePage(w, http.StatusBadRequest, failurePage, err.Error())
		} else {
			writePage(w, http.StatusOK, successPage, "")
		}
		done <- outcome{q, err}
	})

	srv := &http.Server{
		Handler:           serialized(handler),
		ReadHeaderTimeout: 10 * time.Second,
		// The listener is bound to loopback only; the context of the flow carries its cancel.
		BaseContext: func(net.Listener) context.Context { return ctx },
	}
	for _, l := range s.listeners {
		go func() { _ = srv.Serve(l) }()
	}
	defer shutdown(srv)

	select {
	case o := <-done:
		return o.query, o.err
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

// shutdown lets the page that was just written reach the browser, then stops listening.
func shutdown(srv *http.Server) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	if err := srv.Shutdown(ctx); err != nil {
		_ = srv.Close()
	}
}

func (s *Server) close() {
	for _, l := range s.listeners {
		_ = l.Close()
	}
}

// Close stops listening without waiting for a callback.
func (s *Server) Close() { s.close() }
