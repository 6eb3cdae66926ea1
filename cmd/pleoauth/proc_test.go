package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/pleoauth/pleoauth/internal/devserver"
)

// world is a devserver on loopback and a PLEOAUTH_HOME for the built binary to work in.
type world struct {
	t        *testing.T
	bin      string
	dev      *devserver.Server
	url      string
	home     string
	redirect string
	env      []string
}

const worldSecret = "process-test-secret"

// newWorld starts a devserver with the given access token lifetime and returns the environment
// for pleoauth processes; extra variables are appended (a later one wins).
func newWorld(t *testing.T, accessTTL time.Duration, extra ...string) *world {
	t.Helper()
	return newWorldWith(t, devserver.Options{AccessTTL: accessTTL}, extra...)
}

// newWorldWith is newWorld with more of the devserver's options (AccessTTL, ListItems, …); the
// client, its redirect URI, the refresh token lifetime and the approval are the world's.
func newWorldWith(t *testing.T, o devserver.Options, extra ...string) *world {
	t.Helper()
	port, err := freePort()
	if err != nil {
		t.Fatal(err)
	}
	w := &world{t: t, bin: buildPleoauth(t), home: filepath.Join(t.TempDir(), "home"),
		redirect: "http://localhost:" + strconv.Itoa(port) + "/callback"}
	o.ClientID, o.ClientSecret, o.RedirectURIs = "pleoauth-local", worldSecret, []string{w.redirect}
	o.RefreshTTL, o.AutoApprove = time.Hour, true
	w.dev, err = devserver.New(o)
	if err != nil {
		t.Fatal(err)
	}
	hs := httptest.NewServer(w.dev)
	t.Cleanup(hs.Close)
	w.url = hs.URL
	w.env = append(cleanEnv(),
		"PLEOAUTH_HOME="+w.home,
		"PLEOAUTH_ENV=local",
		"PLEOAUTH_AUTH_SERVER_URL="+hs.URL,
		"PLEOAUTH_API_URL="+hs.URL,
		"PLEOAUTH_REDIRECT_URI="+w.redirect,
		"PLEOAUTH_CLIENT_SECRET="+worldSecret,
	)
	w.env = append(w.env, extra...)
	return w
}

// result is what one pleoauth process did.
type result struct {
	code           int
	stdout, stderr string
}

func (w *world) command(args ...string) *exec.Cmd {
	cmd := exec.Command(w.bin, args...)
	cmd.Env = w.env
	return cmd
}

// run runs pleoauth to completion (at most a minute).
func (w *world) run(args ...string) result {
	w.t.Helper()
	cmd := w.command(args...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Start(); err != nil {
		w.t.Fatal(err)
	}
	err := waitTimeout(cmd, time.Minute)
	return result{exitCode(err), stdout.String(), stderr.String()}
}

func exitCode(err error) int {
	var ee *exec.ExitError
	switch {
	case err == nil:
		return 0
	case errors.As(err, &ee):
		return ee.ExitCode()
	default:
		return -1
	}
}

// login runs "pleoauth login --no-browser" and plays the browser with plain HTTP: the devserver
// approves on its own, so following redirects completes the login.
func (w *world) login() {
	w.t.Helper()
	if err := w.tryLogin(); err != nil {
		w.t.Fatal(err)
	}
}

// tryLogin is login for goroutines, which must not end the test themselves.
func (w *world) tryLogin() error {
	cmd := w.command("login", "--no-browser", "--timeout", "30s")
	stderr, err := cmd.StderrPipe()
	if err != nil {
		return err
	}
	if err := cmd.Start(); err != nil {
		return err
	}
	var output strings.Builder
	sc := bufio.NewScanner(stderr)
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		output.WriteString(line + "\n")
		if strings.HasPrefix(line, w.url+"/oauth/authorize?") {
			if resp, err := http.Get(line); err == nil {
				resp.Body.Close()
			}
		}
	}
	if err := waitTimeout(cmd, 30*time.Second); err != nil {
		return fmt.Errorf("login: %v\n%s", err, output.String())
	}
	return nil
}

// stats reads the devserver's counters.
func (w *world) stats() devserver.Stats {
	return w.dev.Stats()
}

// filesContaining lists the files under PLEOAUTH_HOME whose bytes contain s.
func (w *world) filesContaining(s string) []string {
	var found []string
	_ = filepath.WalkDir(w.home, func(path string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return nil
		}
		data, _ := os.ReadFile(path)
		if bytes.Contains(data, []byte(s)) {
			found = append(found, path)
		}
		return nil
	})
	return found
}

// status returns "pleoauth status --json".
func (w *world) status() (map[string]any, result) {
	r := w.run("status", "--json")
	var m map[string]any
	_ = json.Unmarshal([]byte(r.stdout), &m)
	return m, r
}

func (r result) String() string {
	return fmt.Sprintf("exit %d\nstdout: %s\nstderr: %s", r.code, r.stdout, r.stderr)
}
