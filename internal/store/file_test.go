package store

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestFileRoundTrip(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "tokens")
	f := File{Dir: dir}
	if _, err := f.Load("staging"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("Load before Save = %v; want ErrNotFound", err)
	}
	want := &Bundle{AccessToken: "a", RefreshToken: "r", TokenType: "bearer", Scope: "users:read",
		Expiry: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC), ObtainedAt: time.Date(2025, 12, 31, 23, 45, 0, 0, time.UTC)}
	if err := f.Save("staging", want); err != nil {
		t.Fatal(err)
	}
	got, err := f.Load("staging")
	if err != nil {
		t.Fatal(err)
	}
	if *got != *want {
		t.Errorf("Load = %+v; want %+v", got, want)
	}
	for path, mode := range map[string]os.FileMode{dir: 0o700, filepath.Join(dir, "staging.json"): 0o600} {
		fi, err := os.Stat(path)
		if err != nil {
			t.Fatal(err)
		}
		if fi.Mode().Perm() != mode {
			t.Errorf("%s mode %04o; want %04o", path, fi.Mode().Perm(), mode)
		}
	}
	entries, _ := os.ReadDir(dir)
	if len(entries) != 1 {
		t.Errorf("folder holds %d entries; want only the bundle (no temporary files left)", len(entries))
	}
	if err := f.Delete("staging"); err != nil {
		t.Fatal(err)
	}
	if _, err := f.Load("staging"); !errors.Is(err, ErrNotFound) {
		t.Errorf("Load after Delete = %v; want ErrNotFound", err)
	}
	if err := f.Delete("staging"); err != nil {
		t.Errorf("second Delete = %v", err)
	}
}

func TestFileRefusesLoosePermissions(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "tokens")
	f := File{Dir: dir}
	if err := f.Save("local", &Bundle{AccessToken: "a"}); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, "local.json")
	if err := os.Chmod(path, 0o644); err != nil {
		t.Fatal(err)
	}
	_, err := f.Load("local")
	if err == nil || !strings.Contains(err.Error(), "mode 0644") || !strings.Contains(err.Error(), "chmod 600") {
		t.Errorf("Load of a 0644 file = %v; want a refusal naming chmod 600", err)
	}
	os.Chmod(path, 0o600)
	os.Chmod(dir, 0o755)
	if err := f.Save("local", &Bundle{AccessToken: "b"}); err == nil || !strings.Contains(err.Error(), "mode 0755") {
		t.Errorf("Save into a 0755 folder = %v; want a refusal", err)
	}
}

func TestFileCorrupt(t *testing.T) {
	dir := privateDir(t)
	f := File{Dir: dir}
	for _, content := range []string{"", "{", `{"refresh_token":"r"}`, "\x00\x01"} {
		if err := os.WriteFile(filepath.Join(dir, "local.json"), []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
		var corrupt *CorruptError
		if _, err := f.Load("local"); !errors.As(err, &corrupt) {
			t.Errorf("Load(%q) = %v; want *CorruptError", content, err)
		}
	}
}

func TestEnvNames(t *testing.T) {
	f := File{Dir: t.TempDir()}
	for _, bad := range []string{"", "../x", "a/b", "UPPER", ".hidden", strings.Repeat("a", 65)} {
		if err := f.Save(bad, &Bundle{AccessToken: "a"}); err == nil {
			t.Errorf("Save(%q) succeeded", bad)
		}
	}
}

func TestValidFor(t *testing.T) {
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	b := &Bundle{AccessToken: "a", Expiry: now.Add(2 * time.Minute)}
	if !b.ValidFor(now, time.Minute) || b.ValidFor(now, 2*time.Minute) || b.ValidFor(now, 3*time.Minute) {
		t.Error("ValidFor misjudges a token expiring in 2 minutes")
	}
}

// privateDir is a fresh 0700 folder (t.TempDir's are 0755 under the usual umask).
func privateDir(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	if err := os.Chmod(dir, 0o700); err != nil {
		t.Fatal(err)
	}
	return dir
}
