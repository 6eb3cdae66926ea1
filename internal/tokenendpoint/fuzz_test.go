package tokenendpoint_test

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/pleoauth/pleoauth/internal/config"
	"github.com/pleoauth/pleoauth/internal/grant"
	"github.com/pleoauth/pleoauth/internal/store"
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

// b64token is RFC 6750 §2.1's grammar, written out here on its own so the test does not trust
// the code it checks: 1*( ALPHA / DIGIT / "-" / "." / "_" / "~" / "+" / "/" ) *"="
var b64token = regexp.MustCompile(`^[A-Za-z0-9\-._~+/]+=*$`)

// FuzzTokenResponse feeds any token endpoint response — success or error, JSON, form or
// garbage — through the real refresh path ("pleoauth token --force-refresh" without the command
// line: the login's grant, its file store and lock, the refresh protocol): no panic, one-line
// bounded messages, a store that stays readable, and a token handed out only when it is an
// RFC 6750 b64token with a sane expiry.
func FuzzTokenResponse(f *testing.F) {
	f.Add(200, "application/json", []byte(`{"access_token":"at","refresh_token":"rt","token_type":"bearer","expires_in":900,"scope":"users:read"}`))
	f.Add(200, "application/json", []byte(`{"access_token":"at","expires_in":"900"}`))
	f.Add(200, "application/json", []byte(`{"access_token":"at","expires_in":-5,"token_type":"mac"}`))
	f.Add(200, "application/json", []byte(`{"access_token":"a b","expires_in":60}`))
	f.Add(200, "application/json", []byte(`{"access_token":"a=b","expires_in":60}`))
	f.Add(200, "application/x-www-form-urlencoded", []byte(`access_token=at&expires_in=60`))
	f.Add(400, "application/json", []byte(`{"error":"invalid_grant","error_description":"used\nagain"}`))
	f.Add(401, "application/json", []byte(`{"error":"invalid_client"}`))
	f.Add(429, "text/plain", []byte(`slow down`))
	f.Add(503, "text/html", []byte(`<html>down</html>`))
	f.Add(200, "text/html", []byte(`<html>login</html>`))
	f.Add(302, "", []byte(``))
	home := f.TempDir()
	vars := map[string]string{
		"PLEOAUTH_HOME": home, "PLEOAUTH_STORE": "file", "PLEOAUTH_ENV": "local",
		"PLEOAUTH_CLIENT_SECRET": "secret", "PLEOAUTH_TOKEN_URL": "https://auth.example/oauth/token",
	}
	cfg, err := config.Load(nil, func(k string) string { return vars[k] })
	if err != nil {
		f.Fatal(err)
	}
	env, err := cfg.Environment()
	if err != nil {
		f.Fatal(err)
	}
	tokensDir := filepath.Join(home, "tokens")
	f.Fuzz(func(t *testing.T, status int, contentType string, body []byte) {
		if status < 100 || status > 999 {
			return
		}
		now := time.Now()
		stored := &store.Bundle{AccessToken: "old", RefreshToken: "rt", Expiry: now.Add(-time.Minute)}
		if err := (store.File{Dir: tokensDir}).Save("local", stored); err != nil {
			t.Fatal(err)
		}
		g, err := grant.Open(cfg, env, grant.Deps{
			Stderr: io.Discard, Getenv: func(k string) string { return vars[k] }, Now: time.Now,
			HTTPClient: func() *http.Client { return &http.Client{Transport: canned{status, contentType, body}} },
			Sleep:      func(context.Context, time.Duration) error { return nil },
		})
		if err != nil {
			t.Fatal(err)
		}
		b, err := g.Token(context.Background(), grant.Request{Force: true})
		if _, loadErr := (store.File{Dir: tokensDir}).Load("local"); loadErr != nil {
			t.Fatalf("the store is unreadable after the response: %v", loadErr)
		}
		if err != nil {
			if msg := err.Error(); strings.ContainsAny(msg, "\n\r") || len(msg) > 1000 {
				t.Fatalf("message not one bounded line: %q", msg)
			}
			return
		}
		if !b64token.MatchString(b.AccessToken) {
			t.Fatalf("an access token outside RFC 6750's b64token was handed out: %q", b.AccessToken)
		}
		if b.Expiry.Before(now) || b.Expiry.After(time.Now().Add(366*24*time.Hour+time.Second)) {
			t.Fatalf("expiry %v out of bounds for %q", b.Expiry, body)
		}
	})
}
