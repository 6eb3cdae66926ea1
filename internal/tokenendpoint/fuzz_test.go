package tokenendpoint_test

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"golang.org/x/oauth2"

	"github.com/pleoauth/pleoauth/internal/config"
	"github.com/pleoauth/pleoauth/internal/tokenendpoint"
	"github.com/pleoauth/pleoauth/internal/tokens"
)

// canned answers every request with one fuzzed response, in memory.
type canned struct {
	status      int
	contentType string
	body        []byte
}

func (c canned) RoundTrip(r *http.Request) (*http.Response, error) {
	return &http.Response{
		StatusCode: c.status, Status: http.StatusText(c.status), Request: r,
		Header: http.Header{"Content-Type": {c.contentType}, "Retry-After": {"7"}},
		Body:   io.NopCloser(bytes.NewReader(c.body)),
	}, nil
}

// FuzzTokenResponse feeds any token endpoint response — success or error, JSON, form or
// garbage — through a refresh as pleoauth does it: no panic, one-line bounded messages, and a
// token only when it passes every check.
func FuzzTokenResponse(f *testing.F) {
	f.Add(200, "application/json", []byte(`{"access_token":"at","refresh_token":"rt","token_type":"bearer","expires_in":900,"scope":"users:read"}`))
	f.Add(200, "application/json", []byte(`{"access_token":"at","expires_in":"900"}`))
	f.Add(200, "application/json", []byte(`{"access_token":"at","expires_in":-5,"token_type":"mac"}`))
	f.Add(200, "application/x-www-form-urlencoded", []byte(`access_token=at&expires_in=60`))
	f.Add(400, "application/json", []byte(`{"error":"invalid_grant","error_description":"used\nagain"}`))
	f.Add(401, "application/json", []byte(`{"error":"invalid_client"}`))
	f.Add(429, "text/plain", []byte(`slow down`))
	f.Add(503, "text/html", []byte(`<html>down</html>`))
	f.Add(200, "text/html", []byte(`<html>login</html>`))
	f.Add(302, "", []byte(``))
	f.Fuzz(func(t *testing.T, status int, contentType string, body []byte) {
		if status < 100 || status > 999 {
			return
		}
		env := config.Environment{Name: "fuzz", ClientID: "id", TokenURL: "https://auth.example/oauth/token", ClientAuth: config.ClientAuthBasic}
		ctx := context.WithValue(context.Background(), oauth2.HTTPClient, &http.Client{Transport: canned{status, contentType, body}})
		tok, err := tokenendpoint.OAuth2Config(env, "secret").TokenSource(ctx, &oauth2.Token{RefreshToken: "rt"}).Token()
		if err != nil {
			msg := tokenendpoint.Classify(env.TokenURL, err).Error()
			if strings.ContainsAny(msg, "\n\r") || len(msg) > 1000 {
				t.Fatalf("message not one bounded line: %q", msg)
			}
			return
		}
		if tokenendpoint.CheckTokenType(tok.TokenType) != nil || tokenendpoint.CheckAccessToken(tok.AccessToken) != nil {
			return
		}
		now := time.Now()
		b := tokens.NewBundle(tok, now, []string{"users:read"})
		if b.Expiry.Before(now) || b.Expiry.After(now.Add(tokenendpoint.MaxLifetime+time.Second)) {
			t.Fatalf("expiry %v out of bounds for %q", b.Expiry, body)
		}
		if strings.ContainsAny(b.AccessToken, " \n\r\"'") {
			t.Fatalf("an access token with unsafe characters passed: %q", b.AccessToken)
		}
	})
}
