package cli

import (
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

// TestDrawsProgress: the progress line is drawn only on a terminal that can erase it.
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
