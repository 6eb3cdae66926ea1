package cli

import (
	"context"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/pleoauth/pleoauth/internal/devserver"
	"github.com/pleoauth/pleoauth/internal/oauthtest"
)

// TestServeCreatesHome: serve run first with a PLEOAUTH_HOME that does not exist yet creates it
// (0700), as login does, and writes its key file there; an existing home of mode 0755, which
// login and token accept, is accepted too.
func TestServeCreatesHome(t *testing.T) {
	missing := filepath.Join(t.TempDir(), "new", "pleoauth")
	existing := filepath.Join(t.TempDir(), "pleoauth")
	if err := os.Mkdir(existing, 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(existing, 0o755); err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		name, home string
		mode       os.FileMode
	}{{"missing", missing, 0o700}, {"existing 0755", existing, 0o755}} {
		t.Run(tt.name, func(t *testing.T) { serveIn(t, tt.home, tt.mode) })
	}
}

func serveIn(t *testing.T, home string, mode os.FileMode) {
	h := newHarness(t)
	h.startDevserver(devserver.Options{AutoApprove: true})
	t.Setenv("PLEOAUTH_HOME", home)

	var stderr oauthtest.SyncBuffer
	d := h.deps(io.Discard)
	d.Stderr = &stderr
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	done := make(chan int, 1)
	go func() { done <- Main(ctx, []string{"serve", "--env", "local", "--addr", "127.0.0.1:0"}, d) }()
	deadline := time.After(30 * time.Second)
	for !strings.Contains(stderr.String(), "key in ") {
		select {
		case code := <-done:
			t.Fatalf("serve with PLEOAUTH_HOME %s ended with %d before listening: %s", home, code, stderr.String())
		case <-deadline:
			t.Fatalf("serve did not start within 30s: %s", stderr.String())
		case <-time.After(20 * time.Millisecond):
		}
	}
	fi, err := os.Stat(home)
	if err != nil || fi.Mode().Perm() != mode {
		t.Errorf("PLEOAUTH_HOME after serve: %v, %v; want a folder of mode %04o", fi, err, mode)
	}
	if _, err := os.Stat(filepath.Join(home, "serve.local.key")); err != nil {
		t.Errorf("serve's key file: %v", err)
	}
	cancel()
	select {
	case <-done:
	case <-time.After(30 * time.Second):
		t.Fatal("serve did not stop within 30s of its context ending")
	}
}
