package main

import (
	"bufio"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/pleoauth/pleoauth/internal/oauthtest"
)

// TestPlainHTTPNeverLeaves: a URL setting that would send credentials over plain http to a host
// that is not loopback is refused when the configuration is resolved — whatever its source
// (variable or config.yaml) and whatever the command — and the host it names, a second host in
// a network namespace, never receives a connection. As a control, this machine can reach that
// host's listener, so silence means refusal, not a broken path.
func TestPlainHTTPNeverLeaves(t *testing.T) {
	host := oauthtest.NewHost(t)
	counter, err := exec.LookPath("count-connections")
	if err != nil {
		t.Fatal(err)
	}
	srv := host.Command(counter, host.Addr+":0")
	out, err := srv.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := srv.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = srv.Process.Kill(); _ = srv.Wait() })
	lines := make(chan string, 64)
	go func() {
		sc := bufio.NewScanner(out)
		for sc.Scan() {
			lines <- sc.Text()
		}
		close(lines)
	}()
	var port string
	select {
	case port = <-lines:
	case <-time.After(30 * time.Second):
		t.Fatal("the second host's listener did not start")
	}
	remote := "http://" + net.JoinHostPort(host.Addr, port)

	// The control: the path to the second host works.
	c, err := net.DialTimeout("tcp", net.JoinHostPort(host.Addr, port), 10*time.Second)
	if err != nil {
		t.Fatalf("this machine cannot reach the second host; the test proves nothing: %v", err)
	}
	c.Close()
	select {
	case <-lines:
	case <-time.After(10 * time.Second):
		t.Fatal("the second host's listener did not see the control connection")
	}

	w := newWorld(t, 15*time.Minute, "PLEOAUTH_STORE=file")
	w.login()
	for _, src := range []struct {
		name, key string
		viaFile   bool
	}{
		{"PLEOAUTH_API_URL", "api_url", false},
		{"PLEOAUTH_AUTH_SERVER_URL", "auth_server_url", false},
		{"PLEOAUTH_TOKEN_URL", "token_url", false},
		{"config.yaml api_url", "api_url", true},
		{"config.yaml token_url", "token_url", true},
	} {
		for _, args := range [][]string{
			{"token", "--force-refresh"}, {"api", "/v2/employees"}, {"exec", "--", "true"},
			{"postman-env"}, {"login", "--no-browser", "--timeout", "5s"}, {"status"},
		} {
			t.Run(src.name+"/"+args[0], func(t *testing.T) {
				cmd := w.command(args...)
				cmd.Env = append([]string{}, w.env...)
				config := filepath.Join(w.home, "config.yaml")
				os.Remove(config)
				if src.viaFile {
					yaml := fmt.Sprintf("environments:\n  local:\n    %s: %s\n", src.key, remote)
					if err := os.WriteFile(config, []byte(yaml), 0o600); err != nil {
						t.Fatal(err)
					}
					t.Cleanup(func() { os.Remove(config) })
					// The variable would win over the file.
					cmd.Env = dropVar(cmd.Env, "PLEOAUTH_"+strings.ToUpper(src.key))
				} else {
					cmd.Env = append(dropVar(cmd.Env, src.name), src.name+"="+remote)
				}
				outErr, err := cmd.CombinedOutput()
				if code := exitCode(err); code != 2 || !strings.Contains(string(outErr), "must use https") || !strings.Contains(string(outErr), src.key) {
					t.Errorf("exit %d: %s; want exit 2 refusing %s", code, outErr, src.key)
				}
			})
		}
	}
	select {
	case l := <-lines:
		t.Errorf("the second host received a connection: %s", l)
	case <-time.After(500 * time.Millisecond):
	}
}

// dropVar returns env without the variable name.
func dropVar(env []string, name string) []string {
	out := env[:0:0]
	for _, kv := range env {
		if !strings.HasPrefix(kv, name+"=") {
			out = append(out, kv)
		}
	}
	return out
}
