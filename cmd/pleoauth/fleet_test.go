package main

import (
	"bufio"
	"bytes"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/pleoauth/pleoauth/internal/devserver"
	"github.com/pleoauth/pleoauth/internal/oauthtest"
	"github.com/pleoauth/pleoauth/internal/store"
)

// fleet is one Pleo login shared by machines: a laptop (this machine) and hosts, each a
// network namespace with its own PLEOAUTH_HOME, reaching one real redis-server and the devserver
// (over TLS, as pleoauth allows plain http only to loopback) across veth links.
type fleet struct {
	t     *testing.T
	bin   string
	dev   *devserver.Server
	redis *oauthtest.Redis
	hosts []*oauthtest.Host
	env   [][]string // env[0] is the laptop's, env[i+1] host i's
	ca    string
}

func newFleet(t *testing.T, hosts int, accessTTL time.Duration, extra ...string) *fleet {
	t.Helper()
	f := &fleet{t: t, bin: buildPleoauth(t)}
	var addrs []string
	for range hosts {
		h := oauthtest.NewHost(t)
		f.hosts = append(f.hosts, h)
		addrs = append(addrs, h.LocalAddr)
	}
	redirect := fmt.Sprintf("http://localhost:%d/callback", oauthtest.FreePort(t))
	var err error
	f.dev, err = devserver.New(devserver.Options{
		ClientID: "pleoauth-local", ClientSecret: worldSecret, RedirectURIs: []string{redirect},
		AccessTTL: accessTTL, RefreshTTL: time.Hour, AutoApprove: true,
	})
	if err != nil {
		t.Fatal(err)
	}
	port, ca := oauthtest.TLSServer(t, f.dev, addrs...)
	f.ca = ca
	f.redis = oauthtest.StartRedis(t, addrs...)
	key := store.NewStoreKey()
	common := append(cleanEnv(), "PLEOAUTH_ENV=local", "PLEOAUTH_STORE=redis", "PLEOAUTH_STORE_KEY="+key,
		"PLEOAUTH_CA_FILE="+ca, "PLEOAUTH_CLIENT_SECRET="+worldSecret, "PLEOAUTH_REDIRECT_URI="+redirect,
		"PLEOAUTH_REDIS_TIMEOUT=2s")
	common = append(common, extra...)
	machine := func(name, serverAddr, redisURL string) []string {
		home := filepath.Join(t.TempDir(), name)
		if err := os.MkdirAll(home, 0o700); err != nil {
			t.Fatal(err)
		}
		server := "https://" + serverAddr + ":" + port
		return append(slices.Clone(common), "PLEOAUTH_HOME="+home, "PLEOAUTH_AUTH_SERVER_URL="+server,
			"PLEOAUTH_API_URL="+server, "PLEOAUTH_REDIS_URL="+redisURL)
	}
	f.env = append(f.env, machine("laptop", "127.0.0.1", f.redis.URL()))
	for i, h := range f.hosts {
		f.env = append(f.env, machine(fmt.Sprintf("host%d", i), h.LocalAddr, f.redis.URLOn(h.LocalAddr)))
	}
	return f
}

// command runs pleoauth on machine m: 0 is the laptop, i+1 host i.
func (f *fleet) command(m int, extraEnv []string, args ...string) *exec.Cmd {
	var cmd *exec.Cmd
	if m == 0 {
		cmd = exec.Command(f.bin, args...)
	} else {
		cmd = f.hosts[m-1].Command(f.bin, args...)
	}
	cmd.Env = append(slices.Clone(f.env[m]), extraEnv...)
	return cmd
}

func (f *fleet) run(m int, args ...string) result {
	f.t.Helper()
	cmd := f.command(m, nil, args...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Start(); err != nil {
		f.t.Fatal(err)
	}
	err := waitTimeout(cmd, 2*time.Minute)
	return result{exitCode(err), stdout.String(), stderr.String()}
}

// login logs in on the laptop, the browser following redirects over TLS.
func (f *fleet) login() {
	f.t.Helper()
	if err := f.tryLogin(); err != nil {
		f.t.Fatal(err)
	}
}

// tryLogin is login for a caller that may retry: it fails with the login's output.
func (f *fleet) tryLogin() error {
	pem, err := os.ReadFile(f.ca)
	if err != nil {
		return err
	}
	pool := x509.NewCertPool()
	pool.AppendCertsFromPEM(pem)
	browser := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}}, Timeout: 30 * time.Second}
	cmd := f.command(0, nil, "login", "--no-browser", "--timeout", "60s")
	stderr, err := cmd.StderrPipe()
	if err != nil {
		return err
	}
	if err := cmd.Start(); err != nil {
		return err
	}
	var out strings.Builder
	sc := bufio.NewScanner(stderr)
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		out.WriteString(line + "\n")
		if strings.HasPrefix(line, "https://127.0.0.1:") && strings.Contains(line, "/oauth/authorize?") {
			if resp, err := browser.Get(line); err == nil {
				resp.Body.Close()
			}
		}
	}
	if err := waitTimeout(cmd, time.Minute); err != nil {
		return fmt.Errorf("login: %v\n%s", err, out.String())
	}
	return nil
}

// expiry is when the shared access token expires, as the laptop's status says.
func (f *fleet) expiry() time.Time {
	f.t.Helper()
	r := f.run(0, "status", "--json")
	var st struct {
		ExpiresAt time.Time `json:"expires_at"`
	}
	if err := json.Unmarshal([]byte(r.stdout), &st); err != nil {
		f.t.Fatalf("status: %v", r)
	}
	return st.ExpiresAt
}

// stormTTL is how long the storm's access tokens live: a round needs the token it refreshed to
// outlive the round.
const stormTTL = 10 * time.Second

// TestFleetStorm: 3 hosts × 16 processes ask for a token at once, 5 times, each time after the
// shared token expired: exactly one refresh per round across the fleet, one token per round,
// no revoked family. Redis is restarted between two rounds (the append-only file keeps the
// login).
func TestFleetStorm(t *testing.T) {
	const hosts, perHost, rounds = 3, 16, 5
	f := newFleet(t, hosts, stormTTL)
	f.login()
	// The last round runs the same storm on one host, for its wall time against the fleet's.
	for round := 1; round <= rounds+1; round++ {
		machines := hosts
		if round > rounds {
			machines = 1
		}
		if round == 3 {
			f.redis.Stop()
			f.redis.Start()
		}
		// Past the expiry for sure: status shows it to the second.
		time.Sleep(time.Until(f.expiry()) + time.Second)
		before := f.dev.Stats().TokensIssued["refresh_token"]
		start := time.Now()
		var wg sync.WaitGroup
		results := make([]result, hosts*perHost)
		for i := range results {
			wg.Add(1)
			go func() {
				defer wg.Done()
				cmd := f.command(1+i%machines, nil, "token", "--min-ttl", "100ms")
				var stdout, stderr bytes.Buffer
				cmd.Stdout, cmd.Stderr = &stdout, &stderr
				err := cmd.Run()
				results[i] = result{exitCode(err), stdout.String(), stderr.String()}
			}()
		}
		wg.Wait()
		took := time.Since(start)
		t.Logf("round %d: %d processes on %d host(s) in %v", round, len(results), machines, took.Round(time.Millisecond))
		for i, r := range results {
			if r.code != 0 {
				t.Fatalf("round %d: process %d (host %d): %v", round, i, i%hosts, r)
			}
		}
		s := f.dev.Stats()
		got := s.TokensIssued["refresh_token"] - before
		if s.FamiliesRevoked != 0 {
			t.Fatalf("round %d: %d families revoked; want none", round, s.FamiliesRevoked)
		}
		// A round that outlasts the token it refreshed (a machine so busy that 48 start-ups
		// take longer than the token lives) rightly refreshes again; one that does not must
		// refresh exactly once and hand every process the same token.
		if took >= stormTTL-time.Second {
			if most := 1 + int(took/(stormTTL-time.Second)); got < 1 || got > most {
				t.Fatalf("round %d took %v: %d refreshes; want 1 to %d", round, took, got, most)
			}
			t.Logf("round %d outlasted its token: %d refreshes, none revoked", round, got)
			continue
		}
		for i, r := range results {
			if r.stdout != results[0].stdout {
				t.Errorf("round %d: process %d got another token", round, i)
			}
		}
		if got != 1 {
			t.Fatalf("round %d: %d refreshes; want 1", round, got)
		}
	}
}

// TestFleetLockHolder: the holder of the Redis lock dies before it sends (SIGKILL): the lock
// expires and another host refreshes within the lock's life and a second. The holder is stopped
// (SIGSTOP) before it sends until its lock expired and another host refreshed: when it goes on,
// it does not send, and says why.
func TestFleetLockHolder(t *testing.T) {
	const ttl = 3 * time.Second
	f := newFleet(t, 2, 15*time.Minute, "PLEOAUTH_LOCK_TTL=3s")
	f.bin = buildTagged(t, "crashpoints") // stops itself at PLEOAUTH_CRASH_AT / PLEOAUTH_STOP_AT
	f.login()

	t.Run("killed", func(t *testing.T) {
		before := f.dev.Stats()
		killed := f.command(1, []string{"PLEOAUTH_CRASH_AT=lock-held"}, "token", "--force-refresh")
		// The holder took the lock after it started, so the lock expires at most ttl later.
		started := time.Now()
		if err := killed.Run(); exitCode(err) != -1 {
			t.Fatalf("the holder was not killed at the point: %v", err)
		}
		r := f.run(2, "token", "--force-refresh")
		if took := time.Since(started); r.code != 0 || took > ttl+time.Second {
			t.Fatalf("another host after the holder died: %v, %v after the holder started; want success within %v", r, took, ttl+time.Second)
		}
		s := f.dev.Stats()
		if s.TokenRequests["refresh_token"]-before.TokenRequests["refresh_token"] != 1 || s.FamiliesRevoked != 0 {
			t.Errorf("%+v; want one refresh (the other host's) and no revocation", s)
		}
	})

	t.Run("stopped", func(t *testing.T) {
		before := f.dev.Stats()
		stopped := f.command(1, []string{"PLEOAUTH_STOP_AT=lock-held"}, "token", "--force-refresh")
		var stderr bytes.Buffer
		stopped.Stderr = &stderr
		if err := stopped.Start(); err != nil {
			t.Fatal(err)
		}
		waitFor(t, "the holder to stop itself", func() bool { return processState(stopped.Process.Pid) == "T" })
		lockKey := "pleoauth:lock:local"
		waitFor(t, "its lock to expire", func() bool { return f.redis.Client().Exists(t.Context(), lockKey).Val() == 0 })
		if r := f.run(2, "token", "--force-refresh"); r.code != 0 {
			t.Fatalf("another host once the lock expired: %v", r)
		}
		if err := stopped.Process.Signal(contSignal); err != nil {
			t.Fatal(err)
		}
		err := waitTimeout(stopped, time.Minute)
		if exitCode(err) == 0 || !strings.Contains(stderr.String(), "expired") {
			t.Errorf("the stopped holder went on: exit %d, %s; want a refusal saying its lock expired", exitCode(err), stderr.String())
		}
		s := f.dev.Stats()
		if s.TokenRequests["refresh_token"]-before.TokenRequests["refresh_token"] != 1 || s.FamiliesRevoked != 0 {
			t.Errorf("%d refresh requests, %d families revoked; want 1 (the other host's) and 0",
				s.TokenRequests["refresh_token"]-before.TokenRequests["refresh_token"], s.FamiliesRevoked)
		}
		if r := f.run(1, "token"); r.code != 0 {
			t.Errorf("the login after all that: %v", r)
		}
	})
}

// TestFleetRedisDownWrongKeyAndNothingInTheClear: with Redis down a command fails with exit 5
// within the Redis timeout, naming the server without its password, and nothing is lost; a
// wrong PLEOAUTH_STORE_KEY is a clear error that never refreshes; no key in Redis holds a token
// in the clear.
func TestFleetRedisDownWrongKeyAndNothingInTheClear(t *testing.T) {
	f := newFleet(t, 1, 15*time.Minute)
	f.login()
	access := strings.TrimSpace(f.run(1, "token").stdout)
	refresh := strings.TrimSpace(f.run(1, "export-refresh-token", "--keep").stdout)
	if len(access) < 8 || len(refresh) < 8 {
		t.Fatalf("no tokens to look for: %q %q", access, refresh)
	}
	if r := f.run(1, "doctor"); !strings.Contains(r.stdout, "redis store: the lock taken and released, a sealed bundle written, read back and removed") {
		t.Errorf("doctor on a host: %v; want the Redis round trip", r)
	}
	c := f.redis.Client()
	keys := c.Keys(t.Context(), "*").Val()
	if len(keys) == 0 {
		t.Fatal("Redis holds no key")
	}
	for _, k := range keys {
		for _, v := range c.HGetAll(t.Context(), k).Val() {
			if strings.Contains(v, access) || strings.Contains(v, refresh) {
				t.Errorf("%s holds a token in the clear", k)
			}
		}
		if v, err := c.Get(t.Context(), k).Result(); err == nil && (strings.Contains(v, access) || strings.Contains(v, refresh)) {
			t.Errorf("%s holds a token in the clear", k)
		}
	}

	// Nothing secret on any machine's disk either.
	for _, env := range f.env {
		for _, kv := range env {
			home, ok := strings.CutPrefix(kv, "PLEOAUTH_HOME=")
			if !ok {
				continue
			}
			_ = filepath.WalkDir(home, func(path string, d os.DirEntry, err error) error {
				if err == nil && !d.IsDir() {
					if data, _ := os.ReadFile(path); bytes.Contains(data, []byte(access)) || bytes.Contains(data, []byte(refresh)) {
						t.Errorf("%s holds a token", path)
					}
				}
				return nil
			})
		}
	}

	before := f.dev.Stats().TokenRequests["refresh_token"]
	wrong := f.command(1, []string{"PLEOAUTH_STORE_KEY=" + store.NewStoreKey()}, "token", "--force-refresh")
	out, err := wrong.CombinedOutput()
	if exitCode(err) != 1 || !strings.Contains(string(out), "PLEOAUTH_STORE_KEY") {
		t.Errorf("a wrong store key: exit %d: %s; want exit 1 naming PLEOAUTH_STORE_KEY", exitCode(err), out)
	}
	if got := f.dev.Stats().TokenRequests["refresh_token"]; got != before {
		t.Errorf("a wrong store key sent %d refreshes", got-before)
	}

	f.redis.Stop()
	down := f.command(1, []string{"PLEOAUTH_REDIS_URL=redis://:hunter2-password@" + f.hosts[0].LocalAddr + fmt.Sprintf(":%d/0", f.redis.Port)}, "token")
	start := time.Now()
	out, err = down.CombinedOutput()
	if took := time.Since(start); exitCode(err) != 5 || took > 15*time.Second || !strings.Contains(string(out), "Redis at redis://") {
		t.Errorf("Redis down: exit %d after %v: %s; want exit 5 within the timeout, naming the server", exitCode(err), took, out)
	}
	if strings.Contains(string(out), "hunter2") {
		t.Errorf("the message shows the Redis password: %s", out)
	}
	if lines := strings.Count(strings.TrimSpace(string(out)), "\n") + 1; lines != 1 {
		t.Errorf("Redis down: %d lines on stderr: %s; want pleoauth's one (go-redis's own logging is off)", lines, out)
	}
	f.redis.Start()
	if r := f.run(1, "token"); r.code != 0 || strings.TrimSpace(r.stdout) != access {
		t.Errorf("after Redis came back: %v; want the same token", r)
	}

	// A logout on one machine logs the whole fleet out; an import on another starts it again.
	if r := f.run(1, "logout"); r.code != 0 {
		t.Fatalf("logout: %v", r)
	}
	if r := f.run(0, "token"); r.code != 4 {
		t.Errorf("token on the laptop after a host logged out: %v; want exit 4", r)
	}
	imp := f.command(0, nil, "import-refresh-token")
	imp.Stdin = strings.NewReader(refresh + "\n")
	if out, err := imp.CombinedOutput(); exitCode(err) != 0 {
		t.Fatalf("import on the laptop: exit %d: %s", exitCode(err), out)
	}
	if r := f.run(1, "token"); r.code != 0 || strings.TrimSpace(r.stdout) == access {
		t.Errorf("token on the host after the laptop's import: %v; want a new token", r)
	}
}

// waitFor polls until cond holds (at most a minute): for states the test reaches for sure,
// never for a short window.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(time.Minute)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("waited a minute for %s", what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// processState is the state letter of a process in /proc (T: stopped).
func processState(pid int) string {
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return ""
	}
	_, rest, ok := strings.Cut(string(data), ") ")
	if !ok || rest == "" {
		return ""
	}
	return rest[:1]
}
