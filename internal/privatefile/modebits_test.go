package privatefile_test

import (
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"testing"

	"github.com/pleoauth/pleoauth/internal/privatefile"
)

// TestEveryModeBit: each permission bit added to a private file (0600) or folder (0700) on its
// own: any group or other bit makes Check refuse it; CheckNotWritableByOthers refuses a folder
// only for a group or other write bit. Setuid, setgid and sticky grant nothing to anyone
// without a group or other bit, so they are accepted (a sticky folder others can write to is
// TestSharedFolderAdvice's).
func TestEveryModeBit(t *testing.T) {
	type bit struct {
		name string
		mode fs.FileMode
		// private: Check accepts it; othersCannotWrite: CheckNotWritableByOthers accepts it.
		private, othersCannotWrite bool
	}
	bits := []bit{
		{"none", 0, true, true},
		{"group read", 0o040, false, true},
		{"group write", 0o020, false, false},
		{"group execute", 0o010, false, true},
		{"other read", 0o004, false, true},
		{"other write", 0o002, false, false},
		{"other execute", 0o001, false, true},
		{"group read and execute (0750 folder, 0650 file)", 0o050, false, true},
		{"group read and write (0660 file, 0760 folder)", 0o060, false, false},
		{"setuid", fs.ModeSetuid, true, true},
		{"setgid", fs.ModeSetgid, true, true},
		{"sticky", fs.ModeSticky, true, true},
	}
	base := t.TempDir()
	for _, kind := range []struct {
		name  string
		owner fs.FileMode
		make  func(path string) error
	}{
		{"file", 0o600, func(p string) error { return os.WriteFile(p, nil, 0o600) }},
		{"folder", 0o700, func(p string) error { return os.Mkdir(p, 0o700) }},
	} {
		for i, b := range bits {
			mode := kind.owner | b.mode
			t.Run(kind.name+" "+b.name, func(t *testing.T) {
				path := filepath.Join(base, fmt.Sprintf("%s-%d", kind.name, i))
				if err := kind.make(path); err != nil {
					t.Fatal(err)
				}
				if err := os.Chmod(path, mode); err != nil {
					t.Fatal(err)
				}
				if err := privatefile.Check(path, kind.owner); (err == nil) != b.private {
					t.Errorf("Check(%s, mode %v) = %v; want accepted %v", kind.name, mode, err, b.private)
				}
				if kind.name != "folder" {
					return
				}
				if err := privatefile.EnsureDir(path); (err == nil) != b.private {
					t.Errorf("EnsureDir(mode %v) = %v; want accepted %v", mode, err, b.private)
				}
				if err := privatefile.CheckNotWritableByOthers(path); (err == nil) != b.othersCannotWrite {
					t.Errorf("CheckNotWritableByOthers(mode %v) = %v; want accepted %v", mode, err, b.othersCannotWrite)
				}
			})
		}
	}
}
