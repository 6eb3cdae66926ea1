package main

import (
	"fmt"
	"net/http"
	"net/http/httptest"

	"github.com/go-oauth2/oauth2/v4"
	"github.com/go-oauth2/oauth2/v4/manage"
	"github.com/go-oauth2/oauth2/v4/models"
	"github.com/go-oauth2/oauth2/v4/server"
	"github.com/go-oauth2/oauth2/v4/store"
	"github.com/oauth2-proxy/mockoidc"
)

// Credentials of the go-oauth2 server's one client.
const (
	goOAuth2ClientID = "interop-client"
	goOAuth2Secret   = "interop-secret"
)

// startGoOAuth2 runs github.com/go-oauth2/oauth2's server — an RFC 6749 implementation this
// project did not write — with PKCE S256 enforced and clients authenticated only by an HTTP
// Basic header. Its endpoints live at /authorize and /token, not Pleo's paths, so a config that
// works with it proves the per-URL settings. It approves every authorization without a page.
func startGoOAuth2(redirectPort int) (string, func(), error) {
	manager := manage.NewDefaultManager()
	manager.MustTokenStorage(store.NewMemoryTokenStore())
	clients := store.NewClientStore()
	if err := clients.Set(goOAuth2ClientID, &models.Client{
		ID: goOAuth2ClientID, Secret: goOAuth2Secret, Domain: fmt.Sprintf("http://localhost:%d", redirectPort),
	}); err != nil {
		return "", nil, err
	}
	manager.MapClientStorage(clients)

	srv := server.NewDefaultServer(manager)
	srv.Config.ForcePKCE = true
	srv.Config.AllowedCodeChallengeMethods = []oauth2.CodeChallengeMethod{oauth2.CodeChallengeS256}
	srv.SetClientInfoHandler(server.ClientBasicHandler)
	srv.SetUserAuthorizationHandler(func(http.ResponseWriter, *http.Request) (string, error) { return "user-1", nil })

	mux := http.NewServeMux()
	mux.HandleFunc("/authorize", func(w http.ResponseWriter, r *http.Request) {
		if err := srv.HandleAuthorizeRequest(w, r); err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
		}
	})
	mux.HandleFunc("/token", func(w http.ResponseWriter, r *http.Request) {
		_ = srv.HandleTokenRequest(w, r)
	})
	hs := httptest.NewServer(mux)
	return hs.URL, hs.Close, nil
}

// startMockOIDC runs github.com/oauth2-proxy/mockoidc, whose token endpoint reads the client
// credentials from the request body only (client_secret_post): pleoauth's client_auth: body.
func startMockOIDC() (*mockoidc.MockOIDC, error) {
	return mockoidc.Run()
}
