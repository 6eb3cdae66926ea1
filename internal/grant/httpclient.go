package grant

import (
	"crypto/x509"
	"net/http"

	"github.com/pleoauth/pleoauth/internal/httpclient"
	"github.com/pleoauth/pleoauth/internal/store"
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
// alone. A login kept in Redis over TLS read ca_file when its connection was set up
// ([Grant.openRedis]); that same pool is returned here, so the file is read once and the store
// and the token endpoint cannot trust different authorities. Otherwise ca_file is read now.
func (g *Grant) rootCAs() (*x509.CertPool, error) {
	if r, ok := g.store.(*store.Redis); ok && r.Client != nil {
		if tc := r.Client.Options().TLSConfig; tc != nil && tc.RootCAs != nil {
			return tc.RootCAs, nil
		}
	}
	return httpclient.RootCAs(g.Env.Name, g.Env.CAFile)
}
