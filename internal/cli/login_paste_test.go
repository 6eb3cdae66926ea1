package cli

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"strings"
	"testing"
	"time"

	"github.com/pleoauth/pleoauth/internal/devserver"
	"github.com/pleoauth/pleoauth/internal/exitcode"
	"github.com/pleoauth/pleoauth/internal/oauthtest"
)

const postmanCallback = "https://oauth.pstmn.io/v1/callback"

// TestLoginProgressOnlyOnATerminal: the progress line is drawn only when stderr is a terminal
// that is not TERM=dumb, and it is erased before the next message.
func TestLoginProgressOnlyOnATerminal(t *testing.T) {
	tests := []struct {
		name     string
		terminal bool
		term     string
		want     bool
	}{
		{"terminal", true, "xterm", true},
		{"TERM=dumb", true, "dumb", false},
		{"not a terminal", false, "xterm", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := newHarness(t)
			h.startDevserver(devserver.Options{AutoApprove: true})
			t.Setenv("TERM", tt.term)
			var stderr bytes.Buffer
			d := h.deps(io.Discard)
			d.Stderr = &stderr
			d.StderrIsTerminal = func() bool { return tt.terminal }
			// A browser slow enough for the display to draw.
			d.OpenBrowser = func(u string) error { time.Sleep(300 * time.Millisecond); return followRedirects(u) }
			if code := Main(context.Background(), []string{"login", "--env", "local"}, d); code != exitcode.OK {
				t.Fatalf("login exit %d:\n%s", code, stderr.String())
			}
			out := stderr.String()
			drawn := strings.Contains(out, "Waiting for the browser")
			if drawn != tt.want || (!tt.want && strings.ContainsAny(out, "\r\033")) {
				t.Errorf("progress drawn = %v; want %v:\n%q", drawn, tt.want, out)
			}
			if tt.want && !strings.Contains(out, "Ctrl-C to stop)\r\033[KLogged in to local") {
				t.Errorf("the progress line was not erased before the result:\n%q", out)
			}
		})
	}
}

// TestLoginBrowserFailsThenPaste: the browser cannot open; the same run asks for the address,
// which is pasted on stdin, and logs in.
func TestLoginBrowserFailsThenPaste(t *testing.T) {
	h := newHarness(t)
	srv, _ := h.startDevserver(devserver.Options{AutoApprove: true})
	stdinR, stdinW := io.Pipe()
	defer stdinW.Close()
	var stderr oauthtest.SyncBuffer
	d := h.deps(io.Discard)
	d.Stdin, d.Stderr = stdinR, &stderr
	d.StderrIsTerminal = func() bool { return true }
	d.OpenBrowser = func(u string) error {
		go func() {
			for deadline := time.Now().Add(30 * time.Second); !strings.Contains(stderr.String(), "paste the address your browser ends on here"); {
				if time.Now().After(deadline) {
					return // no paste prompt: the login's own timeout fails the test
				}
				time.Sleep(5 * time.Millisecond)
			}
			resp, err := oauthtest.NoRedirects().Get(u)
			if err != nil {
				return
			}
			resp.Body.Close()
			fmt.Fprintln(stdinW, resp.Header.Get("Location"))
		}()
		time.Sleep(200 * time.Millisecond) // long enough for a progress line to be drawn
		return fmt.Errorf("run xdg-open: exit status 3: xdg-open: no method available")
	}
	t.Setenv("TERM", "xterm")
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if code := Main(ctx, []string{"login", "--env", "local", "--timeout", "20s"}, d); code != exitcode.OK {
		t.Fatalf("login exit %d:\n%s", code, stderr.String())
	}
	out := stderr.String()
	if !strings.Contains(out, "\r\033[KCould not open a browser (run xdg-open: exit status 3: xdg-open: no method available).\n") {
		t.Errorf("the browser's failure is not reported on an erased line:\n%q", out)
	}
	if n := strings.Count(out, "Waiting for the browser ("); n == 0 || strings.Contains(out[strings.Index(out, "Could not open"):], "Waiting for the browser (") {
		t.Errorf("the progress line was not drawn before the failure, or was drawn again over the paste prompt:\n%q", out)
	}
	if st := srv.Stats(); st.TokensIssued["authorization_code"] != 1 {
		t.Errorf("%d code exchanges; want 1", st.TokensIssued["authorization_code"])
	}
}

// TestLoginPasteBackNeedsStdin: with a redirect URI off this machine and nothing on stdin, the
// login ends at once with the next step, and no code is spent.
func TestLoginPasteBackNeedsStdin(t *testing.T) {
	h := newHarness(t)
	h.redirect = postmanCallback
	t.Setenv("PLEOAUTH_REDIRECT_URI", postmanCallback)
	srv, _ := h.startDevserver(devserver.Options{AutoApprove: true})
	h.browser = func(string) error { return nil }
	start := time.Now()
	r := h.main("login", "--env", "local", "--timeout", "20s")
	if r.code != exitcode.Error || time.Since(start) > 10*time.Second {
		t.Fatalf("exit %d after %v; want %d at once:\n%s", r.code, time.Since(start), exitcode.Error, r.stderr)
	}
	last := lastLine(r.stderr)
	oneLine(t, last)
	for _, want := range []string{"login local", "stdin ended before the address", postmanCallback, "run pleoauth login in a terminal"} {
		if !strings.Contains(last, want) {
			t.Errorf("error %q lacks %q", last, want)
		}
	}
	if !strings.Contains(r.stderr, "protected by PKCE") {
		t.Errorf("stderr does not say why the redirect off this machine is safe:\n%s", r.stderr)
	}
	if st := srv.Stats(); st.TokenRequests["authorization_code"] != 0 {
		t.Errorf("a code was sent to the token endpoint")
	}
}

// TestLoginPasteBackTimeout: nobody pastes before --timeout; the error says so, not that a
// redirect failed to reach a listener there is none of.
func TestLoginPasteBackTimeout(t *testing.T) {
	h := newHarness(t)
	t.Setenv("PLEOAUTH_REDIRECT_URI", postmanCallback)
	h.startDevserver(devserver.Options{AutoApprove: true, RedirectURIs: []string{postmanCallback}})
	stdinR, stdinW := io.Pipe()
	defer stdinW.Close()
	var stderr bytes.Buffer
	d := h.deps(io.Discard)
	d.Stdin, d.Stderr = stdinR, &stderr
	if code := Main(context.Background(), []string{"login", "--env", "local", "--no-browser", "--timeout", "200ms"}, d); code != exitcode.Error {
		t.Fatalf("exit %d; want %d:\n%s", code, exitcode.Error, stderr.String())
	}
	last := lastLine(stderr.String())
	oneLine(t, last)
	if want := "login local: no address was pasted within 200ms; log in again (--timeout waits longer)"; !strings.Contains(last, want) {
		t.Errorf("error %q; want %q", last, want)
	}
}
