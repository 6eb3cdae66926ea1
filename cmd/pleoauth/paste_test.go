package main

import (
	"bufio"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestPasteBackLoginWithPortBlocked: the browser is on another machine and another program holds
// the redirect port. "pleoauth login --no-browser" prints the URL; the person logs in and pastes
// the address the browser ended on; the state is checked and the login completes.
func TestPasteBackLoginWithPortBlocked(t *testing.T) {
	w := newWorld(t, 15*time.Minute, "PLEOAUTH_STORE=file", "SSH_CONNECTION=192.0.2.1 50000 192.0.2.2 22")
	u, _ := url.Parse(w.redirect)
	blocker, err := net.Listen("tcp", "127.0.0.1:"+u.Port())
	if err != nil {
		t.Fatal(err)
	}
	defer blocker.Close()

	cmd := w.command("login", "--no-browser", "--timeout", "30s")
	stdin, _ := cmd.StdinPipe()
	stderr, _ := cmd.StderrPipe()
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer cmd.Process.Kill()

	var output strings.Builder
	sc := bufio.NewScanner(stderr)
	pasted := false
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		output.WriteString(line + "\n")
		if !strings.HasPrefix(line, w.url+"/oauth/authorize?") {
			continue
		}
		// The "browser": the devserver approves and redirects to the blocked port; the person
		// copies that address instead of following it. A wrong paste first: it is refused and
		// the login keeps waiting.
		fmt.Fprintln(stdin, "just-a-code")
		fmt.Fprintln(stdin, w.redirect+"?code=forged&state=forged-state-value")
		fmt.Fprintln(stdin, redirectOf(t, line))
		pasted = true
	}
	_, _ = io.Copy(io.Discard, stderr)
	if err := waitTimeout(cmd, 30*time.Second); err != nil || !pasted {
		t.Fatalf("login: %v (pasted %v)\n%s", err, pasted, output.String())
	}
	out := output.String()
	for _, want := range []string{
		"already in use", "paste the address instead",
		"ssh -L " + u.Port() + ":localhost:" + u.Port(),
		"not only the code", "state does not match",
		"Logged in to local",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("stderr lacks %q:\n%s", want, out)
		}
	}
	if got := w.stats().TokensIssued["authorization_code"]; got != 1 {
		t.Errorf("%d code exchanges; want 1 (the forged code must never be sent)", got)
	}
	if r := w.run("token"); r.code != 0 {
		t.Errorf("token after the pasted login: %v", r)
	}
}

// redirectOf loads the authorization URL without following the redirect and returns where the
// browser would go.
func redirectOf(t *testing.T, authURL string) string {
	t.Helper()
	client := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := client.Get(authURL)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	loc := resp.Header.Get("Location")
	if loc == "" {
		t.Fatalf("authorization answered %d without a redirect", resp.StatusCode)
	}
	return loc
}

// TestCtrlCEndsTheWait: SIGINT while login waits for the browser ends it with exit 130 at once,
// the listener closed and nothing stored.
func TestCtrlCEndsTheWait(t *testing.T) {
	w := newWorld(t, 15*time.Minute, "PLEOAUTH_STORE=file")
	cmd := w.command("login", "--no-browser", "--timeout", "1m")
	stderr, _ := cmd.StderrPipe()
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	sc := bufio.NewScanner(stderr)
	var output strings.Builder
	for sc.Scan() {
		output.WriteString(sc.Text() + "\n")
		if strings.Contains(sc.Text(), "Waiting for the redirect") {
			_ = cmd.Process.Signal(os.Interrupt)
			break
		}
	}
	go func() { _, _ = io.Copy(io.Discard, stderr) }()
	start := time.Now()
	err := waitTimeout(cmd, 10*time.Second)
	if code := exitCode(err); code != 130 || time.Since(start) > 5*time.Second {
		t.Fatalf("exit %d after %v; want 130 at once\n%s", code, time.Since(start), output.String())
	}
	if _, err := os.Stat(filepath.Join(w.home, "tokens", "local.json")); !os.IsNotExist(err) {
		t.Error("an interrupted login stored tokens")
	}
}
