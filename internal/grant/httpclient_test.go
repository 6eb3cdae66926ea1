package grant

import (
	"crypto/tls"
	"crypto/x509"
	"encoding/pem"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/spf13/pflag"

	"github.com/pleoauth/pleoauth/internal/config"
	"github.com/pleoauth/pleoauth/internal/debuglog"
	"github.com/pleoauth/pleoauth/internal/failure"
	"github.com/pleoauth/pleoauth/internal/store"
)

// TestCAFileShared: the environment's ca_file is read once, into one pool that the rediss://
// store and the HTTPS client both trust; a ca_file that holds no certificate is refused by both
// with the same line; and a redis_url cannot turn verification off.
func TestCAFileShared(t *testing.T) {
	srv := httptest.NewTLSServer(http.NotFoundHandler())
	defer srv.Close()
	dir := t.TempDir()
	goodCA := filepath.Join(dir, "ca.pem")
	badCA := filepath.Join(dir, "garbage.pem")
	if err := os.WriteFile(goodCA, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: srv.Certificate().Raw}), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(badCA, []byte("not a certificate\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	const badLine = "env local: ca_file %s holds no PEM certificate; point PLEOAUTH_CA_FILE at"
	tests := []struct {
		name, store, redisURL, caFile string
		wantPool                      bool   // the HTTPS client trusts a pool of its own
		wantShared                    bool   // … the very one the rediss:// store trusts
		wantOpen, wantHTTP            string // the start of Open's and HTTPClient's errors
		wantUsage                     bool
	}{
		{name: "file store, no ca_file", store: "file"},
		{name: "file store, ca_file", store: "file", caFile: goodCA, wantPool: true},
		{name: "file store, garbage ca_file", store: "file", caFile: badCA, wantHTTP: badLine},
		{name: "rediss, no ca_file", store: "redis", redisURL: "rediss://redis.internal:6380/0"},
		{name: "rediss, ca_file", store: "redis", redisURL: "rediss://redis.internal:6380/0", caFile: goodCA, wantPool: true, wantShared: true},
		{name: "rediss, garbage ca_file", store: "redis", redisURL: "rediss://redis.internal:6380/0", caFile: badCA, wantOpen: badLine, wantUsage: true},
		{name: "redis without TLS, ca_file", store: "redis", redisURL: "redis://127.0.0.1:6379/0", caFile: goodCA, wantPool: true},
		{name: "redis without TLS, garbage ca_file", store: "redis", redisURL: "redis://127.0.0.1:6379/0", caFile: badCA, wantHTTP: badLine},
		{name: "rediss, skip_verify", store: "redis", redisURL: "rediss://redis.internal:6380/0?skip_verify=true", wantOpen: "redis_url rediss://redis.internal:6380/0?skip_verify=true: skip_verify would turn TLS verification off", wantUsage: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			vars := map[string]string{
				"PLEOAUTH_HOME": t.TempDir(), "PLEOAUTH_ENV": "local", "PLEOAUTH_STORE": tt.store,
				"PLEOAUTH_REDIS_URL": tt.redisURL, "PLEOAUTH_STORE_KEY": store.NewStoreKey(), "PLEOAUTH_CA_FILE": tt.caFile,
			}
			getenv := func(k string) string { return vars[k] }
			cfg, err := config.Load(pflag.NewFlagSet("test", pflag.ContinueOnError), getenv)
			if err != nil {
				t.Fatal(err)
			}
			env, err := cfg.Environment()
			if err != nil {
				t.Fatal(err)
			}
			// Deps' client carries the --debug trace, as cli's does when --debug is on.
			base := &http.Client{Transport: &debuglog.Transport{Next: http.DefaultTransport.(*http.Transport).Clone(), W: io.Discard, Now: time.Now}}
			g, err := Open(cfg, env, Deps{Stderr: io.Discard, Getenv: getenv, Now: time.Now, HTTPClient: func() *http.Client { return base }})
			if !matches(err, tt.wantOpen, tt.caFile) {
				t.Fatalf("Open: %v; want an error starting %q", err, tt.wantOpen)
			}
			if err != nil {
				if got := failure.KindOf(err) == failure.Usage; got != tt.wantUsage {
					t.Errorf("Open: usage error %t; want %t (%v)", got, tt.wantUsage, err)
				}
				return
			}
			c, err := g.HTTPClient()
			if !matches(err, tt.wantHTTP, tt.caFile) {
				t.Fatalf("HTTPClient: %v; want an error starting %q", err, tt.wantHTTP)
			}
			if err != nil {
				return
			}
			trace, ok := c.Transport.(*debuglog.Transport)
			if !ok {
				t.Fatalf("HTTPClient's transport is %T; want the --debug trace outermost", c.Transport)
			}
			pool := trace.Next.(*http.Transport).TLSClientConfig.RootCAs
			if !tt.wantPool && c != base {
				t.Errorf("HTTPClient is a new client; want Deps' own when there is no ca_file")
			}
			if got := pool != nil; got != tt.wantPool {
				t.Errorf("HTTPClient trusts a pool of its own: %t; want %t", got, tt.wantPool)
			}
			r, isRedis := g.store.(*store.Redis)
			var redisTLS *tls.Config
			if isRedis {
				redisTLS = r.Client.Options().TLSConfig
			}
			if redisTLS != nil && (redisTLS.MinVersion < tls.VersionTLS12 || redisTLS.InsecureSkipVerify) {
				t.Errorf("rediss:// TLS MinVersion %#x, InsecureSkipVerify %t; want >= TLS 1.2, verification on", redisTLS.MinVersion, redisTLS.InsecureSkipVerify)
			}
			// A certificate the rediss:// store refuses names the ca_file trusted, and where it
			// was set.
			if isRedis {
				want := ""
				if tt.caFile != "" {
					want = "ca_file " + tt.caFile + " (PLEOAUTH_CA_FILE)"
				}
				if r.CAFrom != want {
					t.Errorf("the redis store names its CA as %q; want %q", r.CAFrom, want)
				}
			}
			var redisPool *x509.CertPool
			if redisTLS != nil {
				redisPool = redisTLS.RootCAs
			}
			if got := pool != nil && redisPool == pool; got != tt.wantShared {
				t.Errorf("the HTTPS client and the rediss:// store share one pool: %t; want %t", got, tt.wantShared)
			}
			if tt.caFile == "" && redisPool != nil {
				t.Errorf("rediss:// trusts a pool of its own without ca_file; want the system's")
			}
		})
	}
}

// matches reports whether err is nil and want is "", or err starts with want (in which %s
// stands for caFile) and is one line.
func matches(err error, want, caFile string) bool {
	if err == nil || want == "" {
		return (err == nil) == (want == "")
	}
	msg := err.Error()
	return strings.HasPrefix(msg, strings.ReplaceAll(want, "%s", caFile)) && !strings.Contains(msg, "\n")
}
