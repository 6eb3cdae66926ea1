package pleo

import (
	"context"
	"fmt"
	"net/http"
	"net/url"

	"github.com/pleoauth/pleoauth/internal/api"
	"github.com/pleoauth/pleoauth/internal/failure"
)

// Client returns an HTTP client for the login's environment's API (its api_url). A request
// with a relative URL, such as "/v2/employees?limit=100", goes to the API, its path joined to
// api_url's. Every request to the API's origin carries the login's access token in the
// Authorization header, and no other request does: a redirect to another host is followed, if
// the HTTP client follows redirects, without the token.
//
// When the API answers 401 to a token issued a minute ago or more, the client refreshes once
// and sends the request again; a 401 to a younger token is about its rights, not its age, and
// spends no refresh token — it is sent again only when another process's refresh replaced the
// token meanwhile. A request whose body cannot be read again (no GetBody) is not sent again.
//
// Each request's context bounds the token's read and refresh; ctx bounds only what Client
// does now. A failure to get a token is the request's error, an [*Error].
func Client(ctx context.Context, o Options) (*http.Client, error) {
	if err := ctx.Err(); err != nil {
		return nil, classify(fmt.Errorf("pleo.Client: %w", context.Cause(ctx)))
	}
	s, err := open(o)
	if err != nil {
		return nil, err
	}
	env := s.login.Env
	base, err := url.Parse(env.APIURL)
	if err != nil || base.Host == "" {
		return nil, classify(failure.Wrap(failure.Usage, fmt.Errorf("env %s has no api_url; set api_url for it in config.yaml", env.Name)))
	}
	hc, err := s.login.HTTPClient()
	if err != nil {
		return nil, classify(err)
	}
	c := *hc
	if o.HTTPClient != nil {
		// API requests follow the caller's rules; token requests keep theirs (no redirects, a
		// bound in time: [tokenClient]).
		c.CheckRedirect, c.Timeout = o.HTTPClient.CheckRedirect, o.HTTPClient.Timeout
	}
	c.Transport = &api.Transport{Base: base, Next: hc.Transport, Token: func(ctx context.Context, want api.Want, refused string) (api.Token, error) {
		k, err := s.get(ctx, want, refused)
		if err != nil {
			return api.Token{}, err
		}
		return k.Token, nil
	}}
	return &c, nil
}
