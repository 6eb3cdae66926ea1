// Package httpclient builds the HTTP client every request of pleoauth goes through, and the TLS
// settings of its other connections (a rediss:// store), in one order: the base client, then an
// environment's certificate authorities, then the --debug trace outermost. TLS 1.2 is the least
// version and nothing turns certificate verification off.
package httpclient

import (
	"crypto/tls"
	"io"
	"net/http"
	"time"

	"github.com/pleoauth/pleoauth/internal/debuglog"
)

// New returns the base client for token and API requests: TLS 1.2 or newer, proxies from
// HTTPS_PROXY/NO_PROXY, a bound on every request, and no redirects followed, so credentials are
// never re-sent to where a server points (RFC 9700 §4.11).
func New() *http.Client {
	t := http.DefaultTransport.(*http.Transport).Clone()
	t.TLSClientConfig = &tls.Config{MinVersion: tls.VersionTLS12}
	t.Proxy = http.ProxyFromEnvironment
	return &http.Client{
		Transport: t,
		Timeout:   30 * time.Second,
		CheckRedirect: func(*http.Request, []*http.Request) error {
			return http.ErrUseLastResponse
		},
	}
}

// Traced returns a copy of c that writes a trace of every exchange to w (--debug), each
// credential replaced by a fingerprint. The trace is the outermost layer: [Trusting] applied
// after it still puts the certificate authorities beneath it, so the trace sees every request.
func Traced(c *http.Client, w io.Writer, now func() time.Time) *http.Client {
	traced := *c
	next := traced.Transport
	if next == nil {
		next = http.DefaultTransport
	}
	traced.Transport = &debuglog.Transport{Next: next, W: w, Now: now}
	return &traced
}
