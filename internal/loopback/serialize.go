package loopback

import (
	"net/http"
	"sync"
)

// serialized runs one request at a time, so the first callback is decided before a second one
// (a double-click, a reload) is looked at.
func serialized(h http.Handler) http.Handler {
	var mu sync.Mutex
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		defer mu.Unlock()
		h.ServeHTTP(w, r)
	})
}
