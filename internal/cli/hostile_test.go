package cli

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/pleoauth/pleoauth/internal/exitcode"
	"github.com/pleoauth/pleoauth/internal/store"
)

// hostileSubject would set the terminal's clipboard (OSC 52) if printed as sent.
const hostileSubject = "urn:pleo:company:\x1b]52;c;ZXZpbA==\a"

// rawControl is what no output may carry from a server: C0 and C1 controls and bidi overrides.
// A newline is checked apart, per line.
func rawControl(s string) string {
	for _, r := range s {
		if r != '\n' && (r < 0x20 || r == 0x7f || 0x80 <= r && r <= 0x9f || r == '\u202e' || r == '\u2066') {
			return fmt.Sprintf("%U", r)
		}
	}
	return ""
}

// hostileAPI answers /v1/introspect with a subject, scope and names no terminal should get, and
// any other path with a status line carrying an escape sequence.
func hostileAPI(t *testing.T) *httptest.Server {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/v1/introspect" {
			w.Header().Set("Content-Type", "application/json")
			_ = json.NewEncoder(w).Encode(map[string]any{"data": map[string]string{
				"subjectURN": hostileSubject, "scope": "users:read\nforged-line: yes",
				"clientId": "c\u202eid", "applicationName": "App\r\nX: 1", "authMethod": "\u009b2J",
			}})
			return
		}
		conn, buf, err := w.(http.Hijacker).Hijack()
		if err != nil {
			panic(err)
		}
		defer conn.Close()
		fmt.Fprint(buf, "HTTP/1.1 418 Teapot\x1b]0;owned\a\u202e\r\nX-Evil: a\u202eb\u009b31mc\r\nContent-Length: 0\r\nConnection: close\r\n\r\n")
		buf.Flush()
	}))
	t.Cleanup(srv.Close)
	return srv
}

// TestHostileServerTextNeverReachesOutputRaw: a token endpoint whose scope holds a newline and
// an escape sequence, and an API whose /v1/introspect names a subject with an OSC 52 sequence:
// login stores neither raw (the scope as scope-tokens, the subject not at all) and prints them
// escaped; status, whoami (text, --json, --jq) and a failed api call print nothing raw.
func TestHostileServerTextNeverReachesOutputRaw(t *testing.T) {
	h := newHarness(t)
	fake := fakeAuthServer{callback: goodCallback, status: 200, contentType: "application/json",
		body: `{"access_token":"a1","refresh_token":"r1","token_type":"bearer","expires_in":3600,"scope":"users:read\nexpenses:read \u001b]52;c;ZXZpbA==\u0007"}`}
	auth := httptest.NewServer(&fake)
	defer auth.Close()
	t.Setenv("PLEOAUTH_AUTH_SERVER_URL", auth.URL)
	t.Setenv("PLEOAUTH_API_URL", hostileAPI(t).URL)
	t.Setenv("PLEOAUTH_CLIENT_SECRET", "fake-client-secret")
	h.browser = func(u string) error { _, err := http.Get(u); return err }

	r := h.main("login", "--env", "local")
	if r.code != exitcode.OK {
		t.Fatalf("login: %+v", r)
	}
	if c := rawControl(r.stderr); c != "" {
		t.Errorf("login printed %s raw:\n%q", c, r.stderr)
	}
	if !strings.Contains(r.stderr, `not recorded: "urn:pleo:company:\x1b]52;c;ZXZpbA==\x07"`) ||
		!strings.Contains(r.stderr, "(scope: users:read expenses:read)") || strings.Contains(r.stderr, " as urn:pleo") {
		t.Errorf("login: stderr %q; want the subject refused, shown escaped, and the scope's tokens", r.stderr)
	}
	b := h.loadBundle("local")
	if b.Subject != "" || b.Scope != "users:read expenses:read" {
		t.Errorf("stored subject %q, scope %q; want none and the scope-tokens", b.Subject, b.Scope)
	}

	for _, args := range [][]string{
		{"status"}, {"status", "--json"}, {"whoami"}, {"whoami", "--json"}, {"whoami", "--jq", ".subject, .scope, .client_id, .application_name, .auth_method"},
	} {
		r := h.main(append(append([]string{}, args...), "--env", "local")...)
		if r.code != exitcode.OK {
			t.Errorf("%v: %+v", args, r)
		}
		if c := rawControl(r.stdout + r.stderr); c != "" {
			t.Errorf("%v printed %s raw:\n%q", args, c, r.stdout+r.stderr)
		}
		if args[0] == "whoami" && !strings.Contains(r.stdout, `urn:pleo:company:\x1b]52;c;ZXZpbA==\x07`) && !strings.Contains(r.stdout, `urn:pleo:company:\\x1b]52;c;ZXZpbA==\\x07`) {
			t.Errorf("%v: %q; want the subject shown escaped", args, r.stdout)
		}
		if strings.Contains(r.stdout, "\nforged-line") {
			t.Errorf("%v: %q; the scope's second line is shown as a line of its own", args, r.stdout)
		}
	}

	r = h.main("api", "--env", "local", "/v2/employees")
	if r.code != exitcode.Error || rawControl(r.stderr) != "" || !strings.Contains(r.stderr, `418 Teapot\x1b]0;owned\x07\u202e`) {
		t.Errorf("api with a hostile status line: %+v; want it escaped", r)
	}
	oneLine(t, r.stderr)

	// --include prints the status line and headers on stdout: the server's text, escaped too.
	r = h.main("api", "--env", "local", "--include", "/v2/employees")
	if c := rawControl(r.stdout + r.stderr); c != "" || !strings.Contains(r.stdout, `418 Teapot\x1b]0;owned\x07\u202e`) || !strings.Contains(r.stdout, `X-Evil: a\u202eb\u009b31mc`) {
		t.Errorf("api --include with a hostile status line and header printed %s raw, or not escaped: %+v", c, r)
	}
}

// TestStatusCleansWhatTheStoreHolds: a store written by an earlier release (or by hand) may hold
// a subject, a scope and a refusal reason as a server sent them; status, and token naming the
// refusal, show them cleaned.
func TestStatusCleansWhatTheStoreHolds(t *testing.T) {
	h := newHarness(t)
	b := &store.Bundle{AccessToken: "a", RefreshToken: "r", TokenType: "bearer", Expiry: time.Now().Add(time.Hour),
		Scope: "users:read\n\x1b[2J", Subject: hostileSubject,
		Refused: &store.Refusal{At: time.Now(), Reason: "invalid_grant: revoked\x1b]0;owned\a"}}
	if err := (store.File{Dir: filepath.Join(h.home, "tokens")}).Save("local", b); err != nil {
		t.Fatal(err)
	}
	for _, args := range [][]string{{"status"}, {"status", "--json"}, {"token"}, {"token", "--json"}} {
		r := h.main(append(args, "--env", "local")...)
		if c := rawControl(r.stdout + r.stderr); c != "" {
			t.Errorf("%v printed %s raw:\n%q", args, c, r.stdout+r.stderr)
		}
		if r.code != exitcode.LoginRequired {
			t.Errorf("%v of a refused login: exit %d; want 4", args, r.code)
		}
	}
}

// TestStatusListsABrokenProfile: a profile whose file cannot be read is listed with why, and
// the healthy one beside it is shown all the same, in text and --json; the exit code is the
// broken one's, as status gave it before (1).
func TestStatusListsABrokenProfile(t *testing.T) {
	h := newHarness(t)
	healthy := &store.Bundle{AccessToken: "a", RefreshToken: "r", TokenType: "bearer", Scope: "users:read", Expiry: time.Now().Add(time.Hour)}
	if err := (store.File{Dir: filepath.Join(h.home, "tokens")}).Save("local@acme", healthy); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(h.tokenFile("local"), []byte("{not json"), 0o600); err != nil {
		t.Fatal(err)
	}

	r := h.main("status", "--env", "local")
	if r.code != exitcode.Error {
		t.Errorf("status: exit %d; want 1", r.code)
	}
	for _, want := range []string{"profile:       default", "error:         env local: stored tokens in", "unreadable", "profile:       acme", "logged in:     yes"} {
		if !strings.Contains(r.stdout, want) {
			t.Errorf("status lacks %q:\n%s", want, r.stdout)
		}
	}
	oneLine(t, r.stderr)

	r = h.main("status", "--env", "local", "--json")
	var st statusReport
	if err := json.Unmarshal([]byte(r.stdout), &st); err != nil || r.code != exitcode.Error {
		t.Fatalf("status --json: %+v (%v)", r, err)
	}
	if len(st.Profiles) != 2 || st.Error == "" || st.Profiles[0].Error == "" || st.Profiles[0].LoggedIn ||
		st.Profiles[1].Profile != "acme" || !st.Profiles[1].LoggedIn || st.Profiles[1].Error != "" {
		t.Errorf("status --json: %s; want the default profile with its error, acme logged in", r.stdout)
	}

	// With --profile the one login asked for is the answer: its error, as before.
	if r := h.main("status", "--env", "local", "--profile", "default"); r.code != exitcode.Error || r.stdout != "" || !strings.Contains(r.stderr, "unreadable") {
		t.Errorf("status --profile default: %+v", r)
	}
}

// TestTokenJSONScopeIsCleaned: token --json (and --jq .scope, which prints strings raw) shows a
// scope the store holds as a server sent it only as its scope-tokens.
func TestTokenJSONScopeIsCleaned(t *testing.T) {
	h := newHarness(t)
	b := &store.Bundle{AccessToken: "a", RefreshToken: "r", TokenType: "bearer", Expiry: time.Now().Add(time.Hour),
		Scope: "users:read\n\x1b]52;c;ZXZpbA==\a expenses:read"}
	if err := (store.File{Dir: filepath.Join(h.home, "tokens")}).Save("local", b); err != nil {
		t.Fatal(err)
	}
	if r := h.main("token", "--env", "local", "--jq", ".scope"); r.code != exitcode.OK || r.stdout != "users:read expenses:read\n" {
		t.Errorf("token --jq .scope: %+v; want the scope-tokens", r)
	}
}

// TestRevokeShowsServerTextEscaped: logout --revoke names whose installation it revokes (the
// subject a store of an earlier release may hold raw) and, when Pleo refuses, the status line;
// both escaped.
func TestRevokeShowsServerTextEscaped(t *testing.T) {
	h := newHarness(t)
	t.Setenv("PLEOAUTH_API_URL", hostileAPI(t).URL)
	b := &store.Bundle{AccessToken: "a", RefreshToken: "r", TokenType: "bearer", Expiry: time.Now().Add(time.Hour), Subject: hostileSubject}
	if err := (store.File{Dir: filepath.Join(h.home, "tokens")}).Save("local", b); err != nil {
		t.Fatal(err)
	}
	r := h.main("logout", "--revoke", "--env", "local")
	if r.code != exitcode.Error || rawControl(r.stderr) != "" ||
		!strings.Contains(r.stderr, `urn:pleo:company:\x1b]52;c;ZXZpbA==\x07`) || !strings.Contains(r.stderr, `418 Teapot\x1b]0;owned\x07\u202e`) {
		t.Errorf("logout --revoke against a hostile API: %+v; want the subject and the status line escaped", r)
	}
}
