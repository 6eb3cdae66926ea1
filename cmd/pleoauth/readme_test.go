//go:build unix

package main

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/pleoauth/pleoauth/internal/devserver"
	"github.com/pleoauth/pleoauth/internal/keychaintest"
)

// A recipe is one ```sh block of the README, with what the comment just above it says about
// running it: nothing (run it with a Pleo environment played by the bundled server), "bare"
// (run it as written on a machine with no keychain and no pleoauth settings), "no-keychain"
// (as the first, with the keychain gone), or "skip by TEST because REASON" (another test
// covers it, and that test must exist).
type recipe struct {
	line    int
	mode    string
	by, why string
	text    string
}

var recipeMark = regexp.MustCompile(`^<!-- readme-test: (bare|no-keychain|skip by (\S+) because (.+)) -->$`)

// readRecipes finds the README's shell blocks and their marks. A mark that is not one of the
// known forms fails the test, so a typo cannot quietly skip a recipe.
func readRecipes(t *testing.T, path string) []recipe {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var (
		recipes []recipe
		mark    []string // the mark on the line before, if any
		block   *recipe
		n       int
	)
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		n++
		line := sc.Text()
		if mark != nil && line != "```sh" {
			t.Errorf("%s:%d: a recipe mark must sit right above a ```sh block", path, n-1)
		}
		switch {
		case block != nil && line == "```":
			recipes = append(recipes, *block)
			block = nil
		case block != nil:
			block.text += line + "\n"
		case line == "```sh":
			block = &recipe{line: n, mode: "run"}
			if mark != nil {
				block.mode = strings.Fields(mark[1])[0]
				block.by, block.why = mark[2], mark[3]
			}
		}
		mark = nil
		if block == nil && strings.HasPrefix(line, "<!-- readme-test") {
			if mark = recipeMark.FindStringSubmatch(line); mark == nil {
				t.Errorf("%s:%d: %q is not a recipe mark (bare, no-keychain, or skip by TEST because REASON)", path, n, line)
			}
		}
	}
	if block != nil {
		t.Fatalf("%s:%d: a ```sh block is never closed", path, block.line)
	}
	return recipes
}

// coveredBy tells whether the test a skipped recipe names exists: a Go test function, a
// testscript (TestScripts/NAME), or a file of the repository (a CI or release script).
func coveredBy(repo, by string) bool {
	if name, ok := strings.CutPrefix(by, "TestScripts/"); ok {
		_, err := os.Stat(filepath.Join(repo, "cmd", "pleoauth", "testdata", "script", name+".txtar"))
		return err == nil
	}
	if strings.HasPrefix(by, "Test") {
		out, _ := exec.Command("git", "-C", repo, "grep", "-l", "func "+by+"(t \\*testing.T)", "--", "*_test.go").Output()
		return len(out) > 0
	}
	_, err := os.Stat(filepath.Join(repo, by))
	return err == nil
}

// readmeClient is the client ID the README's placeholders become: a UUID, as Pleo's are.
const readmeClient = "3f2c6d1e-7a4b-4c1d-9e2f-0a1b2c3d4e5f"

// TestREADMERecipes runs every shell block of the README in order, as a newcomer would, so the
// README cannot drift from what pleoauth does. Pleo is played by the bundled server: its hosts
// in the text become the server's address, the placeholders become values it accepts, and a
// curl that follows redirects is the browser. The blocks share one HOME (and so one
// PLEOAUTH_HOME) and a real keychain, as on a developer's machine; a "bare" block runs with no
// keychain and none of these settings, on the fixed ports it names.
func TestREADMERecipes(t *testing.T) {
	repo, err := filepath.Abs(filepath.Join("..", ".."))
	if err != nil {
		t.Fatal(err)
	}
	recipes := readRecipes(t, filepath.Join(repo, "README.md"))
	if len(recipes) < 10 {
		t.Fatalf("README.md has %d shell blocks; the reader of this test expected the README's recipes", len(recipes))
	}
	for _, r := range recipes {
		if r.mode == "skip" && !coveredBy(repo, r.by) {
			t.Errorf("README.md:%d is skipped as covered by %s, which does not exist", r.line, r.by)
		}
	}
	kc := keychaintest.Require(t)

	work := t.TempDir()
	bin := filepath.Join(work, "bin")
	if err := os.MkdirAll(bin, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Link(buildPleoauth(t), filepath.Join(bin, "pleoauth")); err != nil {
		copyFile(t, buildPleoauth(t), filepath.Join(bin, "pleoauth"))
	}
	if out, err := exec.Command("go", "build", "-o", bin, "../pleoauth-devserver").CombinedOutput(); err != nil {
		t.Fatalf("go build pleoauth-devserver: %v\n%s", err, out)
	}
	// The reader's own program, which the exec recipe runs.
	writeExecutable(t, filepath.Join(work, "sync-expenses.py"),
		"#!/bin/sh\n# the reader's program: it needs a token and the API's address\ntest -n \"$PLEO_ACCESS_TOKEN\" && test -n \"$PLEO_API_URL\"\n")

	port, err := freePort()
	if err != nil {
		t.Fatal(err)
	}
	redirect := fmt.Sprintf("http://localhost:%d/callback", port)
	dev, err := devserver.New(devserver.Options{
		ClientID: readmeClient, ClientSecret: worldSecret, RedirectURIs: []string{redirect},
		AccessTTL: 15 * time.Minute, RefreshTTL: time.Hour, AutoApprove: true, ListItems: 25,
	})
	if err != nil {
		t.Fatal(err)
	}
	hs := httptest.NewServer(dev)
	t.Cleanup(hs.Close)

	home := filepath.Join(work, "home")
	if err := os.MkdirAll(home, 0o700); err != nil {
		t.Fatal(err)
	}
	base := []string{"HOME=" + home, "PATH=" + bin + string(os.PathListSeparator) + os.Getenv("PATH"), "LANG=C.UTF-8", "TERM=dumb"}
	// Pleo, played by the bundled server: every environment's URLs point at it, the browser
	// approves at once, and the secret the login prompt would ask for is in the environment.
	pleo := append(append([]string{}, base...),
		"PLEOAUTH_AUTH_SERVER_URL="+hs.URL, "PLEOAUTH_API_URL="+hs.URL, "PLEOAUTH_REDIRECT_URI="+redirect,
		"PLEOAUTH_CLIENT_SECRET="+worldSecret, "BROWSER=curl -fsS -L -o /dev/null")
	rewrite := strings.NewReplacer(
		"https://external.staging.pleo.io", hs.URL,
		"https://auth.staging.pleo.io", hs.URL,
		"<the client ID Pleo sent you>", readmeClient,
		"3f2c6d1e-…", readmeClient,
		"urn:pleo:company:<uuid>", "urn:pleo:company:7d6c5b4a-3f2e-4d1c-8b0a-9f8e7d6c5b4a",
		// bin/ is built already; make build is run by the demo and the release.
		"make build ", ": make build ",
	)

	for _, r := range recipes {
		var env []string
		switch r.mode {
		case "skip":
			continue
		case "bare":
			env = append(base, "DBUS_SESSION_BUS_ADDRESS=unix:path=/nonexistent/bus")
		case "no-keychain":
			env = append(pleo, "DBUS_SESSION_BUS_ADDRESS=unix:path=/nonexistent/bus")
		default:
			env = append(pleo, kc.Env...)
		}
		script := "set -euo pipefail\n" + rewrite.Replace(r.text)
		if r.mode == "bare" {
			script = "set -euo pipefail\n" + strings.ReplaceAll(r.text, "make build ", ": make build ")
		}
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
		cmd := exec.CommandContext(ctx, "bash", "-c", script)
		cmd.Dir, cmd.Env = work, env
		var out bytes.Buffer
		cmd.Stdout, cmd.Stderr = &out, &out
		cmd.WaitDelay = 5 * time.Second
		// Its own process group, so that what a recipe starts in the background (the
		// devserver) is stopped with it even when the recipe fails before its kill.
		cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
		cmd.Cancel = func() error { return syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL) }
		err := cmd.Run()
		if cmd.Process != nil {
			_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
		}
		cancel()
		if err != nil {
			t.Errorf("README.md:%d: the recipe failed (%v):\n%s\n--- output:\n%s", r.line, err, r.text, out.String())
		}
	}
}

func writeExecutable(t *testing.T, path, text string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(text), 0o755); err != nil {
		t.Fatal(err)
	}
}

func copyFile(t *testing.T, from, to string) {
	t.Helper()
	b, err := os.ReadFile(from)
	if err != nil {
		t.Fatal(err)
	}
	writeExecutable(t, to, string(b))
}

// TestDocsLinksResolve: every relative link of the README and of docs/ names a file that
// exists, so moving reference text into docs/ cannot leave the reader at a dead end.
func TestDocsLinksResolve(t *testing.T) {
	repo := filepath.Join("..", "..")
	pages, _ := filepath.Glob(filepath.Join(repo, "docs", "*.md"))
	pages = append(pages, filepath.Join(repo, "README.md"))
	link := regexp.MustCompile(`\]\(([^)#\s]+)(#[^)]*)?\)`)
	for _, page := range pages {
		b, err := os.ReadFile(page)
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range link.FindAllStringSubmatch(string(b), -1) {
			target := m[1]
			if strings.Contains(target, "://") || strings.HasPrefix(target, "mailto:") {
				continue
			}
			if _, err := os.Stat(filepath.Join(filepath.Dir(page), target)); err != nil {
				t.Errorf("%s links to %s, which does not exist", page, target)
			}
		}
	}
	// The README's own anchors, as GitHub makes them from its headings.
	b, err := os.ReadFile(filepath.Join(repo, "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	anchors := map[string]bool{}
	drop := regexp.MustCompile(`[^a-z0-9 _-]`)
	for _, line := range strings.Split(string(b), "\n") {
		if h, ok := strings.CutPrefix(strings.TrimLeft(line, "#"), " "); ok && strings.HasPrefix(line, "#") {
			anchors[strings.ReplaceAll(drop.ReplaceAllString(strings.ToLower(h), ""), " ", "-")] = true
		}
	}
	for _, m := range regexp.MustCompile(`\]\(#([^)]+)\)`).FindAllStringSubmatch(string(b), -1) {
		if !anchors[m[1]] {
			t.Errorf("README.md links to #%s, which no heading makes", m[1])
		}
	}
}

// TestConfigExamplesLoad: each config.yaml shown in docs/configuration.md (a ```yaml block with
// an environments: key) is one pleoauth reads without complaint, with its placeholders filled.
func TestConfigExamplesLoad(t *testing.T) {
	b, err := os.ReadFile(filepath.Join("..", "..", "docs", "configuration.md"))
	if err != nil {
		t.Fatal(err)
	}
	blocks := regexp.MustCompile("(?s)```yaml\n(.*?)```").FindAllStringSubmatch(string(b), -1)
	bin := buildPleoauth(t)
	var n int
	for _, m := range blocks {
		if !strings.Contains(m[1], "environments:") {
			continue
		}
		n++
		home := t.TempDir()
		yaml := strings.ReplaceAll(m[1], "3f2c6d1e-…", readmeClient)
		if err := os.WriteFile(filepath.Join(home, "config.yaml"), []byte(yaml), 0o600); err != nil {
			t.Fatal(err)
		}
		cmd := exec.Command(bin, "config", "list")
		cmd.Env = append(cleanEnv(), "PLEOAUTH_HOME="+home)
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Errorf("docs/configuration.md: pleoauth refuses the example\n%s\n--- %v:\n%s", yaml, err, out)
		}
	}
	if n < 2 {
		t.Errorf("docs/configuration.md has %d config.yaml examples; the reader of this test expected two", n)
	}
}
