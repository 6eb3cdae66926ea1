package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"go.yaml.in/yaml/v3"
)

// TestReleaseShipsEveryManPage: the Homebrew cask names its man pages one by one (the archives and
// packages take them by pattern), so a command added without its page in .goreleaser.yaml would
// ship without a man page on macOS.
func TestReleaseShipsEveryManPage(t *testing.T) {
	dir := t.TempDir()
	if err := run("", dir); err != nil {
		t.Fatal(err)
	}
	entries, err := os.ReadDir(filepath.Join(dir, "man1"))
	if err != nil {
		t.Fatal(err)
	}
	var built []string
	for _, e := range entries {
		built = append(built, "man/man1/"+e.Name()+".gz")
	}

	data, err := os.ReadFile(filepath.Join("..", "..", ".goreleaser.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	var release struct {
		Casks []struct {
			Manpages []string `yaml:"manpages"`
		} `yaml:"homebrew_casks"`
	}
	if err := yaml.Unmarshal(data, &release); err != nil {
		t.Fatalf(".goreleaser.yaml: %v", err)
	}
	if len(release.Casks) != 1 {
		t.Fatalf(".goreleaser.yaml has %d homebrew_casks; want 1", len(release.Casks))
	}
	listed := slices.Sorted(slices.Values(release.Casks[0].Manpages))
	slices.Sort(built)
	if !slices.Equal(listed, built) {
		t.Errorf("the cask's manpages in .goreleaser.yaml:\n%v\nthe pages the command tree makes:\n%v", listed, built)
	}
}

// TestManPages: "make docs" writes the pages into man1/, where man finds them
// (MANPATH=build/man man pleoauth-token), every command and help topic has one, and each is
// titled with its own command — PLEOAUTH-TOKEN(1) — rather than all PLEOAUTH(1).
func TestManPages(t *testing.T) {
	dir := t.TempDir()
	if err := run("", dir); err != nil {
		t.Fatal(err)
	}
	for page, title := range map[string]string{
		"pleoauth.1":             `.TH "PLEOAUTH" "1"`,
		"pleoauth-token.1":       `.TH "PLEOAUTH-TOKEN" "1"`,
		"pleoauth-config-set.1":  `.TH "PLEOAUTH-CONFIG-SET" "1"`,
		"pleoauth-exit-codes.1":  `.TH "PLEOAUTH-EXIT-CODES" "1"`,
		"pleoauth-environment.1": `.TH "PLEOAUTH-ENVIRONMENT" "1"`,
	} {
		data, err := os.ReadFile(filepath.Join(dir, "man1", page))
		if err != nil {
			t.Errorf("no man1/%s: %v", page, err)
			continue
		}
		if !strings.Contains(string(data), title+" ") {
			first, _, _ := strings.Cut(strings.SplitN(string(data), ".TH", 2)[1], "\n")
			t.Errorf("man1/%s is titled .TH%s; want %s", page, first, title)
		}
	}
	if _, err := exec.LookPath("man"); err != nil {
		return
	}
	cmd := exec.Command("man", "-w", "pleoauth-exit-codes")
	cmd.Env = append(os.Environ(), "MANPATH="+dir)
	if out, err := cmd.CombinedOutput(); err != nil || strings.TrimSpace(string(out)) != filepath.Join(dir, "man1", "pleoauth-exit-codes.1") {
		t.Errorf("MANPATH=%s man -w pleoauth-exit-codes = %q, %v", dir, out, err)
	}
}
