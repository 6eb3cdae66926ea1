package main

import (
	"os"
	"path/filepath"
	"slices"
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
	entries, err := os.ReadDir(dir)
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
