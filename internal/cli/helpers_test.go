package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/pleoauth/pleoauth/internal/config"
	"github.com/pleoauth/pleoauth/internal/devserver"
	"github.com/pleoauth/pleoauth/internal/httpclient"
	"github.com/pleoauth/pleoauth/internal/oauthtest"
	"github.com/pleoauth/pleoauth/internal/store"
)

// run is one in-process run of pleoauth.
type run struct {
	code           int
	stdout, stderr string
}

// harness is a hermetic pleoauth installation: its own PLEOAUTH_HOME, a free redirect port, and
// environment variables cleared of anything the developer's shell might set.
type harness struct {
	t        *testing.T
	home     string
	redirect string
	browser  func(url string) error
	// transport, when set, carries pleoauth's HTTP requests.
	transport http.RoundTripper
	// timeout, when set, bounds each HTTP request.
	timeout time.Duration
	// keychain, when set, is the OS keychain.
	keychain store.Keychain
	// terminal makes stdout look like a terminal.
	terminal bool
	// stdin is what the next run reads on its standard input.
	stdin string
	// server is the devserver's HTTP server, once started.
	server *httptest.Server
	// sleep, when set, is the runs' Deps.Sleep.
	sleep func(ctx context.Context, d time.Duration) error
	// typed, when set, is what a person types at a prompt for a secret: the runs are then
	// interactive.
	typed string
}

func newHarness(t *testing.T) *harness {
	t.Helper()
	h := &harness{t: t, home: t.TempDir(), redirect: fmt.Sprintf("http://localhost:%d/callback", freePort(t))}
	for _, k := range append(config.Variables(), "BROWSER", "CI") {
		t.Setenv(k, "")
		os.Unsetenv(k)
	}
	t.Setenv("PLEOAUTH_HOME", h.home)
	// The file store by default; the keychain tests choose theirs.
	t.Setenv("PLEOAUTH_STORE", "file")
	t.Setenv("PLEOAUTH_REDIRECT_URI", h.redirect)
	return h
}

// main runs pleoauth with args and returns what it printed.
func (h *harness) main(args ...string) run {
	h.t.Helper()
	var stdout, stderr bytes.Buffer
	d := h.deps(&stdout)
	d.Stderr = &stderr
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	code := Main(ctx, args, d)
	return run{code, stdout.String(), stderr.String()}
}

// deps is the outside world of one run, its stdout going to stdout and its stderr nowhere.
func (h *harness) deps(stdout io.Writer) *Deps {
	client := httpclient.New()
	if h.transport != nil {
		client.Transport = h.transport
	}
	if h.timeout != 0 {
		client.Timeout = h.timeout
	}
	readSecret := func(context.Context, string) (string, error) { return "", fmt.Errorf("no terminal in tests") }
	if h.typed != "" {
		readSecret = func(context.Context, string) (string, error) { return h.typed, nil }
	}
	return &Deps{
		Stdin:            strings.NewReader(h.stdin),
		Stdout:           stdout,
		Stderr:           io.Discard,
		Interactive:      func() bool { return h.typed != "" },
		StdoutIsTerminal: func() bool { return h.terminal },
		ReadSecret:       readSecret,
		Getenv:           os.Getenv,
		Now:              time.Now,
		HTTPClient:       client,
		OpenBrowser:      h.browser,
		Keychain:         h.keychain,
		Build:            Build{Version: "test"},
		Sleep:            h.sleep,
	}
}

// tokenFile is where the file store keeps env's tokens.
func (h *harness) tokenFile(env string) string { return filepath.Join(h.home, "tokens", env+".json") }

// writeConfig writes config.yaml in PLEOAUTH_HOME.
func (h *harness) writeConfig(yaml string) {
	h.t.Helper()
	if err := os.WriteFile(filepath.Join(h.home, "config.yaml"), []byte(yaml), 0o600); err != nil {
		h.t.Fatal(err)
	}
}

// startDevserver runs the bundled server on a loopback port and points the local environment at
// it.
func (h *harness) startDevserver(o devserver.Options) (*devserver.Server, *httptest.Server) {
	h.t.Helper()
	if o.ClientID == "" {
		o.ClientID = "pleoauth-local"
	}
	if o.ClientSecret == "" {
		o.ClientSecret = "devserver-test-secret"
	}
	if o.RedirectURIs == nil {
		o.RedirectURIs = []string{h.redirect}
	}
	if o.AccessTTL == 0 {
		o.AccessTTL = 15 * time.Minute
	}
	if o.RefreshTTL == 0 {
		o.RefreshTTL = time.Hour
	}
	srv, err := devserver.New(o)
	if err != nil {
		h.t.Fatal(err)
	}
	hs := httptest.NewServer(srv)
	h.t.Cleanup(hs.Close)
	h.server = hs
	h.t.Setenv("PLEOAUTH_AUTH_SERVER_URL", hs.URL)
	h.t.Setenv("PLEOAUTH_API_URL", hs.URL)
	h.t.Setenv("PLEOAUTH_CLIENT_ID", o.ClientID)
	h.t.Setenv("PLEOAUTH_CLIENT_SECRET", o.ClientSecret)
	return srv, hs
}

// followRedirects is the kit's browser.
var followRedirects = oauthtest.FollowRedirects

func freePort(t *testing.T) int { return oauthtest.FreePort(t) }

// oneLine fails the test unless msg is a single line.
func oneLine(t *testing.T, msg string) {
	t.Helper()
	msg = strings.TrimSuffix(msg, "\n")
	if msg == "" || strings.Contains(msg, "\n") {
		t.Errorf("error output is not one line:\n%s", msg)
	}
}

// roundTripFunc is an http.RoundTripper made of a function.
type roundTripFunc func(*http.Request) (*http.Response, error)

func (f roundTripFunc) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }

func itoa(i int) string { return strconv.Itoa(i) }

func mustJSON(t *testing.T, v any) []byte {
	t.Helper()
	data, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return data
}
