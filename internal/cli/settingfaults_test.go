package cli

import (
	"context"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/pleoauth/pleoauth/internal/devserver"
	"github.com/pleoauth/pleoauth/internal/exitcode"
	"github.com/pleoauth/pleoauth/internal/oauthtest"
	"github.com/pleoauth/pleoauth/internal/store"
)

// envPrefix is the "env NAME:" that starts a message about one login.
var envPrefix = regexp.MustCompile(`env [a-z0-9_-]+:`)

// TestFaultMessages walks the error paths a setting or a fault reaches cheaply — a setting that
// is wrong or refused, a server or Redis that does not answer, a login that is missing — and
// checks each one's exit code, that its message names what to fix and where it was set, hides
// every secret, and never says "env NAME:" twice.
func TestFaultMessages(t *testing.T) {
	redisSrv := oauthtest.StartRedis(t)
	if err := redisSrv.Client().ConfigSet(context.Background(), "requirepass", "right-password").Err(); err != nil {
		t.Fatal(err)
	}
	useRedis := func(t *testing.T, url string) {
		t.Setenv("PLEOAUTH_STORE", "redis")
		t.Setenv("PLEOAUTH_REDIS_URL", url)
		t.Setenv("PLEOAUTH_STORE_KEY", store.NewStoreKey())
	}
	sharedFolder := func(t *testing.T) string {
		dir := filepath.Join(t.TempDir(), "shared")
		if err := os.Mkdir(dir, 0o700); err != nil {
			t.Fatal(err)
		}
		if err := os.Chmod(dir, 0o777|os.ModeSticky); err != nil {
			t.Fatal(err)
		}
		return dir
	}
	tests := []struct {
		name  string
		setup func(t *testing.T, h *harness)
		args  []string
		code  int
		want  []string // in stderr ("doctor": in stdout, where its report goes)
		never []string // in stdout or stderr
	}{
		{name: "no login", args: []string{"token", "--env", "local"}, code: exitcode.LoginRequired,
			want: []string{"env local:"}},
		{name: "no client secret for a refresh", setup: func(t *testing.T, h *harness) {
			h.seedExpired("local")
			t.Setenv("PLEOAUTH_CLIENT_SECRET", "")
		}, args: []string{"token", "--env", "local"}, code: -1, want: []string{"PLEOAUTH_CLIENT_SECRET"}},
		{name: "refresh token refused", setup: func(t *testing.T, h *harness) { h.seedExpired("local") },
			args: []string{"token", "--env", "local"}, code: exitcode.LoginRequired, want: []string{"pleoauth login"}},
		{name: "token endpoint down", setup: func(t *testing.T, h *harness) {
			h.seedExpired("local")
			h.server.Close()
		}, args: []string{"token", "--env", "local"}, code: exitcode.Temporary},
		{name: "unknown environment", args: []string{"token", "--env", "nowhere"}, code: exitcode.Usage, want: []string{"nowhere"}},
		{name: "ca_file missing", setup: func(t *testing.T, h *harness) {
			h.seedExpired("local")
			t.Setenv("PLEOAUTH_CA_FILE", filepath.Join(t.TempDir(), "missing.pem"))
		}, args: []string{"token", "--env", "local"}, code: exitcode.Usage, want: []string{"cannot be read", "point PLEOAUTH_CA_FILE at"}},
		{name: "ca_file missing at login", setup: func(t *testing.T, h *harness) {
			h.browser = followRedirects
			t.Setenv("PLEOAUTH_CA_FILE", filepath.Join(t.TempDir(), "missing.pem"))
		}, args: []string{"login", "--env", "local"}, code: exitcode.Usage, want: []string{"point PLEOAUTH_CA_FILE at"}},
		{name: "ca_file missing for api", setup: func(t *testing.T, h *harness) {
			h.seedExpired("local")
			t.Setenv("PLEOAUTH_CA_FILE", filepath.Join(t.TempDir(), "missing.pem"))
		}, args: []string{"api", "--env", "local", "/v2/employees"}, code: exitcode.Usage, want: []string{"point PLEOAUTH_CA_FILE at"}},
		{name: "ca_file missing for whoami", setup: func(t *testing.T, h *harness) {
			h.seedBundle("local")
			t.Setenv("PLEOAUTH_CA_FILE", filepath.Join(t.TempDir(), "missing.pem"))
		}, args: []string{"whoami", "--env", "local"}, code: exitcode.Usage, want: []string{"point PLEOAUTH_CA_FILE at"}},
		{name: "Redis refuses the password for exec", setup: func(t *testing.T, h *harness) {
			useRedis(t, redisSrv.URL())
			t.Setenv("PLEOAUTH_REDIS_PASSWORD", "wrong-password")
		}, args: []string{"exec", "--env", "local", "--", "true"}, code: exitcode.Usage, want: []string{"fix PLEOAUTH_REDIS_PASSWORD"}},
		{name: "Redis refuses the password for status", setup: func(t *testing.T, h *harness) {
			useRedis(t, redisSrv.URL())
			t.Setenv("PLEOAUTH_REDIS_PASSWORD", "wrong-password")
		}, args: []string{"status", "--env", "local"}, code: exitcode.Usage, want: []string{"fix PLEOAUTH_REDIS_PASSWORD"}},
		{name: "ca_file garbage in config.yaml", setup: func(t *testing.T, h *harness) {
			h.seedExpired("local")
			garbage := filepath.Join(t.TempDir(), "garbage.pem")
			if err := os.WriteFile(garbage, []byte("garbage"), 0o600); err != nil {
				t.Fatal(err)
			}
			h.writeConfig("environments:\n  local:\n    ca_file: " + garbage + "\n")
		}, args: []string{"token", "--env", "local"}, code: exitcode.Usage, want: []string{"holds no PEM certificate", "point environments.local.ca_file in "}},
		{name: "PLEOAUTH_HOME quoted ~", setup: func(t *testing.T, h *harness) { t.Setenv("PLEOAUTH_HOME", "~/pa") },
			args: []string{"token", "--env", "local"}, code: exitcode.Usage, want: []string{`PLEOAUTH_HOME "~/pa" starts with ~`, `PLEOAUTH_HOME="$HOME/pa"`}},
		{name: "PLEOAUTH_HOME relative", setup: func(t *testing.T, h *harness) { t.Setenv("PLEOAUTH_HOME", "pa") },
			args: []string{"login", "--env", "local"}, code: exitcode.Usage, want: []string{"is a relative path", `PLEOAUTH_HOME="$PWD/pa"`}},
		{name: "PLEOAUTH_HOME shared like /tmp", setup: func(t *testing.T, h *harness) { t.Setenv("PLEOAUTH_HOME", sharedFolder(t)) },
			args: []string{"token", "--env", "local"}, code: exitcode.Error, want: []string{"shared by all users", "mkdir -m 700"}, never: []string{"chmod"}},
		{name: "Redis refuses the password", setup: func(t *testing.T, h *harness) {
			useRedis(t, redisSrv.URL())
			t.Setenv("PLEOAUTH_REDIS_PASSWORD", "wrong-password")
		}, args: []string{"token", "--env", "local"}, code: exitcode.Usage, want: []string{"refused the password (WRONGPASS", "fix PLEOAUTH_REDIS_PASSWORD"}, never: []string{"wrong-password"}},
		{name: "Redis refuses the password in the URL", setup: func(t *testing.T, h *harness) {
			useRedis(t, strings.Replace(redisSrv.URL(), "redis://", "redis://:wrong-password@", 1))
		}, args: []string{"token", "--env", "local"}, code: exitcode.Usage, want: []string{"refused the password", "fix the password in PLEOAUTH_REDIS_URL"}, never: []string{"wrong-password"}},
		{name: "Redis asks for a password", setup: func(t *testing.T, h *harness) { useRedis(t, redisSrv.URL()) },
			args: []string{"token", "--env", "local"}, code: exitcode.Usage, want: []string{"NOAUTH", "set PLEOAUTH_REDIS_PASSWORD"}},
		{name: "Redis down", setup: func(t *testing.T, h *harness) {
			useRedis(t, "redis://127.0.0.1:"+itoa(freePort(t))+"/0")
		}, args: []string{"token", "--env", "local"}, code: exitcode.Temporary, want: []string{"did not answer"}},
		// go-redis takes no password in the query, but a person may put one there.
		{name: "redis_url with a password in the query", setup: func(t *testing.T, h *harness) {
			useRedis(t, redisSrv.URL()+"?password=query-password")
		}, args: []string{"token", "--env", "local"}, code: exitcode.Usage, want: []string{"password=xxxxx", "fix PLEOAUTH_REDIS_URL"}, never: []string{"query-password"}},
		{name: "redis_url not a Redis URL", setup: func(t *testing.T, h *harness) { useRedis(t, "http://127.0.0.1:1/") },
			args: []string{"token", "--env", "local"}, code: exitcode.Usage, want: []string{"PLEOAUTH_REDIS_URL"}},
		{name: "store key malformed", setup: func(t *testing.T, h *harness) {
			useRedis(t, redisSrv.URL())
			t.Setenv("PLEOAUTH_STORE_KEY", "short")
		}, args: []string{"token", "--env", "local"}, code: exitcode.Usage, want: []string{"PLEOAUTH_STORE_KEY"}},
		{name: "doctor with Redis refusing the password", setup: func(t *testing.T, h *harness) {
			useRedis(t, strings.Replace(redisSrv.URL(), "redis://", "redis://:url-password@", 1))
		}, args: []string{"doctor", "--env", "local"}, code: -1, want: []string{"FAIL  store", "refused the password", "fix the password in PLEOAUTH_REDIS_URL", "fix: fix the setting the message names"}, never: []string{"url-password"}},
		{name: "config list hides a query password", setup: func(t *testing.T, h *harness) {
			t.Setenv("PLEOAUTH_REDIS_URL", "redis://127.0.0.1:1/0?password=query-password")
		}, args: []string{"config", "list"}, code: exitcode.OK, never: []string{"query-password"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := newHarness(t)
			h.startDevserver(devserver.Options{AutoApprove: true})
			if tt.setup != nil {
				tt.setup(t, h)
			}
			r := h.main(tt.args...)
			if tt.code >= 0 && r.code != tt.code {
				t.Errorf("exit %d; want %d\n%s", r.code, tt.code, r.stderr)
			}
			said := r.stderr
			if tt.args[0] == "doctor" {
				said = r.stdout
			}
			for _, w := range tt.want {
				if !strings.Contains(said, w) {
					t.Errorf("said %q; want it to contain %q", said, w)
				}
			}
			for _, n := range tt.never {
				if strings.Contains(r.stdout+r.stderr, n) {
					t.Errorf("the output shows %q:\n%s%s", n, r.stdout, r.stderr)
				}
			}
			for _, line := range strings.Split(r.stdout+r.stderr, "\n") {
				if seen := envPrefix.FindAllString(line, -1); len(seen) > 1 {
					t.Errorf("a message names the login %d times (%q): %s", len(seen), seen, line)
				}
			}
		})
	}
}
