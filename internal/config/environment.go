package config

import (
	"fmt"
	"net"
	"net/url"
	"strings"
)

// Environment is everything pleoauth needs to talk to one authorization server and its API.
type Environment struct {
	Name string

	// AuthServerURL is the base from which the endpoint URLs below are derived when unset:
	// {AuthServerURL}/oauth/authorize, /oauth/token and /oauth/token/introspect, as on Pleo's
	// OAuth client configuration page.
	AuthServerURL string
	AuthorizeURL  string
	TokenURL      string
	IntrospectURL string
	APIURL        string

	ClientID string
	// ClientSecret never comes from a config file or argv (Pleo forbids shipping it), only from
	// PLEOAUTH_CLIENT_SECRET, stdin or a prompt; see the cli package.
	ClientSecret string

	// RedirectURI must match the value registered with the server exactly: a loopback address
	// pleoauth listens on (RFC 8252 §7.3), or an https page whose address is pasted back.
	RedirectURI string
	Scopes      []string

	// ClientAuth is how the client authenticates at the token endpoint: "basic" for
	// client_secret_basic (RFC 6749 §2.3.1; Pleo accepts nothing else) or "body" for
	// client_secret_post. Never both.
	ClientAuth string

	// OnRotate is a shell command run with each new refresh token on its stdin, after it was
	// stored: a CI job writes it back to its secret store with it.
	OnRotate string
	// Issuer is the authorization server's issuer identifier, compared with the "iss" of a
	// redirect that carries one (RFC 9207); empty means auth_server_url.
	Issuer string
	// CAFile is a PEM file of certificate authorities trusted for this environment's servers, in
	// addition to the system's (a private CA).
	CAFile string
}

// Client authentication methods.
const (
	ClientAuthBasic = "basic"
	ClientAuthBody  = "body"
)

// DefaultRedirectURI is the loopback redirect registered for pleoauth unless an environment says
// otherwise.
const DefaultRedirectURI = "http://localhost:8765/callback"

// LocalAuthServerURL is where cmd/pleoauth-devserver listens by default.
const LocalAuthServerURL = "http://127.0.0.1:8766"

// LocalClientID is the client the bundled server registers by default.
const LocalClientID = "pleoauth-local"

// builtins returns the environments every installation knows. Pleo's hosts are from
// developers.pleo.io (OAuth client configuration and API base URLs pages).
func builtins() map[string]Environment {
	pleo := func(name, auth, api string) Environment {
		return Environment{
			Name: name, AuthServerURL: auth, APIURL: api,
			RedirectURI: DefaultRedirectURI, Scopes: []string{"users:read"}, ClientAuth: ClientAuthBasic,
		}
	}
	return map[string]Environment{
		"staging":    pleo("staging", "https://auth.staging.pleo.io", "https://external.staging.pleo.io"),
		"production": pleo("production", "https://auth.pleo.io", "https://external.pleo.io"),
		"local": {
			Name: "local", AuthServerURL: LocalAuthServerURL, APIURL: LocalAuthServerURL,
			ClientID: LocalClientID, RedirectURI: DefaultRedirectURI,
			Scopes: []string{"users:read"}, ClientAuth: ClientAuthBasic,
		},
	}
}

// mergeOnto returns base with every setting that e sets replacing base's.
func (e Environment) mergeOnto(base Environment) Environment {
	for _, s := range Specs() {
		if s.PerEnv {
			if v := s.get(e); v != "" {
				s.set(&base, v)
			}
		}
	}
	return base
}

// withDefaults fills the endpoint URLs left unset from AuthServerURL, and the client
// authentication and redirect URI with pleoauth's defaults.
func (e Environment) withDefaults() Environment {
	if e.ClientAuth == "" {
		e.ClientAuth = ClientAuthBasic
	}
	if e.RedirectURI == "" {
		e.RedirectURI = DefaultRedirectURI
	}
	base := strings.TrimRight(e.AuthServerURL, "/")
	if base == "" {
		return e
	}
	derive := func(dst *string, path string) {
		if *dst == "" {
			*dst = base + path
		}
	}
	derive(&e.AuthorizeURL, "/oauth/authorize")
	derive(&e.TokenURL, "/oauth/token")
	derive(&e.IntrospectURL, "/oauth/token/introspect")
	if e.Issuer == "" {
		e.Issuer = base
	}
	return e
}

// validateForLogin reports the first setting that would stop a login, naming where to fix it.
func (e Environment) validateForLogin(file string) error {
	where := fmt.Sprintf("environments.%s in %s", e.Name, file)
	if e.ClientID == "" {
		return fmt.Errorf("env %s has no client_id: set PLEOAUTH_CLIENT_ID or client_id under %s (Pleo sends it when it registers your client)", e.Name, where)
	}
	for _, u := range []struct{ key, value string }{
		{"authorize_url", e.AuthorizeURL},
		{"token_url", e.TokenURL},
	} {
		if u.value == "" {
			return fmt.Errorf("env %s has no %s: set auth_server_url or %s under %s", e.Name, u.key, u.key, where)
		}
	}
	// The values themselves were checked when the environment was resolved, whatever their
	// source (the table of Specs); URLs derived from a checked auth_server_url inherit its scheme.
	return nil
}

// CheckServerURL refuses URLs that would send credentials in the clear: https is required except
// for loopback hosts, which never leave the machine (RFC 6749 §3.1 and §3.2 require TLS).
func CheckServerURL(raw string) error {
	u, err := url.Parse(raw)
	if err != nil || u.Host == "" {
		return fmt.Errorf("%q is not an absolute URL", raw)
	}
	switch u.Scheme {
	case "https":
		return nil
	case "http":
		if IsLoopbackHost(u.Hostname()) {
			return nil
		}
		return fmt.Errorf("%q must use https (plain http is allowed only for localhost)", raw)
	default:
		return fmt.Errorf("%q must be an https URL", raw)
	}
}

// ParseRedirectURI checks that raw is a redirect URI pleoauth can complete a login with. Either
// plain http on a loopback host with an explicit port, which pleoauth listens on (RFC 8252 §7.3;
// Pleo allows http only for localhost), or an https page elsewhere — Postman's callback, say —
// whose address the person pastes back ([IsPasteBack]). Plain http to any other host is
// refused: the code would cross the network in the clear.
func ParseRedirectURI(raw string) (*url.URL, error) {
	u, err := url.Parse(raw)
	if err != nil || u.Host == "" {
		return nil, fmt.Errorf("%q is not an absolute URL", raw)
	}
	if u.RawQuery != "" || u.Fragment != "" {
		return nil, fmt.Errorf("%q must not have a query or fragment", raw)
	}
	if !IsLoopbackName(u.Hostname()) {
		switch u.Scheme {
		case "https":
			return u, nil
		case "http":
			return nil, fmt.Errorf("%q must use https: plain http is allowed only for localhost, 127.0.0.1 or [::1], where pleoauth receives the redirect itself", raw)
		default:
			return nil, fmt.Errorf("%q must be an https page, or http://localhost:<port>/<path> for pleoauth to receive the redirect itself", raw)
		}
	}
	if u.Scheme != "http" {
		return nil, fmt.Errorf("%q must use http: the loopback listener has no TLS certificate (RFC 8252 §7.3)", raw)
	}
	if u.Port() == "" || u.Port() == "0" {
		return nil, fmt.Errorf("%q needs an explicit port, the one registered with the server", raw)
	}
	return u, nil
}

// IsPasteBack reports whether a redirect URI (one [ParseRedirectURI] accepted) leads off this
// machine, so that pleoauth cannot receive the redirect and the person pastes the address the
// browser ends on instead.
func IsPasteBack(redirectURI string) bool {
	u, err := url.Parse(redirectURI)
	return err == nil && !IsLoopbackName(u.Hostname())
}

// IsLoopbackName reports whether host is one of the three names RFC 8252 §7.3 allows for a
// loopback redirect: localhost, 127.0.0.1 or ::1.
func IsLoopbackName(host string) bool {
	return host == "localhost" || host == "127.0.0.1" || host == "::1"
}

// SameOrigin tells whether a and b are one origin (RFC 6454 §4): the same scheme and host, in
// any case, and the same port, a port left out being the scheme's default. A host written
// another way — a trailing dot, an IP address for a name — is another origin.
func SameOrigin(a, b *url.URL) bool {
	return strings.EqualFold(a.Scheme, b.Scheme) && strings.EqualFold(a.Hostname(), b.Hostname()) && port(a) == port(b)
}

// port is u's port, or its scheme's default.
func port(u *url.URL) string {
	if p := u.Port(); p != "" {
		return p
	}
	switch strings.ToLower(u.Scheme) {
	case "https":
		return "443"
	case "http":
		return "80"
	}
	return ""
}

// IsLoopbackHost reports whether host never leaves the machine: localhost or a loopback IP.
func IsLoopbackHost(host string) bool {
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}
