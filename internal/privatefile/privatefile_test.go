package privatefile_test

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/pleoauth/pleoauth/internal/oauthtest"
	"github.com/pleoauth/pleoauth/internal/privatefile"
)

// privateDir is a 0700 folder for a test.
func privateDir(t *testing.T) string {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "private")
	if err := privatefile.EnsureDir(dir); err != nil {
		t.Fatal(err)
	}
	return dir
}

func TestWriteReplacesWholeAndPrivate(t *testing.T) {
	path := filepath.Join(privateDir(t), "bundle")
	for _, data := range []string{"first, and the longer of the two", "second"} {
		if err := privatefile.Write(path, []byte(data)); err != nil {
			t.Fatal(err)
		}
		got, err := os.ReadFile(path)
		if err != nil || string(got) != data {
			t.Fatalf("read back %q, %v; want %q", got, err, data)
		}
		if fi, _ := os.Stat(path); fi.Mode().Perm() != 0o600 {
			t.Errorf("mode %04o; want 0600", fi.Mode().Perm())
		}
	}
	if left := privatefile.Leftovers(path); len(left) != 0 {
		t.Errorf("temporary files left: %v", left)
	}
}

func TestCheck(t *testing.T) {
	dir := privateDir(t)
	tests := []struct {
		name string
		mode fs.FileMode
		link bool
		want string // "" for accepted
	}{
		{"owner only", 0o600, false, ""},
		{"group may read", 0o640, false, "looser than 0600"},
		{"others may read", 0o604, false, "looser than 0600"},
		{"group may write", 0o620, false, "looser than 0600"},
		{"a symbolic link", 0o600, true, "symbolic link"},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := filepath.Join(dir, fmt.Sprint(i))
			target := path
			if tt.link {
				target = path + ".target"
			}
			if err := os.WriteFile(target, nil, tt.mode); err != nil {
				t.Fatal(err)
			}
			if err := os.Chmod(target, tt.mode); err != nil {
				t.Fatal(err)
			}
			if tt.link {
				if err := os.Symlink(target, path); err != nil {
					t.Fatal(err)
				}
			}
			err := privatefile.Check(path, 0o600)
			if tt.want == "" && err != nil || tt.want != "" && (err == nil || !strings.Contains(err.Error(), tt.want)) {
				t.Errorf("Check = %v; want %q", err, tt.want)
			}
		})
	}
	if err := privatefile.Check(filepath.Join(dir, "missing"), 0o600); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("Check of a missing file = %v; want fs.ErrNotExist", err)
	}
}

func TestFolders(t *testing.T) {
	base := t.TempDir()
	for _, tt := range []struct {
		mode    fs.FileMode
		private bool // EnsureDir accepts it
		shared  bool // CheckNotWritableByOthers accepts it
	}{
		{0o700, true, true},
		{0o750, false, true},
		{0o755, false, true},
		{0o770, false, false},
		{0o757, false, false},
	} {
		dir := filepath.Join(base, fmt.Sprintf("%04o", tt.mode))
		if err := os.Mkdir(dir, 0o700); err != nil {
			t.Fatal(err)
		}
		if err := os.Chmod(dir, tt.mode); err != nil {
			t.Fatal(err)
		}
		if err := privatefile.EnsureDir(dir); (err == nil) != tt.private {
			t.Errorf("EnsureDir(%04o) = %v; want accepted %v", tt.mode, err, tt.private)
		}
		if err := privatefile.CheckNotWritableByOthers(dir); (err == nil) != tt.shared {
			t.Errorf("CheckNotWritableByOthers(%04o) = %v; want accepted %v", tt.mode, err, tt.shared)
		}
	}
	made := filepath.Join(base, "made", "deeper")
	if err := privatefile.EnsureDir(made); err != nil {
		t.Fatal(err)
	}
	if fi, _ := os.Stat(made); fi.Mode().Perm() != 0o700 {
		t.Errorf("EnsureDir made %04o; want 0700", fi.Mode().Perm())
	}
}

func TestExplainNamesTheNextStep(t *testing.T) {
	for _, tt := range []struct {
		err  error
		want string
	}{
		{syscall.EROFS, "point PLEOAUTH_HOME at a writable folder"},
		{syscall.ENOSPC, "free some space"},
		{fs.ErrPermission, "fix the folder's owner and mode"},
	} {
		got := privatefile.Explain(fmt.Errorf("write x: %w", tt.err))
		if !strings.Contains(got.Error(), tt.want) || !errors.Is(got, tt.err) {
			t.Errorf("Explain(%v) = %v; want %q, still wrapping the cause", tt.err, got, tt.want)
		}
	}
	if other := errors.New("other"); privatefile.Explain(other) != other {
		t.Error("Explain changed an error it has nothing to add to")
	}
}

func TestLeftoversNewestFirst(t *testing.T) {
	dir := privateDir(t)
	path := filepath.Join(dir, "bundle")
	for i, name := range []string{".bundle.tmp-old", ".bundle.tmp-new", ".other.tmp-x", "bundle"} {
		f := filepath.Join(dir, name)
		if err := os.WriteFile(f, nil, 0o600); err != nil {
			t.Fatal(err)
		}
		mt := time.Now().Add(time.Duration(i) * time.Minute)
		if err := os.Chtimes(f, mt, mt); err != nil {
			t.Fatal(err)
		}
	}
	got := privatefile.Leftovers(path)
	want := []string{filepath.Join(dir, ".bundle.tmp-new"), filepath.Join(dir, ".bundle.tmp-old")}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("Leftovers = %v; want %v", got, want)
	}
}

// TestReplaceWithABindMount: a file that rename(2) cannot replace (EBUSY: one file
// bind-mounted) is written in place, cut to the new length, and the temporary file removed;
// mounted read-only, the write fails and the temporary file is removed, the file untouched.
func TestReplaceWithABindMount(t *testing.T) {
	dir := privateDir(t)
	path := filepath.Join(dir, "bundle")
	outside := filepath.Join(t.TempDir(), "outside")
	if err := os.WriteFile(outside, []byte("the old, longer content"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	oauthtest.BindMount(t, outside, path, false)
	if err := privatefile.Write(path, []byte("new")); err != nil {
		t.Fatalf("Write over a bind mount: %v", err)
	}
	if got, _ := os.ReadFile(outside); string(got) != "new" {
		t.Errorf("the mounted file holds %q; want %q", got, "new")
	}
	if left := privatefile.Leftovers(path); len(left) != 0 {
		t.Errorf("temporary files left: %v", left)
	}

	oauthtest.BindMount(t, outside, path, true)
	err := privatefile.Write(path, []byte("refused"))
	if err == nil || !strings.Contains(err.Error(), path) || !strings.Contains(err.Error(), "read-only") {
		t.Errorf("Write over a read-only mount = %v; want an error naming %s as read-only", err, path)
	}
	if got, _ := os.ReadFile(outside); string(got) != "new" {
		t.Errorf("the mounted file holds %q after a refused write; want it unchanged", got)
	}
	if left := privatefile.Leftovers(path); len(left) != 0 {
		t.Errorf("temporary files left: %v", left)
	}
}

// TestSharedFolderAdvice: a sticky folder every user can write to (/tmp) is refused with the
// advice to use a private folder, never a chmod of the shared one; a plain loose folder still
// gets its chmod.
func TestSharedFolderAdvice(t *testing.T) {
	base := t.TempDir()
	for _, tt := range []struct {
		mode      fs.FileMode
		want, not string
	}{
		{0o777 | fs.ModeSticky, "use a private folder instead, e.g. mkdir -m 700", "chmod"},
		{0o733 | fs.ModeSticky, "mode 1733", "chmod"},
		{0o777, "chmod go-w", "private folder"},
	} {
		dir := filepath.Join(base, fmt.Sprintf("%o", uint32(tt.mode)))
		if err := os.Mkdir(dir, 0o700); err != nil {
			t.Fatal(err)
		}
		if err := os.Chmod(dir, tt.mode); err != nil {
			t.Fatal(err)
		}
		checks := map[string]func() error{
			"CheckNotWritableByOthers": func() error { return privatefile.CheckNotWritableByOthers(dir) },
			"EnsureDir":                func() error { return privatefile.EnsureDir(dir) },
		}
		for name, check := range checks {
			err := check()
			if err == nil {
				t.Errorf("%s(mode %v) = nil; want refused", name, tt.mode)
				continue
			}
			if name == "EnsureDir" && tt.mode&fs.ModeSticky == 0 {
				continue // a private folder's chmod is EnsureDir's own advice
			}
			if !strings.Contains(err.Error(), tt.want) || strings.Contains(err.Error(), tt.not) {
				t.Errorf("%s(mode %v) = %q; want %q and no %q", name, tt.mode, err, tt.want, tt.not)
			}
		}
	}
}
