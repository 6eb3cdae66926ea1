package api

import (
	"net/http"
	"testing"
	"time"
)

// TestRetryWait: a busy page waits what Retry-After asks, read against the injected clock, or
// else backs off exponentially with jitter; never more than the cap, never less than nothing.
func TestRetryWait(t *testing.T) {
	now := time.Date(2025, 3, 14, 12, 0, 0, 0, time.UTC)
	date := func(d time.Duration) string { return now.Add(d).Format(http.TimeFormat) }
	const most = 30 * time.Second
	tests := []struct {
		header  string
		attempt int
		lo, hi  time.Duration // lo <= wait <= hi
	}{
		{"3", 1, 3 * time.Second, 3 * time.Second},
		{"3", 4, 3 * time.Second, 3 * time.Second}, // the server's word beats the backoff
		{"0", 1, 0, 0},
		{"120", 1, most, most},         // capped
		{"99999999999", 1, most, most}, // capped, not wrapped round to a short wait
		{date(10 * time.Second), 1, 10 * time.Second, 10 * time.Second},
		{date(-time.Hour), 1, 0, 0}, // a date past: now
		{date(time.Hour), 1, most, most},
		{"", 1, 500 * time.Millisecond, 1500 * time.Millisecond},   // 1 s ± 50 %
		{"", 3, 2 * time.Second, 6 * time.Second},                  // 4 s ± 50 %
		{"soon", 2, time.Second, 3 * time.Second},                  // malformed: the backoff
		{"-1", 1, 500 * time.Millisecond, 1500 * time.Millisecond}, // not delay-seconds
		{"", 60, most, most},                                       // the backoff is capped too
	}
	for _, tt := range tests {
		for range 20 { // the jitter is random: a wait out of bounds shows within a few draws
			got := retryWait(tt.header, now, tt.attempt, most)
			if got < tt.lo || got > tt.hi {
				t.Errorf("retryWait(%q, attempt %d) = %v; want between %v and %v", tt.header, tt.attempt, got, tt.lo, tt.hi)
				break
			}
		}
	}
}
