package devserver

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync"
	"time"
)

// Fault is a misbehaviour the server shows on demand, for testing how a client copes. Token
// endpoint faults that fail the request never reach fosite, so no refresh token is rotated by a
// request the client saw fail; those that answer "successfully" with an odd token do not rotate
// either (a server that omits the refresh token keeps the old one valid, RFC 6749 §6).
type Fault string

// Token endpoint faults.
const (
	FaultDelay             Fault = "delay"               // wait Delay, then answer normally
	FaultDrop              Fault = "drop"                // close the connection without an answer
	Fault500               Fault = "status-500"          // 500 with a JSON server_error
	Fault502               Fault = "status-502"          // 502 with an HTML page, as a proxy sends
	Fault503               Fault = "status-503"          // 503 with Retry-After: 1
	FaultRateLimit         Fault = "rate-limit"          // 429 with Retry-After: 1
	FaultMalformedJSON     Fault = "malformed-json"      // 200 with JSON cut in the middle
	FaultHTMLError         Fault = "html-error"          // 400 with an HTML page
	FaultTruncated         Fault = "truncated"           // 200 whose body ends before its Content-Length
	FaultHugeBody          Fault = "huge-body"           // 200 with a 10 MB body
	FaultWrongTokenType    Fault = "wrong-token-type"    // a "mac" token
	FaultExpiresInString   Fault = "expires-in-string"   // "expires_in": "900"
	FaultExpiresInNegative Fault = "expires-in-negative" // "expires_in": -5
	FaultExpiresInMissing  Fault = "expires-in-missing"  // no expires_in
	FaultNoRefreshToken    Fault = "no-refresh-token"    // an access token only
	FaultRedirect          Fault = "redirect"            // 307 to another host
	// The answer is lost after the server did its work: the refresh token is rotated (or the
	// code spent), and the client sees a dropped connection or a body cut short. A client that
	// sends the same refresh token again replays it, and the family is revoked.
	FaultRotateThenDrop     Fault = "rotate-then-drop"
	FaultRotateThenTruncate Fault = "rotate-then-truncate"
	// FaultInvalidGrant refuses the request with invalid_grant, as when a login was revoked
	// (and rotates nothing).
	FaultInvalidGrant Fault = "invalid-grant"
)

// Faults lists every fault the server can show, for the admin endpoint's answer to a name it
// does not know.
func Faults() []Fault {
	return []Fault{FaultDelay, FaultDrop, Fault500, Fault502, Fault503, FaultRateLimit, FaultMalformedJSON,
		FaultHTMLError, FaultTruncated, FaultHugeBody, FaultWrongTokenType, FaultExpiresInString,
		FaultExpiresInNegative, FaultExpiresInMissing, FaultNoRefreshToken, FaultRedirect,
		FaultRotateThenDrop, FaultRotateThenTruncate, FaultInvalidGrant, FaultSecondCode, FaultIssMismatch,
		FaultAPIRateLimit, FaultAPIUnavailable, FaultAPIDelay, FaultAPIRepeatCursor, FaultAPIHTML, FaultAPINotFound,
		FaultAPISlowBody, FaultAPIBusy, FaultAPIIgnoreOffset}
}

// API faults, applied to the list endpoints (/v2/employees, /v1/expenses) and the disconnect
// (DELETE /v1/installations/me).
const (
	FaultAPIRateLimit    Fault = "api-rate-limit"    // 429 with Retry-After: 1
	FaultAPIUnavailable  Fault = "api-503"           // 503 without Retry-After
	FaultAPIDelay        Fault = "api-delay"         // wait Delay, then answer normally
	FaultAPIRepeatCursor Fault = "api-repeat-cursor" // the page's endCursor points at the first item
	FaultAPIHTML         Fault = "api-html"          // 200 with an HTML page, as a captive portal sends
	FaultAPINotFound     Fault = "api-404"           // 404, as Pleo answers a disconnect with no installation
	FaultAPISlowBody     Fault = "api-slow-body"     // 200 and half the body at once, the rest after Delay
	FaultAPIBusy         Fault = "api-busy"          // 503 with Retry-After: 20, a wait longer than any test's signal
	// FaultAPIIgnoreOffset serves an offset list (/v1/expenses) as a server that ignores the
	// offset parameter: the first page again, hasNextPage true, no offset said back.
	FaultAPIIgnoreOffset Fault = "api-ignore-offset"
)

// Authorize endpoint faults, applied to the redirect back to the client.
const (
	FaultSecondCode  Fault = "second-code"  // the redirect carries two codes
	FaultIssMismatch Fault = "iss-mismatch" // the redirect names another issuer (RFC 9207)
)

// faults is the queue of faults still to show, per endpoint.
type faults struct {
	mu    sync.Mutex
	queue map[string][]queued
	// delay is the last delay given, for a delaying fault queued without one.
	delay time.Duration
}

// queued is a fault waiting to show, with the delay it was queued with: a fault queued later
// does not change how long an earlier one holds its answer.
type queued struct {
	fault Fault
	delay time.Duration
}

func (f *faults) endpoint(fault Fault) string {
	if fault == FaultSecondCode || fault == FaultIssMismatch {
		return "authorize"
	}
	if strings.HasPrefix(string(fault), "api-") {
		return "api"
	}
	return "token"
}

// pop takes the next fault to show at endpoint, and how long it holds its answer.
func (f *faults) pop(endpoint string) (Fault, time.Duration) {
	f.mu.Lock()
	defer f.mu.Unlock()
	q := f.queue[endpoint]
	if len(q) == 0 {
		return "", 0
	}
	f.queue[endpoint] = q[1:]
	return q[0].fault, q[0].delay
}

// InjectFault makes the next count requests to the fault's endpoint misbehave; delay is used by
// FaultDelay, FaultAPIDelay and FaultAPISlowBody (zero: the last delay given).
func (s *Server) InjectFault(fault Fault, count int, delay time.Duration) {
	f := s.faults
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.queue == nil {
		f.queue = map[string][]queued{}
	}
	if delay > 0 {
		f.delay = delay
	}
	ep := f.endpoint(fault)
	for range count {
		f.queue[ep] = append(f.queue[ep], queued{fault, f.delay})
	}
}

// ClearFaults drops every queued fault.
func (s *Server) ClearFaults() {
	s.faults.mu.Lock()
	defer s.faults.mu.Unlock()
	s.faults.queue = nil
}

// serveFaults is the admin endpoint, from loopback only: POST /debug/faults with
// {"fault": "status-503", "count": 2, "delay": "2s"} queues faults; DELETE clears them.
func (s *Server) serveFaults(w http.ResponseWriter, r *http.Request) {
	host, _, _ := net.SplitHostPort(r.RemoteAddr)
	if ip := net.ParseIP(host); ip == nil || !ip.IsLoopback() {
		http.Error(w, "forbidden", http.StatusForbidden)
		return
	}
	if r.Method == http.MethodDelete {
		s.ClearFaults()
		w.WriteHeader(http.StatusNoContent)
		return
	}
	var req struct {
		Fault Fault  `json:"fault"`
		Count int    `json:"count"`
		Delay string `json:"delay"`
	}
	if err := json.NewDecoder(http.MaxBytesReader(w, r.Body, 1<<10)).Decode(&req); err != nil || req.Fault == "" {
		http.Error(w, `want {"fault": "...", "count": N, "delay": "2s"}`, http.StatusBadRequest)
		return
	}
	if !slices.Contains(Faults(), req.Fault) {
		names := make([]string, 0, len(Faults()))
		for _, f := range Faults() {
			names = append(names, string(f))
		}
		http.Error(w, fmt.Sprintf("unknown fault %q; known: %s", req.Fault, strings.Join(names, ", ")), http.StatusBadRequest)
		return
	}
	var d time.Duration
	if req.Delay != "" {
		var err error
		if d, err = time.ParseDuration(req.Delay); err != nil || d < 0 {
			http.Error(w, fmt.Sprintf("delay %q is not a duration such as 2s", req.Delay), http.StatusBadRequest)
			return
		}
	}
	s.InjectFault(req.Fault, max(req.Count, 1), d)
	w.WriteHeader(http.StatusNoContent)
}

// faultyToken shows the next queued token endpoint fault, or hands the request on.
func (s *Server) faultyToken(next http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		// Counted here, faulty or not, so a test sees every request a client sent.
		grant := r.PostFormValue("grant_type")
		s.stats.add(func(st *Stats) { st.TokenRequests[grant]++ })
		ev, r := s.history.begin(r, grant)
		fault, delay := s.faults.pop("token")
		answer := AnswerSent
		defer func() {
			s.history.update(ev, func(ev *TokenEvent) {
				ev.End = time.Now()
				if ev.Answer == "" {
					ev.Answer = answer
				}
			})
		}()
		if fault == "" {
			next(w, r)
			return
		}
		s.stats.add(func(st *Stats) { st.FaultsShown[string(fault)]++ })
		s.history.update(ev, func(ev *TokenEvent) { ev.Fault = fault })
		jsonAnswer := func(status int, body string) {
			w.Header().Set("Content-Type", "application/json;charset=UTF-8")
			w.WriteHeader(status)
			fmt.Fprint(w, body)
		}
		synthetic := func(fields string) {
			jsonAnswer(http.StatusOK, `{"access_token":"ory_at_synthetic`+fmt.Sprint(time.Now().UnixNano())+`"`+fields+`}`)
		}
		switch fault {
		case FaultDelay:
			time.Sleep(delay)
			next(w, r)
		case FaultDrop:
			answer = AnswerDropped
			if hj, ok := w.(http.Hijacker); ok {
				if conn, _, err := hj.Hijack(); err == nil {
					conn.Close()
					return
				}
			}
			panic(http.ErrAbortHandler)
		case Fault500:
			jsonAnswer(http.StatusInternalServerError, `{"error":"server_error"}`)
		case Fault502:
			w.Header().Set("Content-Type", "text/html")
			w.WriteHeader(http.StatusBadGateway)
			fmt.Fprint(w, "<html><body><h1>502 Bad Gateway</h1></body></html>")
		case Fault503:
			w.Header().Set("Retry-After", "1")
			jsonAnswer(http.StatusServiceUnavailable, `{"error":"temporarily_unavailable"}`)
		case FaultRateLimit:
			w.Header().Set("Retry-After", "1")
			jsonAnswer(http.StatusTooManyRequests, `{"message":"slow down"}`)
		case FaultMalformedJSON:
			jsonAnswer(http.StatusOK, `{"access_token":"ory_at_x","token_ty`)
		case FaultHTMLError:
			w.Header().Set("Content-Type", "text/html")
			w.WriteHeader(http.StatusBadRequest)
			fmt.Fprint(w, "<html><body>Bad request</body></html>")
		case FaultTruncated:
			w.Header().Set("Content-Type", "application/json")
			w.Header().Set("Content-Length", "400")
			w.WriteHeader(http.StatusOK)
			fmt.Fprint(w, `{"access_token":"ory_at_trunc`)
		case FaultHugeBody:
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(http.StatusOK)
			fmt.Fprint(w, `{"access_token":"`+strings.Repeat("A", 10<<20)+`"}`)
		case FaultWrongTokenType:
			synthetic(`,"token_type":"mac","expires_in":900`)
		case FaultExpiresInString:
			synthetic(`,"token_type":"bearer","expires_in":"900"`)
		case FaultExpiresInNegative:
			synthetic(`,"token_type":"bearer","expires_in":-5`)
		case FaultExpiresInMissing, FaultNoRefreshToken:
			extra := `,"token_type":"bearer"`
			if fault == FaultNoRefreshToken {
				extra += `,"expires_in":900`
			}
			synthetic(extra)
		case FaultRedirect:
			http.Redirect(w, r, "https://elsewhere.invalid/oauth/token", http.StatusTemporaryRedirect)
		case FaultInvalidGrant:
			jsonAnswer(http.StatusBadRequest, `{"error":"invalid_grant","error_description":"the refresh token was revoked"}`)
		case FaultRotateThenDrop, FaultRotateThenTruncate:
			held := &heldAnswer{header: http.Header{}}
			next(held, r)
			if fault == FaultRotateThenTruncate {
				answer = AnswerCut
				for k, v := range held.header {
					w.Header()[k] = v
				}
				w.Header().Set("Content-Length", fmt.Sprint(held.body.Len()))
				w.WriteHeader(held.status)
				_, _ = w.Write(held.body.Bytes()[:held.body.Len()/2])
				return
			}
			answer = AnswerDropped
			if hj, ok := w.(http.Hijacker); ok {
				if conn, _, err := hj.Hijack(); err == nil {
					conn.Close()
					return
				}
			}
			panic(http.ErrAbortHandler)
		default:
			next(w, r)
		}
	}
}

// redirectRewriter lets the authorize handler run, then edits the Location of its redirect.
type redirectRewriter struct {
	http.ResponseWriter
	edit func(q url.Values)
}

func (rw *redirectRewriter) WriteHeader(status int) {
	if loc := rw.Header().Get("Location"); loc != "" && status >= 300 && status < 400 {
		if u, err := url.Parse(loc); err == nil {
			q := u.Query()
			rw.edit(q)
			u.RawQuery = q.Encode()
			rw.Header().Set("Location", u.String())
		}
	}
	rw.ResponseWriter.WriteHeader(status)
}

// faultyAuthorize adds the issuer (RFC 9207) to redirects when the server has one, and shows
// the next queued authorize fault.
func (s *Server) faultyAuthorize(next http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		fault, _ := s.faults.pop("authorize")
		if fault == "" && s.opts.Issuer == "" {
			next(w, r)
			return
		}
		if fault != "" {
			s.stats.add(func(st *Stats) { st.FaultsShown[string(fault)]++ })
		}
		next(&redirectRewriter{ResponseWriter: w, edit: func(q url.Values) {
			if s.opts.Issuer != "" {
				q.Set("iss", s.opts.Issuer)
			}
			switch fault {
			case FaultSecondCode:
				if q.Has("code") {
					q.Add("code", "second-code-from-nowhere")
				}
			case FaultIssMismatch:
				q.Set("iss", "https://other-issuer.invalid")
			}
		}}, r)
	}
}

// heldAnswer keeps a handler's answer instead of sending it, so a fault can lose it after the
// work was done.
type heldAnswer struct {
	header http.Header
	status int
	body   bytes.Buffer
}

func (a *heldAnswer) Header() http.Header { return a.header }
func (a *heldAnswer) WriteHeader(status int) {
	if a.status == 0 {
		a.status = status
	}
}
func (a *heldAnswer) Write(p []byte) (int, error) {
	a.WriteHeader(http.StatusOK)
	return a.body.Write(p)
}
