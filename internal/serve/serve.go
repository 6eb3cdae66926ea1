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
	// Sleep waits a request's turn in the wrong-key queue, or until the request ends; nil means
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
	o         Options
	hosts     []string
	wrongKeys wrongKeys
	// logMu keeps each request's line whole: requests are answered concurrently, and Log may
	// be any writer.
	logMu sync.Mutex
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
	line := fmt.Sprintf("%s %s %s %d env=%s%s %dms\n", start.UTC().Format(time.RFC3339), logText(r.Method, 16), logTarget(r),
		status, h.o.Env, note, h.o.Now().Sub(start).Milliseconds())
	h.logMu.Lock()
	defer h.logMu.Unlock()
	_, _ = io.WriteString(h.o.Log, line)
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
// only, and the serve key. Requests with a key wait their turn behind wrong keys (see wrongKeys).
func (h *handler) refuse(r *http.Request) *problem {
	// An absolute-form request line ("GET http://host/token") would make its host, not the Host
	// header, the request's Host (RFC 9112 §3.2.2); no client of serve sends one (only proxies
	// receive them), so it is refused and r.Host is always the Host header.
	if !strings.HasPrefix(r.RequestURI, "/") {
		return &problem{Status: http.StatusForbidden, Code: "forbidden", Description: "the request line must name a path (origin-form), not a URL"}
	}
	if !h.hostAllowed(r.Host) {
		return &problem{Status: http.StatusForbidden, Code: "forbidden", Description: fmt.Sprintf("Host %q is not this server's loopback address", r.Host)}
	}
	// Any Origin header is refused, however it is written: no client of serve sends one, and
	// reading only the first value let "Origin:" (empty) followed by a real one through.
	if _, ok := r.Header["Origin"]; ok {
		return &problem{Status: http.StatusForbidden, Code: "forbidden", Description: "requests from web pages are refused"}
	}
	if r.Method != http.MethodGet {
		return &problem{Status: http.StatusMethodNotAllowed, Code: "method_not_allowed", Description: "only GET is served"}
	}
	// One Authorization header only: with two, which one counts would depend on the reader. The
	// scheme is case-insensitive (RFC 6750 §2.1, RFC 9110 §11.1); the key, after one space, is
	// compared whole, so a bare key, another scheme or anything around the key is refused.
	scheme, given, ok := strings.Cut(r.Header.Get("Authorization"), " ")
	right := ok && strings.EqualFold(scheme, "Bearer") && len(r.Header.Values("Authorization")) == 1 && subtle.ConstantTimeCompare([]byte(given), []byte(h.o.Key)) == 1
	// The key is compared here, but the answer waits for the queue before it, which no key
	// changes: a right key and a wrong one are answered at the same moment.
	t := h.wrongKeys.admit(h.o.Now(), !right)
	if t.full {
		return &problem{Status: http.StatusTooManyRequests, Code: "too_many_requests",
			Description: "too many wrong keys lately; try again after Retry-After seconds",
			RetryAfter:  int((t.wait - maxQueueWait + time.Second - 1) / time.Second)}
	}
	h.o.Sleep(r.Context(), t.wait)
	if r.Context().Err() != nil {
		h.wrongKeys.giveBack(t) // the client left unanswered: its guess neither counts nor queues
	}
	if right {
		return nil
	}
	return &problem{Status: http.StatusUnauthorized, Code: "invalid_key",
		Description: "send the serve key as \"Authorization: Bearer <key>\" (PLEOAUTH_SERVE_KEY, the key file or the Postman environment serve wrote)"}
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
