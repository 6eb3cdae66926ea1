package cli

import (
	"context"
	"fmt"
	"io"
	"sync"
	"time"
)

// progressLine is the progress display of the wait on the browser: one line on stderr, redrawn
// in place with the time left. Everything else the login writes to stderr while it runs goes
// through it, and it erases its line first, so a message — the browser's failure, a paste
// prompt, an error — never lands on the progress line. It draws with plain characters and no
// colour, so NO_COLOR needs nothing special.
type progressLine struct {
	mu    sync.Mutex // orders the redraws and the login's messages on stderr; no login state
	w     io.Writer
	now   func() time.Time
	drawn bool // the progress line is on screen
}

func newProgressLine(d *Deps) *progressLine { return &progressLine{w: d.Stderr, now: d.Now} }

// drawsProgress reports whether a progress line may be drawn: only on a terminal that can
// return to the line's start and erase it — not when stderr is a file or pipe (a log would fill
// with redraws), and not under TERM=dumb (an editor's shell, which prints the escape codes).
func drawsProgress(d *Deps) bool {
	return d.StderrIsTerminal != nil && d.StderrIsTerminal() && d.Getenv("TERM") != "dumb"
}

// Write erases the progress line, when one is drawn, then writes p.
func (p *progressLine) Write(b []byte) (int, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.eraseLocked()
	return p.w.Write(b)
}

func (p *progressLine) eraseLocked() {
	if p.drawn {
		fmt.Fprint(p.w, "\r\033[K")
		p.drawn = false
	}
}

// run returns the display for a wait of timeout: it draws until its context ends and returns
// with its line erased.
func (p *progressLine) run(timeout time.Duration) func(ctx context.Context) {
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
