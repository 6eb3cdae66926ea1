package debuglog

import (
	"io"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"
	"unicode/utf8"
)

// fixedRoundTripper answers every request with resp.
type fixedRoundTripper struct{ resp *http.Response }

func (f fixedRoundTripper) RoundTrip(*http.Request) (*http.Response, error) { return f.resp, nil }

// FuzzRedactTrace: whatever a credential looks like — hex, base64, with spaces, any scheme in
// front of it — and whatever case its header or query parameter is named in, no telling
// 8-character piece of it reaches the --debug trace of a whole exchange: a credential header of
// the request (Authorization, Proxy-Authorization, Cookie) or of the answer (Set-Cookie), a
// credential in the URL's query, or a password in the URL's userinfo.
func FuzzRedactTrace(f *testing.F) {
	f.Add("authorization", "Bearer", "0123456789abcdef0123456789abcdef", "access_token", "3f786850e387550fdab836ed7e6dc881", "Zq9hunter2-XY7")
	f.Add("COOKIE", "", "session=c2VjcmV0LXZhbHVlLTAxMjM0NTY3ODk", "Code", "s3cr3t-VALUE-code", "")
	f.Add("proxy-authorization", "basic", "dXNlcjpwYXNzd29yZC0xMjM0NTY=", "client_secret", "deadbeefcafef00d", "p@ss word 123456")
	f.Add("Set-Cookie", "Token", "id=a3f5 9c0d e1b2 7788", "REFRESH_TOKEN", "rt with spaces and + signs", "")
	redacted := regexp.MustCompile(`sha256:[0-9a-f]{8}…, len=[0-9]+`)
	headers := []string{"Authorization", "Proxy-Authorization", "Cookie", "Set-Cookie"}
	f.Fuzz(func(t *testing.T, header, scheme, cred, param, paramValue, password string) {
		canonical := http.CanonicalHeaderKey(header)
		if !slices.Contains(headers, canonical) || !isSecretKey(param) || strings.ContainsAny(scheme, " \t") {
			return
		}
		for _, s := range []string{scheme, cred, param, paramValue, password} {
			if !utf8.ValidString(s) || strings.ContainsFunc(s, func(r rune) bool { return r < ' ' || r == 0x7f }) {
				return
			}
		}
		value := cred
		if scheme != "" {
			value = scheme + " " + cred
		}
		u := &url.URL{Scheme: "https", Host: "api.example", Path: "/v1/x",
			RawQuery: url.Values{param: {paramValue}, "page": {"2"}}.Encode()}
		if password != "" {
			u.User = url.UserPassword("user", password)
		}
		req := &http.Request{Method: "GET", URL: u, Header: http.Header{}}
		resp := &http.Response{Status: "200 OK", StatusCode: 200, Header: http.Header{}, Body: io.NopCloser(strings.NewReader(""))}
		if canonical == "Set-Cookie" {
			resp.Header[canonical] = []string{value}
		} else {
			req.Header[canonical] = []string{value}
		}
		var out strings.Builder
		tr := &Transport{Next: fixedRoundTripper{resp}, W: &out, Now: time.Now}
		if _, err := tr.RoundTrip(req); err != nil {
			t.Fatal(err)
		}
		// The trace's own text (fingerprints, header and parameter names, the URL, the status)
		// is what a piece made only of its characters may match.
		trace := redacted.ReplaceAllString(out.String(), "")
		structure := "<> :/?=&.-\n" + canonical + param + "page2 https api.example v1 x GET 200 OK user " + scheme
		for name, secret := range map[string]string{"header credential": cred, "query " + param: paramValue, "URL password": password} {
			// A credential shown escaped, as a URL writes it, is shown all the same.
			for _, form := range []string{secret, url.QueryEscape(secret), url.PathEscape(secret), url.UserPassword("", secret).String()} {
				for i := 0; i+8 <= len(form); i++ {
					piece := form[i : i+8]
					telling := strings.IndexFunc(piece, func(r rune) bool { return !strings.ContainsRune(structure, r) }) >= 0
					if telling && strings.Contains(trace, piece) {
						t.Fatalf("the trace shows %q of the %s:\n%s", piece, name, out.String())
					}
				}
			}
		}
	})
}
