package progress

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/pleoauth/pleoauth/internal/oauthtest"
)

// fixedNow is a clock that stands still, so the time left reads the same at every frame.
func fixedNow() time.Time { return time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC) }

// progressDeadline bounds every wait on the display, so that a display that never draws or
// never stops fails its test in seconds instead of hanging the package until go test's timeout.
const progressDeadline = 10 * time.Second

// startProgress runs the display until the returned stop, which waits for it to return. Both
// the first drawing and the stop fail the test after progressDeadline.
func startProgress(t *testing.T, p *Line, out *oauthtest.SyncBuffer) (stop func()) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { p.Run(5 * time.Minute)(ctx); close(done) }()
	const first = "Waiting for the browser (5m0s left, Ctrl-C to stop)"
	deadline := time.Now().Add(progressDeadline)
	for !strings.Contains(out.String(), first) {
		if time.Now().After(deadline) {
			cancel()
			s := out.String()
			t.Fatalf("the progress line did not show %q within %v; stderr ends %q", first, progressDeadline, s[max(0, len(s)-120):])
		}
		time.Sleep(5 * time.Millisecond)
	}
	return func() {
		t.Helper()
		cancel()
		select {
		case <-done:
		case <-time.After(progressDeadline):
			t.Fatalf("the progress line did not stop within %v of its context ending", progressDeadline)
		}
	}
}

func TestProgressShowsTimeLeftAndClears(t *testing.T) {
	var out oauthtest.SyncBuffer
	p := New(&out, fixedNow)
	startProgress(t, p, &out)()
	if s := out.String(); !strings.HasSuffix(s, "\r\033[K") || strings.Contains(s, "\n") {
		t.Errorf("the progress line is not redrawn in place and cleared: %q", s)
	}
}

// TestProgressClearedBeforeMessages: a message written while the display runs (the browser's
// failure, a paste prompt) starts on an erased line, never after the progress text.
func TestProgressClearedBeforeMessages(t *testing.T) {
	var out oauthtest.SyncBuffer
	p := New(&out, fixedNow)
	stop := startProgress(t, p, &out)
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
