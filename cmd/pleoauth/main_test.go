package main

import (
	"context"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/rogpeppe/go-internal/testscript"

	"github.com/pleoauth/pleoauth/internal/cli"
	"github.com/pleoauth/pleoauth/internal/devserver"
	"github.com/pleoauth/pleoauth/internal/oauthtest"
)

// TestMain lets the scripts under testdata/script run this test binary as the commands
// "pleoauth" (the real main) and "follow-redirects" (a scripted browser for $BROWSER).
func TestMain(m *testing.M) {
	testscript.Main(m, map[string]func(){
		"pleoauth": func() {
			os.Exit(cli.Main(context.Background(), os.Args[1:], cli.SystemDeps(cli.Build{Version: "test"})))
		},
		"follow-redirects":  followRedirectsMain,
		"scan-cmdlines":     scanCmdlinesMain,
		"count-connections": countConnectionsMain,
		"stop-at-redirect":  stopAtRedirectMain,
		"paste-landed":      pasteLandedMain,
		"paste-redirect":    pasteRedirectMain,
	})
}

// countConnectionsMain listens on its argument (host:port), prints the port it got, then one
// line per connection it accepts, which it closes at once: a server that only reports who came.
func countConnectionsMain() {
	l, err := net.Listen("tcp", os.Args[1])
	if err != nil {
		fmt.Fprintln(os.Stderr, "count-connections:", err)
		os.Exit(1)
	}
	fmt.Println(l.Addr().(*net.TCPAddr).Port)
	for {
		c, err := l.Accept()
		if err != nil {
			os.Exit(1)
		}
		fmt.Println("connection from", c.RemoteAddr())
		c.Close()
	}
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
		Cmds: map[string]func(*testscript.TestScript, bool, []string){
			"devstat":         devstat,
			"devfault":        devfault,
			"postman-env-ok":  postmanEnvOK,
			"same-postman-id": samePostmanID,
		},
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
		RedirectURIs: []string{redirect, postmanCallback}, AccessTTL: 15 * time.Minute, RefreshTTL: time.Hour, AutoApprove: true,
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

// postmanCallback is the redirect URI Pleo's Postman how-to has developers register; the
// scripts' devserver registers it too, for logins that paste the address back.
const postmanCallback = "https://oauth.pstmn.io/v1/callback"

func freePort() (int, error) { return oauthtest.PickPort() }

// devstat asserts one of the devserver's counters: devstat
// refreshes|revoked|code-exchanges|disconnects N.
func devstat(ts *testscript.TestScript, neg bool, args []string) {
	if len(args) != 2 {
		ts.Fatalf("usage: devstat refreshes|revoked|code-exchanges|disconnects N")
	}
	st := ts.Value("devserver").(*devserver.Server).Stats()
	got := map[string]int{
		"refreshes":      st.TokensIssued["refresh_token"],
		"revoked":        st.FamiliesRevoked,
		"code-exchanges": st.TokensIssued["authorization_code"],
		"disconnects":    st.Disconnects,
	}[args[0]]
	if (fmt.Sprint(got) == args[1]) == neg {
		ts.Fatalf("devserver %s = %d; want %s%s", args[0], got, map[bool]string{true: "not ", false: ""}[neg], args[1])
	}
}

// devfault makes the devserver's next request (or next COUNT requests) to the fault's endpoint
// misbehave: devfault NAME [COUNT]; "devfault clear" drops the faults still queued.
func devfault(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) < 1 || len(args) > 2 {
		ts.Fatalf("usage: devfault NAME [COUNT] | devfault clear")
	}
	dev := ts.Value("devserver").(*devserver.Server)
	if args[0] == "clear" {
		dev.ClearFaults()
		return
	}
	count := 1
	if len(args) == 2 {
		n, err := strconv.Atoi(args[1])
		if err != nil || n < 1 {
			ts.Fatalf("devfault %s: COUNT %q is not a number of requests", args[0], args[1])
		}
		count = n
	}
	dev.InjectFault(devserver.Fault(args[0]), count, 0)
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

// postmanEnv is the shape of a Postman environment file, as Postman exports it and newman reads it.
type postmanEnv struct {
	ID     string `json:"id"`
	Name   string `json:"name"`
	Values []struct {
		Key     string `json:"key"`
		Value   string `json:"value"`
		Type    string `json:"type"`
		Enabled bool   `json:"enabled"`
	} `json:"values"`
	Scope string `json:"_postman_variable_scope"`
}

func readPostmanEnv(ts *testscript.TestScript, file string) postmanEnv {
	var pe postmanEnv
	if err := json.Unmarshal([]byte(ts.ReadFile(file)), &pe); err != nil {
		ts.Fatalf("%s is not JSON: %v", file, err)
	}
	return pe
}

// postmanEnvOK checks a Postman environment file: mode 0600, an id, a name, the environment
// scope, an enabled baseUrl, and an enabled secret accessToken — equal to the token in the
// second file when one is given.
func postmanEnvOK(ts *testscript.TestScript, neg bool, args []string) {
	pe := readPostmanEnv(ts, args[0])
	fi, err := os.Stat(ts.MkAbs(args[0]))
	if err != nil || fi.Mode().Perm() != 0o600 {
		ts.Fatalf("%s: mode %v, %v; want 0600", args[0], fi.Mode().Perm(), err)
	}
	if pe.ID == "" || pe.Name == "" || pe.Scope != "environment" {
		ts.Fatalf("%s: id %q, name %q, scope %q", args[0], pe.ID, pe.Name, pe.Scope)
	}
	values := map[string]string{}
	for _, v := range pe.Values {
		if !v.Enabled || (v.Type != "default" && v.Type != "secret") {
			ts.Fatalf("%s: value %s disabled or of type %q", args[0], v.Key, v.Type)
		}
		if v.Key == "accessToken" && v.Type != "secret" {
			ts.Fatalf("accessToken is not marked secret")
		}
		values[v.Key] = v.Value
	}
	if values["baseUrl"] != ts.Getenv("DEVSERVER_URL") || values["accessToken"] == "" {
		ts.Fatalf("%s: baseUrl %q, accessToken set: %v", args[0], values["baseUrl"], values["accessToken"] != "")
	}
	if len(args) > 1 && values["accessToken"] != strings.TrimSpace(ts.ReadFile(args[1])) {
		ts.Fatalf("the accessToken is not the current token")
	}
}

func samePostmanID(ts *testscript.TestScript, neg bool, args []string) {
	a, b := readPostmanEnv(ts, args[0]), readPostmanEnv(ts, args[1])
	if a.ID != b.ID {
		ts.Fatalf("ids differ: %s, %s", a.ID, b.ID)
	}
}
