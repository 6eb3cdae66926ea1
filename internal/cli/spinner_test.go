package cli

import (
	"bytes"
	"context"
	"strings"
	"sync"
	"testing"
	"time"
)

type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

func TestSpinnerShowsTimeLeftAndClears(t *testing.T) {
	var out lockedBuffer
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	d := &Deps{Stderr: &out, Now: func() time.Time { return now }}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { spinner(d, 5*time.Minute)(ctx); close(done) }()
	for !strings.Contains(out.String(), "Waiting for the browser (5m0s left, Ctrl-C to stop)") {
		time.Sleep(10 * time.Millisecond)
	}
	cancel()
	<-done
	if s := out.String(); !strings.HasSuffix(s, "\r\033[K") || strings.Contains(s, "\n") {
		t.Errorf("the progress line is not redrawn in place and cleared: %q", s)
	}
}
