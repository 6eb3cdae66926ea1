package main

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/rogpeppe/go-internal/testscript"

	"github.com/pleoauth/pleoauth/internal/cli"
	"github.com/pleoauth/pleoauth/internal/devserver"
)

// TestMain lets the scripts under testdata/script run this test binary as the commands
// "pleoauth" (the real main) and "follow-redirects" (a scripted browser for $BROWSER).
func TestMain(m *testing.M) {
	testscript.Main(m, map[string]func(){
		"pleoauth":         func() { os.Exit(cli.Main(context.Background(), os.Args[1:], cli.SystemDeps("test"))) },
		"follow-redirects": followRedirectsMain,
		"scan-cmdlines":    scanCmdlinesMain,
	})
}

// followRedirectsMain loads its last argument and follows every redirect, as a browser does after
// an authorization the server approves without asking.
func followRedirectsMain() {
	resp, err := http.Get(os.Args[len(os.Args)-1])
	if err != nil {
		fmt.Fprintln(os.Stderr, "follow-redirects:", err)
		os.Exit(1)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		fmt.Fprintln(os.Stderr, "follow-redirects: ended on HTTP", resp.StatusCode)
		os.Exit(1)
	}
	os.Exit(0)
}

// TestScripts runs the command-line behaviour scripts. Each script gets a fresh PLEOAUTH_HOME,
// a free redirect port, and three authorization servers on loopback: the bundled devserver
// (DEVSERVER_URL), and two that this project did not write — go-oauth2/oauth2 (GOOAUTH2_URL,
// client_secret_basic) and oauth2-proxy/mockoidc (MOCKOIDC_URL, client_secret_post).
func TestScripts(t *testing.T) {
	testscript.Run(t, testscript.Params{
		Dir:                 "testdata/script",
		RequireExplicitExec: true,
		Setup:               setupScript,
		Cmds:                map[string]func(*testscript.TestScript, bool, []string){"devstat": devstat},
	})
}

func setupScript(e *testscript.Env) error {
	port, err := freePort()
	if err != nil {
		return err
	}
	redirect := fmt.Sprintf("http://localhost:%d/callback", port)
	home := filepath.Join(e.WorkDir, "home")
	if err := os.MkdirAll(home, 0o700); err != nil {
		return err
	}
	e.Setenv("PLEOAUTH_HOME", home)
	e.Setenv("PLEOAUTH_STORE", "file") // the keychain scripts choose theirs
	e.Setenv("REDIRECT_URI", redirect)
	e.Setenv("HOME", e.WorkDir)

	dev, err := devserver.New(devserver.Options{
		ClientID: "pleoauth-local", ClientSecret: "devserver-script-secret",
		RedirectURIs: []string{redirect}, AccessTTL: 15 * time.Minute, RefreshTTL: time.Hour, AutoApprove: true,
	})
	if err != nil {
		return err
	}
	e.Values["devserver"] = dev
	devHTTP := httptest.NewServer(dev)
	e.Defer(devHTTP.Close)
	e.Setenv("DEVSERVER_URL", devHTTP.URL)
	e.Setenv("DEVSERVER_SECRET", "devserver-script-secret")

	goURL, stop, err := startGoOAuth2(port)
	if err != nil {
		return err
	}
	e.Defer(stop)
	e.Setenv("GOOAUTH2_URL", goURL)

	mock, err := startMockOIDC()
	if err != nil {
		return err
	}
	e.Defer(func() { _ = mock.Shutdown() })
	e.Setenv("MOCKOIDC_AUTHORIZE_URL", mock.AuthorizationEndpoint())
	e.Setenv("MOCKOIDC_TOKEN_URL", mock.TokenEndpoint())
	e.Setenv("MOCKOIDC_CLIENT_ID", mock.ClientID)
	e.Setenv("MOCKOIDC_SECRET", mock.ClientSecret)
	return nil
}

func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

// devstat asserts one of the devserver's counters: devstat refreshes|revoked|code-exchanges N.
func devstat(ts *testscript.TestScript, neg bool, args []string) {
	if len(args) != 2 {
		ts.Fatalf("usage: devstat refreshes|revoked|code-exchanges N")
	}
	st := ts.Value("devserver").(*devserver.Server).Stats()
	got := map[string]int{
		"refreshes":      st.TokensIssued["refresh_token"],
		"revoked":        st.FamiliesRevoked,
		"code-exchanges": st.TokensIssued["authorization_code"],
	}[args[0]]
	if (fmt.Sprint(got) == args[1]) == neg {
		ts.Fatalf("devserver %s = %d; want %s%s", args[0], got, map[bool]string{true: "not ", false: ""}[neg], args[1])
	}
}

// scanCmdlinesMain looks for $PLEO_ACCESS_TOKEN in the command line of every process on the
// machine, repeatedly for a moment, and prints how many command lines it read and how many held
// the token. It reads the token from its environment, so its own argv never holds it.
func scanCmdlinesMain() {
	token := os.Getenv("PLEO_ACCESS_TOKEN")
	if token == "" {
		fmt.Println("no PLEO_ACCESS_TOKEN in the environment")
		os.Exit(1)
	}
	read, found := 0, 0
	for range 20 {
		paths, _ := filepath.Glob("/proc/[0-9]*/cmdline")
		for _, p := range paths {
			b, err := os.ReadFile(p)
			if err != nil {
				continue
			}
			read++
			if strings.Contains(string(b), token) {
				found++
			}
		}
		time.Sleep(10 * time.Millisecond)
	}
	fmt.Printf("read %d command lines, %d with the token\n", read, found)
}
