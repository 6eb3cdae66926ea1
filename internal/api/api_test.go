package api

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"
)

// TestRefreshOn401 is the rule of [Client.Do]: a 401 to a token issued FreshFor ago or more
// is retried once with a forced refresh; a 401 to a fresh token is not, so an endpoint that
// always answers 401 spends no refresh token.
func TestRefreshOn401(t *testing.T) {
	now := time.Date(2026, 12, 1, 12, 0, 0, 0, time.UTC)
	tests := []struct {
		name     string
		age      time.Duration // of the token first handed out
		lifetime time.Duration // of that token
		statuses []int         // the API's answers, in turn
		held     string        // what the store holds when read again: "replaced", "gone" (an error), or "" (unchanged)
		forced   int           // forced refreshes wanted
		sent     int           // requests wanted
		final    int
	}{
		{"200 needs nothing", time.Hour, 2 * time.Hour, []int{200}, "", 0, 1, 200},
		{"401 to an old token: one refresh, retried", time.Hour, 2 * time.Hour, []int{401, 200}, "", 1, 2, 200},
		{"401 to an old token, 401 again: one refresh only", time.Hour, 2 * time.Hour, []int{401, 401, 401}, "", 1, 2, 401},
		{"401 to a token issued just now: no refresh", 10 * time.Second, time.Hour, []int{401, 200}, "", 0, 1, 401},
		{"401 at exactly FreshFor: refreshed", FreshFor, time.Hour, []int{401, 200}, "", 1, 2, 200},
		{"401 to a young token past its expiry: refreshed", 2 * time.Second, time.Second, []int{401, 200}, "", 1, 2, 200},
		{"403 is not about the token's age", time.Hour, 2 * time.Hour, []int{403, 200}, "", 0, 1, 403},
		// Another process refreshed meanwhile, which invalidated the token this one sent.
		{"401 to a fresh token since replaced: retried with the held one, no refresh", 10 * time.Second, time.Hour, []int{401, 200}, "replaced", 0, 2, 200},
		{"401 to a fresh token since replaced, 401 again: returned", 10 * time.Second, time.Hour, []int{401, 401, 200}, "replaced", 0, 2, 401},
		{"401 to a fresh token, the store unreadable: returned", 10 * time.Second, time.Hour, []int{401, 200}, "gone", 0, 1, 401},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			sent, bearer := 0, ""
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				bearer = r.Header.Get("Authorization")
				w.WriteHeader(tt.statuses[min(sent, len(tt.statuses)-1)])
				sent++
			}))
			defer srv.Close()
			forced, reads := 0, 0
			c := &Client{BaseURL: srv.URL, HTTPClient: srv.Client(), Now: func() time.Time { return now },
				Token: func(_ context.Context, want Want, _ string) (Token, error) {
					switch {
					case want == Refreshed:
						forced++
						return Token{Value: "fresh", Issued: now, Expiry: now.Add(time.Hour)}, nil
					case want == Held && tt.held == "replaced":
						return Token{Value: "replaced", Issued: now, Expiry: now.Add(time.Hour)}, nil
					case want == Held && tt.held == "gone":
						return Token{}, errors.New("the store cannot be read")
					case want == Valid && reads > 0 && tt.held == "replaced":
						return Token{Value: "replaced", Issued: now, Expiry: now.Add(time.Hour)}, nil // what the store read again put in memory
					}
					reads++
					issued := now.Add(-tt.age)
					return Token{Value: "cached", Issued: issued, Expiry: issued.Add(tt.lifetime)}, nil
				}}
			resp, err := c.Do(context.Background(), Request{Path: "/v2/employees"})
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			if resp.StatusCode != tt.final || forced != tt.forced || sent != tt.sent {
				t.Errorf("status %d after %d requests and %d forced refreshes; want %d, %d and %d", resp.StatusCode, sent, forced, tt.final, tt.sent, tt.forced)
			}
			if tt.held == "replaced" && bearer != "Bearer replaced" {
				t.Errorf("the retry sent %q; want the token held now", bearer)
			}
		})
	}
}

// TestRequestShape: the method defaults to GET, or POST with a body; a body is JSON and arrives
// whole; the caller's headers are sent, but never its Authorization: the bearer token is the
// only credential, in the header only (RFC 6750 §2.1).
func TestRequestShape(t *testing.T) {
	tests := []struct {
		name        string
		req         Request
		method      string
		contentType string
		body        string
	}{
		{"no method, no body", Request{Path: "/v2/employees"}, "GET", "", ""},
		{"no method, a body", Request{Path: "/v2/employees", Body: []byte(`{"a":1}`)}, "POST", "application/json", `{"a":1}`},
		{"a method in lower case", Request{Method: "delete", Path: "/v1/installations/me"}, "DELETE", "", ""},
		{"a caller's header, and its Authorization ignored", Request{Path: "/x", Headers: http.Header{"Authorization": {"Basic stolen"}, "X-Trace": {"t1"}}}, "GET", "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var got *http.Request
			var body []byte
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				got = r
				body, _ = io.ReadAll(r.Body)
			}))
			defer srv.Close()
			c := &Client{BaseURL: srv.URL, HTTPClient: srv.Client(), Token: func(context.Context, Want, string) (Token, error) {
				return Token{Value: "the-token", Issued: time.Now(), Expiry: time.Now().Add(time.Hour)}, nil
			}}
			resp, err := c.Do(context.Background(), tt.req)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			if got.Method != tt.method || got.Header.Get("Content-Type") != tt.contentType || string(body) != tt.body {
				t.Errorf("sent %s with Content-Type %q and body %q; want %s, %q, %q", got.Method, got.Header.Get("Content-Type"), body, tt.method, tt.contentType, tt.body)
			}
			if auth := got.Header.Values("Authorization"); len(auth) != 1 || auth[0] != "Bearer the-token" {
				t.Errorf("Authorization %q; want only the bearer token", auth)
			}
			if tt.req.Headers != nil && got.Header.Get("X-Trace") != "t1" {
				t.Error("the caller's header was not sent")
			}
			if got.URL.RawQuery != "" {
				t.Errorf("query %q: the token must never be in the URL", got.URL.RawQuery)
			}
		})
	}
}
