// Package api makes authenticated requests to an environment's API: the bearer token in the
// Authorization header only (RFC 6750 §2.1; Pleo: never in a query string or body), one forced
// refresh and retry when the API answers 401 to a token that is not fresh.
package api

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"

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

// TokenFunc returns an access token; force asks for a refreshed one.
type TokenFunc func(ctx context.Context, force bool) (Token, error)

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

// Do sends r with a valid token. When the API answers 401 to a token that is not fresh — it
// was revoked, expired early, or expired on the way — it refreshes once and retries (the body is in
// memory, so it can be sent again). A 401 to a fresh token is retried once, without a refresh,
// when the token is no longer the one held: another process refreshed meanwhile, and Pleo
// invalidates every earlier token at once with a rotation. Otherwise it is returned as it is.
// The caller closes the response body.
func (c *Client) Do(ctx context.Context, r Request) (*http.Response, error) {
	target, err := c.resolve(r.Path)
	if err != nil {
		return nil, err
	}
	resp, tok, err := c.send(ctx, target, r, false)
	if err != nil || resp.StatusCode != http.StatusUnauthorized {
		return resp, err
	}
	force := true
	if c.fresh(tok) {
		held, err := c.Token(ctx, false)
		if err != nil || held.Value == tok.Value {
			return resp, nil
		}
		force = false
	}
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 1<<16))
	resp.Body.Close()
	resp, _, err = c.send(ctx, target, r, force)
	return resp, err
}

// fresh tells a token too young for a 401 to be about its age: issued less than [FreshFor]
// ago and not expired.
func (c *Client) fresh(t Token) bool {
	now := time.Now()
	if c.Now != nil {
		now = c.Now()
	}
	return now.Sub(t.Issued) < FreshFor && now.Before(t.Expiry)
}

func (c *Client) send(ctx context.Context, target string, r Request, force bool) (*http.Response, Token, error) {
	token, err := c.Token(ctx, force)
	if err != nil {
		return nil, token, &TokenError{Err: err}
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
		body = bytes.NewReader(r.Body)
	}
	req, err := http.NewRequestWithContext(ctx, strings.ToUpper(method), target, body)
	if err != nil {
		return nil, token, err
	}
	// Pleo's examples send this Accept; a caller's -H overrides it.
	req.Header.Set("Accept", "application/json;charset=UTF-8")
	if r.Body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	for k, vs := range r.Headers {
		if http.CanonicalHeaderKey(k) == "Authorization" {
			continue // the token is pleoauth's to send
		}
		req.Header.Del(k)
		for _, v := range vs {
			req.Header.Add(k, v)
		}
	}
	req.Header.Set("Authorization", "Bearer "+token.Value)
	resp, err := c.HTTPClient.Do(req)
	if err != nil {
		return nil, token, &TransportError{URL: target, Err: err}
	}
	return resp, token, nil
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
