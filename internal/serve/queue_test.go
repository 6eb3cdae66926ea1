package serve

import (
	"net/http"
	"strconv"
	"testing"
	"time"

	"github.com/pleoauth/pleoauth/internal/failure"
)

// fullQueue is how far ahead the queue is after 14 wrong keys in a row: 0+0+0+0.1+0.2+0.4+0.8+
// 1.6+3.2+5+5+5+5+5 s, the first length past maxQueueWait.
const fullQueue = 31300 * time.Millisecond

// TestRetryAfterSaysWhenTheQueueAdmitsAgain: a 429's Retry-After is the whole seconds until a
// request would wait no more than maxQueueWait, rounded up (RFC 9110 §10.2.3): a client that
// waits that long is queued and answered, one that comes a second sooner is refused again, and a
// request that would wait exactly maxQueueWait is still queued.
func TestRetryAfterSaysWhenTheQueueAdmitsAgain(t *testing.T) {
	for _, tc := range []struct {
		name       string
		later      time.Duration // after the 14th wrong key
		retryAfter int
	}{
		{"1.3 s past the bound", 0, 2},
		{"a whole second past it", fullQueue - maxQueueWait - time.Second, 1},
		{"0.3 s past it", time.Second, 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := newFixture(t)
			for range 14 {
				f.do("/token", wrongKey)
			}
			if got := queued(15)[14]; got != fullQueue {
				t.Fatalf("the queue after 14 wrong keys is %v; the test assumes %v", got, fullQueue)
			}
			f.advance(tc.later)
			w := f.do("/token", nil)
			if w.Code != http.StatusTooManyRequests || w.Header().Get("Retry-After") != strconv.Itoa(tc.retryAfter) {
				t.Fatalf("the right key %v after the queue grew to %v: %d Retry-After %q; want 429 Retry-After %d",
					tc.later, fullQueue, w.Code, w.Header().Get("Retry-After"), tc.retryAfter)
			}
			f.advance(time.Duration(tc.retryAfter-1) * time.Second)
			if w := f.do("/token", nil); w.Code != http.StatusTooManyRequests {
				t.Fatalf("a second before Retry-After ended: %d; want 429 still", w.Code)
			}
			f.advance(time.Second)
			if w := f.do("/token", nil); w.Code != http.StatusOK {
				t.Fatalf("once Retry-After ended: %d %s; want 200", w.Code, w.Body)
			}
			if got := f.slept[len(f.slept)-1]; got > maxQueueWait || got < maxQueueWait-time.Second {
				t.Fatalf("the request let in after Retry-After waited %v; want just under %v", got, maxQueueWait)
			}
		})
	}
}

// TestQueueOfExactlyTheBoundIsServed: a request whose turn comes exactly maxQueueWait after it
// arrives waits for it; only a longer wait is refused.
func TestQueueOfExactlyTheBoundIsServed(t *testing.T) {
	f := newFixture(t)
	for range 14 {
		f.do("/token", wrongKey)
	}
	f.advance(fullQueue - maxQueueWait)
	if w := f.do("/token", nil); w.Code != http.StatusOK {
		t.Fatalf("a request with exactly %v to wait: %d %s; want 200", maxQueueWait, w.Code, w.Body)
	}
	if got := f.slept[len(f.slept)-1]; got != maxQueueWait {
		t.Fatalf("it waited %v; want %v", got, maxQueueWait)
	}
}

// TestWrongKeyChallenge: a missing or wrong key is answered with the Bearer challenge RFC 6750
// §3 asks for, naming the realm; a right key whose login needs renewing (login_required) is
// not, as re-sending or re-typing the key would not help.
func TestWrongKeyChallenge(t *testing.T) {
	f := newFixture(t)
	if w := f.do("/token", wrongKey); w.Header().Get("WWW-Authenticate") != `Bearer realm="pleoauth serve"` {
		t.Errorf("a wrong key: WWW-Authenticate %q; want the Bearer challenge", w.Header().Get("WWW-Authenticate"))
	}
	f.err = errLoginRequired
	w := f.do("/token", nil)
	if w.Code != http.StatusUnauthorized || errorCode(t, w) != "login_required" {
		t.Fatalf("an expired login: %d %s; want 401 login_required", w.Code, w.Body)
	}
	if got := w.Header().Get("WWW-Authenticate"); got != "" {
		t.Errorf("login_required carries WWW-Authenticate %q; want none, the key was right", got)
	}
}

var errLoginRequired = failure.NeedLogin("local", "the refresh token was refused", nil)
