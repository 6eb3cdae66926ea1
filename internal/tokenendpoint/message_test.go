package tokenendpoint

import (
	"crypto/x509"
	"errors"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"golang.org/x/oauth2"

	"github.com/pleoauth/pleoauth/internal/failure"
)

const tokenURL = "https://auth.example/oauth/token"

// answered is the error x/oauth2 returns for a token response with the given status, content
// type and OAuth error code (RFC 6749 §5.2).
func answered(status int, contentType, code, description string) error {
	h := http.Header{}
	if contentType != "" {
		h.Set("Content-Type", contentType)
	}
	return &oauth2.RetrieveError{
		Response:  &http.Response{StatusCode: status, Header: h},
		ErrorCode: code, ErrorDescription: description,
	}
}

// TestErrorMessages: each way a token request fails is told apart in one line that names the
// token endpoint, says what happened and what to do next; only a failure that may pass
// (no answer, 5xx, 429, temporarily_unavailable, server_error) is marked temporary.
func TestErrorMessages(t *testing.T) {
	tests := []struct {
		name      string
		err       error
		want      string
		temporary bool
	}{
		{"a redirect", answered(302, "text/html", "", ""),
			"answered with a redirect (HTTP 302), which pleoauth does not follow with credentials; check token_url", false},
		{"the first 3xx", answered(300, "", "", ""), "answered with a redirect (HTTP 300)", false},
		{"the last 3xx", answered(399, "", "", ""), "answered with a redirect (HTTP 399)", false},
		{"400 without an OAuth error", answered(400, "text/html; charset=utf-8", "", ""),
			"failed with HTTP 400 and no OAuth error (content type text/html); check token_url", false}, // the media type alone: parameters are free text
		{"404 of no content type", answered(404, "", "", ""),
			"failed with HTTP 404 and no OAuth error (no content type); check token_url", false},
		{"401 without an OAuth error", answered(401, "", "", ""), "failed with HTTP 401 and no OAuth error", false},
		{"499", answered(499, "", "", ""), "failed with HTTP 499 and no OAuth error", false},
		{"500", answered(500, "", "", ""), "failed with HTTP 500; try again later", true},
		{"429", answered(429, "", "", ""), "failed with HTTP 429; try again later", true},
		{"server_error in a 400", answered(400, "application/json", "server_error", ""),
			"refused the request: server_error; try again later", true},
		{"temporarily_unavailable in a 400", answered(400, "application/json", "temporarily_unavailable", ""),
			"refused the request: temporarily_unavailable; try again later", true},
		{"invalid_grant", answered(400, "application/json", "invalid_grant", "expired"),
			"refused the request: invalid_grant (expired)", false},
		{"unauthorized_client", answered(400, "application/json", "unauthorized_client", ""),
			"refused the request: unauthorized_client; check the client ID and the client secret (PLEOAUTH_CLIENT_SECRET)", false},
		{"a 2xx that is not a token response", errors.New("oauth2: cannot parse response: invalid semicolon separator in query"),
			"answered HTTP 200 without a usable token (not an OAuth token response); check token_url", false},
		{"a 2xx of malformed JSON", errors.New("oauth2: cannot parse json: unexpected end of JSON input"),
			"answered HTTP 200 without a usable token (its JSON is malformed)", false},
		{"a 2xx without access_token", errors.New("oauth2: server response missing access_token"),
			"answered HTTP 200 without a usable token (no access_token in it)", false},
		{"a certificate of an unknown authority", &url.Error{Op: "Post", URL: tokenURL, Err: x509.UnknownAuthorityError{}},
			"has a TLS certificate pleoauth does not trust (x509: certificate signed by unknown authority); if the server uses a private CA, set ca_file for this environment", false},
		{"a certificate for another host", x509.HostnameError{Certificate: &x509.Certificate{}, Host: "auth.example"},
			"has a TLS certificate pleoauth does not trust (x509: certificate is not valid for any names, but wanted to match auth.example)", false},
		{"a cut answer", errors.New("oauth2: cannot fetch token: unexpected EOF"),
			"answered, but the answer broke off (unexpected EOF); try again", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := Classify(tokenURL, tt.err)
			msg := err.Error()
			if !strings.HasPrefix(msg, "token endpoint "+tokenURL+" ") || !strings.Contains(msg, tt.want) {
				t.Errorf("message %q; want it to name %s and contain %q", msg, tokenURL, tt.want)
			}
			if got := failure.KindOf(err) == failure.Temporary; got != tt.temporary {
				t.Errorf("temporary = %v; want %v (%v)", got, tt.temporary, err)
			}
			var e *Error
			if !errors.As(err, &e) || e.Temporary() != tt.temporary {
				t.Errorf("err = %#v; want an *Error whose Temporary() is %v", err, tt.temporary)
			}
		})
	}
}

// TestReason: the reason a refusal is stored and shown with is the OAuth error code, with its
// description when there is one, else the HTTP status, else that no answer came.
func TestReason(t *testing.T) {
	tests := []struct {
		e    Error
		want string
	}{
		{Error{Status: 400, Code: "invalid_grant", Description: "used"}, "invalid_grant: used"},
		{Error{Status: 400, Code: "invalid_grant"}, "invalid_grant"},
		{Error{Status: 503}, "HTTP 503"},
		{Error{Err: errors.New("connection refused")}, "no answer"},
	}
	for _, tt := range tests {
		if got := tt.e.Reason(); got != tt.want {
			t.Errorf("%+v: Reason() = %q; want %q", tt.e, got, tt.want)
		}
	}
}

// TestClientRejected: the client's credentials are refused by invalid_client or
// unauthorized_client (RFC 6749 §5.2), or by a bare 401; a 401 that names another error is
// that error.
func TestClientRejected(t *testing.T) {
	tests := []struct {
		e    Error
		want bool
	}{
		{Error{Status: 401, Code: "invalid_client"}, true},
		{Error{Status: 400, Code: "unauthorized_client"}, true},
		{Error{Status: 401}, true},
		{Error{Status: 401, Code: "invalid_grant"}, false},
		{Error{Status: 403}, false},
		{Error{Status: 400, Code: "invalid_request"}, false},
	}
	for _, tt := range tests {
		if got := tt.e.ClientRejected(); got != tt.want {
			t.Errorf("%+v: ClientRejected() = %v; want %v", tt.e, got, tt.want)
		}
	}
}

func TestCheckAccessToken(t *testing.T) {
	for token, want := range map[string]string{
		"":            "empty access token",
		"a b":         "outside RFC 6750's b64token",
		"at\n":        "outside RFC 6750's b64token",
		"eyJ.a-b_c~+": "",
		"YWJj==":      "",
	} {
		err := CheckAccessToken(token)
		if want == "" && err != nil || want != "" && (err == nil || !strings.Contains(err.Error(), want)) {
			t.Errorf("CheckAccessToken(%q) = %v; want %q", token, err, want)
		}
	}
}
