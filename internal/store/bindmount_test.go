package store

import (
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/pleoauth/pleoauth/internal/oauthtest"
)

// bindMountedStores are the stores whose bundle is one file: a bind mount of that file is
// written in place.
func bindMountedStores(t *testing.T, dir string) map[string]interface {
	Load(string) (*Bundle, error)
	Save(string, *Bundle) error
} {
	return map[string]interface {
		Load(string) (*Bundle, error)
		Save(string, *Bundle) error
	}{
		"file":    File{Dir: filepath.Join(dir, "file")},
		"keyring": Keyring{Dir: filepath.Join(dir, "keyring"), Scope: dir, Keychain: &fakeKeychain{}},
	}
}

// TestBindMountedFileIsWrittenInPlace: a token file mounted into a container on its own cannot
// be renamed over (EBUSY); the save writes it in place, synced, and leaves no temporary file.
func TestBindMountedFileIsWrittenInPlace(t *testing.T) {
	for name, st := range bindMountedStores(t, t.TempDir()) {
		t.Run(name, func(t *testing.T) {
			first := &Bundle{AccessToken: "first-access", RefreshToken: "first-refresh", Expiry: time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)}
			if err := st.Save("local", first); err != nil {
				t.Fatal(err)
			}
			path := bundlePath(st, "local")
			outside := filepath.Join(t.TempDir(), "mounted")
			data, _ := os.ReadFile(path)
			if err := os.WriteFile(outside, data, 0o600); err != nil {
				t.Fatal(err)
			}
			oauthtest.BindMount(t, outside, path, false)
			if err := os.Rename(outside, path); err == nil || !strings.Contains(err.Error(), "busy") {
				t.Fatalf("rename over the mount = %v; want EBUSY (the case this test is about)", err)
			}
			// A longer bundle, then a shorter one: in place, the file is cut to the new length.
			for _, access := range []string{strings.Repeat("l", 600), "short-access"} {
				want := &Bundle{AccessToken: access, RefreshToken: "r-" + access[:5], Expiry: first.Expiry}
				if err := st.Save("local", want); err != nil {
					t.Fatalf("Save over a bind-mounted file: %v", err)
				}
				got, err := st.Load("local")
				if err != nil || got.AccessToken != want.AccessToken || got.RefreshToken != want.RefreshToken {
					t.Fatalf("Load after the save = %+v, %v; want %s", got, err, access[:5])
				}
			}
			// The mount's source holds it: the host sees what the container saved.
			if host, _ := os.ReadFile(outside); len(host) == 0 || string(host) == string(data) {
				t.Error("the file behind the bind mount was not written")
			}
			if left, _ := filepath.Glob(filepath.Join(filepath.Dir(path), ".*tmp*")); len(left) > 0 {
				t.Errorf("temporary files left: %v", left)
			}
		})
	}
}

// TestReadOnlyBindMountKeepsTheBundle: a token file mounted read-only can be neither renamed
// over nor written: the save fails naming the file, and the bundle stays as it was.
func TestReadOnlyBindMountKeepsTheBundle(t *testing.T) {
	for name, st := range bindMountedStores(t, t.TempDir()) {
		t.Run(name, func(t *testing.T) {
			first := &Bundle{AccessToken: "first-access", RefreshToken: "first-refresh", Expiry: time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)}
			if err := st.Save("local", first); err != nil {
				t.Fatal(err)
			}
			path := bundlePath(st, "local")
			oauthtest.BindMount(t, path, path, true)
			err := st.Save("local", &Bundle{AccessToken: "second", RefreshToken: "second-refresh"})
			if err == nil || !strings.Contains(err.Error(), path) || !strings.Contains(err.Error(), "read-only") {
				t.Fatalf("Save over a read-only mount = %v; want an error naming %s as read-only", err, path)
			}
			if got, err := st.Load("local"); err != nil || got.AccessToken != "first-access" {
				t.Fatalf("after the failed save: %+v, %v; want the first bundle", got, err)
			}
			if left, _ := filepath.Glob(filepath.Join(filepath.Dir(path), ".*tmp*")); len(left) > 0 {
				t.Errorf("temporary files left: %v", left)
			}
		})
	}
}

// TestImmutableFileKeepsTheBundle: chattr +i (EPERM on rename and on write) fails the save and
// keeps the bundle.
func TestImmutableFileKeepsTheBundle(t *testing.T) {
	oauthtest.RequireRoot(t, "make a file immutable")
	dir := mountTmpfs(t, "size=1m,mode=0700")
	st := File{Dir: filepath.Join(dir, "tokens")}
	first := &Bundle{AccessToken: "first-access", RefreshToken: "first-refresh"}
	if err := st.Save("local", first); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(st.Dir, "local.json")
	if out, err := exec.Command("chattr", "+i", path).CombinedOutput(); err != nil {
		t.Fatalf("chattr +i: %v\n%s", err, out)
	}
	t.Cleanup(func() { _ = exec.Command("chattr", "-i", path).Run() })
	err := st.Save("local", &Bundle{AccessToken: "second", RefreshToken: "second-refresh"})
	if err == nil || !errors.Is(err, os.ErrPermission) || !strings.Contains(err.Error(), path) {
		t.Fatalf("Save over an immutable file = %v; want a permission error naming %s", err, path)
	}
	if got, err := st.Load("local"); err != nil || got.AccessToken != "first-access" {
		t.Fatalf("after the failed save: %+v, %v; want the first bundle", got, err)
	}
}

func bundlePath(st any, env string) string {
	switch s := st.(type) {
	case File:
		return filepath.Join(s.Dir, env+".json")
	case Keyring:
		return filepath.Join(s.Dir, env+".enc")
	}
	panic("no file store")
}
