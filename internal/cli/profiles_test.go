package cli

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/pleoauth/pleoauth/internal/devserver"
	"github.com/pleoauth/pleoauth/internal/exitcode"
	"github.com/pleoauth/pleoauth/internal/store"
)

const acme = "urn:pleo:company:3f2c6d1e-0000-4000-8000-00000000ac3e"

// TestProfiles: two logins of one environment, each for its own company: each has its own
// store entry and lock, status lists both with whose login it is, whoami asks the API, a refresh
// of one never touches the other, and logout --all ends both.
func TestProfiles(t *testing.T) {
	h := newHarness(t)
	dev, _ := h.startDevserver(devserver.Options{AutoApprove: true})
	h.browser = followRedirects
	if r := h.main("login", "--env", "local"); r.code != exitcode.OK {
		t.Fatalf("login: %+v", r)
	}
	if r := h.main("login", "--env", "local", "--profile", "acme", "--subject", acme); r.code != exitcode.OK || !strings.Contains(r.stderr, "profile acme") {
		t.Fatalf("login --profile acme: %+v", r)
	}

	// A profile with no login names those that have one, and the one it is a typo of.
	for _, cmd := range []string{"token", "status", "export-refresh-token"} {
		if r := h.main(cmd, "--env", "local", "--profile", "acm"); r.code != exitcode.LoginRequired ||
			!strings.HasSuffix(strings.TrimSpace(r.stderr), `pleoauth: env local@acm: not logged in; profiles logged in to local: default, acme (did you mean "acme"?); run "pleoauth login --env local --profile acm"`) {
			t.Errorf("%s --profile acm: %+v", cmd, r)
		}
	}

	r := h.main("status", "--env", "local")
	for _, want := range []string{"profile:       default", "subject:       " + devserver.DemoCompany, "profile:       acme", "subject:       " + acme} {
		if !strings.Contains(r.stdout, want) {
			t.Errorf("status lacks %q:\n%s", want, r.stdout)
		}
	}
	if r.code != exitcode.OK {
		t.Errorf("status of two usable logins: exit %d", r.code)
	}
	var st struct {
		ExpiresIn int64 `json:"expires_in"`
		Profiles  []struct {
			Profile, Subject string
			LoggedIn         bool `json:"logged_in"`
		} `json:"profiles"`
	}
	js := h.main("status", "--env", "local", "--json")
	if err := json.Unmarshal([]byte(js.stdout), &st); err != nil || len(st.Profiles) != 2 || st.ExpiresIn <= 0 || st.Profiles[0].Subject != acme && st.Profiles[1].Subject != acme {
		t.Errorf("status --json: %s (%v)", js.stdout, err)
	}

	if r := h.main("whoami", "--env", "local", "--profile", "acme"); r.code != exitcode.OK || !strings.Contains(r.stdout, "subject:      "+acme) {
		t.Errorf("whoami --profile acme: %+v", r)
	}
	if r := h.main("whoami", "--env", "local", "--json"); r.code != exitcode.OK || !strings.Contains(r.stdout, `"subject":"`+devserver.DemoCompany+`"`) {
		t.Errorf("whoami --json: %+v", r)
	}

	// A refresh of acme touches nothing of the default profile, and does not wait for its lock.
	defaultFile, acmeFile := h.tokenFile("local"), filepath.Join(h.home, "tokens", "local@acme.json")
	before, _ := os.ReadFile(defaultFile)
	unlock, err := store.FileLock{Dir: filepath.Join(h.home, "locks")}.Lock(context.Background(), "local")
	if err != nil {
		t.Fatal(err)
	}
	refreshes := dev.Stats().TokensIssued["refresh_token"]
	r = h.main("token", "--env", "local", "--profile", "acme", "--force-refresh", "--lock-timeout", "3s")
	unlock()
	if r.code != exitcode.OK {
		t.Fatalf("token --profile acme while the default profile's lock is held: %+v", r)
	}
	if after, _ := os.ReadFile(defaultFile); string(after) != string(before) {
		t.Error("a refresh of profile acme changed the default profile's tokens")
	}
	if got := dev.Stats().TokensIssued["refresh_token"] - refreshes; got != 1 {
		t.Errorf("%d refreshes; want 1", got)
	}
	if _, err := os.Stat(acmeFile); err != nil {
		t.Errorf("profile acme is not stored apart: %v", err)
	}

	if r := h.main("token", "--env", "local", "--profile", "Not A Name"); r.code != exitcode.Usage || !strings.Contains(r.stderr, "PLEOAUTH_PROFILE") && !strings.Contains(r.stderr, "--profile") {
		t.Errorf("a bad profile name: %+v; want exit 2", r)
	}
	if r := h.main("login", "--env", "local", "--subject", "urn:pleo:company:not-a-uuid"); r.code != exitcode.Usage {
		t.Errorf("a malformed --subject: %+v; want exit 2", r)
	}

	if r := h.main("logout", "--env", "local", "--all"); r.code != exitcode.OK {
		t.Fatalf("logout --all: %+v", r)
	}
	for _, f := range []string{defaultFile, acmeFile} {
		if _, err := os.Stat(f); !os.IsNotExist(err) {
			t.Errorf("%s is still there after logout --all", f)
		}
	}
	if r := h.main("status", "--env", "local"); r.code != exitcode.LoginRequired {
		t.Errorf("status after logout --all: %+v; want exit 4", r)
	}
}

// TestLoginOfTheFirstReleaseIsTheDefaultProfile: a store written by the release before profiles
// existed is read as profile "default", with no migration step.
func TestLoginOfTheFirstReleaseIsTheDefaultProfile(t *testing.T) {
	h := newHarness(t)
	data, err := os.ReadFile("testdata/first-release-home/tokens/local.json")
	if err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(filepath.Join(h.home, "tokens"), 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(h.tokenFile("local"), data, 0o600); err != nil {
		t.Fatal(err)
	}
	r := h.main("status", "--env", "local")
	if r.code != exitcode.OK || !strings.Contains(r.stdout, "profile:       default") || !strings.Contains(r.stdout, "logged in:     yes") {
		t.Errorf("status of the first release's login: %+v", r)
	}
	if r := h.main("token", "--env", "local", "--profile", "default"); r.code != exitcode.OK || !strings.HasPrefix(r.stdout, "ory_at_firstrelease") {
		t.Errorf("token of the first release's login: %+v", r)
	}
}
