package api

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"
)

// TestTransportSendsTheTokenOnlyToTheAPI: a relative URL goes to the API, its path joined to
// the base's; a URL on the API's origin carries the token; any other goes out without one,
// whatever the caller put in its Authorization header for the API.
func TestTransportSendsTheTokenOnlyToTheAPI(t *testing.T) {
	var gotPath, gotQuery, gotAuth string
	hits := map[string]int{}
	handler := func(name string) http.HandlerFunc {
		return func(w http.ResponseWriter, r *http.Request) {
			hits[name]++
			gotPath, gotQuery, gotAuth = r.URL.Path, r.URL.RawQuery, r.Header.Get("Authorization")
		}
	}
	apiSrv := httptest.NewServer(handler("api"))
	defer apiSrv.Close()
	other := httptest.NewServer(handler("other"))
	defer other.Close()
	base, _ := url.Parse(apiSrv.URL + "/base/")
	tests := []struct {
		name, url, server, path, query, auth string
	}{
		{"relative", "/v2/employees?limit=2", "api", "/base/v2/employees", "limit=2", "Bearer the-token"},
		{"relative without a slash", "v2/employees", "api", "/base/v2/employees", "", "Bearer the-token"},
		{"absolute on the API", apiSrv.URL + "/v1/expenses", "api", "/v1/expenses", "", "Bearer the-token"},
		{"another host", other.URL + "/file", "other", "/file", "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			clear(hits)
			tr := &Transport{Base: base, Token: func(context.Context, Want, string) (Token, error) {
				return Token{Value: "the-token", Issued: time.Now(), Expiry: time.Now().Add(time.Hour)}, nil
			}}
			req, err := http.NewRequest(http.MethodGet, tt.url, nil)
			if err != nil {
				t.Fatal(err)
			}
			resp, err := (&http.Client{Transport: tr}).Do(req)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			if hits[tt.server] != 1 || gotPath != tt.path || gotQuery != tt.query || gotAuth != tt.auth {
				t.Errorf("hits %v, path %q, query %q, Authorization %q; want %s once, %q, %q, %q", hits, gotPath, gotQuery, gotAuth, tt.server, tt.path, tt.query, tt.auth)
			}
			if req.Header.Get("Authorization") != "" {
				t.Error("the caller's request was changed: it holds the token now")
			}
		})
	}
}

// TestTransportSendsABodyAgain: after a 401 to an old token the request goes again with its
// whole body when it can be read again (GetBody); one read once is returned with its 401,
// spending no refresh.
func TestTransportSendsABodyAgain(t *testing.T) {
	tests := []struct {
		name       string
		rewindable bool
		sent       int
		forced     int
		final      int
	}{
		{"a body that can be read again", true, 2, 1, 200},
		{"a body read once", false, 1, 0, 401},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var bodies []string
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				b, _ := io.ReadAll(r.Body)
				bodies = append(bodies, string(b))
				if len(bodies) == 1 {
					w.WriteHeader(http.StatusUnauthorized)
				}
			}))
			defer srv.Close()
			base, _ := url.Parse(srv.URL)
			forced := 0
			old := time.Now().Add(-time.Hour)
			tr := &Transport{Base: base, Token: func(_ context.Context, want Want, _ string) (Token, error) {
				if want == Refreshed {
					forced++
					return Token{Value: "new", Issued: time.Now(), Expiry: time.Now().Add(time.Hour)}, nil
				}
				return Token{Value: "old", Issued: old, Expiry: old.Add(2 * time.Hour)}, nil
			}}
			var body io.Reader = strings.NewReader(`{"a":1}`)
			if !tt.rewindable {
				body = io.MultiReader(body) // NewRequest cannot read it again
			}
			req, _ := http.NewRequest(http.MethodPost, srv.URL+"/v1/x", body)
			resp, err := (&http.Client{Transport: tr}).Do(req)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			if resp.StatusCode != tt.final || len(bodies) != tt.sent || forced != tt.forced {
				t.Fatalf("status %d after %d requests, %d refreshes; want %d, %d, %d", resp.StatusCode, len(bodies), forced, tt.final, tt.sent, tt.forced)
			}
			for i, b := range bodies {
				if b != `{"a":1}` {
					t.Errorf("request %d carried %q; want the whole body", i+1, b)
				}
			}
		})
	}
}
