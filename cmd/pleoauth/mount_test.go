package main

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/pleoauth/pleoauth/internal/keychaintest"
	"github.com/pleoauth/pleoauth/internal/oauthtest"
)

// TestTokenFileMountedIntoAContainer: the token file is a single-file bind mount, which
// rename(2) cannot replace (EBUSY). Refreshes save in place, so the next refresh sends the new
// refresh token, never the spent one: three rotations, no family revoked, and the file behind
// the mount holds the last login. Mounted read-only, nothing is sent (the spend cannot be
// recorded) and the login still works once writable again.
func TestTokenFileMountedIntoAContainer(t *testing.T) {
	oauthtest.RequireRoot(t, "bind-mount a token file")
	for _, storeName := range []string{"file", "keyring"} {
		t.Run(storeName, func(t *testing.T) {
			extra := []string{"PLEOAUTH_STORE=" + storeName}
			file := "local.json"
			if storeName == "keyring" {
				extra = append(extra, keychaintest.Require(t).Env...)
				file = "local.enc"
			}
			w := newWorld(t, 15*time.Minute, extra...)
			w.login()
			path := filepath.Join(w.home, "tokens", file)
			outside := filepath.Join(t.TempDir(), "mounted-"+file)
			data, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(outside, data, 0o600); err != nil {
				t.Fatal(err)
			}
			oauthtest.BindMount(t, outside, path, false)

			var last string
			for i := range 3 {
				r := w.run("token", "--force-refresh")
				if r.code != 0 || r.stdout == last {
					t.Fatalf("refresh %d over the bind-mounted file: %v", i+1, r)
				}
				last = r.stdout
			}
			s := w.stats()
			if s.TokensIssued["refresh_token"] != 3 || s.FamiliesRevoked != 0 {
				t.Errorf("%d refreshes, %d families revoked; want 3 and 0", s.TokensIssued["refresh_token"], s.FamiliesRevoked)
			}
			if behind, _ := os.ReadFile(outside); string(behind) == string(data) {
				t.Error("the file behind the mount still holds the first login")
			}
			if r := w.run("token"); r.code != 0 || r.stdout != last {
				t.Errorf("token after the refreshes: %v; want the last one", r)
			}
			if left, _ := filepath.Glob(filepath.Join(w.home, "tokens", ".*tmp*")); len(left) > 0 {
				t.Errorf("temporary files left: %v", left)
			}

			// Read-only: the spend cannot be recorded, so nothing is sent.
			oauthtest.BindMount(t, outside, path, true)
			sent := w.stats().TokenRequests["refresh_token"]
			r := w.run("token", "--force-refresh")
			if r.code == 0 || !strings.Contains(r.stderr, "not refreshed") || !strings.Contains(r.stderr, path) {
				t.Errorf("a refresh over a read-only mounted file: %v; want a failure naming %s, nothing sent", r, path)
			}
			if got := w.stats().TokenRequests["refresh_token"]; got != sent {
				t.Errorf("%d refreshes sent over a read-only file", got-sent)
			}
			if r := w.run("token"); r.code != 0 || r.stdout != last {
				t.Errorf("the cached token on the read-only file: %v", r)
			}
			if out, err := exec.Command("umount", path).CombinedOutput(); err != nil {
				t.Fatalf("umount: %v\n%s", err, out)
			}
			if r := w.run("token", "--force-refresh"); r.code != 0 || w.stats().FamiliesRevoked != 0 {
				t.Errorf("a refresh once writable again: %v; want success and no revocation", r)
			}
		})
	}
}

// TestAPIAlways401SpendsAtMostOneRefresh: an endpoint that answers 401 whatever the token
// (a missing right, not an expired token) gets one refresh-and-retry, then none while the token
// is fresh: five calls, one rotation, each exit 1 saying the refusal is about the token's rights.
func TestAPIAlways401SpendsAtMostOneRefresh(t *testing.T) {
	api := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Error(w, `{"error":"unauthorized"}`, http.StatusUnauthorized)
	}))
	t.Cleanup(api.Close)
	w := newWorld(t, 15*time.Minute, "PLEOAUTH_STORE=file")
	w.login()
	// Make the stored token an hour old, as after a day of work: its first 401 may be its age.
	w.env = append(w.env, "PLEOAUTH_API_URL="+api.URL)
	before := w.stats().TokensIssued["refresh_token"]
	ageToken(t, w)
	for i := range 5 {
		r := w.run("api", "/v2/employees")
		if r.code != 1 || !strings.Contains(r.stderr, "401") || !strings.Contains(r.stderr, "rights") {
			t.Errorf("call %d: %v; want exit 1 about the token's rights", i+1, r)
		}
	}
	if got := w.stats().TokensIssued["refresh_token"] - before; got != 1 {
		t.Errorf("%d refreshes for five calls to an endpoint that always answers 401; want 1", got)
	}
}

// TestMinTTLBeyondTheServersTokens: --min-ttl 30m against a server that issues tokens of
// seconds (as the README's devserver recipe with --access-ttl 2s) hands out the freshest token with a warning, at one refresh per
// half lifetime rather than one per call.
func TestMinTTLBeyondTheServersTokens(t *testing.T) {
	// 4 s tokens: a refresh is due every 2 s, so even calls slowed to a second each by a busy
	// machine are several to a refresh.
	w := newWorld(t, 4*time.Second, "PLEOAUTH_STORE=file")
	w.login()
	before := w.stats().TokensIssued["refresh_token"]
	start := time.Now()
	calls := 0
	for time.Since(start) < 3*time.Second {
		r := w.run("token", "--min-ttl", "30m")
		if r.code != 0 || r.stdout == "" || !strings.Contains(r.stderr, "less than --min-ttl 30m") {
			t.Fatalf("call %d: %v; want a token and a warning", calls+1, r)
		}
		calls++
		time.Sleep(100 * time.Millisecond)
	}
	elapsed := time.Since(start)
	refreshes := w.stats().TokensIssued["refresh_token"] - before
	// One per 2 s (half of 4 s), plus one for a start mid-way.
	if limit := int(elapsed/(2*time.Second)) + 1; refreshes > limit || refreshes >= calls {
		t.Errorf("%d refreshes for %d calls in %v; want at most %d", refreshes, calls, elapsed.Round(time.Millisecond), limit)
	}

	// The README's recipes against such a server: the default --min-ttl (60s), exec and
	// postman-env with --min-ttl 30m, each handing out the freshest token with its warning.
	out := filepath.Join(t.TempDir(), "pleo.postman_environment.json")
	for _, args := range [][]string{
		{"token"},
		{"exec", "--min-ttl", "30m", "--", "sh", "-c", `test -n "$PLEO_ACCESS_TOKEN"`},
		{"postman-env", "--min-ttl", "30m", "-o", out},
	} {
		if r := w.run(args...); r.code != 0 || !strings.Contains(r.stderr, "less than --min-ttl") {
			t.Errorf("pleoauth %s against 4 s tokens: %v; want success with the warning", strings.Join(args, " "), r)
		}
	}
	if s := w.stats(); s.FamiliesRevoked != 0 {
		t.Errorf("%d families revoked", s.FamiliesRevoked)
	}
}

// ageToken makes the file store's login look issued an hour ago and valid for an hour more.
func ageToken(t *testing.T, w *world) {
	t.Helper()
	path := filepath.Join(w.home, "tokens", "local.json")
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var b map[string]any
	if err := json.Unmarshal(data, &b); err != nil {
		t.Fatal(err)
	}
	b["obtained_at"] = time.Now().Add(-time.Hour).UTC().Format(time.RFC3339)
	b["expiry"] = time.Now().Add(time.Hour).UTC().Format(time.RFC3339)
	data, _ = json.Marshal(b)
	if err := os.WriteFile(path, data, 0o600); err != nil {
		t.Fatal(err)
	}
}
