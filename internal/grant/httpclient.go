package grant

import (
	"crypto/x509"
	"net/http"

	"github.com/pleoauth/pleoauth/internal/httpclient"
)

// HTTPClient returns the client for the environment's servers: Deps' client (the base one, with
// the --debug trace when it is on) trusting the environment's ca_file certificate authorities in
// addition to the system's when it is set ([httpclient.Trusting]). There is no way to turn TLS
// verification off.
func (g *Grant) HTTPClient() (*http.Client, error) {
	pool, err := g.rootCAs()
	if err != nil {
		return nil, err
	}
	return httpclient.Trusting(g.d.HTTPClient(), pool), nil
}

// rootCAs is the pool the environment's servers are checked against, nil for the system's
// alone: ca_file is read once per login, on first use, and the same pool serves the token
// endpoint, the API and a rediss:// store, so they cannot trust different authorities.
func (g *Grant) rootCAs() (*x509.CertPool, error) {
	if g.caPool == nil {
		return httpclient.RootCAs(g.Env.Name, g.Env.CAFile, g.cfg.Origin("ca_file"))
	}
	return g.caPool()
}
