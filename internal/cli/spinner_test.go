package cli

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/pleoauth/pleoauth/internal/oauthtest"
)

func progressDeps(out *oauthtest.SyncBuffer, terminal bool, term string) *Deps {
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	return &Deps{
		Stderr: out, Now: func() time.Time { return now },
		StderrIsTerminal: func() bool { return terminal },
		Getenv:           func(k string) string { return map[string]string{"TERM": term}[k] },
	}
}

// startProgress runs the display until the returned stop, which waits for it to return.
func startProgress(p *progressLine, out *oauthtest.SyncBuffer) (stop func()) {
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { p.run(5 * time.Minute)(ctx); close(done) }()
	for !strings.Contains(out.String(), "Waiting for the browser (5m0s left, Ctrl-C to stop)") {
		time.Sleep(5 * time.Millisecond)
	}
	return func() { cancel(); <-done }
}

func TestProgressShowsTimeLeftAndClears(t *testing.T) {
	var out oauthtest.SyncBuffer
	p := newProgressLine(progressDeps(&out, true, "xterm-256color"))
	startProgress(p, &out)()
	if s := out.String(); !strings.HasSuffix(s, "\r\033[K") || strings.Contains(s, "\n") {
		t.Errorf("the progress line is not redrawn in place and cleared: %q", s)
	}
}

// TestProgressClearedBeforeMessages: a message written while the display runs (the browser's
// failure, a paste prompt) starts on an erased line, never after the progress text.
func TestProgressClearedBeforeMessages(t *testing.T) {
	var out oauthtest.SyncBuffer
	p := newProgressLine(progressDeps(&out, true, "xterm"))
	stop := startProgress(p, &out)
	if _, err := p.Write([]byte("Could not open a browser (exit status 3).\n")); err != nil {
		t.Fatal(err)
	}
	stop()
	s := out.String()
	if !strings.Contains(s, "Ctrl-C to stop)\r\033[KCould not open a browser") {
		t.Errorf("the message was not written on an erased line: %q", s)
	}
	// Once stopped, writes pass straight through: nothing is left to erase.
	before := out.String()
	_, _ = p.Write([]byte("pleoauth: login local: stopped\n"))
	if got := strings.TrimPrefix(out.String(), before); got != "pleoauth: login local: stopped\n" {
		t.Errorf("a write after the display stopped came out as %q", got)
	}
}

func TestDrawsProgress(t *testing.T) {
	tests := []struct {
		name     string
		terminal bool
		term     string
		want     bool
	}{
		{"terminal", true, "xterm-256color", true},
		{"terminal without TERM", true, "", true},
		{"TERM=dumb", true, "dumb", false},
		{"not a terminal", false, "xterm", false},
	}
	for _, tt := range tests {
		var out oauthtest.SyncBuffer
		if got := drawsProgress(progressDeps(&out, tt.terminal, tt.term)); got != tt.want {
			t.Errorf("%s: drawsProgress = %v; want %v", tt.name, got, tt.want)
		}
	}
}
