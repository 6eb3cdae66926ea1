package devserver

import (
	"context"
	"encoding/base64"
	"fmt"
	"net/http"
	"strconv"
	"time"
)

// The paginated lists, in Pleo's shape (Pleo API reference, "Pagination"): a page is
// {"data": [...], "pagination": {"currentRequestPagination": {...}, "hasNextPage", "hasPreviousPage",
// "startCursor", "endCursor", "total"}}. /v2/employees pages by cursor (limit, after), /v1/expenses
// by offset (limit, offset) and gives no cursors.

const defaultLimit = 10

// employee is the n-th (from 0) employee of the list; the first two are the demo's.
func employee(n int) map[string]any {
	switch n {
	case 0:
		return map[string]any{"id": "7a1c9a52-3f5e-4c1e-9d4e-0d5f3e2b1a01", "firstName": "Ada", "lastName": "Lovelace", "email": "ada@example.com"}
	case 1:
		return map[string]any{"id": "7a1c9a52-3f5e-4c1e-9d4e-0d5f3e2b1a02", "firstName": "Alan", "lastName": "Turing", "email": "alan@example.com"}
	}
	return map[string]any{"id": fmt.Sprintf("7a1c9a52-3f5e-4c1e-9d4e-%012d", n+1), "firstName": "Employee", "lastName": strconv.Itoa(n + 1),
		"email": fmt.Sprintf("employee%d@example.com", n+1)}
}

func expense(n int) map[string]any {
	return map[string]any{"id": fmt.Sprintf("e0c1d2e3-0000-4000-8000-%012d", n+1), "amount": map[string]any{"value": (n + 1) * 100, "currency": "DKK"}}
}

func (s *Server) listSize() int {
	if s.opts.ListItems > 0 {
		return s.opts.ListItems
	}
	return 2
}

// employees serves GET /v2/employees, which needs users:read as on Pleo, by cursor.
func (s *Server) employees(w http.ResponseWriter, r *http.Request) {
	if _, ok := s.bearer(w, r, "users:read"); !ok {
		return
	}
	q := r.URL.Query()
	limit, ok := pageLimit(w, q.Get("limit"))
	if !ok {
		return
	}
	start := 0
	if after := q.Get("after"); after != "" {
		n, err := decodeCursor(after)
		if err != nil || n >= s.listSize() {
			writeJSON(w, http.StatusBadRequest, map[string]string{"message": "invalid cursor " + after})
			return
		}
		start = n + 1
	}
	end := min(start+limit, s.listSize())
	data := []map[string]any{}
	for n := start; n < end; n++ {
		data = append(data, employee(n))
	}
	pagination := map[string]any{
		"currentRequestPagination": map[string]any{"after": nilIfEmpty(q.Get("after")), "before": nil, "limit": limit},
		"hasNextPage":              end < s.listSize(),
		"hasPreviousPage":          start > 0,
		"total":                    s.listSize(),
	}
	if len(data) > 0 {
		pagination["startCursor"] = cursor(start)
		pagination["endCursor"] = cursor(end - 1)
		if repeatCursor(r) { // a server that always points back at the first item
			pagination["endCursor"] = cursor(0)
		}
	}
	writeJSON(w, http.StatusOK, map[string]any{"data": data, "pagination": pagination})
}

// expenses serves GET /v1/expenses by offset, without cursors.
func (s *Server) expenses(w http.ResponseWriter, r *http.Request) {
	if _, ok := s.bearer(w, r, ""); !ok {
		return
	}
	q := r.URL.Query()
	limit, ok := pageLimit(w, q.Get("limit"))
	if !ok {
		return
	}
	offset, err := strconv.Atoi(q.Get("offset"))
	if q.Get("offset") == "" {
		offset, err = 0, nil
	}
	if err != nil || offset < 0 {
		writeJSON(w, http.StatusBadRequest, map[string]string{"message": "offset must be a number of items"})
		return
	}
	current := map[string]any{"offset": offset, "limit": limit}
	if ignoreOffset(r) {
		offset = 0
		delete(current, "offset")
	}
	data := []map[string]any{}
	for n := offset; n < min(offset+limit, s.listSize()); n++ {
		data = append(data, expense(n))
	}
	writeJSON(w, http.StatusOK, map[string]any{"data": data, "pagination": map[string]any{
		"currentRequestPagination": current,
		"hasNextPage":              offset+len(data) < s.listSize() || ignoreOffset(r),
		"hasPreviousPage":          offset > 0,
		"total":                    s.listSize(),
	}})
}

type ignoreOffsetKey struct{}

func ignoreOffset(r *http.Request) bool { return r.Context().Value(ignoreOffsetKey{}) != nil }

func pageLimit(w http.ResponseWriter, v string) (int, bool) {
	if v == "" {
		return defaultLimit, true
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < 1 || n > 100 {
		writeJSON(w, http.StatusBadRequest, map[string]string{"message": "limit must be 1 to 100"})
		return 0, false
	}
	return n, true
}

func cursor(n int) string {
	return base64.RawURLEncoding.EncodeToString([]byte("item:" + strconv.Itoa(n)))
}

func decodeCursor(c string) (int, error) {
	b, err := base64.RawURLEncoding.DecodeString(c)
	if err != nil || len(b) < 5 || string(b[:5]) != "item:" {
		return 0, fmt.Errorf("not a cursor")
	}
	return strconv.Atoi(string(b[5:]))
}

func nilIfEmpty(s string) any {
	if s == "" {
		return nil
	}
	return s
}

type repeatCursorKey struct{}

func repeatCursor(r *http.Request) bool { return r.Context().Value(repeatCursorKey{}) != nil }

// faultyAPI shows the next queued API fault, or hands the request on; outside the lock, so a
// delayed answer holds up nobody else.
func (s *Server) faultyAPI(next http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		fault, delay := s.faults.pop("api")
		if fault == "" {
			next(w, r)
			return
		}
		s.stats.add(func(st *Stats) { st.FaultsShown[string(fault)]++ })
		switch fault {
		case FaultAPIRateLimit:
			w.Header().Set("Retry-After", "1")
			writeJSON(w, http.StatusTooManyRequests, map[string]string{"message": "slow down"})
		case FaultAPIUnavailable:
			writeJSON(w, http.StatusServiceUnavailable, map[string]string{"message": "try again later"})
		case FaultAPIDelay:
			select { // a client that went away gets nothing, and holds up no test's cleanup
			case <-time.After(delay):
				next(w, r)
			case <-r.Context().Done():
			}
		case FaultAPIRepeatCursor:
			next(w, r.WithContext(context.WithValue(r.Context(), repeatCursorKey{}, true)))
		case FaultAPIHTML:
			w.Header().Set("Content-Type", "text/html")
			fmt.Fprint(w, "<html><body>Sign in to the Wi-Fi</body></html>")
		case FaultAPINotFound:
			writeJSON(w, http.StatusNotFound, map[string]string{"message": "no installation of this client"})
		case FaultAPIBusy:
			w.Header().Set("Retry-After", "20")
			writeJSON(w, http.StatusServiceUnavailable, map[string]string{"message": "busy"})
		case FaultAPIIgnoreOffset:
			next(w, r.WithContext(context.WithValue(r.Context(), ignoreOffsetKey{}, true)))
		case FaultAPISlowBody:
			answer := &heldAnswer{header: http.Header{}}
			next(answer, r)
			for k, v := range answer.header {
				w.Header()[k] = v
			}
			w.Header().Set("Content-Length", fmt.Sprint(answer.body.Len()))
			w.WriteHeader(answer.status)
			half := answer.body.Len() / 2
			_, _ = w.Write(answer.body.Bytes()[:half])
			if f, ok := w.(http.Flusher); ok {
				f.Flush()
			}
			select { // the rest after the delay, unless the client went away
			case <-time.After(delay):
				_, _ = w.Write(answer.body.Bytes()[half:])
			case <-r.Context().Done():
			}
		}
	}
}
