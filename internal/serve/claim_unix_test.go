//go:build unix

package serve

import (
	"os"
	"path/filepath"
	"syscall"
	"testing"
)

func TestClaimRefusesAnOddLockFile(t *testing.T) {
	dir := t.TempDir()
	fifo := filepath.Join(dir, "fifo.lock")
	if err := syscall.Mkfifo(fifo, 0o600); err != nil {
		t.Skip("no FIFOs here:", err)
	}
	link := filepath.Join(dir, "link.lock")
	if err := os.Symlink(filepath.Join(dir, "elsewhere"), link); err != nil {
		t.Fatal(err)
	}
	loose := filepath.Join(dir, "loose.lock")
	if err := os.WriteFile(loose, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	for _, path := range []string{fifo, link, loose} {
		if release, err := Claim(path); err == nil {
			release()
			t.Errorf("Claim(%s) took it", filepath.Base(path))
		}
	}
	if _, err := os.Lstat(filepath.Join(dir, "elsewhere")); !os.IsNotExist(err) {
		t.Errorf("Claim wrote through the link: %v", err)
	}
}
