package main

import (
	"bufio"
	"context"
	"io"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/pleoauth/pleoauth/internal/config"
	"github.com/pleoauth/pleoauth/internal/devserver"
)

// TestRealBrowserLogin is the login a person does: the built pleoauth binary waits on its
// loopback listener while headless Chromium opens the printed URL, fills in the devserver's login
// form, clicks Allow, and lands on pleoauth's success page.
func TestRealBrowserLogin(t *testing.T) {
	chromium := requireChromium(t)
	bin := buildPleoauth(t)

	port, err := freePort()
	if err != nil {
		t.Fatal(err)
	}
	redirect := "http://localhost:" + strconv.Itoa(port) + "/callback"
	dev, err := devserver.New(devserver.Options{
		ClientID: "pleoauth-local", ClientSecret: "browser-test-secret", RedirectURIs: []string{redirect},
		AccessTTL: 15 * time.Minute, RefreshTTL: time.Hour, Username: "ada", Password: "correct horse",
	})
	if err != nil {
		t.Fatal(err)
	}
	hs := httptest.NewServer(dev)
	defer hs.Close()

	home := t.TempDir()
	cmd := exec.Command(bin, "login", "--env", "local", "--no-browser", "--timeout", "90s")
	cmd.Env = append(cleanEnv(),
		"PLEOAUTH_HOME="+home,
		"PLEOAUTH_AUTH_SERVER_URL="+hs.URL,
		"PLEOAUTH_REDIRECT_URI="+redirect,
		"PLEOAUTH_CLIENT_SECRET=browser-test-secret",
		"PLEOAUTH_STORE=file",
	)
	stderr, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	var stdout strings.Builder
	cmd.Stdout = &stdout
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer cmd.Process.Kill()

	var (
		mu     sync.Mutex
		output strings.Builder
	)
	urls := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(stderr)
		for sc.Scan() {
			line := sc.Text()
			mu.Lock()
			output.WriteString(line + "\n")
			mu.Unlock()
			if u := strings.TrimSpace(line); strings.HasPrefix(u, hs.URL+"/oauth/authorize?") {
				urls <- u
			}
		}
		_, _ = io.Copy(io.Discard, stderr)
	}()
	var authURL string
	select {
	case authURL = <-urls:
	case <-time.After(30 * time.Second):
		mu.Lock()
		t.Fatalf("pleoauth login printed no authorization URL; stderr:\n%s", output.String())
	}

	ctx, cancel := chromedp.NewExecAllocator(context.Background(), append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(chromium),
		chromedp.NoSandbox, // CI runs as root
		chromedp.DisableGPU,
		chromedp.Flag("disable-quic", true),
	)...)
	defer cancel()
	ctx, cancel = chromedp.NewContext(ctx)
	defer cancel()
	// The first Run starts the browser and must not carry a timeout (it would stop the browser).
	if err := chromedp.Do(ctx); err != nil {
		t.Fatalf("start chromium: %v", err)
	}
	step, cancelStep := context.WithTimeout(ctx, 60*time.Second)
	defer cancelStep()

	browserFailed := func(err error) {
		t.Helper()
		mu.Lock()
		defer mu.Unlock()
		page, _ := chromedp.Run(ctx, chromedp.Evaluate[string]("document.documentElement.outerHTML"))
		where, _ := chromedp.Run(ctx, chromedp.Location())
		t.Fatalf("browser: %v\nbrowser is at %s showing:\n%s\npleoauth stderr:\n%s", err, where, page, output.String())
	}
	// A wrong password first: the page says so and nothing is redirected.
	err = chromedp.Do(step,
		chromedp.Navigate(authURL),
		chromedp.WaitVisible(chromedp.ID("username")),
		chromedp.SendKeys(chromedp.ID("username"), "ada"),
		chromedp.SendKeys(chromedp.ID("password"), "wrong"),
		chromedp.Click(chromedp.ID("approve")),
		chromedp.WaitVisible(chromedp.ID("message")),
	)
	if err != nil {
		browserFailed(err)
	}
	message, err := chromedp.Run(step, chromedp.Text(chromedp.ID("message")))
	if err != nil {
		browserFailed(err)
	}
	err = chromedp.Do(step,
		chromedp.SendKeys(chromedp.ID("username"), "ada"),
		chromedp.SendKeys(chromedp.ID("password"), "correct horse"),
		chromedp.Click(chromedp.ID("approve")),
		chromedp.WaitVisible(chromedp.ID("result")),
	)
	if err != nil {
		browserFailed(err)
	}
	heading, err := chromedp.Run(step, chromedp.Text(chromedp.ID("result")))
	if err != nil {
		browserFailed(err)
	}
	finalURL, err := chromedp.Run(step, chromedp.Location())
	if err != nil {
		browserFailed(err)
	}
	if !strings.Contains(message, "Wrong username or password") {
		t.Errorf("after a wrong password the page says %q", message)
	}
	if heading != "Logged in" {
		t.Errorf("success page heading = %q; want %q", heading, "Logged in")
	}
	// The browser was sent on from the address carrying the code (RFC 9700 §4.2.4).
	if want := strings.TrimSuffix(redirect, "/callback") + "/pleoauth/result"; finalURL != want {
		t.Errorf("browser ended on %s; want %s", finalURL, want)
	}

	if err := waitTimeout(cmd, 30*time.Second); err != nil {
		mu.Lock()
		t.Fatalf("pleoauth login: %v\nstderr:\n%s", err, output.String())
	}
	if stdout.String() != "" {
		t.Errorf("login wrote to stdout: %q", stdout.String())
	}
	if _, err := os.Stat(filepath.Join(home, "tokens", "local.json")); err != nil {
		t.Errorf("no tokens stored: %v", err)
	}
	if got := dev.Stats().TokensIssued["authorization_code"]; got != 1 {
		t.Errorf("devserver issued %d code exchanges; want 1", got)
	}
}

// requireChromium returns the Chromium binary. CI must have it (.ci/run installs it), so there a
// missing browser fails the test; elsewhere the test is skipped with the way to get it.
func requireChromium(t *testing.T) string {
	t.Helper()
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	if config.IsCI(os.Getenv) {
		t.Fatal("chromium is not installed, and CI must run the real-browser test (.ci/run installs it)")
	}
	t.Skip("chromium is not installed; on Debian: apt-get install chromium")
	return ""
}

// builds holds the binaries built in this test run, by build tags.
var builds = struct {
	sync.Mutex
	path map[string]string
}{path: map[string]string{}}

// buildPleoauth builds the real binary once per test run.
func buildPleoauth(t *testing.T) string { return buildTagged(t, "") }

// buildTagged builds the binary with the given build tags ("" for none), once per test run.
func buildTagged(t *testing.T, tags string) string {
	t.Helper()
	builds.Lock()
	defer builds.Unlock()
	if p, ok := builds.path[tags]; ok {
		return p
	}
	dir, err := os.MkdirTemp("", "pleoauth-bin-")
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, "pleoauth")
	if out, err := exec.Command("go", "build", "-tags", tags, "-o", path, ".").CombinedOutput(); err != nil {
		t.Fatalf("go build -tags %q: %v\n%s", tags, err, out)
	}
	builds.path[tags] = path
	return path
}

// cleanEnv is the test's environment without settings that would leak into pleoauth. CI goes
// too: in CI, login refuses to wait for a browser unless $BROWSER is set, and this test is the
// person at the browser.
func cleanEnv() []string {
	var env []string
	drop := regexp.MustCompile(`^(PLEOAUTH_|BROWSER=|CI=)`)
	for _, kv := range os.Environ() {
		if !drop.MatchString(kv) {
			env = append(env, kv)
		}
	}
	return env
}

func waitTimeout(cmd *exec.Cmd, d time.Duration) error {
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	select {
	case err := <-done:
		return err
	case <-time.After(d):
		_ = cmd.Process.Kill()
		return <-done
	}
}
