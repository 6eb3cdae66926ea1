package devserver

import (
	"encoding/json"
	"net/http"

	"github.com/ory/fosite"
)

// apiIntrospect serves GET /v1/introspect: who the bearer token speaks for, in Pleo's shape.
func (s *Server) apiIntrospect(w http.ResponseWriter, r *http.Request) {
	ar, ok := s.bearer(w, r, "")
	if !ok {
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"data": map[string]any{
		"authMethod":      "OAUTH2",
		"clientId":        ar.GetClient().GetID(),
		"scope":           joinScopes(ar.GetGrantedScopes()),
		"applicationName": "pleoauth local demo",
		"subjectURN":      ar.GetSession().GetSubject(),
	}})
}

// bearer checks the request's bearer token (RFC 6750) and, when scope is set, that it was
// granted; it answers 401 or 403 itself when not.
func (s *Server) bearer(w http.ResponseWriter, r *http.Request, scope string) (fosite.AccessRequester, bool) {
	s.stats.add(func(st *Stats) { st.APIRequests[r.URL.Path]++ })
	token := fosite.AccessTokenFromRequest(r)
	if token == "" || r.URL.Query().Has("access_token") {
		w.Header().Set("WWW-Authenticate", `Bearer realm="pleoauth-devserver"`)
		writeJSON(w, http.StatusUnauthorized, map[string]string{"message": "missing bearer token in the Authorization header"})
		return nil, false
	}
	_, ar, err := s.provider.IntrospectToken(r.Context(), token, fosite.AccessToken, &fosite.DefaultSession{})
	if err != nil {
		w.Header().Set("WWW-Authenticate", `Bearer realm="pleoauth-devserver", error="invalid_token"`)
		writeJSON(w, http.StatusUnauthorized, map[string]string{"message": "invalid or expired access token"})
		return nil, false
	}
	if scope != "" && !ar.GetGrantedScopes().Has(scope) {
		w.Header().Set("WWW-Authenticate", `Bearer realm="pleoauth-devserver", error="insufficient_scope", scope="`+scope+`"`)
		writeJSON(w, http.StatusForbidden, map[string]string{"message": "the token lacks scope " + scope})
		return nil, false
	}
	return ar, true
}

func joinScopes(a fosite.Arguments) string {
	out := ""
	for i, s := range a {
		if i > 0 {
			out += " "
		}
		out += s
	}
	return out
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json;charset=UTF-8")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}
