package main

import (
	"bufio"
	"fmt"
	"net"
	"net/http"
	"os"
	"runtime"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/pleoauth/pleoauth/internal/config"
)

// TestServeRefusesBesideASquatter: another program on [::1]:PORT makes serve refuse to start
// (exit 1) rather than listen on 127.0.0.1 alone, where Newman (Node tries ::1 first for
// localhost) would hand its key to that program; the message names the address and the holder.
func TestServeRefusesBesideASquatter(t *testing.T) {
	if l, err := net.Listen("tcp", "[::1]:0"); err != nil {
		if config.IsCI(os.Getenv) {
			t.Fatal("this machine has no IPv6 loopback (::1); the CI image must have one")
		}
		t.Skip("no IPv6 loopback (::1) on this machine")
	} else {
		l.Close()
	}
	w := newWorld(t, 15*time.Minute, "PLEOAUTH_STORE=file")
	w.login()
	for _, form := range []string{":%d", "localhost:%d"} {
		port, err := freePort()
		if err != nil {
			t.Fatal(err)
		}
		squatter, err := net.Listen("tcp", fmt.Sprintf("[::1]:%d", port))
		if err != nil {
			t.Fatal(err)
		}
		addr := fmt.Sprintf(form, port)
		r := w.run("serve", "--addr", addr)
		squatter.Close()
		want := []string{fmt.Sprintf("[::1]:%d is already in use", port), "--addr"}
		if runtime.GOOS == "linux" {
			want = append(want, fmt.Sprintf("by pid %d", os.Getpid())) // this test holds it
		}
		if r.code != 1 || strings.Count(strings.TrimSpace(r.stderr), "\n") != 0 {
			t.Errorf("serve --addr %s beside a squatter on [::1]: %v; want exit 1 and one line", addr, r)
		}
		for _, s := range want {
			if !strings.Contains(r.stderr, s) {
				t.Errorf("serve --addr %s: %q does not say %q", addr, r.stderr, s)
			}
		}
	}
}

// TestServeOnePerLogin: a second serve of the same login refuses to start, naming the first;
// the first keeps its key file and answers its clients, and removes the file when it stops.
func TestServeOnePerLogin(t *testing.T) {
	w := newWorld(t, 15*time.Minute, "PLEOAUTH_STORE=file")
	w.login()
	first := startServe(t, w, "--addr", "127.0.0.1:0")
	r := w.run("serve", "--addr", "127.0.0.1:0")
	if want := fmt.Sprintf("another pleoauth serve (pid %d) already serves this login", first.cmd.Process.Pid); r.code != 1 ||
		!strings.Contains(r.stderr, want) || !strings.Contains(r.stderr, first.keyFile) {
		t.Fatalf("a second serve: %v; want exit 1 saying %q and naming %s", r, want, first.keyFile)
	}
	if key, err := os.ReadFile(first.keyFile); err != nil || strings.TrimSpace(string(key)) != first.key {
		t.Fatalf("the first serve's key file after the second: %q, %v", key, err)
	}
	if resp, body := first.get(t, "/token", nil); resp.StatusCode != 200 {
		t.Fatalf("the first serve after the second was refused: %d %s", resp.StatusCode, body)
	}
	if err := first.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-first.done:
		first.done <- err
	case <-time.After(30 * time.Second):
		t.Fatal("serve did not stop on SIGTERM")
	}
	if _, err := os.Stat(first.keyFile); !os.IsNotExist(err) {
		t.Fatalf("the key file outlived its serve: %v", err)
	}
	next := startServe(t, w, "--addr", "127.0.0.1:0") // the claim went with the first
	if resp, _ := next.get(t, "/healthz", nil); resp.StatusCode != 200 {
		t.Fatalf("a serve after the first stopped: %d", resp.StatusCode)
	}
}

// TestServeQueuesConcurrentWrongKeys: wrong keys sent at once are answered one after another,
// each waiting for the penalties of those before it (0, 0, 0, 0, 0.1, 0.3, 0.7, 1.5, 3.1, 6.3 s),
// so the last of ten comes no sooner than 6.3 s after they were sent; answered side by side, the
// last came after 3.2 s. A busy machine only makes it later.
func TestServeQueuesConcurrentWrongKeys(t *testing.T) {
	w := newWorld(t, 15*time.Minute, "PLEOAUTH_STORE=file")
	w.login()
	s := startServe(t, w, "--addr", "127.0.0.1:0")
	const guesses, least = 10, 6300 * time.Millisecond
	start := time.Now()
	var wg sync.WaitGroup
	for i := range guesses {
		wg.Go(func() {
			if st := s.try(fmt.Sprintf("guess-%d", i), time.Minute); st != "401" {
				t.Errorf("a wrong key: %s; want 401", st)
			}
		})
	}
	wg.Wait()
	elapsed := time.Since(start)
	if elapsed < least {
		t.Fatalf("%d concurrent wrong keys were all answered within %v; want no sooner than %v", guesses, elapsed, least)
	}
	if st := s.try(s.key, time.Minute); st != "200" {
		t.Fatalf("the right key after the guesses: %s", st)
	}
}

// try asks for a token with key, giving up after timeout, and says what came: the status, or
// "timeout".
func (s *served) try(key string, timeout time.Duration) string {
	req, _ := http.NewRequest(http.MethodGet, s.url+"/token", nil)
	req.Header.Set("Authorization", "Bearer "+key)
	resp, err := (&http.Client{Timeout: timeout}).Do(req)
	if err != nil {
		if ne, ok := err.(net.Error); ok && ne.Timeout() {
			return "timeout"
		}
		return err.Error()
	}
	resp.Body.Close()
	return fmt.Sprint(resp.StatusCode)
}

// TestServeRightKeyWaitsLikeAWrongOne: while a wrong-key penalty is pending, a client that gives
// up after a second learns nothing from its key — a right key times out just as a wrong one does
// (a right key used to be answered at once, so 2,001 guesses with 50 ms timeouts took 2 s), and
// the guesses it abandoned do not stop the right key being answered once the queue is out.
func TestServeRightKeyWaitsLikeAWrongOne(t *testing.T) {
	w := newWorld(t, 15*time.Minute, "PLEOAUTH_STORE=file")
	w.login()
	s := startServe(t, w, "--addr", "127.0.0.1:0")
	// Ten guesses at once queue up about 12.7 s of answers.
	var wg sync.WaitGroup
	defer wg.Wait()
	for i := range 10 {
		wg.Go(func() { s.try(fmt.Sprintf("guess-%d", i), 2*time.Minute) })
	}
	// A wrong key that times out shows the penalty is pending (one answered at once came before
	// the guesses did).
	deadline := time.Now().Add(time.Minute)
	for s.try("probe", time.Second) != "timeout" {
		if time.Now().After(deadline) {
			t.Fatal("no wrong key was held a second within a minute of ten guesses")
		}
	}
	if got := s.try(s.key, time.Second); got != "timeout" {
		t.Fatalf("with a penalty pending the right key, given a second: %s; want a timeout, as a wrong key got", got)
	}
	for range 20 {
		s.try("abandoned", 50*time.Millisecond)
	}
	if got := s.try(s.key, 2*time.Minute); got != "200" {
		t.Fatalf("the right key once the queue is out: %s; want 200", got)
	}
}

// rawStatus sends raw, as written, to addr and returns the answer's status.
func rawStatus(t *testing.T, addr, raw string) int {
	t.Helper()
	c, err := net.DialTimeout("tcp", addr, 30*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	_ = c.SetDeadline(time.Now().Add(30 * time.Second))
	if _, err := c.Write([]byte(raw)); err != nil {
		t.Fatal(err)
	}
	resp, err := http.ReadResponse(bufio.NewReader(c), nil)
	if err != nil {
		t.Fatalf("%q: %v", raw, err)
	}
	resp.Body.Close()
	return resp.StatusCode
}

// TestServeRefusesRawRequestsNoBrowserSends: a program on the machine writing the request
// itself — an empty Origin then another, an absolute-form request line with a foreign Host —
// is refused like a web page or a rebound host name.
func TestServeRefusesRawRequestsNoBrowserSends(t *testing.T) {
	w := newWorld(t, 15*time.Minute, "PLEOAUTH_STORE=file")
	w.login()
	s := startServe(t, w, "--addr", "127.0.0.1:0")
	hostPort := strings.TrimPrefix(s.url, "http://")
	auth := "Authorization: Bearer " + s.key + "\r\nConnection: close\r\n\r\n"
	for _, tc := range []struct {
		name   string
		raw    string
		status int
	}{
		{"plain", "GET /token HTTP/1.1\r\nHost: " + hostPort + "\r\n" + auth, 200},
		{"empty Origin then one", "GET /token HTTP/1.1\r\nHost: " + hostPort + "\r\nOrigin:\r\nOrigin: https://attacker.example\r\n" + auth, 403},
		{"empty Origin", "GET /token HTTP/1.1\r\nHost: " + hostPort + "\r\nOrigin: \r\n" + auth, 403},
		{"absolute form, foreign Host", "GET " + s.url + "/token HTTP/1.1\r\nHost: attacker.example\r\n" + auth, 403},
		{"absolute form, foreign host in it", "GET http://evil/token HTTP/1.1\r\nHost: " + hostPort + "\r\n" + auth, 403},
	} {
		if got := rawStatus(t, hostPort, tc.raw); got != tc.status {
			t.Errorf("%s: %d; want %d", tc.name, got, tc.status)
		}
	}
}

// TestServeLogEscapesRequestPaths: a web page can make a browser fetch any path from serve
// (<img src="http://127.0.0.1:7536/%0a…">); serve's log shows a path it does not answer as
// <other-path>, one line, without a forged line or a terminal escape (OSC 52 would set the
// clipboard) — and a key put in the path or in min_ttl by mistake never reaches the log.
func TestServeLogEscapesRequestPaths(t *testing.T) {
	w := newWorld(t, 15*time.Minute, "PLEOAUTH_STORE=file")
	w.login()
	s := startServe(t, w, "--addr", "127.0.0.1:0")
	for _, tc := range []struct{ path, want string }{
		{"/token%0a2026-12-01T09:00:00Z%20GET%20/forged%20200%20env=local%1b]52;c;aGk=%07", " <other-path> 404 env=local"},
		{"/token/" + s.key, " <other-path> 404 env=local"},
		{"/token?min_ttl=1s;" + s.key, " /token?min_ttl=<redacted> "},
	} {
		before := strings.Count(s.stderr.String(), "\n")
		resp, _ := s.get(t, tc.path, nil)
		resp.Body.Close()
		deadline := time.Now().Add(30 * time.Second)
		for strings.Count(s.stderr.String(), "\n") == before {
			if time.Now().After(deadline) {
				t.Fatalf("no log line for %s:\n%s", tc.path, s.stderr)
			}
			time.Sleep(20 * time.Millisecond)
		}
		if log := s.stderr.String(); !strings.Contains(log, tc.want) {
			t.Fatalf("the log does not show %q for %s:\n%s", tc.want, tc.path, log)
		}
	}
	log := s.stderr.String()
	if strings.ContainsAny(log, "\x1b\x07") {
		t.Fatalf("the log carries a terminal escape: %q", log)
	}
	for _, line := range strings.Split(log, "\n") {
		if strings.HasPrefix(line, "2026-12-01T09:00:00Z") || strings.Contains(line, " /forged ") {
			t.Fatalf("the request forged a log line: %q", line)
		}
	}
	if strings.Contains(log, s.key) {
		t.Fatalf("the log holds the key:\n%s", log)
	}
}
