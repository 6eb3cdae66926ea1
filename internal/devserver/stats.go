package devserver

import (
	"encoding/json"
	"maps"
	"net"
	"net/http"
	"sync"
)

// Stats counts what the server served, so tests can assert "32 callers, exactly one refresh".
type Stats struct {
	// TokenRequests counts token endpoint requests by grant_type.
	TokenRequests map[string]int `json:"token_requests"`
	// TokensIssued counts successful token responses by grant_type.
	TokensIssued map[string]int `json:"tokens_issued"`
	// TokenErrors counts refused token requests by OAuth error code.
	TokenErrors map[string]int `json:"token_errors"`
	// FamiliesRevoked counts refresh-token replays that revoked a whole authorization.
	FamiliesRevoked int `json:"families_revoked"`
	// Authorizations counts codes issued at the authorize endpoint.
	Authorizations int `json:"authorizations"`
	// APIRequests counts requests to the API routes by path.
	APIRequests map[string]int `json:"api_requests"`
	// Disconnects counts installations revoked by DELETE /v1/installations/me.
	Disconnects int `json:"disconnects"`
	// FaultsShown counts injected faults by name.
	FaultsShown map[string]int `json:"faults_shown"`
}

type stats struct {
	mu sync.Mutex
	s  Stats
}

func newStats() *stats {
	return &stats{s: Stats{
		TokenRequests: map[string]int{}, TokensIssued: map[string]int{},
		TokenErrors: map[string]int{}, APIRequests: map[string]int{}, FaultsShown: map[string]int{},
	}}
}

func (st *stats) add(f func(*Stats)) {
	st.mu.Lock()
	defer st.mu.Unlock()
	f(&st.s)
}

func (st *stats) snapshot() Stats {
	st.mu.Lock()
	defer st.mu.Unlock()
	c := st.s
	c.TokenRequests = maps.Clone(st.s.TokenRequests)
	c.TokensIssued = maps.Clone(st.s.TokensIssued)
	c.TokenErrors = maps.Clone(st.s.TokenErrors)
	c.APIRequests = maps.Clone(st.s.APIRequests)
	c.FaultsShown = maps.Clone(st.s.FaultsShown)
	return c
}

// serveStats answers GET /debug/stats, from loopback callers only.
func (s *Server) serveStats(w http.ResponseWriter, r *http.Request) {
	host, _, _ := net.SplitHostPort(r.RemoteAddr)
	if ip := net.ParseIP(host); ip == nil || !ip.IsLoopback() {
		http.Error(w, "forbidden", http.StatusForbidden)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(s.Stats())
}
