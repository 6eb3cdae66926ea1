//go:build unix

package serve

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// claimWithin is Claim with a deadline: opening a FIFO blocks until a writer comes, which would
// leave serve hanging at start; past the deadline the test opens the FIFO for writing, which
// frees Claim, and fails.
func claimWithin(t *testing.T, path string, deadline time.Duration) (func(), error) {
	t.Helper()
	type result struct {
		release func()
		err     error
	}
	done := make(chan result, 1)
	go func() {
		release, err := Claim(path)
		done <- result{release, err}
	}()
	select {
	case r := <-done:
		return r.release, r.err
	case <-time.After(deadline):
	}
	t.Errorf("Claim(%s) still blocks after %v; serve would hang at start", filepath.Base(path), deadline)
	if w, err := os.OpenFile(path, os.O_WRONLY|syscall.O_NONBLOCK, 0); err == nil {
		defer w.Close()
	}
	select {
	case r := <-done:
		return r.release, r.err
	case <-time.After(deadline):
		t.Fatalf("Claim(%s) blocks even with a writer", filepath.Base(path))
		return nil, nil
	}
}

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
		if release, err := claimWithin(t, path, 10*time.Second); err == nil {
			release()
			t.Errorf("Claim(%s) took it", filepath.Base(path))
		}
	}
	if _, err := os.Lstat(filepath.Join(dir, "elsewhere")); !os.IsNotExist(err) {
		t.Errorf("Claim wrote through the link: %v", err)
	}
}

// TestClaimWithoutAReadablePID: when the claim's holder cannot be named (its pid file holds no
// pid: a serve stopped between taking the lock and writing it), a second serve is still refused,
// and told which lock file is held instead of a made-up pid.
func TestClaimWithoutAReadablePID(t *testing.T) {
	for _, content := range []string{"", "not a pid\n", "0\n", "-4242\n"} {
		lock := filepath.Join(t.TempDir(), "serve.local.lock")
		release, err := Claim(lock)
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(lock, []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
		_, err = Claim(lock)
		release()
		var running *AlreadyServedError
		if !errors.As(err, &running) || running.PID != 0 || !strings.Contains(err.Error(), lock) || strings.Contains(err.Error(), "(pid") {
			t.Errorf("a second Claim with %q in the lock file = %v; want *AlreadyServedError naming %s and no pid", content, err, lock)
		}
	}
}

// TestClaimUnderAFile: a lock file that cannot even be looked at (its directory is a file) is
// an error, not a claim.
func TestClaimUnderAFile(t *testing.T) {
	file := filepath.Join(t.TempDir(), "home")
	if err := os.WriteFile(file, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	if release, err := Claim(filepath.Join(file, "serve.local.lock")); err == nil {
		release()
		t.Fatal("Claim took a lock file under a regular file")
	}
}
