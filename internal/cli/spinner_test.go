package cli

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/pleoauth/pleoauth/internal/oauthtest"
)

func TestSpinnerShowsTimeLeftAndClears(t *testing.T) {
	var out oauthtest.SyncBuffer
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
