package serve

import (
	"sync"
	"time"
)

// wrongKeyWindow is how long the count of wrong keys is kept after the last one is answered:
// only that long without a wrong key starts it again from nothing.
const wrongKeyWindow = time.Minute

// wrongKeys makes guessing the serve key slow however the guesses are sent. Wrong keys are
// answered one after another, each a penalty later than the one before, so that guesses sent in
// parallel queue behind each other rather than wait side by side (50 at once used to be answered
// within 10 s). A right key does not start the count again: a Postman run asking for its token
// every second would otherwise keep resetting it for a guesser on the same machine.
type wrongKeys struct {
	mu    sync.Mutex
	count int       // wrong keys seen in the window
	last  time.Time // when the latest of them is answered
}

// wait counts a wrong key that came at now and returns how long to hold its answer.
func (k *wrongKeys) wait(now time.Time) time.Duration {
	k.mu.Lock()
	defer k.mu.Unlock()
	if now.Sub(k.last) > wrongKeyWindow {
		k.count = 0
	}
	k.count++
	at := now
	if k.last.After(now) {
		at = k.last
	}
	k.last = at.Add(penalty(k.count))
	return k.last.Sub(now)
}

// penalty is how much later than the one before the n-th wrong key in the window is answered:
// nothing for the first three, then 100 ms doubling up to 5 s, so that guessing the key is slow
// and a mistyped one is not.
func penalty(n int) time.Duration {
	if n <= 3 {
		return 0
	}
	return min(100*time.Millisecond<<min(n-4, 10), 5*time.Second)
}
