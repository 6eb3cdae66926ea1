package devserver

import (
	"errors"
	"net/http"

	"github.com/ory/fosite"
)

// token serves /oauth/token: code exchange and refresh, counted by grant type.
func (s *Server) token(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	grant := r.PostFormValue("grant_type")
	ar, err := s.provider.NewAccessRequest(ctx, r, &fosite.DefaultSession{})
	if err != nil {
		s.tokenError(w, r, ar, err)
		return
	}
	resp, err := s.provider.NewAccessResponse(ctx, ar)
	if err != nil {
		s.tokenError(w, r, ar, err)
		return
	}
	s.stats.add(func(st *Stats) { st.TokensIssued[grant]++ })
	refresh, _ := resp.GetExtra("refresh_token").(string)
	s.history.update(eventOf(ctx), func(ev *TokenEvent) {
		ev.Family = ar.GetID()
		ev.Issued = Fingerprint(refresh)
		ev.Access = Fingerprint(resp.GetAccessToken())
		ev.AccessExpires = ar.GetSession().GetExpiresAt(fosite.AccessToken)
		// Checked before the write: a client that closes its connection after reading the
		// answer must not count as gone.
		if ctx.Err() != nil {
			ev.Answer = AnswerClientGone
		}
	})
	s.provider.WriteAccessResponse(ctx, w, ar, resp)
}

func (s *Server) tokenError(w http.ResponseWriter, r *http.Request, ar fosite.AccessRequester, err error) {
	var rfc *fosite.RFC6749Error
	code := "server_error"
	if errors.As(err, &rfc) {
		code = rfc.ErrorField
	}
	s.stats.add(func(st *Stats) { st.TokenErrors[code]++ })
	s.history.update(eventOf(r.Context()), func(ev *TokenEvent) { ev.Error = code })
	s.provider.WriteAccessError(r.Context(), w, ar, err)
}

// introspect serves /oauth/token/introspect (RFC 7662), for the client that got the token.
func (s *Server) introspect(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	ir, err := s.provider.NewIntrospectionRequest(ctx, r, &fosite.DefaultSession{})
	if err != nil {
		s.provider.WriteIntrospectionError(ctx, w, err)
		return
	}
	s.provider.WriteIntrospectionResponse(ctx, w, ir)
}
