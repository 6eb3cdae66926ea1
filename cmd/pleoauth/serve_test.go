package main

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/pleoauth/pleoauth/internal/config"
	"github.com/pleoauth/pleoauth/internal/devserver"
	"github.com/pleoauth/pleoauth/internal/oauthtest"
	"github.com/pleoauth/pleoauth/internal/store"
)

// served is a running "pleoauth serve".
type served struct {
	cmd     *exec.Cmd
	url     string // http://127.0.0.1:PORT
	key     string
	keyFile string
	stderr  *oauthtest.SyncBuffer
	done    chan error
}

var serveBanner = regexp.MustCompile(`at (http://[^ ]+)/token \(key in ([^ )]+)`)

// startServe starts "pleoauth serve" with args and waits for it to say where it listens.
func startServe(t *testing.T, w *world, args ...string) *served {
	t.Helper()
	s := &served{cmd: w.command(append([]string{"serve"}, args...)...), stderr: &oauthtest.SyncBuffer{}, done: make(chan error, 1)}
	pipe, err := s.cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := s.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	banner := make(chan []string, 1)
	go func() {
		sc := bufio.NewScanner(pipe)
		for sc.Scan() {
			fmt.Fprintln(s.stderr, sc.Text())
			if m := serveBanner.FindStringSubmatch(sc.Text()); m != nil {
				banner <- m
			}
		}
		s.done <- s.cmd.Wait()
	}()
	t.Cleanup(func() {
		_ = s.cmd.Process.Kill()
		<-s.done
	})
	select {
	case m := <-banner:
		s.url, s.keyFile = m[1], m[2]
	case err := <-s.done:
		s.done <- err
		t.Fatalf("serve ended before listening: %v\n%s", err, s.stderr)
	case <-time.After(30 * time.Second):
		t.Fatalf("serve did not say where it listens\n%s", s.stderr)
	}
	key, err := os.ReadFile(s.keyFile)
	if err != nil {
		t.Fatalf("the key file serve named: %v", err)
	}
	s.key = strings.TrimSpace(string(key))
	return s
}

// get asks serve for path with the key; edit may change the request first.
func (s *served) get(t *testing.T, path string, edit func(*http.Request)) (*http.Response, string) {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, s.url+path, nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+s.key)
	if edit != nil {
		edit(req)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return resp, string(body)
}

func TestServeAnswersOnlyItsKeyOnLoopback(t *testing.T) {
	w := newWorld(t, 15*time.Minute, "PLEOAUTH_STORE=file")
	w.login()
	s := startServe(t, w, "--addr", "127.0.0.1:0")

	resp, body := s.get(t, "/token", nil)
	var tok struct {
		AccessToken string `json:"access_token"`
		Env         string `json:"env"`
		ExpiresIn   int    `json:"expires_in"`
	}
	if resp.StatusCode != 200 || json.Unmarshal([]byte(body), &tok) != nil || tok.AccessToken == "" || tok.Env != "local" {
		t.Fatalf("GET /token: %d %s", resp.StatusCode, body)
	}
	if cli := w.run("token", "--format", "json"); !strings.Contains(cli.stdout, `"access_token":"`+tok.AccessToken+`"`) {
		t.Fatalf("serve and \"pleoauth token --format json\" disagree:\nserve: %s\ncli:   %s", body, cli.stdout)
	}
	for _, tc := range []struct {
		name   string
		edit   func(*http.Request)
		status int
	}{
		{"no key", func(r *http.Request) { r.Header.Del("Authorization") }, 401},
		{"wrong key", func(r *http.Request) { r.Header.Set("Authorization", "Bearer x"+s.key) }, 401},
		{"rebinding Host", func(r *http.Request) { r.Host = "pleo.attacker.example" }, 403},
		{"web page", func(r *http.Request) { r.Header.Set("Origin", "https://attacker.example") }, 403},
	} {
		resp, body := s.get(t, "/token", tc.edit)
		if resp.StatusCode != tc.status || strings.Contains(body, tok.AccessToken) {
			t.Errorf("%s: %d %s; want %d without the token", tc.name, resp.StatusCode, body, tc.status)
		}
		for k := range resp.Header {
			if strings.HasPrefix(k, "Access-Control-") {
				t.Errorf("%s: a CORS header was sent: %s", tc.name, k)
			}
		}
	}
	if info, err := os.Stat(s.keyFile); err != nil || info.Mode().Perm() != 0o600 {
		t.Fatalf("key file %s: %v %v; want mode 0600", s.keyFile, info, err)
	}
	if strings.Contains(s.stderr.String(), s.key) || strings.Contains(s.stderr.String(), tok.AccessToken) {
		t.Fatalf("serve's log holds the key or the token:\n%s", s.stderr)
	}
	if err := s.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	select {
	case <-s.done:
	case <-time.After(30 * time.Second):
		t.Fatal("serve did not stop on SIGTERM")
	}
	s.done <- nil
	if _, err := os.Stat(s.keyFile); !os.IsNotExist(err) {
		t.Errorf("the key file outlived serve: %v", err)
	}
}

// TestServeListensOnlyOnLoopback: another machine (a network namespace joined by a veth pair)
// cannot reach serve, though it reaches a server listening on every interface of the same host.
func TestServeListensOnlyOnLoopback(t *testing.T) {
	host := oauthtest.NewHost(t)
	w := newWorld(t, 15*time.Minute, "PLEOAUTH_STORE=file")
	w.login()
	s := startServe(t, w, "--addr", ":0") // both loopbacks, as by default, on a free port
	port := s.url[strings.LastIndex(s.url, ":")+1:]
	if resp, _ := s.get(t, "/healthz", nil); resp.StatusCode != 200 {
		t.Fatalf("serve does not answer on loopback: %d", resp.StatusCode)
	}
	if host.Reaches(host.LocalAddr, port) {
		t.Fatalf("the second host reached serve at %s:%s", host.LocalAddr, port)
	}
	open, err := net.Listen("tcp", ":0") // every interface
	if err != nil {
		t.Fatal(err)
	}
	defer open.Close()
	if !host.Reaches(host.LocalAddr, strconv.Itoa(open.Addr().(*net.TCPAddr).Port)) {
		t.Fatal("the second host reaches nothing on this host; the check above proves nothing")
	}
}

func TestServeAndTheCommandLineShareOneRefresh(t *testing.T) {
	w := newWorld(t, 15*time.Minute, "PLEOAUTH_STORE=file")
	w.login()
	s := startServe(t, w, "--addr", "127.0.0.1:0")
	for round := 1; round <= 3; round++ {
		expire(t, w)
		before := w.stats().TokensIssued["refresh_token"]
		var wg sync.WaitGroup
		failures := make(chan string, 32)
		for range 8 {
			wg.Go(func() {
				if r := w.run("token"); r.code != 0 {
					failures <- "cli: " + r.String()
				}
			})
			wg.Go(func() {
				req, _ := http.NewRequest(http.MethodGet, s.url+"/token", nil)
				req.Header.Set("Authorization", "Bearer "+s.key)
				resp, err := http.DefaultClient.Do(req)
				if err != nil {
					failures <- "serve: " + err.Error()
					return
				}
				resp.Body.Close()
				if resp.StatusCode != 200 {
					failures <- fmt.Sprintf("serve: %d", resp.StatusCode)
				}
			})
		}
		wg.Wait()
		close(failures)
		for f := range failures {
			t.Errorf("round %d: %s", round, f)
		}
		st := w.stats()
		if n := st.TokensIssued["refresh_token"] - before; n != 1 || st.FamiliesRevoked != 0 {
			t.Fatalf("round %d: %d refreshes, %d revoked families for 8 processes and 8 serve requests on one expiry; want exactly 1 and 0\n%s",
				round, n, st.FamiliesRevoked, s.stderr)
		}
	}
}

// expire makes the stored access token (file store) an expired one.
func expire(t *testing.T, w *world) {
	t.Helper()
	files := store.File{Dir: filepath.Join(w.home, "tokens")}
	b, err := files.Load("local")
	if err != nil {
		t.Fatal(err)
	}
	b.Expiry = time.Now().Add(-time.Second)
	if err := files.Save("local", b); err != nil {
		t.Fatal(err)
	}
}

// TestServeInterruptedMidRefresh: Ctrl-C while serve's refresh is at the server lets the refresh
// finish, answers the request that caused it, saves the rotated tokens, and only then stops.
func TestServeInterruptedMidRefresh(t *testing.T) {
	w := newWorld(t, 15*time.Minute, "PLEOAUTH_STORE=file")
	w.login()
	s := startServe(t, w, "--addr", "127.0.0.1:0")
	expire(t, w)
	w.dev.InjectFault(devserver.FaultDelay, 1, 2*time.Second)
	answer := make(chan int, 1)
	go func() {
		req, _ := http.NewRequest(http.MethodGet, s.url+"/token", nil)
		req.Header.Set("Authorization", "Bearer "+s.key)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			answer <- -1
			return
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != 200 {
			t.Logf("the answer: %s", body)
		}
		answer <- resp.StatusCode
	}()
	deadline := time.Now().Add(30 * time.Second)
	for w.stats().FaultsShown[string(devserver.FaultDelay)] == 0 {
		if time.Now().After(deadline) {
			t.Fatal("the refresh never reached the server")
		}
		time.Sleep(10 * time.Millisecond)
	}
	if err := s.cmd.Process.Signal(os.Interrupt); err != nil {
		t.Fatal(err)
	}
	select {
	case code := <-answer:
		if code != 200 {
			t.Fatalf("the request in flight got %d; want its token\n%s", code, s.stderr)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("the request in flight got no answer")
	}
	select {
	case <-s.done:
		s.done <- nil
	case <-time.After(30 * time.Second):
		t.Fatal("serve did not stop after Ctrl-C")
	}
	if r := w.run("token", "--force-refresh"); r.code != 0 {
		t.Fatalf("token after serve was interrupted mid-refresh: %v", r)
	}
	if st := w.stats(); st.FamiliesRevoked != 0 || st.TokensIssued["refresh_token"] != 2 {
		t.Fatalf("%+v; want 2 refreshes (serve's, then the command line's) and no revoked family", st)
	}
}

// newmanCollection is a Postman collection: the README's collection-level pre-request script,
// bearer auth from {{accessToken}}, and one request that checks its answer.
const newmanCollection = `{
  "info": {"name": "pleoauth serve", "schema": "https://schema.getpostman.com/json/collection/v2.1.0/collection.json"},
  "auth": {"type": "bearer", "bearer": [{"key": "token", "value": "{{accessToken}}", "type": "string"}]},
  "event": [{"listen": "prerequest", "script": {"type": "text/javascript", "exec": [%s]}}],
  "item": [{
    "name": "employees",
    "request": {"method": "GET", "url": "{{baseUrl}}/v2/employees"},
    "event": [{"listen": "test", "script": {"type": "text/javascript", "exec": [
      "pm.test('the API accepts the token', () => pm.response.to.have.status(200));"
    ]}}]
  }]
}`

// TestNewmanOutlivesTokens runs Newman itself, with the README's pre-request script, for several
// token lives of 3 seconds: every request passes, and the devserver saw a refresh for each token
// that ran short and never more.
func TestNewmanOutlivesTokens(t *testing.T) {
	newman, err := exec.LookPath("newman")
	if err != nil {
		if config.IsCI(os.Getenv) {
			t.Fatal("newman is missing; .ci/run installs it (npm install -g newman)")
		}
		t.Skip("needs Newman: npm install -g newman@6.2.1")
	}
	// A token fetched has at least minTTL left, a margin against a slow machine between the
	// pre-request script and the request.
	const life, minTTL = 3 * time.Second, 2 * time.Second
	w := newWorld(t, life, "PLEOAUTH_STORE=file", "PLEOAUTH_MIN_TTL="+minTTL.String())
	w.login()
	dir := t.TempDir()
	envFile := filepath.Join(dir, "serve.postman_environment.json")
	s := startServe(t, w, "--addr", "127.0.0.1:0", "--postman-env", envFile)

	script, err := os.ReadFile(filepath.Join("testdata", "postman-prerequest.js"))
	if err != nil {
		t.Fatal(err)
	}
	var lines []string
	for _, l := range strings.Split(strings.TrimRight(string(script), "\n"), "\n") {
		q, _ := json.Marshal(l)
		lines = append(lines, string(q))
	}
	collection := filepath.Join(dir, "collection.json")
	if err := os.WriteFile(collection, []byte(fmt.Sprintf(newmanCollection, strings.Join(lines, ","))), 0o600); err != nil {
		t.Fatal(err)
	}

	before := w.stats().TokensIssued["refresh_token"]
	start := time.Now()
	run := exec.Command(newman, "run", collection, "--environment", envFile, "--iteration-count", "25",
		"--delay-request", "400", "--timeout-request", "10000", "--color", "off", "--disable-unicode")
	run.Env = append(cleanEnv(), "NO_COLOR=1")
	out, err := run.CombinedOutput()
	elapsed := time.Since(start)
	if err != nil {
		t.Fatalf("newman: %v\n%s\nserve:\n%s", err, out, s.stderr)
	}
	st := w.stats()
	refreshes := st.TokensIssued["refresh_token"] - before
	// A token is refreshed when less than minTTL of it is left: one refresh per (life − minTTL)
	// of run at most (and the login's token, and one partly used at the start), and the run
	// spans several.
	most := int(elapsed/(life-minTTL)) + 2
	t.Logf("newman: 25 requests in %v; %d refreshes (at most %d allowed)", elapsed.Round(time.Millisecond), refreshes, most)
	if refreshes < 3 || refreshes > most || st.FamiliesRevoked != 0 {
		t.Fatalf("%d refreshes over %v of %v tokens, %d revoked families; want 3..%d and 0\nserve:\n%s", refreshes, elapsed, life, st.FamiliesRevoked, most, s.stderr)
	}
	if !strings.Contains(string(out), "25 ") || strings.Contains(string(out), "AssertionError") {
		t.Fatalf("newman's report:\n%s", out)
	}
}

// TestReadmeHasThePreRequestScript: the script Newman runs above is the one the README tells
// users to paste.
func TestReadmeHasThePreRequestScript(t *testing.T) {
	script, err := os.ReadFile(filepath.Join("testdata", "postman-prerequest.js"))
	if err != nil {
		t.Fatal(err)
	}
	readme, err := os.ReadFile(filepath.Join("..", "..", "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(readme), "```js\n"+string(script)+"```") {
		t.Fatal("README.md does not show testdata/postman-prerequest.js as it is; copy it into the Postman section")
	}
}

func TestServeRefusesABadKeyBeforeListening(t *testing.T) {
	for _, key := range []string{"short", "a key with spaces in it", "trailing-newline-key\n"} {
		w := newWorld(t, 15*time.Minute, "PLEOAUTH_STORE=file", "PLEOAUTH_SERVE_KEY="+key)
		r := w.run("serve", "--addr", "127.0.0.1:0")
		if r.code != 2 || !strings.Contains(r.stderr, "PLEOAUTH_SERVE_KEY") || strings.Contains(r.stderr, key) {
			t.Errorf("PLEOAUTH_SERVE_KEY=%q: %v; want exit 2 naming the variable, not its value", key, r)
		}
	}
}
