// Package backoff holds the two waits pleoauth makes before trying a server again: a sleep that
// an interrupted command cuts short, and the delay a server's Retry-After asks for. Each caller
// keeps its own policy (how many tries, the longest wait it accepts); the waiting is done here.
package backoff

import (
	"context"
	"math"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// Sleep waits d, or until ctx ends, whichever comes first, and returns ctx.Err() when ctx ended
// first (an interrupted command stops waiting at once), else nil. A ctx already ended wins even
// over a d of zero or less, so a retry loop never sends once more after its command was
// cancelled.
func Sleep(ctx context.Context, d time.Duration) error {
	if err := ctx.Err(); err != nil || d <= 0 {
		return err
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// RetryAfter reads the value of a Retry-After header (RFC 9110 §10.2.3): delay-seconds, or an
// HTTP-date taken against now. ok is false when value is empty or is neither — a negative number,
// a fraction, a sign, any other text — and the caller's own backoff applies then.
//
// The delay is never negative: a date already past means retry now. Seconds too many for a
// [time.Duration] give the longest one rather than wrapping round to a short or negative wait;
// the caller caps the delay at what it is willing to wait.
func RetryAfter(value string, now time.Time) (d time.Duration, ok bool) {
	value = strings.Trim(value, " \t") // OWS around a field value (RFC 9110 §5.5)
	if value == "" {
		return 0, false
	}
	if isDigits(value) {
		secs, err := strconv.ParseUint(value, 10, 64)
		if err != nil || secs > uint64(math.MaxInt64/int64(time.Second)) {
			return math.MaxInt64, true // only a value out of range gets here: digits are checked
		}
		return time.Duration(secs) * time.Second, true
	}
	// http.ParseTime takes the IMF-fixdate and the two obsolete forms a recipient must accept.
	at, err := http.ParseTime(value)
	if err != nil {
		return 0, false
	}
	return max(at.Sub(now), 0), true
}

// isDigits reports whether s is 1*DIGIT, the grammar of delay-seconds: strconv alone would also
// take a sign.
func isDigits(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return s != ""
}
