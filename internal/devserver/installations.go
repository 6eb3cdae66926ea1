package devserver

import (
	"context"
	"net/http"

	"github.com/ory/fosite"
)

// disconnect serves DELETE /v1/installations/me, Pleo's documented disconnect: it revokes every
// access and refresh token of the installation the bearer token belongs to — this client's, for
// the token's subject (the company) — so that afterwards the API refuses each access token and
// the token endpoint each refresh token. It answers 204, or 404 when the installation holds no
// token (here only through the api-404 fault: the bearer token itself is one).
func (s *Server) disconnect(w http.ResponseWriter, r *http.Request) {
	ar, ok := s.bearer(w, r, "")
	if !ok {
		return
	}
	n := s.store.revokeInstallation(r.Context(), ar.GetClient().GetID(), ar.GetSession().GetSubject())
	if n == 0 {
		writeJSON(w, http.StatusNotFound, map[string]string{"message": "no installation of this client"})
		return
	}
	s.stats.add(func(st *Stats) { st.Disconnects++ })
	w.WriteHeader(http.StatusNoContent)
}

// revokeInstallation deletes every access and refresh token that client holds for subject and
// returns how many it deleted. Deleted, not marked inactive: fosite treats an inactive refresh
// token presented again as a replay, and a revoked login is not one. The server's lock
// serialises every call into the store, so reading its maps here races with nothing.
func (c *countingStore) revokeInstallation(ctx context.Context, client, subject string) int {
	ofInstallation := func(r fosite.Requester) bool {
		return r.GetClient().GetID() == client && r.GetSession().GetSubject() == subject
	}
	var access, refresh []string
	for sig, r := range c.AccessTokens {
		if ofInstallation(r) {
			access = append(access, sig)
		}
	}
	for sig, r := range c.RefreshTokens {
		if ofInstallation(r) {
			refresh = append(refresh, sig)
		}
	}
	for _, sig := range access {
		_ = c.DeleteAccessTokenSession(ctx, sig)
	}
	for _, sig := range refresh {
		_ = c.DeleteRefreshTokenSession(ctx, sig)
	}
	return len(access) + len(refresh)
}
