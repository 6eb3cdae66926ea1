package grant

import (
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"net/http"
	"os"

	"github.com/pleoauth/pleoauth/internal/debuglog"
)

// HTTPClient returns the client for the environment's servers: Deps' client, trusting the
// environment's ca_file certificate authorities in addition to the system's when it is set.
// There is no way to turn TLS verification off.
func (g *Grant) HTTPClient() (*http.Client, error) {
	env := g.Env
	if env.CAFile == "" {
		return g.d.HTTPClient(), nil
	}
	pem, err := os.ReadFile(env.CAFile)
	if err != nil {
		return nil, fmt.Errorf("env %s: ca_file: %w", env.Name, err)
	}
	pool, err := x509.SystemCertPool()
	if err != nil {
		pool = x509.NewCertPool()
	}
	if !pool.AppendCertsFromPEM(pem) {
		return nil, fmt.Errorf("env %s: ca_file %s holds no PEM certificate; give the CA's certificate in PEM form", env.Name, env.CAFile)
	}
	c := *g.d.HTTPClient()
	c.Transport = withRootCAs(c.Transport, pool)
	return &c, nil
}

// withRootCAs returns rt trusting pool, looking through the --debug trace to the transport.
func withRootCAs(rt http.RoundTripper, pool *x509.CertPool) http.RoundTripper {
	switch t := rt.(type) {
	case *debuglog.Transport:
		return &debuglog.Transport{Next: withRootCAs(t.Next, pool), W: t.W, Now: t.Now}
	case nil:
		return withRootCAs(http.DefaultTransport, pool)
	case *http.Transport:
		c := t.Clone()
		if c.TLSClientConfig == nil {
			c.TLSClientConfig = &tls.Config{MinVersion: tls.VersionTLS12}
		}
		c.TLSClientConfig.RootCAs = pool
		return c
	default:
		return rt
	}
}
