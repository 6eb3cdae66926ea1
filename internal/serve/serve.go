// Package serve is "pleoauth serve": a token endpoint on loopback, so that Postman, Newman and
// local programs get a valid access token for every request of a run however long it lasts (a
// Postman pre-request script can call it with pm.sendRequest; Newman cannot refresh OAuth tokens
// itself, postmanlabs/newman#3219). The token comes from the same login owner, store and lock as
// every other pleoauth process, so serve and the command line never race a refresh.
//
// Only the holder of the serve key may ask, only over loopback, and never a web page: requests
// from a browser tab (an Origin header) and requests for another host name (DNS rebinding) are
// refused, and no CORS header is ever sent.
package serve

import (
	"context"
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/pleoauth/pleoauth/internal/backoff"
	"github.com/pleoauth/pleoauth/internal/failure"
	"github.com/pleoauth/pleoauth/internal/sanitize"
	"github.com/pleoauth/pleoauth/internal/store"
)

// DefaultPort is where serve listens unless --addr says otherwise: P-L-E-O on a phone keypad.
const DefaultPort = 7536

// Options are what the endpoint serves and how.
type Options struct {
	// Key is the serve key every request must present as "Authorization: Bearer <key>".
	Key string
	// Env names the login in the request log.
	Env string
	// MinTTL is the token's validity when a request gives no min_ttl.
	MinTTL time.Duration
	// Token returns a token valid for at least minTTL, whether this call refreshed it, and a
	// warning when the token is valid for less (the server issues no longer-lived ones).
	Token func(ctx context.Context, minTTL time.Duration) (b *store.Bundle, refreshed bool, warning string, err error)
	// WriteToken writes a token as "pleoauth token --json" does.
	WriteToken func(w io.Writer, b *store.Bundle) error
	// Explain is the one-line message for a failed request, with its next step.
	Explain func(error) string
	// Log gets one line per request; never a token or the key.
	Log io.Writer
	Now func() time.Time
	// Sleep waits before answering a wrong key, or until the request ends; nil means
	// [backoff.Sleep].
	Sleep func(ctx context.Context, d time.Duration)
}

// NewKey returns a random serve key: 32 bytes, base64url.
func NewKey() string {
	b := make([]byte, 32)
	_, _ = rand.Read(b)
	return base64.RawURLEncoding.EncodeToString(b)
}

// Handler serves GET /token and GET /healthz; allowedHosts are the Host values a request may
// carry (the listening addresses, and localhost with their port).
func Handler(o Options, allowedHosts []string) http.Handler {
	h := &handler{o: o, hosts: allowedHosts}
	if h.o.Sleep == nil {
		h.o.Sleep = func(ctx context.Context, d time.Duration) {
			_ = backoff.Sleep(ctx, d) // a client gone before the penalty ended is answered at once
		}
	}
	return h
}

type handler struct {
	o     Options
	hosts []string

	mu       sync.Mutex
	failures int // wrong keys since the last right one
}

// problem is an error answer: the JSON body of every refusal, in RFC 6749 §5.2's shape.
type problem struct {
	Status      int    `json:"-"`
	Code        string `json:"error"`
	Description string `json:"error_description"`
	RetryAfter  int    `json:"-"`
}

func (h *handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	start := h.o.Now()
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	status, refreshed := h.serve(w, r)
	note := ""
	if refreshed {
		note = " refreshed"
	}
	fmt.Fprintf(h.o.Log, "%s %s %s %d env=%s%s %dms\n", start.UTC().Format(time.RFC3339), r.Method, r.URL.Path,
		status, h.o.Env, note, h.o.Now().Sub(start).Milliseconds())
}

func (h *handler) serve(w http.ResponseWriter, r *http.Request) (status int, refreshed bool) {
	if p := h.refuse(r); p != nil {
		return h.fail(w, p), false
	}
	switch r.URL.Path {
	case "/healthz":
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		_, _ = io.WriteString(w, "ok\n")
		return http.StatusOK, false
	case "/token":
		return h.token(w, r)
	default:
		return h.fail(w, &problem{Status: http.StatusNotFound, Code: "not_found", Description: "serve answers GET /token and GET /healthz"}), false
	}
}

// refuse checks who is asking: a loopback Host (no DNS rebinding), no web page (no Origin), GET
// only, and the serve key. A wrong key is answered late, later for each one in a row.
func (h *handler) refuse(r *http.Request) *problem {
	if !h.hostAllowed(r.Host) {
		return &problem{Status: http.StatusForbidden, Code: "forbidden", Description: fmt.Sprintf("Host %q is not this server's loopback address", r.Host)}
	}
	if r.Header.Get("Origin") != "" {
		return &problem{Status: http.StatusForbidden, Code: "forbidden", Description: "requests from web pages are refused"}
	}
	if r.Method != http.MethodGet {
		return &problem{Status: http.StatusMethodNotAllowed, Code: "method_not_allowed", Description: "only GET is served"}
	}
	given, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
	if ok && subtle.ConstantTimeCompare([]byte(given), []byte(h.o.Key)) == 1 {
		h.mu.Lock()
		h.failures = 0
		h.mu.Unlock()
		return nil
	}
	h.mu.Lock()
	h.failures++
	n := h.failures
	h.mu.Unlock()
	h.o.Sleep(r.Context(), penalty(n))
	return &problem{Status: http.StatusUnauthorized, Code: "invalid_key",
		Description: "send the serve key as \"Authorization: Bearer <key>\" (PLEOAUTH_SERVE_KEY, the key file or the Postman environment serve wrote)"}
}

// penalty is how long the n-th wrong key in a row waits: nothing for the first three, then
// 100 ms doubling up to 5 s, so that guessing the key is slow and a mistyped one is not.
func penalty(n int) time.Duration {
	if n <= 3 {
		return 0
	}
	return min(100*time.Millisecond<<min(n-4, 10), 5*time.Second)
}

func (h *handler) hostAllowed(host string) bool {
	for _, a := range h.hosts {
		if strings.EqualFold(host, a) {
			return true
		}
	}
	return false
}

func (h *handler) token(w http.ResponseWriter, r *http.Request) (int, bool) {
	minTTL := h.o.MinTTL
	if v := r.URL.Query().Get("min_ttl"); v != "" {
		d, err := time.ParseDuration(v)
		if err != nil || d < 0 {
			return h.fail(w, &problem{Status: http.StatusBadRequest, Code: "invalid_request", Description: fmt.Sprintf("min_ttl %q is not a duration such as 90s or 5m", v)}), false
		}
		minTTL = d
	}
	b, refreshed, warning, err := h.o.Token(r.Context(), minTTL)
	if err != nil {
		return h.fail(w, h.problemOf(err)), false
	}
	if warning != "" {
		// The token is the freshest there is, but shorter-lived than asked: say so beside it
		// (RFC 7234's Warning header is obsolete; an X- header a script can read).
		w.Header().Set("X-Pleoauth-Warning", sanitize.Line(warning, 300))
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(http.StatusOK)
	_ = h.o.WriteToken(w, b)
	return http.StatusOK, refreshed
}

// problemOf maps a failed token request the way a script can act on it: login required → 401
// (run the login the message names), temporary → 503 with Retry-After, anything else → 500.
func (h *handler) problemOf(err error) *problem {
	msg := h.o.Explain(err)
	switch {
	case failure.KindOf(err) == failure.LoginRequired:
		return &problem{Status: http.StatusUnauthorized, Code: "login_required", Description: msg}
	case failure.KindOf(err) == failure.Temporary || errors.Is(err, context.DeadlineExceeded):
		return &problem{Status: http.StatusServiceUnavailable, Code: "temporarily_unavailable", Description: msg, RetryAfter: 5}
	default:
		return &problem{Status: http.StatusInternalServerError, Code: "server_error", Description: msg}
	}
}

func (h *handler) fail(w http.ResponseWriter, p *problem) int {
	if p.Status == http.StatusUnauthorized && p.Code == "invalid_key" {
		w.Header().Set("WWW-Authenticate", `Bearer realm="pleoauth serve"`)
	}
	if p.RetryAfter > 0 {
		w.Header().Set("Retry-After", strconv.Itoa(p.RetryAfter))
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(p.Status)
	_ = json.NewEncoder(w).Encode(p)
	return p.Status
}

// Listen opens addr, which must be a loopback address: 127.0.0.1 or ::1 with a port (0 picks
// one), or just ":PORT" / "" for both loopbacks on that port (DefaultPort when empty). It returns
// the listeners and the Host values their requests may carry.
func Listen(addr string) ([]net.Listener, []string, error) {
	if addr == "" {
		addr = ":" + strconv.Itoa(DefaultPort)
	}
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return nil, nil, fmt.Errorf("--addr %q is not host:port; use 127.0.0.1:%d", addr, DefaultPort)
	}
	var hosts []string
	switch ip := net.ParseIP(host); {
	case host == "":
		hosts = []string{"127.0.0.1", "::1"}
	case ip != nil && ip.IsLoopback():
		hosts = []string{ip.String()}
	default:
		return nil, nil, fmt.Errorf("--addr %q is not a loopback address; serve listens only on 127.0.0.1 or ::1, never another interface", addr)
	}
	var ls []net.Listener
	var allowed []string
	for i, h := range hosts {
		l, err := net.Listen("tcp", net.JoinHostPort(h, port))
		if err != nil {
			if i > 0 && len(ls) > 0 { // ::1 beside 127.0.0.1 is a convenience: IPv6 may be off
				continue
			}
			closeAll(ls)
			return nil, nil, fmt.Errorf("listen on %s: %w; choose another port with --addr 127.0.0.1:PORT (0 picks a free one)", net.JoinHostPort(h, port), err)
		}
		ls = append(ls, l)
		port = strconv.Itoa(l.Addr().(*net.TCPAddr).Port) // the second loopback takes the port the first got
		allowed = append(allowed, l.Addr().String(), "localhost:"+port)
	}
	return ls, allowed, nil
}

func closeAll(ls []net.Listener) {
	for _, l := range ls {
		_ = l.Close()
	}
}

// Serve answers on every listener until ctx ends, then lets requests in flight finish (a refresh
// already sent is seen through and saved) for up to grace.
func Serve(ctx context.Context, ls []net.Listener, h http.Handler, grace time.Duration) error {
	srv := &http.Server{Handler: h, ReadHeaderTimeout: 10 * time.Second,
		BaseContext: func(net.Listener) context.Context { return context.WithoutCancel(ctx) }}
	errs := make(chan error, len(ls))
	for _, l := range ls {
		go func() { errs <- srv.Serve(l) }()
	}
	select {
	case err := <-errs:
		_ = srv.Close()
		return err
	case <-ctx.Done():
	}
	shutdown, cancel := context.WithTimeout(context.Background(), grace)
	defer cancel()
	return srv.Shutdown(shutdown)
}
