package serve

import (
	"sync"
	"time"
)

// wrongKeyWindow is how long the count of wrong keys is kept after the queue last emptied:
// only that long without a wrong key starts it again from nothing.
const wrongKeyWindow = time.Minute

// maxQueueWait bounds how long a request waits its turn: past it, every request that presents
// a key, right or wrong, is answered 429 at once, so that abandoned guesses cannot push a
// mistyped key hours into the future and the answer still says nothing about the key.
const maxQueueWait = 30 * time.Second

// wrongKeys makes guessing the serve key slow however the guesses are sent, without telling a
// guesser anything by when the answer comes. Every request that presents a key, right or wrong,
// waits until the answers already queued are out; a wrong key then makes the queue a penalty
// longer for the requests after it. A request's own wait therefore depends only on the requests
// before it, never on its own key: a client that gives up after 50 ms learns nothing (a right
// key used to be answered at once and only wrong ones held, a yes/no oracle). Guesses sent in
// parallel queue behind each other rather than wait side by side. A right key does not start the
// count again: a Postman run asking every second would otherwise keep resetting it for a guesser
// on the same machine.
type wrongKeys struct {
	mu    sync.Mutex
	count int       // wrong keys counted in the window
	last  time.Time // when the queue is empty again
}

// turn is one request's place in the queue.
type turn struct {
	wait  time.Duration // how long to hold the answer
	added time.Duration // how much longer the queue got for the requests after it
	full  bool          // the wait would exceed maxQueueWait: answer 429 now, queue unchanged
	wrong bool          // counted as a wrong key
}

// admit queues a request that came at now with a right (wrong=false) or wrong key.
func (k *wrongKeys) admit(now time.Time, wrong bool) turn {
	k.mu.Lock()
	defer k.mu.Unlock()
	wait := max(k.last.Sub(now), 0)
	if wait > maxQueueWait {
		return turn{wait: wait, full: true}
	}
	if !wrong {
		return turn{wait: wait}
	}
	if now.Sub(k.last) > wrongKeyWindow {
		k.count = 0
	}
	k.count++
	p := penalty(k.count)
	k.last = now.Add(wait + p)
	return turn{wait: wait, added: p, wrong: true}
}

// giveBack takes back a wrong key whose client left before its answer: it was never answered,
// so it neither counts nor makes the queue longer — 2,000 abandoned guesses used to push the
// queue hours ahead, where a later mistyped key waited for all of them.
func (k *wrongKeys) giveBack(t turn) {
	if !t.wrong {
		return
	}
	k.mu.Lock()
	defer k.mu.Unlock()
	k.last = k.last.Add(-t.added)
	k.count = max(k.count-1, 0)
}

// penalty is how much longer the n-th wrong key in the window makes the queue: nothing for the
// first three, then 100 ms doubling up to 5 s, so that guessing the key is slow and a mistyped
// one is not.
func penalty(n int) time.Duration {
	if n <= 3 {
		return 0
	}
	return min(100*time.Millisecond<<min(n-4, 10), 5*time.Second)
}
