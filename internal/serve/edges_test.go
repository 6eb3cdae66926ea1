package serve

import (
	"bufio"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"unicode"
	"unicode/utf8"

	"github.com/pleoauth/pleoauth/internal/config"
	"github.com/pleoauth/pleoauth/internal/failure"
	"github.com/pleoauth/pleoauth/internal/loopback"
	"github.com/pleoauth/pleoauth/internal/oauthtest"
)

// TestRawRequestRefusals: requests no browser sends, written byte by byte as a program on the
// machine could: every Origin header counts, and the Host is the Host header whatever the
// request line says.
func TestRawRequestRefusals(t *testing.T) {
	auth := "Authorization: Bearer " + testKey + "\r\n"
	for _, tc := range []struct {
		name   string
		raw    string
		status int
	}{
		{"plain", "GET /token HTTP/1.1\r\nHost: 127.0.0.1:7536\r\n" + auth, 200},
		{"empty Origin", "GET /token HTTP/1.1\r\nHost: 127.0.0.1:7536\r\nOrigin:\r\n" + auth, 403},
		{"empty Origin then one", "GET /token HTTP/1.1\r\nHost: 127.0.0.1:7536\r\nOrigin:\r\nOrigin: https://attacker.example\r\n" + auth, 403},
		{"lower-case origin", "GET /token HTTP/1.1\r\nHost: 127.0.0.1:7536\r\norigin: null\r\n" + auth, 403},
		{"absolute form, foreign Host", "GET http://127.0.0.1:7536/token HTTP/1.1\r\nHost: attacker.example\r\n" + auth, 403},
		{"absolute form, foreign host in it", "GET http://attacker.example/token HTTP/1.1\r\nHost: 127.0.0.1:7536\r\n" + auth, 403},
		{"absolute form, all ours", "GET http://127.0.0.1:7536/token HTTP/1.1\r\nHost: 127.0.0.1:7536\r\n" + auth, 403},
		{"HTTP/1.0 without Host", "GET /token HTTP/1.0\r\n" + auth, 403},
		{"a second Authorization", "GET /token HTTP/1.1\r\nHost: 127.0.0.1:7536\r\n" + auth + "Authorization: Bearer other\r\n", 401},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := newFixture(t)
			r, err := http.ReadRequest(bufio.NewReader(strings.NewReader(tc.raw + "\r\n")))
			if err != nil {
				t.Fatal(err)
			}
			w := httptest.NewRecorder()
			f.h.ServeHTTP(w, r)
			if w.Code != tc.status {
				t.Fatalf("%q: %d %s; want %d", tc.raw, w.Code, w.Body, tc.status)
			}
			if tc.status != 200 && strings.Contains(w.Body.String(), "ory_at_") {
				t.Fatal("a refusal carried the token")
			}
		})
	}
}

// TestLogLineEscapesWhatTheRequestSent: a web page can make a browser request any path from
// serve (<img src="http://127.0.0.1:7536/…">); what it sent reaches the log escaped — no
// forged line, no terminal escape — and bounded, and nothing that may hold the key reaches it:
// a path serve does not answer is <other-path>, a min_ttl that is not a duration <redacted>.
func TestLogLineEscapesWhatTheRequestSent(t *testing.T) {
	for _, tc := range []struct {
		name, target, want string
	}{
		{"forged line in the path", "/token%0a2026-12-01T09:00:00Z%20GET%20/token%20200%20env=local", "<other-path>"},
		{"forged line in a parameter name", "/token?%0a2026-12-01T09:00:00Z%20GET%20/token%20200%20env=local", "/token?%0a2026-12-01T09:00:00Z%20GET%20/token%20200%20env=<redacted>"},
		{"OSC 52 in the path", "/%1b]52;c;aGVsbG8=%07", "<other-path>"},
		{"C1 CSI in a parameter name", "/token?\u009b31m=1", "/token?%C2%9B31m=<redacted>"},
		{"C1 CSI in min_ttl", "/token?min_ttl=\u009b31m", "/token?min_ttl=<redacted>"},
		{"raw UTF-8 in the path", "/t\u00f6ken", "<other-path>"},
		{"the key in the path", "/token/" + testKey, "<other-path>"},
		{"the key after the path", "/" + testKey, "<other-path>"},
		{"the key in the query", "/token?min_ttl=2m&key=" + testKey + "&" + testKey, "/token?min_ttl=2m&key=<redacted>&<redacted>"},
		{"the key after min_ttl", "/token?min_ttl=1s;" + testKey, "/token?min_ttl=<redacted>"},
		{"the key as min_ttl", "/token?min_ttl=" + testKey, "/token?min_ttl=<redacted>"},
		{"min_ttl not even query-escaped", "/token?min_ttl=%zz" + testKey, "/token?min_ttl=<redacted>"},
		{"min_ttl a duration", "/token?min_ttl=1h30m", "/token?min_ttl=1h30m"},
		{"healthz", "/healthz", "/healthz"},
		{"long", "/token?" + strings.Repeat("a", 5000) + "=1", ""}, // checked below: cut, marked, bounded
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := newFixture(t)
			f.do(tc.target, nil)
			log := f.log.String()
			if strings.Count(log, "\n") != 1 || !strings.HasSuffix(log, "\n") {
				t.Fatalf("one request, log:\n%q", log)
			}
			line := strings.TrimSuffix(log, "\n")
			if i := strings.IndexFunc(line, func(r rune) bool { return unicode.IsControl(r) || !unicode.IsPrint(r) }); i >= 0 {
				t.Fatalf("the log line holds %q: %q", line[i:i+1], line)
			}
			fields := strings.Fields(line)
			if tc.want == "" && len(fields) > 2 {
				if cut := fields[2]; !strings.HasPrefix(cut, "/token?aaaa") || !strings.HasSuffix(cut, "…") || utf8.RuneCountInString(cut) > maxLogTarget {
					t.Fatalf("log line %q; want the path cut to at most %d characters, ending in …", line, maxLogTarget)
				}
				tc.want = fields[2]
			}
			if len(fields) < 6 || fields[2] != tc.want || len(fields[3]) != 3 || fields[4] != "env=local" {
				t.Fatalf("log line %q; want the path %q as its third field, then the status and env", line, tc.want)
			}
			if strings.Contains(line, testKey) {
				t.Fatalf("the log line holds the key: %q", line)
			}
		})
	}
}

// needIPv6Loopback skips a test that needs ::1 on a machine without it; CI machines have it.
func needIPv6Loopback(t *testing.T) {
	t.Helper()
	if l, err := net.Listen("tcp", "[::1]:0"); err == nil {
		l.Close()
		return
	}
	if config.IsCI(os.Getenv) {
		t.Fatal("this machine has no IPv6 loopback (::1); the CI image must have one")
	}
	t.Skip("no IPv6 loopback (::1) on this machine")
}

// TestListenRefusesBesideASquatter: with another program on [::1]:PORT, serve does not start
// on 127.0.0.1 alone — Newman would send its key to that program — and says which address.
func TestListenRefusesBesideASquatter(t *testing.T) {
	needIPv6Loopback(t)
	for _, addr := range []string{":%d", "localhost:%d", "[::1]:%d"} {
		port := oauthtest.FreePort(t)
		squatter, err := net.Listen("tcp", fmt.Sprintf("[::1]:%d", port))
		if err != nil {
			t.Fatal(err)
		}
		ls, _, err := Listen(fmt.Sprintf(addr, port))
		squatter.Close()
		var inUse *loopback.PortInUseError
		if !errors.As(err, &inUse) || failure.KindOf(err) == failure.Usage {
			closeAll(ls)
			t.Fatalf("Listen(%q) with [::1]:%d held = %v, %v; want a *loopback.PortInUseError, not a usage error", fmt.Sprintf(addr, port), port, ls, err)
		}
		if want := fmt.Sprintf("[::1]:%d is already in use", port); !strings.Contains(err.Error(), want) || !strings.Contains(err.Error(), "--addr") {
			t.Errorf("%v; want %q and the next step", err, want)
		}
	}
	// The default binds both, and localhost:PORT is the same as :PORT.
	for _, addr := range []string{":0", "localhost:0"} {
		ls, hosts, err := Listen(addr)
		if err != nil {
			t.Fatal(err)
		}
		closeAll(ls)
		port := strconv.Itoa(ls[0].Addr().(*net.TCPAddr).Port)
		if want := fmt.Sprintf("[127.0.0.1:%s localhost:%s [::1]:%s localhost:%s]", port, port, port, port); fmt.Sprint(hosts) != want {
			t.Errorf("Listen(%q): hosts %v; want %s", addr, hosts, want)
		}
	}
}

// TestClaimOnePerLogin: while one serve holds a login's claim, a second is refused and told the
// first one's pid; once it lets go, the next may start.
func TestClaimOnePerLogin(t *testing.T) {
	lock := filepath.Join(t.TempDir(), "serve.local.lock")
	release, err := Claim(lock)
	if err != nil {
		t.Fatal(err)
	}
	_, err = Claim(lock)
	var running *AlreadyServedError
	if !errors.As(err, &running) || running.PID != os.Getpid() || !strings.Contains(err.Error(), fmt.Sprintf("pid %d", os.Getpid())) {
		t.Fatalf("a second Claim = %v; want *AlreadyServedError naming pid %d", err, os.Getpid())
	}
	release()
	again, err := Claim(lock)
	if err != nil {
		t.Fatalf("Claim after the first let go: %v", err)
	}
	again()
}
