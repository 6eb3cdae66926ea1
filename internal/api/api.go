// Package api makes authenticated requests to an environment's API: the bearer token in the
// Authorization header only (RFC 6750 §2.1; Pleo: never in a query string or body), one forced
// refresh and retry when the API answers 401 to a token that is not fresh ([Transport]).
package api

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/pleoauth/pleoauth/internal/config"
	"github.com/pleoauth/pleoauth/internal/sanitize"
)

// Request is one API call.
type Request struct {
	Method string
	// Path is joined to the API base; a full URL is accepted only on the base's origin, so the
	// token is never sent to another host.
	Path    string
	Body    []byte
	Headers http.Header
}

// Token is an access token and its life.
type Token struct {
	Value          string
	Issued, Expiry time.Time
}

// Want says which token a request needs.
type Want int

const (
	// Valid is a token valid now; one kept in memory will do.
	Valid Want = iota
	// Held is the token the store holds now, read again: another process may have replaced the
	// one just sent.
	Held
	// Refreshed is a token refreshed for this request, unless another process just did.
	Refreshed
)

// TokenFunc returns an access token: the one want asks for. For Held and Refreshed, refused is
// the token the API just refused: a token other than it will do, so a request that lost a race
// to another's refresh uses that refresh rather than making one more.
type TokenFunc func(ctx context.Context, want Want, refused string) (Token, error)

// FreshFor is how young a token must be for a 401 to be about its rights rather than its age:
// a token issued less than this ago, and not yet past its expiry, is not refreshed on a 401.
// Pleo rotates the refresh token on every refresh, so refreshing for an endpoint that always
// answers 401 would spend one per call and gain nothing.
const FreshFor = time.Minute

// Client sends requests to one API base URL.
type Client struct {
	BaseURL    string
	HTTPClient *http.Client
	Token      TokenFunc
	// Now is the clock that ages tokens; nil means time.Now.
	Now func() time.Time
}

// Do sends r with a valid token, by the rule of [Transport]. The caller closes the response
// body.
func (c *Client) Do(ctx context.Context, r Request) (*http.Response, error) {
	target, err := c.resolve(r.Path)
	if err != nil {
		return nil, err
	}
	method := r.Method
	if method == "" {
		method = http.MethodGet
		if r.Body != nil {
			method = http.MethodPost
		}
	}
	var body io.Reader
	if r.Body != nil {
		body = bytes.NewReader(r.Body) // NewRequest keeps it to send again after a 401
	}
	req, err := http.NewRequestWithContext(ctx, strings.ToUpper(method), target, body)
	if err != nil {
		return nil, err
	}
	// Pleo's examples send this Accept; a caller's -H overrides it.
	req.Header.Set("Accept", "application/json;charset=UTF-8")
	if r.Body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	for k, vs := range r.Headers {
		req.Header.Del(k)
		for _, v := range vs {
			req.Header.Add(k, v)
		}
	}
	base, _ := url.Parse(c.BaseURL) // resolve checked it
	hc := *c.HTTPClient
	hc.Transport = &Transport{Base: base, Next: c.HTTPClient.Transport, Token: c.Token, Now: c.Now}
	resp, err := hc.Do(req)
	var tokenErr *TokenError
	switch {
	case errors.As(err, &tokenErr):
		return nil, tokenErr
	case err != nil:
		return nil, &TransportError{URL: target, Err: err}
	}
	return resp, nil
}

// Transport sends requests to the API with its bearer token: in the Authorization header only
// (RFC 6750 §2.1), and only to the API's origin — a request elsewhere, such as a redirect's,
// goes out as it came, without one. A request with a relative URL goes to the API: its path
// is joined to Base's.
//
// When the API answers 401 to a token that is not fresh — it was revoked, expired early, or
// expired on the way — it refreshes once and sends the request again. A 401 to a fresh token
// is sent again once, without a refresh, when the token is no longer the one held: another
// process refreshed meanwhile, and Pleo invalidates every earlier token at once with a
// rotation. Otherwise the 401 is returned as it is, as it is for a request whose body cannot be
// read again (one without GetBody).
type Transport struct {
	// Base is the API's base URL.
	Base *url.URL
	// Next sends the requests; nil means [http.DefaultTransport].
	Next  http.RoundTripper
	Token TokenFunc
	// Now is the clock that ages tokens; nil means time.Now.
	Now func() time.Time
}

// RoundTrip implements [http.RoundTripper].
func (t *Transport) RoundTrip(req *http.Request) (*http.Response, error) {
	if req.URL.Scheme == "" && req.URL.Host == "" {
		req = t.onBase(req)
	}
	if !config.SameOrigin(req.URL, t.Base) { // the token stays home
		return t.next().RoundTrip(req)
	}
	resp, tok, err := t.send(req, Valid, "")
	if err != nil || resp.StatusCode != http.StatusUnauthorized {
		return resp, err
	}
	if req.Body != nil && req.Body != http.NoBody && req.GetBody == nil {
		return resp, nil // its body was read, and cannot be sent again
	}
	want := Refreshed
	if t.fresh(tok) {
		held, err := t.Token(req.Context(), Held, tok.Value)
		if err != nil || held.Value == tok.Value {
			return resp, nil
		}
		want = Valid
	}
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 1<<16))
	resp.Body.Close()
	again := req.Clone(req.Context())
	if req.GetBody != nil {
		if again.Body, err = req.GetBody(); err != nil {
			return nil, err
		}
	}
	resp, _, err = t.send(again, want, tok.Value)
	return resp, err
}

// onBase returns req with its relative URL joined to the base: its path appended to the base's.
func (t *Transport) onBase(req *http.Request) *http.Request {
	out := req.Clone(req.Context())
	u := *t.Base
	u.Path = strings.TrimRight(t.Base.Path, "/") + "/" + strings.TrimLeft(req.URL.Path, "/")
	u.RawPath = ""
	u.RawQuery, u.Fragment = req.URL.RawQuery, ""
	out.URL, out.Host = &u, ""
	return out
}

func (t *Transport) next() http.RoundTripper {
	if t.Next == nil {
		return http.DefaultTransport
	}
	return t.Next
}

// fresh tells a token too young for a 401 to be about its age: issued less than [FreshFor]
// ago and not expired.
func (t *Transport) fresh(tok Token) bool {
	now := time.Now()
	if t.Now != nil {
		now = t.Now()
	}
	return now.Sub(tok.Issued) < FreshFor && now.Before(tok.Expiry)
}

// send sends req with the token want asks for; the request itself is left as it came.
func (t *Transport) send(req *http.Request, want Want, refused string) (*http.Response, Token, error) {
	token, err := t.Token(req.Context(), want, refused)
	if err != nil {
		if req.Body != nil {
			req.Body.Close() // a RoundTripper closes the body, whatever happens
		}
		return nil, token, &TokenError{Err: err}
	}
	out := req.Clone(req.Context())
	out.Header.Set("Authorization", "Bearer "+token.Value)
	resp, err := t.next().RoundTrip(out)
	return resp, token, err
}

// resolve joins path to the base URL, refusing any URL off the base's origin.
func (c *Client) resolve(path string) (string, error) {
	base, err := url.Parse(c.BaseURL)
	if err != nil || base.Host == "" {
		return "", fmt.Errorf("api_url %q is not an absolute URL; set api_url for this environment", c.BaseURL)
	}
	if strings.HasPrefix(path, "http://") || strings.HasPrefix(path, "https://") {
		u, err := url.Parse(path)
		if err != nil {
			return "", fmt.Errorf("%q is not a URL", path)
		}
		if u.Scheme != base.Scheme || u.Host != base.Host {
			return "", fmt.Errorf("%s is not on the API %s; pleoauth sends the token only to the environment's api_url", u.Redacted(), base.Scheme+"://"+base.Host)
		}
		return u.String(), nil
	}
	if !strings.HasPrefix(path, "/") {
		path = "/" + path
	}
	return strings.TrimRight(base.String(), "/") + path, nil
}

// Status is resp's status line for a message. Its reason phrase is the server's free text, which
// net/http hands on as it came, control characters and all.
func Status(resp *http.Response) string { return sanitize.Text(resp.Status, 80) }

// TransportError is a request that got no answer.
type TransportError struct {
	URL string
	Err error
}

func (e *TransportError) Error() string {
	return fmt.Sprintf("%s could not be reached (%v); check your network and try again", e.URL, e.Err)
}

func (e *TransportError) Unwrap() error { return e.Err }

// TokenError is a failure to get a token for the request; its message is the token source's.
type TokenError struct{ Err error }

func (e *TokenError) Error() string { return e.Err.Error() }
func (e *TokenError) Unwrap() error { return e.Err }
