package debuglog

import (
	"net/http"
	"net/url"
	"strings"
	"testing"
)

// secretNames are the parameter and JSON field names whose values are credentials (RFC 6749
// §4.1.2–§6, RFC 7636 §4.5, RFC 7523), written out here rather than read from the package so
// that a name dropped from the redactor fails the tests instead of dropping out of them.
func secretNames() []string {
	return []string{"access_token", "refresh_token", "id_token", "client_secret", "code", "code_verifier", "token", "password", "assertion"}
}

// TestSecretHeadersFingerprinted: the value of every header that carries a credential —
// "pleoauth api -H 'Cookie: …' --debug" included — is replaced by a fingerprint, keeping only a
// Bearer or Basic scheme; other headers are shown as they are.
func TestSecretHeadersFingerprinted(t *testing.T) {
	const secret = "c2VjcmV0LXZhbHVlLTAxMjM0NTY3ODk"
	for _, tc := range []struct {
		header, value, want string
	}{
		{"Authorization", "Bearer " + secret, "Bearer " + Fingerprint(secret)},
		{"Authorization", "bearer " + secret, "bearer " + Fingerprint(secret)},
		{"Authorization", "Basic " + secret, "Basic " + Fingerprint(secret)},
		{"Authorization", secret, Fingerprint(secret)},
		{"Authorization", "Digest " + secret, Fingerprint("Digest " + secret)},
		{"Proxy-Authorization", "Basic " + secret, "Basic " + Fingerprint(secret)},
		{"Cookie", "session=" + secret, Fingerprint("session=" + secret)},
		{"Set-Cookie", "session=" + secret + "; HttpOnly", Fingerprint("session=" + secret + "; HttpOnly")},
		{"X-Request-Id", secret, secret}, // not a credential: shown, which proves the test reads the line
	} {
		t.Run(tc.header+"/"+tc.value, func(t *testing.T) {
			var b strings.Builder
			writeHeaders(&b, ">", http.Header{tc.header: {tc.value}})
			if got, want := b.String(), "> "+tc.header+": "+tc.want+"\n"; got != want {
				t.Errorf("%s: %s\ntrace %q\nwant  %q", tc.header, tc.value, got, want)
			}
		})
	}
}

// TestSecretParametersFingerprinted: a credential named in a query, a form or a JSON body, in any
// case, is shown as its fingerprint, and the parameters beside it as they are.
func TestSecretParametersFingerprinted(t *testing.T) {
	const secret = "s3cr3t-0123456789abcdef"
	for _, name := range secretNames() {
		for _, key := range []string{name, strings.ToUpper(name)} {
			u, _ := url.Parse("https://api.example/x?page=2&" + key + "=" + secret)
			form := url.Values{key: {secret}, "grant_type": {"x"}}.Encode()
			for _, tc := range []struct{ where, got, want string }{
				{"query", redactURL(u), key + "=" + Fingerprint(secret)},
				{"form", redactBody([]byte(form), "application/x-www-form-urlencoded"), key + "=" + Fingerprint(secret)},
				{"JSON", redactBody([]byte(`{"`+key+`":"`+secret+`","expires_in":60}`), "application/json"), `"` + key + `":"` + Fingerprint(secret) + `"`},
				{"nested JSON", redactBody([]byte(`{"a":[{"`+key+`":"`+secret+`"}]}`), "application/json; charset=utf-8"), `"` + key + `":"` + Fingerprint(secret) + `"`},
			} {
				if strings.Contains(tc.got, secret) || !strings.Contains(tc.got, tc.want) {
					t.Errorf("%s %s: %q; want %q in it and no %q", tc.where, key, tc.got, tc.want, secret)
				}
			}
			if got := redactURL(u); !strings.Contains(got, "page=2") {
				t.Errorf("query %s: %q lost page=2", key, got)
			}
		}
	}
}
