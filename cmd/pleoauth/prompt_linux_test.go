package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// TestCtrlCAtTheSecretPrompt: Ctrl-C while login asks for the client secret ends it at once
// with 130 and gives the terminal its echo back — not a hang until Enter, then "no client
// secret" with exit 1.
func TestCtrlCAtTheSecretPrompt(t *testing.T) {
	w := newWorld(t, 15*time.Minute, "PLEOAUTH_STORE=file", "BROWSER=true")
	env := w.env[:0:0]
	for _, kv := range w.env {
		if !strings.HasPrefix(kv, "PLEOAUTH_CLIENT_SECRET=") {
			env = append(env, kv)
		}
	}
	ptmx, tty := openPTY(t)
	t.Cleanup(func() { ptmx.Close(); tty.Close() })
	cmd := w.command("login")
	cmd.Env = env
	var stderr syncBuffer
	cmd.Stdin, cmd.Stderr = tty, &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(30 * time.Second)
	for !strings.Contains(stderr.String(), "Client secret for local") {
		if time.Now().After(deadline) {
			_ = cmd.Process.Kill()
			t.Fatalf("no prompt within 30s:\n%s", stderr.String())
		}
		time.Sleep(20 * time.Millisecond)
	}
	// The prompt turned echo off before it was written.
	if tio, err := unix.IoctlGetTermios(int(tty.Fd()), unix.TCGETS); err != nil || tio.Lflag&unix.ECHO != 0 {
		t.Fatalf("the prompt is up but echo is on (%v)", err)
	}
	_ = cmd.Process.Signal(os.Interrupt)
	if code := exitCode(waitTimeout(cmd, 20*time.Second)); code != 130 {
		t.Fatalf("exit %d after Ctrl-C at the prompt; want 130\n%s", code, stderr.String())
	}
	if tio, err := unix.IoctlGetTermios(int(tty.Fd()), unix.TCGETS); err != nil || tio.Lflag&unix.ECHO == 0 {
		t.Errorf("the terminal was left without echo (%v)", err)
	}
	if strings.Contains(stderr.String(), "no client secret") {
		t.Errorf("an interrupted prompt was reported as a missing secret:\n%s", stderr.String())
	}
	if _, err := os.Stat(filepath.Join(w.home, "tokens", "local.json")); !os.IsNotExist(err) {
		t.Error("an interrupted login stored tokens")
	}
}

// syncBuffer is a bytes.Buffer a process writes while the test reads it.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}
