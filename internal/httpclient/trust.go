package httpclient

import (
	"cmp"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io/fs"
	"net/http"
	"os"

	"github.com/pleoauth/pleoauth/internal/debuglog"
	"github.com/pleoauth/pleoauth/internal/failure"
)

// RootCAs reads an environment's ca_file into the pool its servers are checked against: the
// system's certificate authorities and the file's. It returns nil, the system's pool alone, when
// caFile is empty. Read it once and hand the same pool to every connection to the environment's
// servers ([Trusting], [TLSConfig]), so that they can never trust different authorities.
//
// A file that cannot be read, or that holds no PEM certificate (empty, DER, a key, garbage), is
// refused: a private CA silently not trusted would only surface later, as an untrusted server.
// The refusal is a setting to fix (exit 2), named by origin: where ca_file was set (a variable,
// or its key in config.yaml; see config.Config.Origin).
func RootCAs(env, caFile, origin string) (*x509.CertPool, error) {
	if caFile == "" {
		return nil, nil
	}
	pem, err := os.ReadFile(caFile)
	if err != nil {
		var pe *fs.PathError
		if errors.As(err, &pe) {
			err = pe.Err // the path is named once, below
		}
		return nil, failure.Wrap(failure.Usage, &CAFileError{Env: env, Path: caFile, Origin: origin, Err: err})
	}
	pool, err := x509.SystemCertPool()
	if err != nil {
		pool = x509.NewCertPool() // no system pool on this platform: the file's authorities alone
	}
	if !pool.AppendCertsFromPEM(pem) {
		return nil, failure.Wrap(failure.Usage, &CAFileError{Env: env, Path: caFile, Origin: origin})
	}
	return pool, nil
}

// CAFileError is an environment's ca_file that could not be used, whichever connection needed
// it: one message for the HTTPS client and the rediss:// store alike.
type CAFileError struct {
	Env, Path string
	// Origin says where ca_file was set, for the person who must fix it.
	Origin string
	// Err is why the file could not be read; nil when it was read but holds no certificate.
	Err error
}

func (e *CAFileError) Error() string {
	origin := cmp.Or(e.Origin, "ca_file (config.yaml or PLEOAUTH_CA_FILE)")
	next := "point " + origin + " at the CA's certificates in PEM form (-----BEGIN CERTIFICATE-----)"
	if e.Err != nil {
		return fmt.Sprintf("env %s: ca_file %s cannot be read (%v); %s", e.Env, e.Path, e.Err, next)
	}
	return fmt.Sprintf("env %s: ca_file %s holds no PEM certificate; %s", e.Env, e.Path, next)
}

func (e *CAFileError) Unwrap() error { return e.Err }

// Trusting returns a copy of c that checks servers against pool, or c itself when pool is nil
// (the system's authorities). The pool goes on the transport beneath the --debug trace, so the
// trace still sees every request; c is left as it was. A transport pleoauth did not build (a
// test's) is kept as it is.
func Trusting(c *http.Client, pool *x509.CertPool) *http.Client {
	if pool == nil {
		return c
	}
	trusting := *c
	trusting.Transport = withRootCAs(c.Transport, pool)
	return &trusting
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
		c.TLSClientConfig = TLSConfig(c.TLSClientConfig, pool)
		return c
	default:
		return rt
	}
}

// TLSConfig returns a copy of base (nil for none) that checks the server against pool (nil for
// the system's authorities) with TLS 1.2 or newer, and verifies its certificate whatever base
// said: a redis_url's skip_verify=true does not turn verification off.
func TLSConfig(base *tls.Config, pool *x509.CertPool) *tls.Config {
	c := &tls.Config{}
	if base != nil {
		c = base.Clone()
	}
	c.MinVersion = max(c.MinVersion, tls.VersionTLS12)
	c.InsecureSkipVerify = false
	if pool != nil {
		c.RootCAs = pool
	}
	return c
}
