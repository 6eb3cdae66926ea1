package oauthtest

import (
	"os"
	"os/exec"
	"testing"

	"github.com/pleoauth/pleoauth/internal/config"
)

// RequireRoot fails the test in CI, which runs as root and must run it, and skips it elsewhere
// without root, saying what needs root.
func RequireRoot(t testing.TB, what string) {
	t.Helper()
	if os.Geteuid() == 0 {
		return
	}
	if config.IsCI(os.Getenv) {
		t.Fatalf("CI runs as root and must %s", what)
	}
	t.Skipf("needs root to %s; run as root (CI does)", what)
}

// BindMount mounts src over dst, one file, as Docker's -v FILE:FILE and a Kubernetes subPath
// mount a file into a container (rename(2) over dst then answers EBUSY); with ro, read-only.
// It is unmounted when the test ends.
func BindMount(t testing.TB, src, dst string, ro bool) {
	t.Helper()
	RequireRoot(t, "bind-mount a file")
	if out, err := exec.Command("mount", "--bind", src, dst).CombinedOutput(); err != nil {
		t.Fatalf("mount --bind: %v\n%s", err, out)
	}
	t.Cleanup(func() { _ = exec.Command("umount", dst).Run() })
	if ro {
		if out, err := exec.Command("mount", "-o", "remount,bind,ro", dst).CombinedOutput(); err != nil {
			t.Fatalf("remount ro: %v\n%s", err, out)
		}
	}
}
