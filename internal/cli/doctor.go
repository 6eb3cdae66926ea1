package cli

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/pleoauth/pleoauth/internal/grant"
	"github.com/pleoauth/pleoauth/internal/loopback"
)

// check is one line of the doctor's report.
type check struct {
	Name   string `json:"name"`
	Status string `json:"status"` // ok, warn or fail
	Detail string `json:"detail"`
	Fix    string `json:"fix,omitempty"`
}

type doctorOptions struct {
	JSON bool
}

func newDoctorCmd(d *Deps) *cobra.Command {
	o := &doctorOptions{}
	cmd := &cobra.Command{
		Use:   "doctor",
		Short: "Check the setup of an environment, each problem with its fix",
		Long: `Doctor checks what a login and a refresh need, and prints each check with a one-line fix
when it fails: the config file; the environment's settings; a client secret (never shown); the
token store (the keychain answers, and a file can be written and removed in the real tokens
folder); the browser launcher; the redirect
port on 127.0.0.1 and ::1; the authorization server (reachable, TLS, and the clock skew read
from its Date header); and the stored token. It exits 1 when a check fails.`,
		Example: `  pleoauth doctor --env staging
  pleoauth doctor --json | jq '.checks[] | select(.status != "ok")'`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return runDoctor(cmd, d, o)
		},
	}
	cmd.Flags().BoolVar(&o.JSON, "json", false, "print the checks as JSON")
	return cmd
}

func runDoctor(cmd *cobra.Command, d *Deps, o *doctorOptions) error {
	checks := doctorChecks(cmd.Context(), cmd, d)
	failed := 0
	for _, c := range checks {
		if c.Status == "fail" {
			failed++
		}
	}
	if o.JSON {
		if err := json.NewEncoder(d.Stdout).Encode(map[string]any{"ok": failed == 0, "checks": checks}); err != nil {
			return err
		}
	} else {
		for _, c := range checks {
			fmt.Fprintf(d.Stdout, "%-4s  %-14s %s\n", strings.ToUpper(c.Status), c.Name, c.Detail)
			if c.Fix != "" {
				fmt.Fprintf(d.Stdout, "      %-14s fix: %s\n", "", c.Fix)
			}
		}
	}
	if failed > 0 {
		return fmt.Errorf("doctor: %d of %d checks failed; see the fixes above", failed, len(checks))
	}
	return nil
}

func doctorChecks(ctx context.Context, cmd *cobra.Command, d *Deps) []check {
	var out []check
	add := func(name, status, detail, fix string) { out = append(out, check{name, status, detail, fix}) }

	cfg, err := loadConfig(cmd, d)
	if err != nil {
		add("config", "fail", err.Error(), "fix the file named above, or move it away to start from the defaults")
		return out
	}
	if _, err := os.Stat(cfg.File); err == nil {
		add("config", "ok", cfg.File, "")
	} else {
		add("config", "ok", "no "+cfg.File+"; built-in defaults", "")
	}

	env, err := cfg.LoginEnvironment()
	if err != nil {
		add("environment", "fail", err.Error(), "set what the message names, then run pleoauth doctor again")
		return out
	}
	add("environment", "ok", fmt.Sprintf("%s: client %s, authorize %s, token %s", env.Name, env.ClientID, env.AuthorizeURL, env.TokenURL), "")

	g, err := grant.Open(cfg, env, d.grantDeps())
	if err != nil {
		add("store", "fail", err.Error(), "run the chmod the message names, or point PLEOAUTH_HOME elsewhere")
		return out
	}
	if from := g.SecretSource(); from != "" {
		add("client secret", "ok", "present, from "+from+" (not shown)", "")
	} else {
		add("client secret", "warn", "none found", "set PLEOAUTH_CLIENT_SECRET, or run pleoauth login in a terminal to be asked for it")
	}
	if err := g.Check(); err != nil {
		add("store", "fail", err.Error(), "see the message; --store file keeps tokens in a 0600 file instead")
	} else {
		add("store", "ok", g.StoreName()+" store: a file written and removed in "+filepath.Join(cfg.Home, "tokens"), "")
	}
	add(browserCheck(d))

	if l, err := loopback.Listen(mustParse(env.RedirectURI)); err != nil {
		add("redirect port", "fail", err.Error(), "stop the program holding the port, or use pleoauth login --no-browser and paste the address")
	} else {
		l.Close()
		add("redirect port", "ok", env.RedirectURI+" can be received on loopback", "")
	}

	add(serverCheck(ctx, d, g))
	add(tokenCheck(d, g))
	return out
}

func browserCheck(d *Deps) (string, string, string, string) {
	if b := d.Getenv("BROWSER"); b != "" {
		prog := strings.Fields(b)[0]
		if _, err := exec.LookPath(prog); err != nil {
			return "browser", "fail", "$BROWSER names " + prog + ", which is not found", "fix $BROWSER, or use pleoauth login --no-browser"
		}
		return "browser", "ok", "$BROWSER: " + b, ""
	}
	var candidates []string
	switch runtime.GOOS {
	case "darwin":
		candidates = []string{"open"}
	case "windows":
		return "browser", "ok", "the Windows default browser", ""
	default:
		candidates = []string{"xdg-open", "x-www-browser", "www-browser", "wslview"}
	}
	for _, c := range candidates {
		if p, err := exec.LookPath(c); err == nil {
			return "browser", "ok", "launcher " + p, ""
		}
	}
	return "browser", "warn", "no browser launcher found (" + strings.Join(candidates, ", ") + ")", "use pleoauth login --no-browser, open the URL on any machine and paste the address back"
}

// serverCheck asks the authorization server for anything, to learn that it answers over TLS,
// and compares its clock with ours: token expiry is judged on this machine's clock.
func serverCheck(ctx context.Context, d *Deps, g *grant.Grant) (string, string, string, string) {
	env := g.Env
	client, err := g.HTTPClient()
	if err != nil {
		return "auth server", "fail", err.Error(), "fix ca_file"
	}
	u := mustParse(env.TokenURL)
	base := u.Scheme + "://" + u.Host + "/"
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, base, nil)
	resp, err := client.Do(req)
	if err != nil {
		return "auth server", "fail", fmt.Sprintf("%s: %v", base, err), "check the network, proxy (HTTPS_PROXY) and ca_file for a private CA"
	}
	resp.Body.Close()
	detail := fmt.Sprintf("%s answers (HTTP %d)", base, resp.StatusCode)
	if u.Scheme == "https" {
		detail += ", TLS verified"
	}
	date, err := http.ParseTime(resp.Header.Get("Date"))
	if err != nil {
		return "auth server", "ok", detail + "; no Date header to compare clocks", ""
	}
	skew := d.Now().Sub(date).Round(time.Second)
	if skew < 0 {
		skew = -skew
	}
	if skew > time.Minute {
		return "auth server", "fail", fmt.Sprintf("%s; this clock is %s off the server's", detail, skew), "set the system clock (enable NTP): token expiry is judged on it"
	}
	return "auth server", "ok", fmt.Sprintf("%s; clocks agree within %s", detail, max(skew, time.Second)), ""
}

func tokenCheck(d *Deps, g *grant.Grant) (string, string, string, string) {
	env := g.Env
	st, err := g.Status()
	b := st.Bundle
	switch {
	case err != nil:
		return "token", "fail", err.Error(), fmt.Sprintf("run pleoauth login --env %s to replace the stored tokens", env.Name)
	case b == nil:
		return "token", "warn", "not logged in", fmt.Sprintf("run pleoauth login --env %s", env.Name)
	case b.Refused != nil:
		return "token", "fail", fmt.Sprintf("the server refused the refresh token at %s (%s)", b.Refused.At.UTC().Format(time.RFC3339), b.Refused.Reason), fmt.Sprintf("run pleoauth login --env %s", env.Name)
	}
	left := b.Expiry.Sub(d.Now()).Round(time.Second)
	switch {
	case left > 0:
		return "token", "ok", fmt.Sprintf("valid until %s (%s left)", b.Expiry.UTC().Format(time.RFC3339), left), ""
	case b.RefreshToken != "":
		return "token", "ok", "access token expired; a refresh token is held, so the next pleoauth token refreshes", ""
	default:
		return "token", "warn", "access token expired and no refresh token is held", fmt.Sprintf("run pleoauth login --env %s", env.Name)
	}
}

func mustParse(raw string) *url.URL {
	u, err := url.Parse(raw)
	if err != nil {
		return &url.URL{}
	}
	return u
}
