package httpclient

import (
	"bytes"
	"crypto/tls"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"io"
	"log"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/pleoauth/pleoauth/internal/debuglog"
	"github.com/pleoauth/pleoauth/internal/failure"
)

// tlsServer starts a loopback HTTPS server, with a certificate no system trusts, offering TLS
// versions up to maxVersion (0 for any), and returns it with a PEM file of its certificate.
func tlsServer(t *testing.T, maxVersion uint16) (*httptest.Server, string) {
	t.Helper()
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.WriteString(w, "ok")
	}))
	srv.Config.ErrorLog = log.New(io.Discard, "", 0) // refused handshakes are the point
	if maxVersion != 0 {
		srv.TLS = &tls.Config{MaxVersion: maxVersion}
	}
	srv.StartTLS()
	t.Cleanup(srv.Close)
	caFile := filepath.Join(t.TempDir(), "ca.pem")
	if err := os.WriteFile(caFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: srv.Certificate().Raw}), 0o600); err != nil {
		t.Fatal(err)
	}
	return srv, caFile
}

func mustRootCAs(t *testing.T, caFile string) *x509.CertPool {
	t.Helper()
	pool, err := RootCAs("staging", caFile, "PLEOAUTH_CA_FILE")
	if err != nil {
		t.Fatal(err)
	}
	return pool
}

// TestBuildOrder: whichever way the layers are put together, a request to a server of a private
// CA succeeds only when the pool is trusted, passes through the --debug trace when there is one,
// and a server offering less than TLS 1.2 is refused.
func TestBuildOrder(t *testing.T) {
	srv, caFile := tlsServer(t, 0)
	old, oldCA := tlsServer(t, tls.VersionTLS11)
	pool, oldPool := mustRootCAs(t, caFile), mustRootCAs(t, oldCA)
	now := func() time.Time { return time.Unix(0, 0) }
	tests := []struct {
		name    string
		build   func(trace io.Writer, pool *x509.CertPool) *http.Client
		traced  bool
		trusted bool
	}{
		{"base", func(io.Writer, *x509.CertPool) *http.Client { return New() }, false, false},
		{"base, CA", func(_ io.Writer, p *x509.CertPool) *http.Client { return Trusting(New(), p) }, false, true},
		{"base, trace", func(w io.Writer, _ *x509.CertPool) *http.Client { return Traced(New(), w, now) }, true, false},
		{"base, CA, trace", func(w io.Writer, p *x509.CertPool) *http.Client { return Traced(Trusting(New(), p), w, now) }, true, true},
		// The trace is on before the environment is known (cli's --debug, then grant's ca_file):
		// the pool still goes beneath it.
		{"base, trace, then CA", func(w io.Writer, p *x509.CertPool) *http.Client { return Trusting(Traced(New(), w, now), p) }, true, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var trace bytes.Buffer
			resp, err := tt.build(&trace, pool).Get(srv.URL + "/hello")
			if err == nil {
				resp.Body.Close()
			}
			var verify *tls.CertificateVerificationError
			switch {
			case tt.trusted && err != nil:
				t.Errorf("GET with the CA trusted: %v; want it to succeed", err)
			case !tt.trusted && !errors.As(err, &verify):
				t.Errorf("GET without the CA: %v; want a certificate verification error", err)
			}
			if got := strings.Contains(trace.String(), "> GET "+srv.URL+"/hello"); got != tt.traced {
				t.Errorf("trace shows the request: %t; want %t (trace %q)", got, tt.traced, trace.String())
			}
			// TLS 1.1 is refused, whatever the layers and even from a trusted server.
			resp, err = tt.build(io.Discard, oldPool).Get(old.URL)
			if err == nil {
				resp.Body.Close()
				t.Errorf("GET from a TLS 1.1 server succeeded; want it refused")
			} else if !strings.Contains(err.Error(), "protocol version") {
				t.Errorf("GET from a TLS 1.1 server: %v; want a protocol version error", err)
			}
		})
	}
}

// TestNew: no redirect is followed (a credential is never re-sent where a server points), and
// every request is bounded.
func TestNew(t *testing.T) {
	var followed bool
	target := httptest.NewServer(http.HandlerFunc(func(http.ResponseWriter, *http.Request) { followed = true }))
	defer target.Close()
	srv := httptest.NewServer(http.RedirectHandler(target.URL, http.StatusFound))
	defer srv.Close()
	c := New()
	resp, err := c.Get(srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusFound || followed {
		t.Errorf("GET of a redirect: %d, followed %t; want 302 handed back, not followed", resp.StatusCode, followed)
	}
	if c.Timeout <= 0 {
		t.Errorf("Timeout = %v; want a bound", c.Timeout)
	}
	tc := c.Transport.(*http.Transport).TLSClientConfig
	if tc.MinVersion != tls.VersionTLS12 || tc.InsecureSkipVerify {
		t.Errorf("TLS MinVersion %#x, InsecureSkipVerify %t; want %#x, false", tc.MinVersion, tc.InsecureSkipVerify, tls.VersionTLS12)
	}
}

// TestRootCAs: the pool holds the file's certificates; a file that is missing, unreadable,
// empty, or holds no PEM certificate is refused with one line naming the environment, ca_file,
// the path and what to do.
func TestRootCAs(t *testing.T) {
	srv, caFile := tlsServer(t, 0)
	dir := t.TempDir()
	write := func(name string, data []byte, mode os.FileMode) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, data, mode); err != nil {
			t.Fatal(err)
		}
		return p
	}
	key := pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: []byte("not a key either")})
	tests := []struct {
		name     string
		path     string
		rootOnly bool   // root reads any file: the case cannot be made
		want     string // in the error; "" for none
		notExist bool
	}{
		{name: "not set", path: ""},
		{name: "a CA", path: caFile},
		{name: "missing", path: filepath.Join(dir, "missing.pem"), want: "cannot be read (no such file or directory)", notExist: true},
		{name: "a folder", path: dir, want: "cannot be read (is a directory)"},
		{name: "unreadable", path: write("locked.pem", []byte("x"), 0o000), rootOnly: true, want: "cannot be read (permission denied)"},
		{name: "empty", path: write("empty.pem", nil, 0o600), want: "holds no PEM certificate"},
		{name: "garbage", path: write("garbage.pem", []byte("-----BEGIN CERTIFICATE-----\nnot base64\n-----END CERTIFICATE-----\n"), 0o600), want: "holds no PEM certificate"},
		{name: "DER, not PEM", path: write("ca.der", srv.Certificate().Raw, 0o600), want: "holds no PEM certificate"},
		{name: "a key, no certificate", path: write("key.pem", key, 0o600), want: "holds no PEM certificate"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if tt.rootOnly && os.Geteuid() == 0 {
				t.Skip("root reads a file of mode 0000")
			}
			pool, err := RootCAs("staging", tt.path, "PLEOAUTH_CA_FILE")
			if tt.want == "" {
				if err != nil {
					t.Fatalf("RootCAs(%q) = %v; want no error", tt.path, err)
				}
				if (pool != nil) != (tt.path != "") {
					t.Errorf("RootCAs(%q) pool = %v; want one exactly when ca_file is set", tt.path, pool)
				}
				if pool != nil {
					if _, err := srv.Certificate().Verify(x509.VerifyOptions{Roots: pool}); err != nil {
						t.Errorf("the server's certificate is not trusted by the pool: %v", err)
					}
				}
				return
			}
			if pool != nil || err == nil {
				t.Fatalf("RootCAs(%q) = %v, %v; want refused", tt.path, pool, err)
			}
			msg := err.Error()
			for _, part := range []string{"env staging: ", "ca_file " + tt.path + " ", tt.want, "; point PLEOAUTH_CA_FILE at the CA's certificates in PEM form"} {
				if !strings.Contains(msg, part) {
					t.Errorf("RootCAs(%q) error %q; want it to contain %q", tt.path, msg, part)
				}
			}
			if strings.Contains(msg, "\n") || strings.Count(msg, tt.path) != 1 {
				t.Errorf("RootCAs(%q) error %q; want one line naming the path once", tt.path, msg)
			}
			if got := errors.Is(err, os.ErrNotExist); got != tt.notExist {
				t.Errorf("errors.Is(%v, fs.ErrNotExist) = %t; want %t", err, got, tt.notExist)
			}
			var ce *CAFileError
			if !errors.As(err, &ce) {
				t.Errorf("RootCAs(%q) error is %T; want *CAFileError", tt.path, err)
			}
			if kind := failure.KindOf(err); kind != failure.Usage {
				t.Errorf("RootCAs(%q) error is of kind %v; want failure.Usage (exit 2: a setting to fix)", tt.path, kind)
			}
		})
	}
}

// TestTrusting: the pool goes on the transport beneath the trace, verification stays on and at
// TLS 1.2 at least, and the client given is left as it was.
func TestTrusting(t *testing.T) {
	pool := x509.NewCertPool()
	var trace bytes.Buffer
	insecure := New()
	insecure.Transport.(*http.Transport).TLSClientConfig = &tls.Config{InsecureSkipVerify: true, MinVersion: tls.VersionTLS10}
	tests := []struct {
		name   string
		base   *http.Client
		traced bool
	}{
		{"base", New(), false},
		{"traced", Traced(New(), &trace, time.Now), true},
		{"no transport", &http.Client{}, false},
		{"traced, no transport", Traced(&http.Client{}, &trace, time.Now), true},
		{"verification turned off below", insecure, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			before := tt.base.Transport
			c := Trusting(tt.base, pool)
			if tt.base.Transport != before {
				t.Errorf("Trusting changed the client it was given")
			}
			rt := c.Transport
			if d, ok := rt.(*debuglog.Transport); ok != tt.traced {
				t.Fatalf("outermost transport %T; want the trace: %t", rt, tt.traced)
			} else if ok {
				if d.W != &trace {
					t.Errorf("the trace writes elsewhere after Trusting")
				}
				rt = d.Next
			}
			ht, ok := rt.(*http.Transport)
			if !ok {
				t.Fatalf("transport beneath %T; want *http.Transport", rt)
			}
			tc := ht.TLSClientConfig
			if tc == nil || tc.RootCAs != pool || tc.MinVersion < tls.VersionTLS12 || tc.InsecureSkipVerify {
				t.Errorf("TLS config %+v; want RootCAs the pool, MinVersion >= TLS 1.2, verification on", tc)
			}
			if ht == http.DefaultTransport {
				t.Errorf("Trusting changed http.DefaultTransport")
			}
		})
	}
	if c := New(); Trusting(c, nil) != c {
		t.Errorf("Trusting(c, nil) is a new client; want c itself (the system's authorities)")
	}
}

// TestTLSConfig: the settings of a connection that is not HTTP (rediss://) keep the base's
// server name, take the pool, and cannot go below TLS 1.2 or skip verification.
func TestTLSConfig(t *testing.T) {
	pool, other := x509.NewCertPool(), x509.NewCertPool()
	tests := []struct {
		name       string
		base       *tls.Config
		pool       *x509.CertPool
		wantMin    uint16
		wantRoots  *x509.CertPool
		wantServer string
	}{
		{"no base", nil, pool, tls.VersionTLS12, pool, ""},
		{"go-redis's rediss://", &tls.Config{ServerName: "redis.internal", MinVersion: tls.VersionTLS12}, pool, tls.VersionTLS12, pool, "redis.internal"},
		{"TLS 1.0 asked", &tls.Config{MinVersion: tls.VersionTLS10}, pool, tls.VersionTLS12, pool, ""},
		{"TLS 1.3 kept", &tls.Config{MinVersion: tls.VersionTLS13}, pool, tls.VersionTLS13, pool, ""},
		{"skip_verify=true", &tls.Config{InsecureSkipVerify: true}, pool, tls.VersionTLS12, pool, ""},
		{"no ca_file: the base's roots", &tls.Config{RootCAs: other}, nil, tls.VersionTLS12, other, ""},
		{"ca_file over the base's roots", &tls.Config{RootCAs: other}, pool, tls.VersionTLS12, pool, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			before := tt.base.Clone() // nil for nil
			got := TLSConfig(tt.base, tt.pool)
			if got.MinVersion != tt.wantMin || got.RootCAs != tt.wantRoots || got.ServerName != tt.wantServer || got.InsecureSkipVerify {
				t.Errorf("TLSConfig = MinVersion %#x, RootCAs %p, ServerName %q, InsecureSkipVerify %t; want %#x, %p, %q, false",
					got.MinVersion, got.RootCAs, got.ServerName, got.InsecureSkipVerify, tt.wantMin, tt.wantRoots, tt.wantServer)
			}
			if tt.base != nil && (tt.base.MinVersion != before.MinVersion || tt.base.RootCAs != before.RootCAs || tt.base.InsecureSkipVerify != before.InsecureSkipVerify) {
				t.Errorf("TLSConfig changed the base it was given")
			}
		})
	}
}
