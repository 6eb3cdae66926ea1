package config

import (
	"net/url"
	"strings"
)

// SecretVariables lists the variables that give pleoauth a secret: the settings never kept in
// config.yaml (the client secret, the Redis password, the store key), the refresh token a CI job
// starts from, and serve's key. Commands pleoauth starts ("pleoauth exec", on_rotate) never see
// them: they get the access token they need, not what mints new ones.
func SecretVariables() []string {
	var vars []string
	for _, s := range Specs() {
		if s.NotInFile {
			vars = append(vars, s.Var)
		}
	}
	return append(vars, "PLEOAUTH_REFRESH_TOKEN", "PLEOAUTH_SERVE_KEY")
}

// ChildEnv is the environment of a command pleoauth starts: environ (the parent's, as
// os.Environ gives it) without [SecretVariables], and without PLEOAUTH_REDIS_URL when that URL
// holds a password, followed by extra ("NAME=value" pairs such as PLEO_ACCESS_TOKEN).
func ChildEnv(environ []string, extra ...string) []string {
	secret := map[string]bool{}
	for _, v := range SecretVariables() {
		secret[v] = true
	}
	out := make([]string, 0, len(environ)+len(extra))
	for _, kv := range environ {
		name, value, _ := strings.Cut(kv, "=")
		if secret[name] || (name == "PLEOAUTH_REDIS_URL" && RedactURL(value) != value) {
			continue
		}
		out = append(out, kv)
	}
	return append(out, extra...)
}

// RedactURL hides the secrets a URL may carry — the password of user:password@ and the value of
// every query parameter named like a password, secret or token — wherever it is shown. Text that
// does not parse as a URL is shown as "(unparsable URL)", since where its secret sits is unknown.
func RedactURL(raw string) string {
	u, err := url.Parse(raw)
	if err != nil {
		return "(unparsable URL)"
	}
	if u.RawQuery != "" {
		q := u.Query()
		changed := false
		for name := range q {
			if secretParam(name) {
				for i := range q[name] {
					q[name][i] = "xxxxx"
				}
				changed = true
			}
		}
		if changed {
			// Encode keeps the values' meaning but escapes the x's placeholder as is.
			u.RawQuery = q.Encode()
		}
	}
	return u.Redacted()
}

// secretParam tells whether a query parameter's name says it holds a secret.
func secretParam(name string) bool {
	n := strings.ToLower(name)
	for _, word := range []string{"pass", "secret", "token", "key", "auth", "credential"} {
		if strings.Contains(n, word) {
			return true
		}
	}
	return false
}
