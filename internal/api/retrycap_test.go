package api

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"
	"time"
)

// TestPaginateWaitsAtMostTheCap: whatever Retry-After a busy page answers with — seconds, an
// HTTP-date past or to come, a value too large for a Duration, a negative one, garbage or none —
// the wait Paginate makes never exceeds its cap (PageOptions.MaxWait, 30 s when zero), as set
// by the caller and passed down to each wait.
func TestPaginateWaitsAtMostTheCap(t *testing.T) {
	now := time.Date(2025, 3, 14, 12, 0, 0, 0, time.UTC)
	date := func(d time.Duration) string { return now.Add(d).Format(http.TimeFormat) }
	values := []struct {
		header string
		want   time.Duration // the wait asked for before the cap; -1 for the backoff (1 s ± 50 %)
	}{
		{"2", 2 * time.Second},
		{"45", 45 * time.Second},
		{"3600", time.Hour},
		{"99999999999999999999", 1<<63 - 1},
		{date(-time.Hour), 0},
		{date(20 * time.Second), 20 * time.Second},
		{date(24 * time.Hour), 24 * time.Hour},
		{"-5", -1},
		{"soon", -1},
		{"", -1},
	}
	caps := []struct {
		maxWait, cap time.Duration
	}{
		{0, 30 * time.Second},
		{time.Second, time.Second},
		{10 * time.Second, 10 * time.Second},
		{time.Minute, time.Minute},
	}
	for _, v := range values {
		for _, c := range caps {
			var waits []time.Duration
			o := PageOptions{MaxWait: c.maxWait, Retries: 1, Now: func() time.Time { return now },
				Sleep: func(_ context.Context, d time.Duration) error { waits = append(waits, d); return nil }}
			err := busyOnce(t, v.header).Paginate(context.Background(), "/v2/employees", o, func(Page) error { return nil })
			if err != nil || len(waits) != 1 {
				t.Fatalf("Retry-After %q, MaxWait %v: Paginate = %v after waits %v; want one wait, then the page", v.header, c.maxWait, err, waits)
			}
			got := waits[0]
			lo, hi := min(v.want, c.cap), min(v.want, c.cap)
			if v.want == -1 {
				lo, hi = min(500*time.Millisecond, c.cap), min(1500*time.Millisecond, c.cap)
			}
			if got < lo || got > hi {
				t.Errorf("Retry-After %q, MaxWait %v: waited %v; want between %v and %v (cap %v)", v.header, c.maxWait, got, lo, hi, c.cap)
			}
		}
	}
}

// busyOnce is a client whose server answers the first request 429 with Retry-After header (none
// when empty), then a last page with no items.
func busyOnce(t *testing.T, header string) *Client {
	t.Helper()
	var requests atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if requests.Add(1) == 1 {
			if header != "" {
				w.Header().Set("Retry-After", header)
			}
			w.WriteHeader(http.StatusTooManyRequests)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(map[string]any{"data": []any{}, "pagination": map[string]any{"hasNextPage": false}})
	}))
	t.Cleanup(srv.Close)
	return &Client{BaseURL: srv.URL, HTTPClient: srv.Client(), Token: func(context.Context, Want, string) (Token, error) {
		return Token{Value: "t", Issued: time.Now(), Expiry: time.Now().Add(time.Hour)}, nil
	}}
}
