package cli

import (
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/pleoauth/pleoauth/internal/devserver"
	"github.com/pleoauth/pleoauth/internal/exitcode"
	"github.com/pleoauth/pleoauth/internal/oauthtest"
)

// noKeychainHarness is a headless machine: no OS keychain answers, no store named, a devserver
// whose client secret is not in the environment.
func noKeychainHarness(t *testing.T) (*harness, *int) {
	t.Helper()
	h := newHarness(t)
	h.startDevserver(devserver.Options{AutoApprove: true})
	t.Setenv("PLEOAUTH_CLIENT_SECRET", "")
	t.Setenv("PLEOAUTH_STORE", "")
	kc := &oauthtest.Keychain{}
	kc.Fail(errors.New("The name org.freedesktop.secrets was not provided by any .service files"))
	h.keychain = kc
	opened := 0
	h.browser = func(u string) error { opened++; return followRedirects(u) }
	return h, &opened
}

// The first hour without a keychain: a plain login stops before anything is asked or opened,
// naming the ways out; "login --store file" keeps the secret typed or piped beside the login;
// then every command finds the login with no --store, and refreshes with the kept secret.
func TestNoKeychainFirstHour(t *testing.T) {
	for _, how := range []string{"stdin", "prompt"} {
		t.Run(how, func(t *testing.T) {
			h, opened := noKeychainHarness(t)
			r := h.main("login", "--env", "local")
			if r.code != exitcode.Error || *opened != 0 {
				t.Fatalf("login without a keychain: %+v, browser opened %d times; want exit 1 before the browser", r, *opened)
			}
			for _, w := range []string{"the OS keychain is not available", "--store file", "0600", "PLEOAUTH_CLIENT_SECRET", "Secret Service"} {
				if !strings.Contains(r.stderr, w) {
					t.Errorf("login without a keychain said %q; want %q", r.stderr, w)
				}
			}
			oneLine(t, r.stderr)

			args := []string{"login", "--env", "local", "--store", "file"}
			if how == "stdin" {
				h.stdin = "devserver-test-secret\n"
				args = append(args, "--client-secret-stdin")
			} else {
				h.typed = "devserver-test-secret"
			}
			r = h.main(args...)
			kept := filepath.Join(h.home, "tokens", "local.client-secret")
			if r.code != exitcode.OK || !strings.Contains(r.stderr, "the client secret is kept in "+kept) || !strings.Contains(r.stderr, "set PLEOAUTH_CLIENT_SECRET instead") {
				t.Fatalf("login --store file: %+v; want it to say where the secret is kept", r)
			}
			h.stdin, h.typed = "", ""

			before, _ := os.ReadFile(h.tokenFile("local"))
			r = h.main("token", "--env", "local", "--force-refresh")
			after, _ := os.ReadFile(h.tokenFile("local"))
			if r.code != exitcode.OK || !strings.HasPrefix(r.stdout, "ory_at_") || string(before) == string(after) {
				t.Fatalf("token --force-refresh with no --store and no PLEOAUTH_CLIENT_SECRET: %+v; want a refreshed token", r)
			}
			r = h.main("status", "--env", "local")
			if r.code != exitcode.OK || !strings.Contains(r.stdout, "next refresh:  yes (client secret from the file store)") || !strings.Contains(r.stdout, "store:         file") {
				t.Errorf("status: %+v; want the file store and the next refresh possible", r)
			}
			r = h.main("status", "--env", "local", "--json")
			var st statusReport
			if err := json.Unmarshal([]byte(r.stdout), &st); err != nil || st.NextRefresh == nil || !st.NextRefresh.OK || st.Store != "file" {
				t.Errorf("status --json: %s (%v); want next_refresh.ok and the file store", r.stdout, err)
			}
			for _, out := range []string{r.stdout, r.stderr} {
				if strings.Contains(out, "devserver-test-secret") {
					t.Errorf("status printed the client secret: %s", out)
				}
			}
			r = h.main("doctor", "--env", "local")
			if !strings.Contains(r.stdout, "next refresh   can be sent (client secret from the file store)") || strings.Contains(r.stdout, "devserver-test-secret") {
				t.Errorf("doctor:\n%s", r.stdout)
			}

			r = h.main("logout", "--env", "local")
			if r.code != exitcode.OK || !strings.Contains(r.stderr, "(file store)") {
				t.Fatalf("logout: %+v", r)
			}
			if _, err := os.Stat(kept); !os.IsNotExist(err) {
				t.Errorf("logout left the kept secret: %v", err)
			}
		})
	}
}

// A store named by a flag, variable or config.yaml other than the one holding the login: one
// line saying where the login is and what to run, exit 2, rather than "not logged in".
func TestStoreNamedElsewhere(t *testing.T) {
	h, _ := noKeychainHarness(t)
	h.stdin = "devserver-test-secret\n"
	if r := h.main("login", "--env", "local", "--store", "file", "--client-secret-stdin"); r.code != exitcode.OK {
		t.Fatalf("login: %+v", r)
	}
	h.stdin = ""
	r := h.main("token", "--env", "local", "--store", "keyring")
	want := `pleoauth: env local: the login is in the file store, not the keyring store named by --store; drop --store, or run "pleoauth login --env local --store keyring" to log in there`
	if r.code != exitcode.Usage || strings.TrimSpace(r.stderr) != want {
		t.Errorf("token --store keyring: %d %q; want 2 %q", r.code, r.stderr, want)
	}
	t.Setenv("PLEOAUTH_STORE", "keyring")
	for _, cmd := range []string{"status", "logout", "export-refresh-token"} {
		r := h.main(cmd, "--env", "local")
		if r.code != exitcode.Usage || !strings.Contains(r.stderr, "named by PLEOAUTH_STORE; unset PLEOAUTH_STORE") {
			t.Errorf("%s with PLEOAUTH_STORE=keyring: %+v", cmd, r)
		}
		oneLine(t, r.stderr)
	}
	if _, err := os.Stat(h.tokenFile("local")); err != nil {
		t.Errorf("the login is gone: %v", err)
	}
}

// Status says when the next refresh cannot be sent, and why: a login whose secret came from
// PLEOAUTH_CLIENT_SECRET, now unset. While the access token is valid it is still logged in.
func TestStatusSaysTheNextRefreshCannotBeSent(t *testing.T) {
	h, _ := noKeychainHarness(t)
	t.Setenv("PLEOAUTH_CLIENT_SECRET", "devserver-test-secret")
	if r := h.main("login", "--env", "local", "--store", "file"); r.code != exitcode.OK || strings.Contains(r.stderr, "is kept in") {
		t.Fatalf("login with PLEOAUTH_CLIENT_SECRET: %+v; want nothing kept", r)
	}
	t.Setenv("PLEOAUTH_CLIENT_SECRET", "")
	r := h.main("status", "--env", "local")
	want := "next refresh:  no: no client secret; set PLEOAUTH_CLIENT_SECRET, or log in again (pleoauth login --env local) from a terminal or with --client-secret-stdin to keep it in the file store"
	if r.code != exitcode.OK || !strings.Contains(r.stdout, want) || !strings.Contains(r.stdout, "logged in:     yes") {
		t.Errorf("status: %+v; want %q", r, want)
	}
	r = h.main("doctor", "--env", "local")
	if !strings.Contains(r.stdout, "FAIL  next refresh   cannot be sent: no client secret") {
		t.Errorf("doctor:\n%s", r.stdout)
	}
	r = h.main("token", "--env", "local", "--force-refresh")
	want = `pleoauth: env local: no client secret to refresh the token with; set PLEOAUTH_CLIENT_SECRET, or log in again (pleoauth login --env local) from a terminal or with --client-secret-stdin to keep it in the file store`
	if r.code == exitcode.OK || strings.TrimSpace(r.stderr) != want {
		t.Errorf("token --force-refresh: %+v; want %q, the login named once", r, want)
	}
}

// A login is in one store: "login --store keyring" after "login --store file" (the remedy the
// message names) replaces the file store's login and its kept secret, so commands without
// --store find the new one; profiles are found each in its own store.
func TestLoginMovesBetweenStores(t *testing.T) {
	h, _ := noKeychainHarness(t)
	h.keychain = &oauthtest.Keychain{} // a keychain answers now
	h.stdin = "devserver-test-secret\n"
	for _, args := range [][]string{{"--store", "file"}, {"--store", "file", "--profile", "acme"}} {
		h.stdin = "devserver-test-secret\n"
		if r := h.main(append([]string{"login", "--env", "local", "--client-secret-stdin"}, args...)...); r.code != exitcode.OK {
			t.Fatalf("login %v: %+v", args, r)
		}
	}
	h.stdin = "devserver-test-secret\n"
	r := h.main("login", "--env", "local", "--store", "keyring", "--client-secret-stdin")
	if r.code != exitcode.OK || !strings.Contains(r.stderr, "env local: the earlier login in the file store is removed; this one in the keyring store replaces it.") {
		t.Fatalf("login --store keyring: %+v", r)
	}
	for _, gone := range []string{"local.json", "local.client-secret"} {
		if _, err := os.Stat(filepath.Join(h.home, "tokens", gone)); !os.IsNotExist(err) {
			t.Errorf("%s after the login moved: %v; want it gone", gone, err)
		}
	}
	h.stdin = ""
	r = h.main("status", "--env", "local", "--json")
	var st statusReport
	if err := json.Unmarshal([]byte(r.stdout), &st); err != nil || r.code != exitcode.OK {
		t.Fatalf("status: %+v", r)
	}
	var got []string
	for _, p := range st.Profiles {
		got = append(got, p.Profile+":"+p.Store+":"+p.NextRefresh.Why)
	}
	want := "default:keyring:client secret from the keychain acme:file:client secret from the file store"
	if strings.Join(got, " ") != want {
		t.Errorf("status profiles = %q; want %q", strings.Join(got, " "), want)
	}
	if r := h.main("token", "--env", "local", "--profile", "acme", "--force-refresh"); r.code != exitcode.OK {
		t.Errorf("token of the profile in the file store: %+v", r)
	}
}

// An expired access token whose refresh cannot be sent is not a login: status exits 4 and says
// why, where it used to say "logged in: yes".
func TestStatusExpiredWithoutSecret(t *testing.T) {
	h := newHarness(t)
	h.seedExpired("local")
	r := h.main("status", "--env", "local")
	if r.code != exitcode.LoginRequired || !strings.Contains(r.stdout, "logged in:     no") ||
		!strings.Contains(r.stderr, "env local: the access token expired and the next refresh cannot be sent: no client secret; set PLEOAUTH_CLIENT_SECRET") {
		t.Errorf("status: %+v", r)
	}
	oneLine(t, r.stderr)
}
