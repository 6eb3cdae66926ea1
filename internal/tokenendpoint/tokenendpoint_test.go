package tokenendpoint

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"math"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"golang.org/x/oauth2"

	"github.com/pleoauth/pleoauth/internal/config"
	"github.com/pleoauth/pleoauth/internal/failure"
)

func TestOAuth2ConfigPinsAuthStyle(t *testing.T) {
	for auth, want := range map[string]oauth2.AuthStyle{
		config.ClientAuthBasic: oauth2.AuthStyleInHeader,
		config.ClientAuthBody:  oauth2.AuthStyleInParams,
	} {
		c := OAuth2Config(config.Environment{ClientAuth: auth}, "s")
		if c.Endpoint.AuthStyle != want {
			t.Errorf("client_auth %s: AuthStyle %v; want %v", auth, c.Endpoint.AuthStyle, want)
		}
	}
}

// refresh sends one refresh request to a server answering with h, and classifies the failure.
func refresh(t *testing.T, h http.HandlerFunc, timeout time.Duration) error {
	t.Helper()
	srv := httptest.NewServer(h)
	defer srv.Close()
	return refreshAt(t, srv.URL+"/oauth/token", timeout)
}

func refreshAt(t *testing.T, tokenURL string, timeout time.Duration) error {
	t.Helper()
	cfg := OAuth2Config(config.Environment{ClientID: "id", TokenURL: tokenURL, ClientAuth: config.ClientAuthBasic}, "secret")
	ctx := context.WithValue(context.Background(), oauth2.HTTPClient, &http.Client{Timeout: timeout})
	_, err := cfg.TokenSource(ctx, &oauth2.Token{RefreshToken: "r"}).Token()
	if err == nil {
		t.Fatal("the request succeeded")
	}
	return Classify(tokenURL, err)
}

func TestClassify(t *testing.T) {
	jsonErr := func(status int, body string) http.HandlerFunc {
		return func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(status)
			_, _ = w.Write([]byte(body))
		}
	}
	tests := []struct {
		name      string
		h         http.HandlerFunc
		temporary bool
		refused   bool
		want      string
	}{
		{"invalid_grant", jsonErr(400, `{"error":"invalid_grant","error_description":"used"}`), false, true, "refused the request: invalid_grant (used)"},
		{"invalid_token", jsonErr(400, `{"error":"invalid_token"}`), false, true, "invalid_token"},
		{"invalid_client", jsonErr(401, `{"error":"invalid_client"}`), false, false, "check the client ID and the client secret"},
		{"500", jsonErr(500, `oops`), true, false, "HTTP 500; try again later"},
		{"503 with OAuth code", jsonErr(503, `{"error":"temporarily_unavailable"}`), true, false, "temporarily_unavailable; try again later"},
		{"429", jsonErr(429, ``), true, false, "HTTP 429"},
		{"200 without access_token", jsonErr(200, `{"token_type":"bearer"}`), false, false, "without a usable token"},
		{"200 not JSON", jsonErr(200, `<html>`), false, false, "without a usable token"},
		{"slow", func(w http.ResponseWriter, r *http.Request) { time.Sleep(500 * time.Millisecond) }, true, false, "could not be reached (timed out)"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			timeout := 10 * time.Second
			if tt.name == "slow" {
				timeout = 100 * time.Millisecond
			}
			err := refresh(t, tt.h, timeout)
			if got := failure.KindOf(err) == failure.Temporary; got != tt.temporary {
				t.Errorf("temporary = %v; want %v (%v)", got, tt.temporary, err)
			}
			var e *Error
			if !errors.As(err, &e) {
				t.Fatalf("err = %T; want *Error", err)
			}
			if e.Refused() != tt.refused {
				t.Errorf("Refused() = %v; want %v", e.Refused(), tt.refused)
			}
			if !strings.Contains(err.Error(), tt.want) || strings.Contains(err.Error(), "\n") {
				t.Errorf("message %q; want one line containing %q", err, tt.want)
			}
		})
	}
}

// TestClassifyRetryAfter: the wait a 429 or 503 asks for reaches the caller as read by
// backoff.RetryAfter; none, or one that is not a Retry-After, is zero.
func TestClassifyRetryAfter(t *testing.T) {
	tests := []struct {
		status int
		header string
		want   time.Duration
	}{
		{429, "7", 7 * time.Second},
		{503, "120", 2 * time.Minute},
		{429, "0", 0},
		{429, "", 0},
		{429, "-3", 0},
		{503, "soon", 0},
		{429, "99999999999", time.Duration(math.MaxInt64)}, // never wrapped round to a short wait
		{429, time.Now().Add(-time.Hour).UTC().Format(http.TimeFormat), 0},
	}
	for _, tt := range tests {
		err := refresh(t, func(w http.ResponseWriter, r *http.Request) {
			if tt.header != "" {
				w.Header().Set("Retry-After", tt.header)
			}
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(tt.status)
			_, _ = w.Write([]byte(`{"error":"temporarily_unavailable"}`))
		}, 10*time.Second)
		var e *Error
		if !errors.As(err, &e) {
			t.Fatalf("%d Retry-After %q: err = %T; want *Error", tt.status, tt.header, err)
		}
		if e.RetryAfter != tt.want {
			t.Errorf("%d Retry-After %q: RetryAfter = %v; want %v", tt.status, tt.header, e.RetryAfter, tt.want)
		}
	}
}

func TestClassifyConnectionRefused(t *testing.T) {
	l, _ := net.Listen("tcp", "127.0.0.1:0")
	addr := l.Addr().String()
	l.Close()
	err := refreshAt(t, "http://"+addr+"/oauth/token", time.Second)
	if failure.KindOf(err) != failure.Temporary || !strings.Contains(err.Error(), "connection refused") {
		t.Errorf("err = %v; want a temporary failure naming the refused connection", err)
	}
}

func TestLifetime(t *testing.T) {
	now := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	tests := []struct {
		name string
		tok  *oauth2.Token
		want time.Duration
	}{
		{"expires_in", &oauth2.Token{ExpiresIn: 900}, 15 * time.Minute},
		{"form-encoded expiry", &oauth2.Token{Expiry: now.Add(90 * time.Second)}, 90 * time.Second},
		{"missing", &oauth2.Token{}, 5 * time.Minute}, // docs/design.md: "trusted for 5 minutes only"
		{"expiry in the past", &oauth2.Token{Expiry: now.Add(-time.Hour)}, AssumedLifetime},
		{"expires_in 0", (&oauth2.Token{}).WithExtra(map[string]any{"expires_in": float64(0)}), 0},
		{"expires_in negative", (&oauth2.Token{}).WithExtra(map[string]any{"expires_in": float64(-5)}), 0},
		{"expires_in absurd", &oauth2.Token{ExpiresIn: 1 << 62}, MaxLifetime},
		// docs/design.md: "a value over a year is capped" — a year, leap day included, is not.
		{"expires_in a year", &oauth2.Token{ExpiresIn: 366 * 24 * 3600}, 366 * 24 * time.Hour},
		{"expires_in a year and a second", &oauth2.Token{ExpiresIn: 366*24*3600 + 1}, 366 * 24 * time.Hour},
		{"expires_in 1", &oauth2.Token{ExpiresIn: 1}, time.Second},
		{"expiry rounded to the second", &oauth2.Token{Expiry: now.Add(90*time.Second + 600*time.Millisecond)}, 91 * time.Second},
		// A decoder that keeps numbers as written (json.Number) says the same.
		{"expires_in 0 as written", (&oauth2.Token{}).WithExtra(map[string]any{"expires_in": json.Number("0")}), 0},
		{"expires_in negative as written", (&oauth2.Token{}).WithExtra(map[string]any{"expires_in": json.Number("-5")}), 0},
		{"expires_in not a number", (&oauth2.Token{}).WithExtra(map[string]any{"expires_in": json.Number("soon")}), AssumedLifetime},
		{"expires_in as a string", (&oauth2.Token{}).WithExtra(map[string]any{"expires_in": "0"}), AssumedLifetime},
	}
	for _, tt := range tests {
		if got := Lifetime(tt.tok, now); got != tt.want {
			t.Errorf("%s: Lifetime = %v; want %v", tt.name, got, tt.want)
		}
	}
}

func TestCheckTokenType(t *testing.T) {
	for typ, ok := range map[string]bool{"": true, "bearer": true, "Bearer": true, "mac": false, "DPoP": false} {
		if err := CheckTokenType(typ); (err == nil) != ok {
			t.Errorf("CheckTokenType(%q) = %v", typ, err)
		}
	}
}

// TestClassifyRedactsEchoedSecrets: a token endpoint that quotes what it was sent — the refresh
// token, whole or cut short, in its error code or description — has every echo replaced before
// the text reaches a message or a stored refusal.
func TestClassifyRedactsEchoedSecrets(t *testing.T) {
	const rt = "ory_rt_mJxyMv43DPwr_8x8cH-N4_gdRBSWT8XmZq1.abcdefghijk"
	err := Classify("https://auth.example/oauth/token", &oauth2.RetrieveError{
		Response:         &http.Response{StatusCode: 400, Header: http.Header{}},
		ErrorCode:        "invalid_grant " + rt[:30],
		ErrorDescription: "refresh token " + rt + " is revoked; sent with secret client-s3cret-value",
	}, rt, "client-s3cret-value")
	var e *Error
	if !errors.As(err, &e) {
		t.Fatalf("got %T", err)
	}
	for _, leak := range []string{rt[:8], "client-s"} {
		if strings.Contains(e.Code+e.Description+err.Error(), leak) {
			t.Errorf("code %q, description %q: a secret's echo is left", e.Code, e.Description)
		}
	}
	if e.Description != "refresh token [redacted] is revoked; sent with secret [redacted]" || e.Code != "invalid_grant [redacted]" {
		t.Errorf("code %q, description %q; want each echo redacted, the rest kept", e.Code, e.Description)
	}
}

// TestClassifyRedactsTheSecretsWireForms: a server that echoes the client secret as the request
// carried it — URL-encoded, or inside the Basic header's base64 — or a Content-Type parameter
// with the refresh token, shows none of it.
func TestClassifyRedactsTheSecretsWireForms(t *testing.T) {
	const id, secret, rt = "pleoauth-local", "fake+secret/with=chars", "ory_rt_AbCdEfGhIjKlMnOpQrStUvWxYz0123456789"
	forms := CredentialForms(id, secret)
	basic := base64.StdEncoding.EncodeToString([]byte("pleoauth-local:fake%2Bsecret%2Fwith%3Dchars")) // RFC 6749 §2.3.1
	for _, tt := range []struct{ name, description, contentType string }{
		{"URL-encoded", "bad client credentials pleoauth-local:fake%2Bsecret%2Fwith%3Dchars", "application/json"},
		{"the Basic header", "bad Authorization header Basic " + basic, "application/json"},
		{"a Content-Type parameter", "", "text/plain; echo=" + rt},
	} {
		t.Run(tt.name, func(t *testing.T) {
			err := Classify("https://auth.example/oauth/token", &oauth2.RetrieveError{
				Response:  &http.Response{StatusCode: 400, Header: http.Header{"Content-Type": {tt.contentType}}},
				ErrorCode: "invalid_client", ErrorDescription: tt.description,
			}, append(forms, rt)...)
			for _, leak := range []string{"fake%2Bsecret", "secret%2Fwith", basic[8:20], rt[7:17]} {
				if strings.Contains(err.Error(), leak) {
					t.Errorf("%q shows %q", err, leak)
				}
			}
		})
	}
	if CredentialForms(id, "") != nil {
		t.Error("no secret has forms")
	}
}
