// Package devserver is a local OAuth 2.0 authorization server shaped like Pleo's, built on
// github.com/ory/fosite and kept in memory. It lets the whole pleoauth flow, the demo and the
// tests run on one machine without Pleo credentials: /oauth/authorize with a login and consent
// page, /oauth/token (client_secret_basic only, PKCE S256 only, rotating refresh tokens whose
// replay revokes the whole family), /oauth/token/introspect, and a few API routes: who am I, two
// lists, and the disconnect that revokes every token of the installation.
package devserver

import (
	"context"
	"crypto/rand"
	"errors"
	"net/http"
	"sync"
	"time"

	"github.com/ory/fosite"
	"github.com/ory/fosite/compose"
	"github.com/ory/fosite/storage"
	"golang.org/x/crypto/bcrypt"
)

// Scopes are the scopes Pleo's documentation names; the client may ask for any of them.
var Scopes = []string{
	"users:read", "users:write", "export-jobs:read", "export-jobs:write", "export-items:read",
	"accounts:read", "accounts:write", "vendors:read", "vendors:write",
}

// Options configure a [Server].
type Options struct {
	ClientID     string
	ClientSecret string
	// RedirectURIs are matched exactly, as Pleo does: no loopback port leniency.
	RedirectURIs []string
	AccessTTL    time.Duration
	RefreshTTL   time.Duration
	// AutoApprove skips the login and consent page, for scripts and the demo.
	AutoApprove bool
	// Username and Password are the demo user's credentials on the login page.
	Username, Password string
	// Issuer, when set, is sent as "iss" with every authorization response (RFC 9207).
	Issuer string
	// ListItems is how many items each paginated list holds (/v2/employees, /v1/expenses);
	// zero means the two employees of the demo.
	ListItems int
}

// Server is the authorization server; it is an http.Handler.
type Server struct {
	opts     Options
	provider fosite.OAuth2Provider
	store    *countingStore
	stats    *stats
	faults   *faults
	history  *history
	mux      *http.ServeMux
	// mu serialises every call into fosite: its MemoryStore races on concurrent refreshes.
	mu sync.Mutex
}

// New builds a server with one registered client.
func New(o Options) (*Server, error) {
	if o.ClientID == "" || o.ClientSecret == "" {
		return nil, errors.New("devserver: a client ID and secret are required")
	}
	if len(o.RedirectURIs) == 0 {
		return nil, errors.New("devserver: at least one redirect URI is required")
	}
	if o.AccessTTL <= 0 || o.RefreshTTL <= 0 {
		return nil, errors.New("devserver: token lifetimes must be positive")
	}
	secret := make([]byte, 32)
	_, _ = rand.Read(secret)
	cfg := &fosite.Config{
		// fosite rounds an expiry to the second and floors expires_in, so a 2 s token could be
		// announced as living 1 s; 0.6 s more makes expires_in at least the configured life.
		AccessTokenLifespan:   o.AccessTTL + 600*time.Millisecond,
		RefreshTokenLifespan:  o.RefreshTTL,
		AuthorizeCodeLifespan: 5 * time.Minute,
		GlobalSecret:          secret,
		// Pleo: PKCE is required and only S256 is accepted.
		EnforcePKCE:                    true,
		EnablePKCEPlainChallengeMethod: false,
		// Pleo issues a refresh token with every code exchange, without offline_access.
		RefreshTokenScopes: []string{},
		ScopeStrategy:      fosite.ExactScopeStrategy,
		// A low bcrypt cost keeps 32 concurrent refreshes fast; this server holds no real secret.
		HashCost: bcrypt.MinCost,
	}
	hash, err := bcrypt.GenerateFromPassword([]byte(o.ClientSecret), bcrypt.MinCost)
	if err != nil {
		return nil, err
	}
	hist := &history{}
	st := &countingStore{MemoryStore: storage.NewMemoryStore(), history: hist}
	st.Clients[o.ClientID] = &fosite.DefaultOpenIDConnectClient{
		DefaultClient: &fosite.DefaultClient{
			ID:            o.ClientID,
			Secret:        hash,
			RedirectURIs:  o.RedirectURIs,
			GrantTypes:    []string{"authorization_code", "refresh_token"},
			ResponseTypes: []string{"code"},
			Scopes:        Scopes,
		},
		// Pleo accepts client_secret_basic only; fosite then refuses client_secret_post.
		TokenEndpointAuthMethod: "client_secret_basic",
	}
	if o.Username == "" {
		o.Username, o.Password = "demo", "demo"
	}
	s := &Server{
		opts:    o,
		store:   st,
		stats:   newStats(),
		faults:  &faults{},
		history: hist,
		provider: compose.Compose(cfg, st, &compose.CommonStrategy{CoreStrategy: compose.NewOAuth2HMACStrategy(cfg)},
			compose.OAuth2AuthorizeExplicitFactory,
			compose.OAuth2RefreshTokenGrantFactory,
			compose.OAuth2TokenIntrospectionFactory,
			compose.OAuth2PKCEFactory,
		),
	}
	s.mux = http.NewServeMux()
	s.mux.HandleFunc("GET /oauth/authorize", s.faultyAuthorize(s.locked(s.authorize)))
	s.mux.HandleFunc("POST /oauth/authorize", s.faultyAuthorize(s.locked(s.authorize)))
	// Faults are shown outside the lock, so a delayed answer holds up nobody else.
	s.mux.HandleFunc("POST /oauth/token", s.faultyToken(s.locked(s.token)))
	s.mux.HandleFunc("POST /oauth/token/introspect", s.locked(s.introspect))
	s.mux.HandleFunc("GET /v1/introspect", s.locked(s.apiIntrospect))
	s.mux.HandleFunc("GET /v2/employees", s.faultyAPI(s.locked(s.employees)))
	s.mux.HandleFunc("GET /v1/expenses", s.faultyAPI(s.locked(s.expenses)))
	s.mux.HandleFunc("DELETE /v1/installations/me", s.faultyAPI(s.locked(s.disconnect)))
	s.mux.HandleFunc("GET /debug/stats", s.serveStats)
	s.mux.HandleFunc("POST /debug/faults", s.serveFaults)
	s.mux.HandleFunc("DELETE /debug/faults", s.serveFaults)
	return s, nil
}

func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) { s.mux.ServeHTTP(w, r) }

func (s *Server) locked(h http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		s.mu.Lock()
		defer s.mu.Unlock()
		h(w, r)
	}
}

// Stats returns a copy of the request counters.
func (s *Server) Stats() Stats {
	st := s.stats.snapshot()
	st.FamiliesRevoked = s.store.familiesRevoked()
	return st
}

// countingStore is fosite's MemoryStore that also records the refresh-token families revoked
// because a used refresh token was presented again (RFC 6819 §5.2.2.3; Pleo's replay rule).
type countingStore struct {
	*storage.MemoryStore
	mu      sync.Mutex
	revoked map[string]bool // request IDs: one per authorization, shared by its rotations
	history *history
}

// RevokeRefreshToken is called by fosite's refresh handler only when it detects reuse; the
// request that presented the spent token is marked in the history.
func (c *countingStore) RevokeRefreshToken(ctx context.Context, requestID string) error {
	c.history.update(eventOf(ctx), func(ev *TokenEvent) { ev.Revoked, ev.Family = true, requestID })
	c.mu.Lock()
	if c.revoked == nil {
		c.revoked = map[string]bool{}
	}
	c.revoked[requestID] = true
	c.mu.Unlock()
	return c.MemoryStore.RevokeRefreshToken(ctx, requestID)
}

func (c *countingStore) familiesRevoked() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.revoked)
}
