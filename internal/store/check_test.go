package store

import (
	"errors"
	"os"
	"path/filepath"
	"testing"
)

// TestStoreCheck: before a login starts, Check proves a file can be written in the store's
// folder — created private (0700) when missing — and leaves nothing behind; a folder that
// cannot be one (a file in its place) or a keychain that does not answer fails it.
func TestStoreCheck(t *testing.T) {
	type checker interface{ Check() error }
	tests := []struct {
		name string
		make func(dir string) checker
	}{
		{"file", func(dir string) checker { return File{Dir: dir} }},
		{"keyring", func(dir string) checker { return Keyring{Dir: dir, Scope: dir, Keychain: &fakeKeychain{}} }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := filepath.Join(t.TempDir(), "tokens")
			if err := tt.make(dir).Check(); err != nil {
				t.Fatalf("Check of a new folder = %v; want nil", err)
			}
			fi, err := os.Stat(dir)
			if err != nil || fi.Mode().Perm() != 0o700 {
				t.Fatalf("the folder after Check: %v, %v; want 0700", fi, err)
			}
			if entries, _ := os.ReadDir(dir); len(entries) != 0 {
				t.Errorf("Check left %d files behind; want none", len(entries))
			}
			notDir := filepath.Join(t.TempDir(), "file")
			if err := os.WriteFile(notDir, nil, 0o600); err != nil {
				t.Fatal(err)
			}
			if err := tt.make(filepath.Join(notDir, "tokens")).Check(); err == nil {
				t.Error("Check of a folder under a file = nil; want an error")
			}
			if err := os.Chmod(dir, 0o755); err != nil {
				t.Fatal(err)
			}
			if err := tt.make(dir).Check(); err == nil {
				t.Error("Check of a folder others can read = nil; want an error")
			}
		})
	}
	t.Run("keyring that does not answer", func(t *testing.T) {
		down := errors.New("The name org.freedesktop.secrets was not provided by any .service files")
		k := Keyring{Dir: t.TempDir(), Keychain: &fakeKeychain{Err: down}}
		if err := k.Check(); !errors.Is(err, ErrKeychainUnavailable) {
			t.Errorf("Check = %v; want ErrKeychainUnavailable", err)
		}
	})
}
