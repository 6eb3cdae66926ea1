package cli

import (
	"context"
	"fmt"
	"time"
)

// spinner returns a progress display for the wait on the browser: one line on stderr, redrawn in
// place, with the time left. It is only used when stderr is a terminal, and draws with plain
// characters and no colour, so NO_COLOR and dumb terminals need nothing special.
func spinner(d *Deps, timeout time.Duration) func(ctx context.Context) {
	return func(ctx context.Context) {
		frames := `|/-\`
		deadline := d.Now().Add(timeout)
		tick := time.NewTicker(150 * time.Millisecond)
		defer tick.Stop()
		for i := 0; ; i++ {
			left := max(deadline.Sub(d.Now()), 0).Round(time.Second)
			fmt.Fprintf(d.Stderr, "\r%c Waiting for the browser (%s left, Ctrl-C to stop)", frames[i%len(frames)], left)
			select {
			case <-ctx.Done():
				fmt.Fprint(d.Stderr, "\r\033[K")
				return
			case <-tick.C:
			}
		}
	}
}
