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
	"strings"
	"sync"
	"time"
)

// Server listens for the redirect. Create it with [Listen] before the browser is opened, so that
// the redirect can never arrive before something listens.
type Server struct {
	path      string
	listeners []net.Listener

	// mu guards what Receive's handler, Finish and Close share.
	mu          sync.Mutex
	srv         *http.Server
	resultShown chan struct{} // closed once the result page was served
	final       chan struct{} // closed by Finish
	decided     bool          // a callback decided the login
	finished    bool          // its outcome is known
	outcome     error         // the outcome: nil when logged in
	shown       bool          // the result page was served
}

// Listen binds the redirect URI's port on the loopback addresses its host names, as [Bind] does:
// 127.0.0.1 and, when the machine has IPv6, ::1 for "localhost" (a browser may resolve it to
// either); exactly the given address for 127.0.0.1 or ::1. It never binds a non-loopback address.
func Listen(redirect *url.URL) (*Server, error) {
	switch redirect.Hostname() {
	case "localhost", "127.0.0.1", "::1":
	default:
		return nil, fmt.Errorf("redirect URI %s is not on a loopback host", redirect.Redacted())
	}
	s := &Server{path: redirect.EscapedPath()}
	if s.path == "" {
		s.path = "/"
	}
	ls, err := Bind(redirect.Hostname(), redirect.Port())
	var inUse *PortInUseError
	switch {
	case errors.As(err, &inUse):
		inUse.RedirectURI = redirect.String()
		return nil, inUse
	case err != nil:
		return nil, fmt.Errorf("redirect URI %s: %w", redirect, err)
	}
	s.listeners = ls
	return s, nil
}

// Receivable reports whether [Listen] can receive redirects to this URI: plain http on
// localhost, 127.0.0.1 or ::1. A redirect anywhere else (an https page such as Postman's
// callback) reaches pleoauth only when the person pastes the address.
func Receivable(redirect *url.URL) bool {
	switch redirect.Hostname() {
	case "localhost", "127.0.0.1", "::1":
		return redirect.Scheme == "http"
	}
	return false
}

// ResultPath is where the browser is sent after the redirect: the page that says how the login
// went is served there, so the address bar, the history and any Referer no longer carry the
// authorization code (RFC 9700 §4.2.4).
const ResultPath = "/pleoauth/result"

// ResultWait bounds how long the result page waits for the login's outcome (the code exchange
// and the save) before it tells the browser to look at the terminal.
const ResultWait = 30 * time.Second

// Stray marks what check says of a request that is not this login's — a wrong or missing state:
// a stale tab, another program, or a web page poking the port. It is answered with a short page
// and the wait goes on.
type Stray struct{ Reason string }

func (e *Stray) Error() string { return e.Reason }

// Receive serves until a request on the redirect path that check accepts (it returns nil) or
// that decides the login otherwise (an error that is not a [*Stray], such as the server's
// access_denied with the right state), and returns its query and check's error. The browser is
// then sent on to [ResultPath], which shows the login's outcome once the caller reports it with
// [Server.Finish] (at most [ResultWait] later).
//
// Nothing a stranger sends ends the wait: a request check calls [*Stray], one whose Host header
// is not a loopback name (DNS rebinding: a web page whose name resolves to 127.0.0.1), and any
// other path get a short page; stray, when set, hears of each of the first two. Requests are
// handled one at a time, so the first callback is decided before a second one (a double click,
// a reload) is looked at; later ones get 410. Receive returns ctx's error when ctx ends first.
func (s *Server) Receive(ctx context.Context, check func(url.Values) error, stray func(reason string)) (url.Values, error) {
	type outcome struct {
		query url.Values
		err   error
	}
	done := make(chan outcome, 1)
	s.mu.Lock()
	s.resultShown = make(chan struct{})
	s.final = make(chan struct{})
	s.mu.Unlock()
	notice := func(reason string) {
		if stray != nil {
			stray(reason)
		}
	}
	handler := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !loopbackHost(r.Host) {
			notice(fmt.Sprintf("a request named host %q, not this machine (a web page trying DNS rebinding?)", hostOnly(r.Host)))
			writePage(w, http.StatusMisdirectedRequest, failurePage, "This is not the login pleoauth is waiting for.")
			return
		}
		s.mu.Lock()
		switch path := r.URL.EscapedPath(); {
		case path == s.path && s.decided:
			s.mu.Unlock()
			writePage(w, http.StatusGone, failurePage, "This login has already finished; close this tab.")
		case path == s.path:
			q := r.URL.Query()
			err := check(q)
			var st *Stray
			if errors.As(err, &st) {
				s.mu.Unlock()
				notice(st.Reason)
				writePage(w, http.StatusBadRequest, failurePage, "This is not the login pleoauth is waiting for: "+st.Reason)
				return
			}
			s.decided = true
			if err != nil {
				s.finishLocked(err) // the server's refusal decides the login at once
			}
			s.mu.Unlock()
			http.Redirect(w, r, ResultPath, http.StatusSeeOther)
			done <- outcome{q, err}
		case path == ResultPath && s.decided:
			final := s.final
			s.mu.Unlock()
			s.showResult(w, r.Context(), final)
		default:
			s.mu.Unlock()
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

// showResult answers the result page once the login's outcome is known: "Logged in" only when
// the caller said so, else the reason.
func (s *Server) showResult(w http.ResponseWriter, ctx context.Context, final chan struct{}) {
	select {
	case <-final:
	case <-time.After(ResultWait):
		writePage(w, http.StatusAccepted, failurePage, "pleoauth is still finishing the login; see the terminal for how it went.")
		return
	case <-ctx.Done():
		return
	}
	s.mu.Lock()
	outcome := s.outcome
	first := !s.shown
	s.shown = true
	s.mu.Unlock()
	if outcome != nil {
		writePage(w, http.StatusBadRequest, failurePage, outcome.Error()+" — return to the terminal for the next step.")
	} else {
		writePage(w, http.StatusOK, successPage, "")
	}
	if first {
		close(s.resultShown)
	}
}

// Finish reports the login's outcome — nil once the tokens are stored, else why not — for the
// result page to show.
func (s *Server) Finish(err error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.finishLocked(err)
}

func (s *Server) finishLocked(err error) {
	if s.final == nil || s.finished {
		return
	}
	s.finished = true
	s.outcome = err
	close(s.final)
}

// loopbackHost reports whether a Host header names this machine by a loopback name, as a
// browser following the registered redirect URI does.
func loopbackHost(host string) bool {
	h := hostOnly(host)
	return h == "localhost" || h == "127.0.0.1" || h == "::1"
}

func hostOnly(host string) string {
	if h, _, err := net.SplitHostPort(host); err == nil {
		return h
	}
	return strings.Trim(host, "[]")
}

// Close stops listening. After a decided login it first gives the browser up to two seconds to
// fetch the result page, so the person sees how it went.
func (s *Server) Close() {
	s.mu.Lock()
	srv, shown, decided, finished := s.srv, s.resultShown, s.decided, s.finished
	s.srv = nil
	s.mu.Unlock()
	if srv == nil {
		for _, l := range s.listeners {
			_ = l.Close()
		}
		return
	}
	if decided && !finished {
		s.Finish(errors.New("the login was stopped before it finished"))
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
