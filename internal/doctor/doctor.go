// Package doctor checks what a login and a refresh need — the config file, the environment's
// settings, a client secret, the token store, the browser launcher, the redirect port, the
// authorization server, the stored token and whether its next refresh can be sent — and gives each problem its fix. Its fixes are
// its output, so it is the one package below the command line that words them.
package doctor

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"time"

	"github.com/pleoauth/pleoauth/internal/browser"
	"github.com/pleoauth/pleoauth/internal/config"
	"github.com/pleoauth/pleoauth/internal/failure"
	"github.com/pleoauth/pleoauth/internal/grant"
	"github.com/pleoauth/pleoauth/internal/loopback"
	"github.com/pleoauth/pleoauth/internal/store"
)

// Check is one line of the report.
type Check struct {
	Name   string `json:"name"`
	Status string `json:"status"` // ok, warn or fail
	Detail string `json:"detail"`
	Fix    string `json:"fix,omitempty"`
}

// Run checks the setup of the selected environment: cfg and cfgErr are what loading the
// configuration gave. A failed check that later checks depend on ends the list.
func Run(ctx context.Context, cfg *config.Config, cfgErr error, d grant.Deps, environ []string) []Check {
	var out []Check
	add := func(name, status, detail, fix string) { out = append(out, Check{name, status, detail, fix}) }
	if name, status, detail, fix := variablesCheck(environ); status != "" {
		add(name, status, detail, fix)
	}

	if err := cfgErr; err != nil {
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

	g, err := grant.Open(cfg, env, d)
	if err != nil {
		add("store", "fail", err.Error(), "do what the message says, or point PLEOAUTH_HOME at a private folder")
		return out
	}
	if from := g.SecretSource(); from != "" {
		add("client secret", "ok", "present, from "+from+" (not shown)", "")
	} else {
		add("client secret", "warn", "none found", "set PLEOAUTH_CLIENT_SECRET, or run pleoauth login in a terminal to be asked for it")
	}
	if err := g.Check(); err != nil && failure.KindOf(err) == failure.Usage {
		add("store", "fail", err.Error(), "fix the setting the message names, then run pleoauth doctor again")
	} else if err != nil {
		add("store", "fail", err.Error(), "see the message; --store file keeps the tokens (and a client secret typed or piped at login) in 0600 files instead")
	} else if g.StoreName() == config.StoreRedis {
		if err := g.ProbeStore(ctx); err != nil {
			add("store", "fail", err.Error(), "check PLEOAUTH_REDIS_URL, PLEOAUTH_REDIS_PASSWORD and PLEOAUTH_STORE_KEY")
		} else {
			add("store", "ok", "redis store: the lock taken and released, a sealed bundle written, read back and removed", "")
		}
	} else {
		add("store", "ok", g.StoreName()+" store: a file written and removed in "+filepath.Join(cfg.Home, "tokens"), "")
	}
	add(browserCheck(d.Getenv, runtime.GOOS, exec.LookPath))
	add(redirectCheck(env.RedirectURI))

	add(serverCheck(ctx, d, g))
	add(tokenCheck(ctx, d, g))
	if st, err := g.Status(ctx); err == nil && st.Bundle != nil && st.Bundle.AccessToken != "" && st.Bundle.Refused == nil && st.Unsaved == nil {
		add(refreshCheck(g, st.Bundle))
	}
	return out
}

// refreshCheck says whether the next refresh can be sent from here: a login whose client secret
// is kept nowhere works until its access token expires, and then not at all.
func refreshCheck(g *grant.Grant, b *store.Bundle) (string, string, string, string) {
	next := g.NextRefresh(b)
	switch {
	case next.OK:
		return "next refresh", "ok", "can be sent (" + next.Why + ")", ""
	case b.RefreshToken == "":
		return "next refresh", "warn", next.Why, next.Fix
	}
	return "next refresh", "fail", "cannot be sent: " + next.Why, next.Fix
}

// browserCheck says whether login can open a browser here: $BROWSER when set, else a desktop
// launcher, which needs a display on Linux and the BSDs ([browser.CanOpen]). Without one, login
// asks for the address to be pasted, which is the fix it names.
func browserCheck(getenv func(string) string, goos string, lookPath func(string) (string, error)) (string, string, string, string) {
	const pasteFix = "pleoauth login then asks for the address: open the URL it prints on any machine, log in, and paste the address your browser ends on (--no-browser goes straight to that)"
	if b := getenv("BROWSER"); b != "" {
		prog := strings.Fields(b)[0]
		if _, err := lookPath(prog); err != nil {
			return "browser", "fail", "$BROWSER names " + prog + ", which is not found", "fix $BROWSER, or use pleoauth login --no-browser and paste the address your browser ends on"
		}
		return "browser", "ok", "$BROWSER: " + b, ""
	}
	var candidates []string
	switch goos {
	case "darwin":
		candidates = []string{"open"}
	case "windows":
		return "browser", "ok", "the Windows default browser", ""
	default:
		if ok, why := browser.CanOpen(getenv, goos); !ok {
			return "browser", "warn", why, pasteFix + "; or set BROWSER"
		}
		candidates = []string{"xdg-open", "x-www-browser", "www-browser", "wslview"}
	}
	for _, c := range candidates {
		if p, err := lookPath(c); err == nil {
			return "browser", "ok", "launcher " + p, ""
		}
	}
	return "browser", "warn", "no browser launcher found (" + strings.Join(candidates, ", ") + ")", pasteFix
}

// redirectCheck says how the redirect reaches pleoauth: on its loopback listener, which needs
// the port free, or by paste when the redirect URI is a page off this machine — not a fault.
func redirectCheck(redirectURI string) (string, string, string, string) {
	if config.IsPasteBack(redirectURI) {
		return "redirect port", "ok", "paste-back (redirect to " + redirectURI + "): pleoauth login listens on no port and asks for the address your browser ends on", ""
	}
	l, err := loopback.Listen(mustParse(redirectURI))
	if err != nil {
		return "redirect port", "fail", err.Error(), "stop the program holding the port, or use pleoauth login --no-browser and paste the address"
	}
	l.Close()
	return "redirect port", "ok", redirectURI + " can be received on loopback", ""
}

// serverCheck asks the authorization server for anything, to learn that it answers over TLS,
// and compares its clock with ours: token expiry is judged on this machine's clock.
func serverCheck(ctx context.Context, d grant.Deps, g *grant.Grant) (string, string, string, string) {
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

func tokenCheck(ctx context.Context, d grant.Deps, g *grant.Grant) (string, string, string, string) {
	env := g.Env
	st, err := g.Status(ctx)
	b := st.Bundle
	switch {
	case err != nil && failure.KindOf(err) == failure.Usage:
		return "token", "fail", err.Error(), "fix the setting the message names; the stored tokens may be fine"
	case err != nil:
		return "token", "fail", err.Error(), fmt.Sprintf("run pleoauth login --env %s to replace the stored tokens", env.Name)
	case b == nil:
		return "token", "warn", "not logged in", fmt.Sprintf("run pleoauth login --env %s", env.Name)
	case b.Refused != nil:
		return "token", "fail", fmt.Sprintf("refresh token refused at %s (%s)", b.Refused.At.UTC().Format(time.RFC3339), b.Refused.Reason), fmt.Sprintf("run pleoauth login --env %s", env.Name)
	case st.Unsaved != nil && failure.KindOf(st.Unsaved) == failure.LoginRequired:
		return "token", "fail", st.Unsaved.Error(), fmt.Sprintf("run pleoauth login --env %s", env.Name)
	case st.Unsaved != nil:
		return "token", "warn", st.Unsaved.Error(), "wait, or run pleoauth on the machine named, which holds the answer"
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

// notSettings are PLEOAUTH_* variables that are not pleoauth's settings but are still read:
// the bundled server's secret, and the fault points of a crashpoints test build.
var notSettings = []string{"PLEOAUTH_DEVSERVER_CLIENT_SECRET", "PLEOAUTH_CRASH_AT", "PLEOAUTH_STOP_AT"}

// variablesCheck names the PLEOAUTH_* variables set in environ that pleoauth does not read,
// with the one each is a typo of: a misspelt PLEOAUTH_CLIENT_SECRT is otherwise silently
// ignored, and the login fails for a reason the user cannot see. Only names are shown, never
// values. No status when every one is known.
func variablesCheck(environ []string) (string, string, string, string) {
	known := append(config.Variables(), notSettings...)
	var unknown []string
	for _, kv := range environ {
		name, _, _ := strings.Cut(kv, "=")
		if strings.HasPrefix(name, "PLEOAUTH_") && !slices.Contains(known, name) {
			unknown = append(unknown, name+config.DidYouMean(name, known))
		}
	}
	if len(unknown) == 0 {
		return "", "", "", ""
	}
	slices.Sort(unknown)
	return "variables", "warn", "not read by pleoauth: " + strings.Join(unknown, ", "), "fix or unset them; pleoauth help environment lists the variables it reads"
}
