package api

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"testing"
	"time"
)

// pageServer answers every request with handler's status and body, as JSON.
func pageServer(t *testing.T, handler http.HandlerFunc) *Client {
	t.Helper()
	srv := httptest.NewServer(handler)
	t.Cleanup(srv.Close)
	return &Client{BaseURL: srv.URL, HTTPClient: srv.Client(), Token: func(context.Context, Want, string) (Token, error) {
		return Token{Value: "t", Issued: time.Now(), Expiry: time.Now().Add(time.Hour)}, nil
	}}
}

const lastPage = `{"data":[],"pagination":{"hasNextPage":false}}`

// TestPageStatuses: any 2xx is a page (Pleo answers 200; a proxy may say 203); anything else
// that is not waited out is the page's failure, with its status — never parsed as a page.
func TestPageStatuses(t *testing.T) {
	for _, tt := range []struct {
		status int
		ok     bool
	}{{200, true}, {203, true}, {299, true}, {300, false}, {304, false}, {400, false}, {404, false}, {500, false}} {
		c := pageServer(t, func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(tt.status)
			fmt.Fprint(w, lastPage)
		})
		err := c.Paginate(context.Background(), "/v2/employees", PageOptions{}, func(Page) error { return nil })
		var pse *PageStatusError
		if tt.ok && err != nil || !tt.ok && (!errors.As(err, &pse) || pse.StatusCode != tt.status) {
			t.Errorf("HTTP %d: Paginate = %v; want ok %t, else a PageStatusError with the status", tt.status, err, tt.ok)
		}
	}
}

// TestPageStatusErrorCountsAttempts: a page that failed once says so plainly; one that stayed
// busy through its retries says how many times, so the user knows it was waited out.
func TestPageStatusErrorCountsAttempts(t *testing.T) {
	for _, tt := range []struct {
		attempts int
		want     string
	}{
		{1, "page 2 (GET https://api/v2/x) answered 404 Not Found"},
		{2, "page 2 (GET https://api/v2/x) answered 404 Not Found 2 times"},
		{6, "page 2 (GET https://api/v2/x) answered 404 Not Found 6 times"},
	} {
		e := &PageStatusError{Page: 2, Method: "GET", URL: "https://api/v2/x", Status: "404 Not Found", StatusCode: 404, Attempts: tt.attempts}
		if got := e.Error(); got != tt.want {
			t.Errorf("Attempts %d: %q; want %q", tt.attempts, got, tt.want)
		}
	}
}

// TestBusyPageRetries: a page that stays busy is waited out 5 times when the caller sets no
// number (0 or less), or as many as it sets, then fails saying how many tries it made; each wait
// is announced rounded to hundredths of a second.
func TestBusyPageRetries(t *testing.T) {
	for _, tt := range []struct{ retries, waits int }{{0, 5}, {-1, 5}, {1, 1}, {3, 3}} {
		c := pageServer(t, func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(http.StatusServiceUnavailable) })
		var waits int
		var notices []string
		o := PageOptions{Retries: tt.retries, Now: time.Now,
			Sleep:  func(context.Context, time.Duration) error { waits++; return nil },
			Notice: func(s string) { notices = append(notices, s) }}
		err := c.Paginate(context.Background(), "/v2/employees", o, func(Page) error { return nil })
		var pse *PageStatusError
		if !errors.As(err, &pse) || pse.Attempts != tt.waits+1 || waits != tt.waits {
			t.Errorf("Retries %d: Paginate = %v after %d waits; want %d waits, then a failure after %d attempts", tt.retries, err, waits, tt.waits, tt.waits+1)
		}
		rounded := regexp.MustCompile(`waiting [0-9]+(\.[0-9]{1,2})?(s|ms) \(`)
		for _, n := range notices {
			if !rounded.MatchString(n) || !strings.Contains(n, fmt.Sprintf("of %d)", tt.waits)) {
				t.Errorf("Retries %d: notice %q; want the wait rounded to 10 ms and \"of %d\"", tt.retries, n, tt.waits)
			}
		}
	}
}

// TestPageSizeBound: a page of exactly maxPage bytes is read whole; one byte more is refused
// with advice, never cut short and parsed as something else.
func TestPageSizeBound(t *testing.T) {
	if testing.Short() {
		t.Skip("reads two 64 MiB pages")
	}
	body := func(size int) string {
		head, tail := `{"data":[],"pad":"`, `","pagination":{"hasNextPage":false}}`
		return head + strings.Repeat("x", size-len(head)-len(tail)) + tail
	}
	for _, tt := range []struct {
		size int
		ok   bool
	}{{maxPage, true}, {maxPage + 1, false}} {
		page := body(tt.size)
		c := pageServer(t, func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", "application/json")
			fmt.Fprint(w, page)
		})
		var got int
		err := c.Paginate(context.Background(), "/v2/employees", PageOptions{}, func(p Page) error { got = len(p.Raw); return nil })
		if tt.ok && (err != nil || got != tt.size) || !tt.ok && (err == nil || !strings.Contains(err.Error(), "is larger than 64 MB; ask for smaller pages with limit=")) {
			t.Errorf("a page of %d bytes: Paginate = %v, read %d bytes; want ok %t", tt.size, err, got, tt.ok)
		}
	}
}
