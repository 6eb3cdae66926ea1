package main

import (
	"bufio"
	"bytes"
	"net/http"
	"os"
	"os/exec"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/pleoauth/pleoauth/internal/devserver"
)

// TestInterruptExits130: INT, TERM or HUP ends a command with exit 130 and one line,
// "pleoauth: interrupted", whatever the command was doing when the signal came — a request the
// server holds, a body arriving slowly, a wait between tries of a page, a code exchange, a --jq
// expression that would run for hours or grow without bound. Each signal is sent once the
// server shows the moment was reached (a fault shown, a request counted), so the test does not
// depend on hitting a short window; the deadline after the signal is generous.
func TestInterruptExits130(t *testing.T) {
	w := newWorld(t, 15*time.Minute, "PLEOAUTH_STORE=file")
	w.login()
	employees := func() int { return w.stats().APIRequests["/v2/employees"] }
	shown := func(f devserver.Fault) func() int {
		return func() int { return w.stats().FaultsShown[string(f)] }
	}
	tests := []struct {
		name    string
		fault   devserver.Fault // injected before the command; "" for none
		args    []string
		reached func() int // grows once the moment is reached
		signal  syscall.Signal
	}{
		{"api: the server holds the request", devserver.FaultAPIDelay,
			[]string{"api", "/v2/employees"}, shown(devserver.FaultAPIDelay), syscall.SIGINT},
		{"api: the body arrives slowly", devserver.FaultAPISlowBody,
			[]string{"api", "/v2/employees"}, shown(devserver.FaultAPISlowBody), syscall.SIGTERM},
		{"api --paginate: the server holds a page", devserver.FaultAPIDelay,
			[]string{"api", "--paginate", "/v2/employees"}, shown(devserver.FaultAPIDelay), syscall.SIGHUP},
		{"api --paginate: a page's body arrives slowly", devserver.FaultAPISlowBody,
			[]string{"api", "--paginate", "/v2/employees"}, shown(devserver.FaultAPISlowBody), syscall.SIGINT},
		{"api --paginate: waiting out a busy page", devserver.FaultAPIBusy,
			[]string{"api", "--paginate", "/v2/employees"}, shown(devserver.FaultAPIBusy), syscall.SIGINT},
		{"api --jq: an expression that runs for hours", "",
			[]string{"api", "/v2/employees", "--jq", "last(range(1e10))"}, employees, syscall.SIGINT},
		{"api --paginate --jq: an expression that grows without bound", "",
			[]string{"api", "--paginate", "/v2/employees", "--jq", "[range(1e10)] | length"}, employees, syscall.SIGTERM},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w.dev.ClearFaults()
			if tt.fault != "" {
				w.dev.InjectFault(tt.fault, 1, 20*time.Second)
			}
			interrupted(t, w.command(tt.args...), tt.reached, tt.signal)
		})
	}
}

// TestInterruptDuringCodeExchange: a signal while login exchanges the code for tokens (the token
// endpoint holds the answer) exits 130, not "could not be reached" (5) or 1.
func TestInterruptDuringCodeExchange(t *testing.T) {
	w := newWorld(t, 15*time.Minute, "PLEOAUTH_STORE=file")
	w.dev.InjectFault(devserver.FaultDelay, 1, 5*time.Second)
	cmd := w.command("login", "--no-browser", "--timeout", "60s")
	stderr, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	lines := make(chan string, 100)
	go func() {
		sc := bufio.NewScanner(stderr)
		for sc.Scan() {
			lines <- sc.Text()
		}
		close(lines)
	}()
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { // the browser: follows the authorization, which the devserver approves
		for line := range lines {
			if u := strings.TrimSpace(line); strings.HasPrefix(u, w.url+"/oauth/authorize?") {
				go func() {
					c := &http.Client{Timeout: 30 * time.Second}
					if resp, err := c.Get(u); err == nil {
						resp.Body.Close()
					}
				}()
			}
		}
	}()
	signalWhen(t, cmd, func() int { return w.stats().FaultsShown[string(devserver.FaultDelay)] }, syscall.SIGINT)
	err = waitTimeout(cmd, 20*time.Second)
	if code := exitCode(err); code != 130 {
		t.Fatalf("login interrupted during the code exchange: exit %d; want 130", code)
	}
}

// interrupted starts cmd, sends sig once reached grows, and checks that cmd ends with 130 and
// says so once, within a generous deadline.
func interrupted(t *testing.T, c *exec.Cmd, reached func() int, sig syscall.Signal) {
	t.Helper()
	var stdout, stderr bytes.Buffer
	c.Stdout, c.Stderr = &stdout, &stderr
	before := reached()
	if err := c.Start(); err != nil {
		t.Fatal(err)
	}
	signalWhen(t, c, func() int { return reached() - before }, sig)
	start := time.Now()
	err := waitTimeout(c, 10*time.Second)
	code := exitCode(err)
	if code != 130 || strings.Count(stderr.String(), "pleoauth: interrupted") != 1 || strings.Contains(stderr.String(), "could not be reached") {
		t.Fatalf("after %v: exit %d after %v; want 130 and \"pleoauth: interrupted\" once\nstderr: %s", sig, code, time.Since(start).Round(time.Millisecond), stderr.String())
	}
}

// signalWhen sends sig to cmd once reached returns more than zero (at most 30 s on).
func signalWhen(t *testing.T, cmd *exec.Cmd, reached func() int, sig os.Signal) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for reached() == 0 {
		if time.Now().After(deadline) {
			_ = cmd.Process.Kill()
			t.Fatal("the moment to interrupt was never reached")
		}
		time.Sleep(10 * time.Millisecond)
	}
	if err := cmd.Process.Signal(sig); err != nil {
		t.Fatal(err)
	}
}

// TestInterruptDuringRefreshKeepsTheLogin: INT while a refresh is at the server (which rotates
// the refresh token whatever the client does next) lets the refresh be seen through and saved
// — the next refresh presents the new refresh token, and no family is revoked — and the
// command still exits 130.
func TestInterruptDuringRefreshKeepsTheLogin(t *testing.T) {
	w := newWorld(t, 15*time.Minute, "PLEOAUTH_STORE=file")
	w.login()
	w.dev.InjectFault(devserver.FaultDelay, 1, 2*time.Second)
	interrupted(t, w.command("token", "--force-refresh"), func() int { return w.stats().FaultsShown[string(devserver.FaultDelay)] }, syscall.SIGINT)
	if s := w.stats(); s.TokensIssued["refresh_token"] != 1 {
		t.Fatalf("the server issued %d refreshes; want the one in flight", s.TokensIssued["refresh_token"])
	}
	if r := w.run("token", "--force-refresh"); r.code != 0 {
		t.Fatalf("token after INT during a refresh: %v", r)
	}
	if s := w.stats(); s.FamiliesRevoked != 0 {
		t.Errorf("%d families revoked: the refresh answered during the interrupt was lost", s.FamiliesRevoked)
	}
}
