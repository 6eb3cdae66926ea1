package pleo

import (
	"bytes"
	"context"
	"log/slog"
	"strings"
	"sync"
)

// logWriter turns the lines the login writes for a person on stderr into records of a
// [slog.Logger]: "pleoauth: " dropped, a wait for another process's refresh at level Info, the
// rest at level Warn. It takes the output of an on_rotate command too, line by line.
type logWriter struct {
	l *slog.Logger // nil: lines are dropped

	mu      sync.Mutex
	partial []byte // a line not yet ended
}

func newLogWriter(l *slog.Logger) *logWriter { return &logWriter{l: l} }

func (w *logWriter) Write(p []byte) (int, error) {
	if w.l == nil {
		return len(p), nil
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	w.partial = append(w.partial, p...)
	for {
		i := bytes.IndexByte(w.partial, '\n')
		if i < 0 {
			break
		}
		w.line(string(w.partial[:i]))
		w.partial = w.partial[i+1:]
	}
	if len(w.partial) > 4096 { // a line that never ends is logged in pieces
		w.line(string(w.partial))
		w.partial = nil
	}
	return len(p), nil
}

func (w *logWriter) line(s string) {
	s = strings.TrimPrefix(strings.TrimRight(s, "\r"), "pleoauth: ")
	if s == "" {
		return
	}
	level := slog.LevelWarn
	if strings.HasPrefix(s, "waiting for another pleoauth") {
		level = slog.LevelInfo
	}
	w.l.Log(context.Background(), level, s)
}

// warn logs one warning of the login.
func (w *logWriter) warn(s string) {
	if w.l != nil {
		w.l.Warn(s)
	}
}
