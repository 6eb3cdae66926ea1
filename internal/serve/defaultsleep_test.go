package serve

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/pleoauth/pleoauth/internal/store"
)

// TestHandlerWaitsInRealTimeByDefault: without a Sleep option the queue's wait is real time —
// the fifth wrong key in a row is answered no sooner than its 100 ms turn — and a client that
// has gone before its turn is still answered.
func TestHandlerWaitsInRealTimeByDefault(t *testing.T) {
	now := time.Date(2026, 12, 1, 9, 0, 0, 0, time.UTC)
	h := Handler(Options{Key: testKey, Env: "local", Log: io.Discard, Now: func() time.Time { return now },
		Token: func(context.Context, time.Duration) (*store.Bundle, bool, string, error) {
			return nil, false, "", errLoginRequired
		},
		Explain: func(err error) string { return err.Error() },
	}, []string{"127.0.0.1:7536"})
	ask := func(ctx context.Context) int {
		r := httptest.NewRequestWithContext(ctx, http.MethodGet, "/token", nil)
		r.Host = "127.0.0.1:7536"
		r.Header.Set("Authorization", "Bearer nope")
		w := httptest.NewRecorder()
		h.ServeHTTP(w, r)
		return w.Code
	}
	for range 4 {
		ask(context.Background())
	}
	gone, cancel := context.WithCancel(context.Background())
	cancel()
	if code := ask(gone); code != http.StatusUnauthorized {
		t.Fatalf("a wrong key whose client left: %d; want 401", code)
	}
	start := time.Now()
	if code := ask(context.Background()); code != http.StatusUnauthorized {
		t.Fatalf("the fifth wrong key: %d; want 401", code)
	}
	if waited := time.Since(start); waited < 100*time.Millisecond {
		t.Fatalf("the fifth wrong key in a row was answered after %v; want at least 100ms", waited)
	}
}
