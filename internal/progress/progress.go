// Package progress is the one-line progress display of a wait on the terminal (the login's wait
// on the browser): redrawn in place, and erased before anything else is written to the same
// stream.
package progress

import (
	"context"
	"fmt"
	"io"
	"sync"
	"time"
)

// Line is the progress display of a wait (the login's, on the browser): one line on stderr, redrawn
// in place with the time left. Everything else the login writes to stderr while it runs goes
// through it, and it erases its line first, so a message — the browser's failure, a paste
// prompt, an error — never lands on the progress line. It draws with plain characters and no
// colour, so NO_COLOR needs nothing special.
type Line struct {
	mu    sync.Mutex // orders the redraws and the messages written through the line
	w     io.Writer
	now   func() time.Time
	drawn bool // the progress line is on screen
}

// New returns the display on w (stderr), reading the time left from now.
func New(w io.Writer, now func() time.Time) *Line { return &Line{w: w, now: now} }

// Write erases the progress line, when one is drawn, then writes p.
func (p *Line) Write(b []byte) (int, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.eraseLocked()
	return p.w.Write(b)
}

func (p *Line) eraseLocked() {
	if p.drawn {
		fmt.Fprint(p.w, "\r\033[K")
		p.drawn = false
	}
}

// Run returns the display for a wait of timeout: it draws until its context ends and returns
// with its line erased.
func (p *Line) Run(timeout time.Duration) func(ctx context.Context) {
	return func(ctx context.Context) {
		frames := `|/-\`
		deadline := p.now().Add(timeout)
		tick := time.NewTicker(150 * time.Millisecond)
		defer tick.Stop()
		for i := 0; ; i++ {
			p.mu.Lock()
			if ctx.Err() == nil { // a stop that came first must not be drawn over
				left := max(deadline.Sub(p.now()), 0).Round(time.Second)
				fmt.Fprintf(p.w, "\r%c Waiting for the browser (%s left, Ctrl-C to stop)", frames[i%len(frames)], left)
				p.drawn = true
			}
			p.mu.Unlock()
			select {
			case <-ctx.Done():
				p.mu.Lock()
				p.eraseLocked()
				p.mu.Unlock()
				return
			case <-tick.C:
			}
		}
	}
}
