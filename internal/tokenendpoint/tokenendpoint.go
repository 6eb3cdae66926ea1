// Package tokenendpoint holds what the code exchange and the refresh have in common: the
// oauth2.Config an environment implies, and what a token endpoint's failures mean for the user.
package tokenendpoint

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/base64"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"strings"
	"time"

	"golang.org/x/oauth2"

	"github.com/pleoauth/pleoauth/internal/backoff"
	"github.com/pleoauth/pleoauth/internal/config"
	"github.com/pleoauth/pleoauth/internal/failure"
	"github.com/pleoauth/pleoauth/internal/sanitize"
)

// OAuth2Config returns the x/oauth2 configuration of env. The client authentication style is
// pinned: x/oauth2's auto-detection retries a refused request with the other style, which sends
// the request twice — fatal for a rotating refresh token, and Pleo accepts only
// client_secret_basic (RFC 6749 §2.3.1).
func OAuth2Config(env config.Environment, secret string) *oauth2.Config {
	style := oauth2.AuthStyleInHeader
	if env.ClientAuth == config.ClientAuthBody {
		style = oauth2.AuthStyleInParams
	}
	return &oauth2.Config{
		ClientID:     env.ClientID,
		ClientSecret: secret,
		Endpoint: oauth2.Endpoint{
			AuthURL:   env.AuthorizeURL,
			TokenURL:  env.TokenURL,
			AuthStyle: style,
		},
		RedirectURL: env.RedirectURI,
		Scopes:      env.Scopes,
	}
}

// Error is a failed token request, classified.
type Error struct {
	URL         string
	Status      int    // HTTP status, 0 when no response arrived
	Code        string // the OAuth error code (RFC 6749 §5.2), when the server sent one
	Description string
	ContentType string
	// Untrusted means the server's TLS certificate was refused: not worth retrying.
	Untrusted bool
	// MaybeProcessed means the request may have reached the server although no answer came
	// back (a timeout, a dropped connection, a body cut short): a refresh token sent in it may
	// already be spent, so sending it again could look like a replay.
	MaybeProcessed bool
	// RetryAfter is the wait a 429 or 503 asked for ([backoff.RetryAfter]), zero when none or
	// malformed; the caller caps it.
	RetryAfter time.Duration
	// BrokeOff means an answer began but was cut short: the server was reached.
	BrokeOff bool
	// Unusable says why a 2xx answer held no token pleoauth can use.
	Unusable string
	Err      error // the transport or parse error, when there is one
}

// Reason is the OAuth error code with its description, or the HTTP status when there is no code.
func (e *Error) Reason() string {
	switch {
	case e.Code != "" && e.Description != "":
		// Short enough that a message naming it stays on one readable line: asides dropped,
		// then cut at a word, with the brackets it opened closed, as the reason is itself put
		// in parentheses.
		return e.Code + ": " + sanitize.Brief(e.Description, 40)
	case e.Code != "":
		return e.Code
	case e.Status != 0:
		return fmt.Sprintf("HTTP %d", e.Status)
	default:
		return "no answer"
	}
}

func (e *Error) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "token endpoint %s ", e.URL)
	switch {
	case e.Untrusted:
		fmt.Fprintf(&b, "has a TLS certificate pleoauth does not trust (%s); if the server uses a private CA, set ca_file for this environment", certReason(e.Err))
	case e.BrokeOff:
		fmt.Fprintf(&b, "answered, but the answer broke off (%s); try again", e.Err)
	case e.Status == 0 && e.Err != nil:
		fmt.Fprintf(&b, "could not be reached (%s); check your network and try again", e.Err)
	case e.Code != "":
		fmt.Fprintf(&b, "refused the request: %s", e.Code)
		if e.Description != "" {
			fmt.Fprintf(&b, " (%s)", e.Description)
		}
		switch {
		case e.ClientRejected():
			b.WriteString("; check the client ID and the client secret (PLEOAUTH_CLIENT_SECRET)")
		case e.Temporary():
			b.WriteString("; try again later")
		}
	case e.Status >= 300 && e.Status < 400:
		fmt.Fprintf(&b, "answered with a redirect (HTTP %d), which pleoauth does not follow with credentials; check token_url", e.Status)
	case e.Temporary():
		fmt.Fprintf(&b, "failed with HTTP %d; try again later", e.Status)
	case e.Status >= 400:
		fmt.Fprintf(&b, "failed with HTTP %d and no OAuth error (%s); check token_url", e.Status, e.kind())
	case e.Unusable != "":
		fmt.Fprintf(&b, "answered HTTP %d without a usable token (%s); check token_url", e.Status, e.Unusable)
	default:
		fmt.Fprintf(&b, "answered HTTP %d without a usable token (%s); check token_url", e.Status, e.kind())
	}
	return b.String()
}

func (e *Error) kind() string {
	if e.ContentType == "" {
		return "no content type"
	}
	return "content type " + e.ContentType
}

// Temporary reports a failure worth retrying later: no answer, 5xx, 429, or the
// temporarily_unavailable / server_error codes.
func (e *Error) Temporary() bool {
	if e.Untrusted {
		return false
	}
	if e.Status == 0 && e.Err != nil {
		return true
	}
	return e.Status >= 500 || e.Status == http.StatusTooManyRequests ||
		e.Code == "temporarily_unavailable" || e.Code == "server_error"
}

// Refused reports that the grant itself is gone: the code or refresh token is expired, used or
// revoked (invalid_grant; invalid_token from some servers). Only a new login helps.
func (e *Error) Refused() bool { return e.Code == "invalid_grant" || e.Code == "invalid_token" }

// ClientRejected reports that the client credentials were refused.
func (e *Error) ClientRejected() bool {
	return e.Code == "invalid_client" || e.Code == "unauthorized_client" || (e.Code == "" && e.Status == http.StatusUnauthorized)
}

// Classify turns an error from x/oauth2's token request into an [*Error], marked
// [failure.Temporary] when retrying later may help. Nothing of the response body but the OAuth
// error code and description is kept, so no token can leak into a message; and in those, every
// echo of secrets — what the request sent: a refresh token, a code, a verifier, the client
// secret — is redacted, whole or cut short ([sanitize.Redact]).
func Classify(tokenURL string, err error, secrets ...string) error {
	e := &Error{URL: tokenURL}
	var re *oauth2.RetrieveError
	switch {
	case errors.As(err, &re):
		// Server text, cleaned once here: every message, log line and stored refusal that
		// names them takes them from the Error.
		e.Code = sanitize.Text(sanitize.Redact(firstBytes(re.ErrorCode, 1024), secrets...), 64)
		e.Description = sanitize.Text(sanitize.Redact(firstBytes(re.ErrorDescription, 2048), secrets...), 200)
		if re.Response != nil {
			e.Status = re.Response.StatusCode
			e.ContentType = sanitize.Text(mediaType(re.Response.Header.Get("Content-Type")), 64)
			e.RetryAfter, _ = backoff.RetryAfter(re.Response.Header.Get("Retry-After"), time.Now())
		}
	case IsCertificate(err):
		e.Err = err
		e.Untrusted = true
	case isTransport(err) || brokenBody(err):
		e.Err = transportReason(err)
		e.MaybeProcessed = !notSent(err)
		e.BrokeOff = brokenBody(err)
	default:
		// A 2xx answer that x/oauth2 could not use. Its errors are plain text
		// (golang.org/x/oauth2/internal/token.go), so the text is all there is to go by.
		e.Status = http.StatusOK
		e.Err = err
		switch msg := err.Error(); {
		case strings.Contains(msg, "cannot parse json"):
			e.Unusable = "its JSON is malformed"
		case strings.Contains(msg, "missing access_token"):
			e.Unusable = "no access_token in it"
		default:
			e.Unusable = "not an OAuth token response"
		}
	}
	if e.Temporary() {
		return failure.Wrap(failure.Temporary, e)
	}
	return e
}

// firstBytes is s cut to at most n bytes: more than a message shows once cleaned, and bounded, as
// [sanitize.Redact]'s work grows with its text.
func firstBytes(s string, n int) string { return s[:min(len(s), n)] }

// mediaType is a Content-Type's media type alone: its parameters are the server's free text,
// which may echo what was sent ("text/plain; echo=…") and tell nothing about the failure.
func mediaType(contentType string) string {
	mt, _, _ := strings.Cut(contentType, ";")
	return strings.TrimSpace(mt)
}

// CredentialForms are the client secret as a token request carries it — itself, URL-encoded in a
// body or a Basic header (RFC 6749 §2.3.1), and the Basic credentials in base64 — for
// [Classify] to redact wherever a server echoes one.
func CredentialForms(clientID, secret string) []string {
	if secret == "" {
		return nil
	}
	basic := url.QueryEscape(clientID) + ":" + url.QueryEscape(secret)
	return []string{secret, url.QueryEscape(secret), base64.StdEncoding.EncodeToString([]byte(basic))}
}

// IsCertificate reports a TLS certificate the client refused.
func IsCertificate(err error) bool {
	var unknown x509.UnknownAuthorityError
	var invalid x509.CertificateInvalidError
	var host x509.HostnameError
	var verify *tls.CertificateVerificationError
	return errors.As(err, &unknown) || errors.As(err, &invalid) || errors.As(err, &host) || errors.As(err, &verify)
}

func certReason(err error) string {
	var verify *tls.CertificateVerificationError
	if errors.As(err, &verify) {
		return verify.Err.Error()
	}
	var ue *url.Error
	if errors.As(err, &ue) {
		return ue.Err.Error()
	}
	return err.Error()
}

// notSent reports a transport failure that happened before the request could reach the server:
// the connection was never made.
func notSent(err error) bool {
	var oe *net.OpError
	return errors.As(err, &oe) && oe.Op == "dial"
}

// brokenBody reports a response whose body broke off (a dropped connection, a short body).
// x/oauth2 formats that error with %v (internal/token.go), so its text is all that is left of it.
func brokenBody(err error) bool {
	return strings.HasPrefix(err.Error(), "oauth2: cannot fetch token: ")
}

func isTransport(err error) bool {
	var ne net.Error
	var ue interface{ Timeout() bool }
	return errors.As(err, &ne) || errors.As(err, &ue) || errors.Is(err, context.DeadlineExceeded)
}

// transportReason keeps the cause of a failed connection without the URL net/http repeats.
func transportReason(err error) error {
	switch {
	case errors.Is(err, context.DeadlineExceeded):
		return errors.New("timed out")
	case errors.Is(err, context.Canceled):
		return context.Canceled
	}
	var oe *net.OpError
	if errors.As(err, &oe) {
		return oe.Err
	}
	var ne net.Error
	if errors.As(err, &ne) && ne.Timeout() {
		return errors.New("timed out")
	}
	if brokenBody(err) {
		return errors.New(strings.TrimPrefix(err.Error(), "oauth2: cannot fetch token: "))
	}
	var ue *url.Error
	if errors.As(err, &ue) {
		return ue.Err // without the method and URL, which the message names already
	}
	return err
}
