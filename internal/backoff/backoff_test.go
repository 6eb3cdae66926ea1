package backoff

import (
	"context"
	"errors"
	"math"
	"net/http"
	"testing"
	"time"
)

func TestSleep(t *testing.T) {
	cancelled, cancel := context.WithCancel(context.Background())
	cancel()
	tests := []struct {
		name     string
		ctx      func(t *testing.T) context.Context
		d        time.Duration
		want     error
		atLeast  time.Duration // the wait must have lasted this long
		atMostMs int64         // and no longer than this, in ms (0: no bound but the watchdog)
	}{
		{name: "waits d", ctx: background, d: 20 * time.Millisecond, atLeast: 20 * time.Millisecond},
		{name: "zero returns at once", ctx: background, d: 0, atMostMs: 100},
		{name: "negative returns at once", ctx: background, d: -time.Hour, atMostMs: 100},
		{name: "cancelled before, long wait", ctx: func(*testing.T) context.Context { return cancelled }, d: time.Hour, want: context.Canceled, atMostMs: 100},
		{name: "cancelled before, zero wait", ctx: func(*testing.T) context.Context { return cancelled }, d: 0, want: context.Canceled, atMostMs: 100},
		{name: "cancelled before, negative wait", ctx: func(*testing.T) context.Context { return cancelled }, d: -1, want: context.Canceled, atMostMs: 100},
		{name: "deadline during the wait", ctx: func(t *testing.T) context.Context {
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Millisecond)
			t.Cleanup(cancel)
			return ctx
		}, d: time.Hour, want: context.DeadlineExceeded, atLeast: 10 * time.Millisecond, atMostMs: 2000},
		{name: "cancelled during the wait", ctx: func(t *testing.T) context.Context {
			ctx, cancel := context.WithCancel(context.Background())
			time.AfterFunc(10*time.Millisecond, cancel)
			t.Cleanup(cancel)
			return ctx
		}, d: time.Hour, want: context.Canceled, atLeast: 10 * time.Millisecond, atMostMs: 2000},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			ctx := tt.ctx(t)
			start := time.Now()
			done := make(chan error, 1)
			go func() { done <- Sleep(ctx, tt.d) }()
			var got error
			select {
			case got = <-done:
			case <-time.After(5 * time.Second): // a Sleep that ignores ctx fails, rather than hangs
				t.Fatalf("Sleep(%v) still waiting after 5s; want it back with %v", tt.d, tt.want)
			}
			elapsed := time.Since(start)
			if !errors.Is(got, tt.want) || (tt.want == nil && got != nil) {
				t.Errorf("Sleep(%v) = %v; want %v", tt.d, got, tt.want)
			}
			if elapsed < tt.atLeast {
				t.Errorf("Sleep(%v) returned after %v; want at least %v", tt.d, elapsed, tt.atLeast)
			}
			if tt.atMostMs > 0 && elapsed.Milliseconds() > tt.atMostMs {
				t.Errorf("Sleep(%v) returned after %v; want at most %dms", tt.d, elapsed, tt.atMostMs)
			}
		})
	}
}

func background(*testing.T) context.Context { return context.Background() }

func TestRetryAfter(t *testing.T) {
	now := time.Date(2025, 3, 14, 12, 0, 0, 0, time.UTC)
	date := func(d time.Duration) string { return now.Add(d).Format(http.TimeFormat) }
	const longest = time.Duration(math.MaxInt64)
	tests := []struct {
		value  string
		want   time.Duration
		wantOK bool
	}{
		{"120", 2 * time.Minute, true},
		{"0", 0, true},
		{"1", time.Second, true},
		{" 5\t", 5 * time.Second, true},
		{"007", 7 * time.Second, true},
		{"9223372036", 9223372036 * time.Second, true}, // the most seconds a Duration holds
		{"9223372037", longest, true},                  // one more would wrap round to negative
		{"99999999999999999999999999", longest, true},  // past uint64 too
		{"18446744073709551616", longest, true},        // 2^64
		{"-1", 0, false},                               // not delay-seconds: no sign allowed
		{"+5", 0, false},
		{"1.5", 0, false},
		{"5s", 0, false},
		{"1 2", 0, false},
		{"", 0, false},
		{"   ", 0, false},
		{"soon", 0, false},
		{date(90 * time.Second), 90 * time.Second, true}, // IMF-fixdate in the future
		{date(-time.Hour), 0, true},                      // in the past: now, never negative
		{date(0), 0, true},                               // exactly now
		{now.Add(time.Minute).Format(time.RFC850), time.Minute, true},        // obsolete RFC 850 form
		{now.Add(2 * time.Minute).Format(time.ANSIC), 2 * time.Minute, true}, // obsolete asctime form
		{now.Add(time.Minute).Format(time.RFC3339), 0, false},                // not an HTTP-date
		{"Fri, 14 Mar 2025 12:00:00", 0, false},                              // no GMT
	}
	for _, tt := range tests {
		got, ok := RetryAfter(tt.value, now)
		if got != tt.want || ok != tt.wantOK {
			t.Errorf("RetryAfter(%q) = %v, %t; want %v, %t", tt.value, got, ok, tt.want, tt.wantOK)
		}
	}
}
