package api

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

// TestPaginateRefusesToLoop: a server that never lets a run end — an offset it ignores, an
// offset it says back unchanged, pages that come round again (A, B, A…) under advancing offsets
// or fresh cursors, pages without end — stops the run with an error naming the
// page, after as many requests as it takes to see it, never more.
func TestPaginateRefusesToLoop(t *testing.T) {
	type answer struct {
		items  []string
		offset *int   // said back in currentRequestPagination; nil for none
		cursor string // sent as endCursor; "" for none
	}
	alternate := func(names ...string) func(n int) []string {
		return func(n int) []string { return []string{names[(n-1)%len(names)]} }
	}
	zero := 0
	tests := []struct {
		name     string
		path     string
		maxPages int
		serve    func(n int, offset int) answer // n counts requests from 1
		want     string
		requests int
	}{
		{"offset ignored, none said back", "/list?limit=1", 0,
			func(n, offset int) answer { return answer{items: []string{"a"}} },
			"page 2 (GET /list?limit=1&offset=1) holds the same items as page 1", 2},
		{"offset ignored, said back", "/list?limit=1", 0,
			func(n, offset int) answer { return answer{items: []string{"a"}, offset: &zero} },
			"page 2 (GET /list?limit=1&offset=1) holds the same items as page 1", 2},
		{"offset said back as 0 whatever was asked", "/list?limit=1", 0,
			func(n, offset int) answer { return answer{items: []string{"item" + strconv.Itoa(n)}, offset: &zero} },
			"page 2 (GET /list?limit=1&offset=1) gives no cursor and an offset that does not advance", 2},
		{"offsets advance, pages alternate", "/list?limit=1", 0,
			func(n, offset int) answer { return answer{items: alternate("a", "b")(offset + 1)} },
			"page 3 (GET /list?limit=1&offset=2) holds the same items as page 1", 3},
		{"offsets advance, pages come round after three", "/list?limit=1", 0,
			func(n, offset int) answer { return answer{items: alternate("a", "b", "c", "b")(offset + 1)} },
			"page 4 (GET /list?limit=1&offset=3) holds the same items as page 2", 4},
		{"fresh cursors, pages alternate", "/list?limit=1", 0,
			func(n, offset int) answer {
				return answer{items: alternate("a", "b")(n), cursor: "c" + strconv.Itoa(n)}
			},
			"page 3 (GET /list?after=c2&limit=1) holds the same items as page 1", 3},
		{"fresh cursors, pages come round after three", "/list?limit=1", 0,
			func(n, offset int) answer {
				return answer{items: alternate("a", "b", "c", "b")(n), cursor: "c" + strconv.Itoa(n)}
			},
			"page 4 (GET /list?after=c3&limit=1) holds the same items as page 2", 4},
		{"fresh cursors, pages differ in order only", "/list?limit=2", 3,
			func(n, offset int) answer {
				return answer{items: [][]string{{"a", "b"}, {"b", "a"}, {"a", "c"}}[(n-1)%3], cursor: "c" + strconv.Itoa(n)}
			},
			"page 3 (GET /list?after=c2&limit=2) says more pages follow, and 3 is the most", 3},
		{"pages without end, a limit given", "/list?limit=1", 3,
			func(n, offset int) answer { return answer{items: []string{"item" + strconv.Itoa(offset)}} },
			"page 3 (GET /list?limit=1&offset=2) says more pages follow, and 3 is the most a run fetches; raise it with --max-pages", 3},
		{"pages without end, the default", "/list?limit=1", 0,
			func(n, offset int) answer { return answer{items: []string{"item" + strconv.Itoa(offset)}} },
			"page 1000 (GET /list?limit=1&offset=999) says more pages follow, and 1000 is the most", DefaultMaxPages},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var requests atomic.Int32
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				n := int(requests.Add(1))
				offset, _ := strconv.Atoi(r.URL.Query().Get("offset"))
				a := tt.serve(n, offset)
				current := map[string]any{}
				if a.offset != nil {
					current["offset"] = *a.offset
				}
				w.Header().Set("Content-Type", "application/json")
				pagination := map[string]any{"hasNextPage": true, "currentRequestPagination": current}
				if a.cursor != "" {
					pagination["endCursor"] = a.cursor
				}
				_ = json.NewEncoder(w).Encode(map[string]any{"data": a.items, "pagination": pagination})
			}))
			defer srv.Close()
			c := &Client{BaseURL: srv.URL, HTTPClient: srv.Client(), Token: func(context.Context, Want, string) (Token, error) {
				return Token{Value: "t", Issued: time.Now(), Expiry: time.Now().Add(time.Hour)}, nil
			}}
			err := c.Paginate(context.Background(), tt.path, PageOptions{MaxPages: tt.maxPages}, func(Page) error { return nil })
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("Paginate = %v; want an error containing %q", err, tt.want)
			}
			if got := int(requests.Load()); got != tt.requests {
				t.Errorf("%d requests; want %d", got, tt.requests)
			}
		})
	}
}
