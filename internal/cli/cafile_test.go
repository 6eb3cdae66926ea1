package cli

import (
	"encoding/pem"
	"io"
	"log"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/pleoauth/pleoauth/internal/devserver"
	"github.com/pleoauth/pleoauth/internal/exitcode"
)

// TestPrivateCA: a server with a certificate from a CA the system does not know is refused with
// a message naming ca_file; with ca_file set, login, refresh and api work, and nothing turns
// verification off.
func TestPrivateCA(t *testing.T) {
	h := newHarness(t)
	dev, err := devserver.New(devserver.Options{ClientID: "pleoauth-local", ClientSecret: "tls-secret",
		RedirectURIs: []string{h.redirect}, AccessTTL: time.Hour, RefreshTTL: time.Hour, AutoApprove: true})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewUnstartedServer(dev)
	srv.Config.ErrorLog = log.New(io.Discard, "", 0) // the refused handshake is the point
	srv.StartTLS()
	defer srv.Close()
	caFile := filepath.Join(t.TempDir(), "ca.pem")
	if err := os.WriteFile(caFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: srv.Certificate().Raw}), 0o600); err != nil {
		t.Fatal(err)
	}
	t.Setenv("PLEOAUTH_AUTH_SERVER_URL", srv.URL)
	t.Setenv("PLEOAUTH_API_URL", srv.URL)
	t.Setenv("PLEOAUTH_CLIENT_SECRET", "tls-secret")
	// The "browser" trusts the test server, as a person who accepted its certificate would.
	h.browser = func(u string) error {
		resp, err := srv.Client().Get(u)
		if err != nil {
			return err
		}
		resp.Body.Close()
		return nil
	}

	r := h.main("login", "--env", "local")
	if r.code != exitcode.Error || !strings.Contains(lastLine(r.stderr), "TLS certificate pleoauth does not trust") || !strings.Contains(r.stderr, "set ca_file") {
		t.Fatalf("login without ca_file: %+v", r)
	}
	h.assertBundle("local", nil)

	t.Setenv("PLEOAUTH_CA_FILE", caFile)
	if r := h.main("login", "--env", "local"); r.code != 0 {
		t.Fatalf("login with ca_file: %+v", r)
	}
	if r := h.main("token", "--env", "local", "--force-refresh"); r.code != 0 {
		t.Fatalf("refresh with ca_file: %+v", r)
	}
	if r := h.main("api", "--env", "local", "/v2/employees"); r.code != 0 || !strings.Contains(r.stdout, "Lovelace") {
		t.Fatalf("api with ca_file: %+v", r)
	}
	// A ca_file that cannot be used is a setting to fix (exit 2), named with where it was set.
	t.Setenv("PLEOAUTH_CA_FILE", filepath.Join(t.TempDir(), "missing.pem"))
	if r := h.main("token", "--env", "local", "--force-refresh"); r.code != exitcode.Usage || !strings.Contains(r.stderr, "point PLEOAUTH_CA_FILE at") {
		t.Errorf("a missing ca_file from PLEOAUTH_CA_FILE: %+v; want exit 2 naming the variable", r)
	}
	t.Setenv("PLEOAUTH_CA_FILE", "")
	garbage := filepath.Join(t.TempDir(), "garbage.pem")
	if err := os.WriteFile(garbage, []byte("not a certificate\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	h.writeConfig("environments:\n  local:\n    ca_file: " + garbage + "\n")
	if r := h.main("token", "--env", "local", "--force-refresh"); r.code != exitcode.Usage || !strings.Contains(r.stderr, "point environments.local.ca_file in "+filepath.Join(h.home, "config.yaml")+" at") {
		t.Errorf("a garbage ca_file from config.yaml: %+v; want exit 2 naming the key and the file", r)
	}
}
