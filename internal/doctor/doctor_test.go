package doctor

import (
	"errors"
	"fmt"
	"net"
	"strings"
	"testing"

	"github.com/pleoauth/pleoauth/internal/oauthtest"
)

// TestBrowserCheck: the launcher is called OK only where it can show a window — a display on
// Linux, or $BROWSER — and otherwise the fix is the paste-back that login falls back to.
func TestBrowserCheck(t *testing.T) {
	found := func(names ...string) func(string) (string, error) {
		return func(name string) (string, error) {
			for _, n := range names {
				if n == name {
					return "/usr/bin/" + name, nil
				}
			}
			return "", errors.New("not found")
		}
	}
	tests := []struct {
		name       string
		goos       string
		env        map[string]string
		lookPath   func(string) (string, error)
		wantStatus string
		wantDetail string
		wantFix    string
	}{
		{"desktop", "linux", map[string]string{"DISPLAY": ":0"}, found("xdg-open"), "ok", "launcher /usr/bin/xdg-open", ""},
		{"wayland", "linux", map[string]string{"WAYLAND_DISPLAY": "wayland-0"}, found("xdg-open"), "ok", "launcher /usr/bin/xdg-open", ""},
		{"ssh session", "linux", map[string]string{"SSH_CONNECTION": "192.0.2.1 5 192.0.2.2 22"}, found("xdg-open"), "warn",
			"DISPLAY and WAYLAND_DISPLAY are unset", "paste the address your browser ends on (--no-browser"},
		{"BROWSER without display", "linux", map[string]string{"BROWSER": "w3m"}, found("w3m"), "ok", "$BROWSER: w3m", ""},
		{"BROWSER missing", "linux", map[string]string{"BROWSER": "nope --new"}, found(), "fail", "$BROWSER names nope", "--no-browser"},
		{"no launcher", "linux", map[string]string{"DISPLAY": ":0"}, found(), "warn", "no browser launcher found", "paste the address"},
		{"macOS", "darwin", nil, found("open"), "ok", "launcher /usr/bin/open", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, status, detail, fix := browserCheck(func(k string) string { return tt.env[k] }, tt.goos, tt.lookPath)
			if status != tt.wantStatus || !strings.Contains(detail, tt.wantDetail) || !strings.Contains(fix, tt.wantFix) || (tt.wantFix == "" && fix != "") {
				t.Errorf("browserCheck = %s, %q, fix %q; want %s, %q, fix %q", status, detail, fix, tt.wantStatus, tt.wantDetail, tt.wantFix)
			}
		})
	}
}

// TestRedirectCheck: a redirect URI off this machine is paste-back, not a broken port; a
// loopback one is OK only when its port can be bound.
func TestRedirectCheck(t *testing.T) {
	port := oauthtest.FreePort(t)
	held, err := net.Listen("tcp", fmt.Sprintf("127.0.0.1:%d", oauthtest.FreePort(t)))
	if err != nil {
		t.Fatal(err)
	}
	defer held.Close()
	tests := []struct {
		uri        string
		wantStatus string
		wantDetail string
	}{
		{"https://oauth.pstmn.io/v1/callback", "ok", "paste-back (redirect to https://oauth.pstmn.io/v1/callback)"},
		{fmt.Sprintf("http://127.0.0.1:%d/callback", port), "ok", "can be received on loopback"},
		{"http://" + held.Addr().String() + "/callback", "fail", "already in use"},
	}
	for _, tt := range tests {
		_, status, detail, _ := redirectCheck(tt.uri)
		if status != tt.wantStatus || !strings.Contains(detail, tt.wantDetail) {
			t.Errorf("redirectCheck(%q) = %s, %q; want %s, %q", tt.uri, status, detail, tt.wantStatus, tt.wantDetail)
		}
	}
}

// A PLEOAUTH_* name pleoauth does not read is a warning naming it and the one it is a typo of —
// never its value; the names pleoauth reads, and other programs' variables, are not.
func TestVariablesCheck(t *testing.T) {
	tests := []struct {
		name    string
		environ []string
		status  string
		want    []string
	}{
		{"none set", []string{"HOME=/root", "PATH=/bin"}, "", nil},
		{"every one known", []string{"PLEOAUTH_STORE=file", "PLEOAUTH_CLIENT_SECRET=s3cr3t-value", "PLEOAUTH_HOME=/h", "PLEOAUTH_DEVSERVER_CLIENT_SECRET=x", "PLEOAUTH_REFRESH_TOKEN=r"}, "", nil},
		{"a typo", []string{"PLEOAUTH_CLIENT_SECRT=s3cr3t-value"}, "warn", []string{`PLEOAUTH_CLIENT_SECRT (did you mean "PLEOAUTH_CLIENT_SECRET"?)`}},
		{"two, sorted", []string{"PLEOAUTH_STOR=file", "PLEOAUTH_ENVV=staging", "PLEOAUTH_STORE=file"}, "warn", []string{`PLEOAUTH_ENVV (did you mean "PLEOAUTH_ENV"?), PLEOAUTH_STOR (did you mean "PLEOAUTH_STORE"?)`}},
		{"not a typo of anything", []string{"PLEOAUTH_XYZZY_QUUX=1"}, "warn", []string{"PLEOAUTH_XYZZY_QUUX"}},
		{"another program's", []string{"XPLEOAUTH_STOR=1", "pleoauth_stor=1"}, "", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, status, detail, _ := variablesCheck(tt.environ)
			if status != tt.status {
				t.Fatalf("status %q (%s); want %q", status, detail, tt.status)
			}
			for _, w := range tt.want {
				if !strings.Contains(detail, w) {
					t.Errorf("detail %q lacks %q", detail, w)
				}
			}
			if strings.Contains(detail, "s3cr3t-value") {
				t.Errorf("the check shows a value: %q", detail)
			}
		})
	}
}
