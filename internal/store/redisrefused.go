package store

import (
	"cmp"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"strings"

	"github.com/pleoauth/pleoauth/internal/sanitize"
)

// RefusedError means Redis answered but refused pleoauth for a setting: the password (WRONGPASS,
// NOAUTH) or the server's TLS certificate. Retrying cannot help, unlike a Redis that did not
// answer ([UnreachableError]): a person must fix the setting Fix names.
type RefusedError struct {
	URL string
	Why string // what Redis refused, in words
	Fix string // the setting to fix, named with where it was set
	Err error
}

func (e *RefusedError) Error() string {
	// What Redis said is the server's text: shown escaped, as every server's is.
	return fmt.Sprintf("Redis at %s %s (%s); %s", e.URL, e.Why, sanitize.Text(e.Err.Error(), 200), e.Fix)
}

func (e *RefusedError) Unwrap() error { return e.Err }

// refused returns the [RefusedError] err is, or nil for a failure that may pass (the network,
// a timeout, a server starting up).
func (r *Redis) refused(err error) error {
	msg := err.Error()
	var verify *tls.CertificateVerificationError
	var unknown x509.UnknownAuthorityError
	var host x509.HostnameError
	var invalid x509.CertificateInvalidError
	switch {
	case strings.HasPrefix(msg, "WRONGPASS") || strings.Contains(msg, "invalid password") ||
		(strings.HasPrefix(msg, "ERR AUTH") && strings.Contains(msg, "without any password configured")):
		fix := "set PLEOAUTH_REDIS_PASSWORD to the server's password"
		if r.PasswordFrom != "" {
			fix = "fix " + r.PasswordFrom
		}
		return &RefusedError{URL: r.URL, Why: "refused the password", Fix: fix, Err: err}
	case strings.HasPrefix(msg, "NOPERM"):
		// The password was right: the ACL user may not touch pleoauth's keys.
		return &RefusedError{URL: r.URL, Why: "let the user in but not at pleoauth's keys", Fix: "give the Redis user access to the keys under redis_prefix (ACL SETUSER … ~<prefix>*), or set redis_prefix to keys it may use", Err: err}
	case strings.HasPrefix(msg, "NOAUTH"):
		fix := "set PLEOAUTH_REDIS_PASSWORD to the server's password"
		if r.PasswordFrom != "" {
			fix = "fix " + r.PasswordFrom
		}
		return &RefusedError{URL: r.URL, Why: "asks for a password pleoauth was not given", Fix: fix, Err: err}
	case errors.As(err, &host):
		return &RefusedError{URL: r.URL, Why: "has a TLS certificate for another host name", Fix: "name the host its certificate is for in " + cmp.Or(r.URLFrom, "redis_url"), Err: err}
	case errors.As(err, &verify) || errors.As(err, &unknown) || errors.As(err, &invalid):
		fix := "if a private CA signed it, set ca_file for this environment to the CA's certificate"
		if r.CAFrom != "" {
			fix = "check that " + r.CAFrom + " holds the CA that signed the server's certificate"
		}
		return &RefusedError{URL: r.URL, Why: "has a TLS certificate pleoauth does not trust", Fix: fix, Err: err}
	}
	return nil
}
