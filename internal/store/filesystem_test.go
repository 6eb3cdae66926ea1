package store

import (
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/pleoauth/pleoauth/internal/config"
)

// mountTmpfs mounts a small tmpfs for the test, which needs root; CI runs as root.
func mountTmpfs(t *testing.T, options string) string {
	t.Helper()
	if os.Geteuid() != 0 {
		if config.IsCI(os.Getenv) {
			t.Fatal("CI runs as root and must run the file system tests")
		}
		t.Skip("needs root to mount a tmpfs; run as root (CI does)")
	}
	dir := t.TempDir()
	if out, err := exec.Command("mount", "-t", "tmpfs", "-o", options, "tmpfs", dir).CombinedOutput(); err != nil {
		t.Fatalf("mount tmpfs: %v\n%s", err, out)
	}
	t.Cleanup(func() { _ = exec.Command("umount", dir).Run() })
	if err := os.Chmod(dir, 0o700); err != nil && !errors.Is(err, syscall.EROFS) {
		t.Fatal(err)
	}
	return dir
}

// TestDiskFullKeepsTheOldBundle fills a small file system and then saves a bigger bundle: the
// save fails with a message about the disk, and the bundle saved before is read back intact.
func TestDiskFullKeepsTheOldBundle(t *testing.T) {
	dir := mountTmpfs(t, "size=64k,mode=0700")
	f := File{Dir: filepath.Join(dir, "tokens")}
	old := &Bundle{AccessToken: "old-access", RefreshToken: "old-refresh", Expiry: time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)}
	if err := f.Save("local", old); err != nil {
		t.Fatal(err)
	}
	// Fill what is left.
	filler, err := os.Create(filepath.Join(dir, "filler"))
	if err != nil {
		t.Fatal(err)
	}
	chunk := make([]byte, 4096)
	for {
		if _, err := filler.Write(chunk); err != nil {
			break
		}
	}
	filler.Close()

	err = f.Save("local", &Bundle{AccessToken: strings.Repeat("n", 32<<10), RefreshToken: "new-refresh"})
	if err == nil || !errors.Is(err, syscall.ENOSPC) || !strings.Contains(err.Error(), "the disk is full") {
		t.Fatalf("Save on a full disk = %v; want ENOSPC with the next step", err)
	}
	got, err := f.Load("local")
	if err != nil || *got != *old {
		t.Fatalf("after the failed save: %+v, %v; want the old bundle", got, err)
	}
	leftovers, _ := filepath.Glob(filepath.Join(dir, "tokens", ".*tmp*"))
	if len(leftovers) != 0 {
		t.Errorf("temporary files left: %v", leftovers)
	}
	// The check before a login finds the full disk too, rather than letting the login's answer
	// be lost to it, and leaves no probe behind.
	if err := f.Check(); !errors.Is(err, syscall.ENOSPC) || !strings.Contains(err.Error(), "the disk is full") {
		t.Errorf("Check on a full disk = %v; want ENOSPC with the next step", err)
	}
	if probes, _ := filepath.Glob(filepath.Join(dir, "tokens", ".probe-*")); len(probes) != 0 {
		t.Errorf("probe files left: %v", probes)
	}
}

// TestReadOnlyHome: a read-only PLEOAUTH_HOME gives a clear error, not a crash.
func TestReadOnlyHome(t *testing.T) {
	dir := mountTmpfs(t, "size=64k,ro,mode=0700")
	for _, s := range []interface {
		Save(string, *Bundle) error
	}{File{Dir: filepath.Join(dir, "tokens")}, File{Dir: dir}} {
		err := s.Save("local", &Bundle{AccessToken: "a"})
		if err == nil || !strings.Contains(err.Error(), "read-only file system") || !strings.Contains(err.Error(), "point PLEOAUTH_HOME at a writable folder") {
			t.Errorf("Save on a read-only file system = %v", err)
		}
	}
}
