package store

import (
	"os"
	"path/filepath"
	"testing"
	"time"
)

// A secret kept by the file store: 0600 beside the tokens, read back as saved, gone after
// Delete, refused when it is not one line; a file open to others is refused, not read.
func TestFileSecret(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "tokens")
	s := FileSecret{Dir: dir}
	if got, err := s.Load("local@acme"); got != "" || err != nil {
		t.Fatalf("Load before Save = %q, %v; want nothing", got, err)
	}
	if err := s.Save("local@acme", "s3cr3t"); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, "local@acme.client-secret")
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if fi.Mode().Perm() != 0o600 {
		t.Errorf("%s mode %04o; want 0600", path, fi.Mode().Perm())
	}
	if got, err := s.Load("local@acme"); got != "s3cr3t" || err != nil {
		t.Errorf("Load = %q, %v; want s3cr3t", got, err)
	}
	if got, _ := s.Load("local"); got != "" {
		t.Errorf("another login's Load = %q; want nothing (one secret per login)", got)
	}
	for _, bad := range []string{"", "two\nlines"} {
		if err := s.Save("local", bad); err == nil {
			t.Errorf("Save(%q) = nil; want an error", bad)
		}
	}
	if err := os.Chmod(path, 0o644); err != nil {
		t.Fatal(err)
	}
	if got, err := s.Load("local@acme"); got != "" || err == nil {
		t.Errorf("Load of a file others can read = %q, %v; want an error", got, err)
	}
	if err := s.Delete("local@acme"); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(path); !os.IsNotExist(err) {
		t.Errorf("after Delete, %s: %v; want it gone", path, err)
	}
	if err := s.Delete("local@acme"); err != nil {
		t.Errorf("second Delete = %v; want nil", err)
	}
}

// Holder finds a login where it is by its file alone, the one written last when both stores
// hold it.
func TestHolder(t *testing.T) {
	old := time.Now().Add(-time.Hour)
	tests := []struct {
		name  string
		files map[string]time.Time // file name → modification time
		want  string
	}{
		{"nothing", nil, ""},
		{"file store", map[string]time.Time{"local.json": old}, "file"},
		{"keyring store", map[string]time.Time{"local.enc": old}, "keyring"},
		{"both, the file newer", map[string]time.Time{"local.json": time.Now(), "local.enc": old}, "file"},
		{"both, the sealed newer", map[string]time.Time{"local.json": old, "local.enc": time.Now()}, "keyring"},
		{"another profile only", map[string]time.Time{"local@acme.json": old}, ""},
		{"a kept secret is no login", map[string]time.Time{"local.client-secret": old}, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			for name, mtime := range tt.files {
				path := filepath.Join(dir, name)
				if err := os.WriteFile(path, []byte("{}"), 0o600); err != nil {
					t.Fatal(err)
				}
				if err := os.Chtimes(path, mtime, mtime); err != nil {
					t.Fatal(err)
				}
			}
			if got := Holder(dir, "local"); got != tt.want {
				t.Errorf("Holder = %q; want %q", got, tt.want)
			}
		})
	}
}
