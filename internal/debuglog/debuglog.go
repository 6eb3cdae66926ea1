// Package debuglog writes a trace of every HTTP exchange for --debug, with each credential
// replaced by a fingerprint: enough to tell two tokens apart or match one to a server log, never
// enough to use one.
package debuglog

import (
	"bytes"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"mime"
	"net/http"
	"net/url"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/pleoauth/pleoauth/internal/sanitize"
)

// isSecretKey reports whether a parameter or JSON field named k (in any case) holds a
// credential. (Switches rather than package-level maps, which would be built at every start-up
// of pleoauth, traced or not.)
func isSecretKey(k string) bool {
	switch strings.ToLower(k) {
	case "access_token", "refresh_token", "id_token", "client_secret", "code", "code_verifier", "token", "password", "assertion":
		return true
	}
	return false
}

// isSecretHeader reports whether the (canonical) header k holds a credential.
func isSecretHeader(k string) bool {
	switch k {
	case "Authorization", "Proxy-Authorization", "Cookie", "Set-Cookie":
		return true
	}
	return false
}

// maxBody is how much of a body the trace shows.
const maxBody = 4 << 10

// Fingerprint stands for a secret in the trace: the start of its SHA-256 and its length.
func Fingerprint(s string) string {
	sum := sha256.Sum256([]byte(s))
	return fmt.Sprintf("sha256:%s…, len=%d", hex.EncodeToString(sum[:4]), len(s))
}

// Transport wraps Next and writes a redacted trace of each exchange to W.
type Transport struct {
	Next http.RoundTripper
	W    io.Writer
	Now  func() time.Time

	mu sync.Mutex
}

func (t *Transport) RoundTrip(req *http.Request) (*http.Response, error) {
	var reqBody []byte
	if req.Body != nil && req.Body != http.NoBody {
		b, err := io.ReadAll(req.Body)
		req.Body.Close()
		if err != nil {
			return nil, err
		}
		reqBody = b
		req.Body = io.NopCloser(bytes.NewReader(b))
	}
	start := t.Now()
	var b strings.Builder
	fmt.Fprintf(&b, "> %s %s\n", shown(req.Method), shown(redactURL(req.URL)))
	writeHeaders(&b, ">", req.Header)
	if len(reqBody) > 0 {
		fmt.Fprintf(&b, "> body: %s\n", shown(redactBody(reqBody, req.Header.Get("Content-Type"))))
	}
	resp, err := t.Next.RoundTrip(req)
	elapsed := t.Now().Sub(start).Round(time.Millisecond)
	if err != nil {
		fmt.Fprintf(&b, "< error after %s: %s\n", elapsed, shown(err.Error()))
		t.write(b.String())
		return nil, err
	}
	var answer strings.Builder
	fmt.Fprintf(&answer, "< %s (%s)\n", shown(resp.Status), elapsed)
	writeHeaders(&answer, "<", resp.Header)
	// Show the start of the body and hand the whole of it on.
	head, _ := io.ReadAll(io.LimitReader(resp.Body, maxBody+1))
	resp.Body = struct {
		io.Reader
		io.Closer
	}{io.MultiReader(bytes.NewReader(head), resp.Body), resp.Body}
	if len(head) > 0 {
		fmt.Fprintf(&answer, "< body: %s\n", shown(redactBody(head, resp.Header.Get("Content-Type"))))
	}
	// A server may quote what it was sent in free text ("refresh token ory_rt_… is spent"),
	// where no credential's name marks it: what the request carried is redacted from the answer.
	b.WriteString(sanitize.Redact(answer.String(), sentCredentials(req, reqBody)...))
	t.write(b.String())
	return resp, nil
}

// sentCredentials are the credentials req carried, as a server could echo them: the values of
// its credential parameters (query and form), and its Authorization header's credentials —
// the bearer token, or Basic's base64 and the client secret in it, as sent and decoded.
func sentCredentials(req *http.Request, body []byte) []string {
	var sent []string
	add := func(q url.Values) {
		for k, vs := range q {
			if isSecretKey(k) {
				sent = append(sent, vs...)
			}
		}
	}
	add(req.URL.Query())
	if mt, _, _ := mime.ParseMediaType(req.Header.Get("Content-Type")); mt == "application/x-www-form-urlencoded" {
		if q, err := url.ParseQuery(string(body)); err == nil {
			add(q)
		}
	}
	for _, k := range []string{"Authorization", "Proxy-Authorization"} {
		_, cred, ok := strings.Cut(req.Header.Get(k), " ")
		if !ok {
			continue
		}
		sent = append(sent, cred)
		if raw, err := base64.StdEncoding.DecodeString(cred); err == nil {
			_, secret, _ := strings.Cut(string(raw), ":") // a client ID is public
			sent = append(sent, secret)
			if s, err := url.QueryUnescape(secret); err == nil {
				sent = append(sent, s)
			}
		}
	}
	return sent
}

func (t *Transport) write(s string) {
	t.mu.Lock()
	defer t.mu.Unlock()
	_, _ = io.WriteString(t.W, s)
}

// shown cleans a value of the trace: the status line, header values, bodies (a form is shown
// unescaped), error texts and a URL carry the server's text, which must not drive the terminal
// the trace goes to, nor start a line of its own.
func shown(s string) string { return sanitize.Text(s, maxLine) }

// maxLine bounds a line of the trace: room for a body of maxBody bytes, every byte of it escaped.
// A form of many short credentials can still outgrow it, each value becoming a fingerprint of
// some 30 characters; such a line is cut there, with "…", after the redaction.
const maxLine = 4*maxBody + 64

func writeHeaders(b *strings.Builder, dir string, h http.Header) {
	keys := make([]string, 0, len(h))
	for k := range h {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		for _, v := range h[k] {
			if isSecretHeader(k) {
				scheme, cred, ok := strings.Cut(v, " ")
				if ok && (strings.EqualFold(scheme, "Bearer") || strings.EqualFold(scheme, "Basic")) {
					v = scheme + " " + Fingerprint(cred)
				} else {
					v = Fingerprint(v)
				}
			}
			fmt.Fprintf(b, "%s %s: %s\n", dir, shown(k), shown(v))
		}
	}
}

func redactURL(u *url.URL) string {
	c := *u
	c.User = nil
	if c.RawQuery != "" {
		c.RawQuery = redactValues(c.Query())
	}
	return c.String()
}

// isSecretKey matches a credential's name in any case: servers and clients vary it
// ("Access_Token"), and a leak through a capital letter is still a leak.

func redactValues(q url.Values) string {
	for k, vs := range q {
		if isSecretKey(k) {
			for i := range vs {
				vs[i] = Fingerprint(vs[i])
			}
		}
	}
	s, _ := url.QueryUnescape(q.Encode())
	return s
}

// plainNames reports whether every parameter name is a plain word, as form fields are.
func plainNames(q url.Values) bool {
	for k := range q {
		if k == "" || strings.IndexFunc(k, func(r rune) bool {
			return !('a' <= r && r <= 'z' || 'A' <= r && r <= 'Z' || '0' <= r && r <= '9' || r == '_' || r == '-' || r == '.')
		}) >= 0 {
			return false
		}
	}
	return true
}

// redactBody shows a form or JSON body with its credentials fingerprinted, and of anything else
// only its size and type.
func redactBody(body []byte, contentType string) string {
	cut := ""
	if len(body) > maxBody {
		body, cut = body[:maxBody], " …(cut)"
	}
	mt, _, _ := mime.ParseMediaType(contentType)
	switch {
	case mt == "application/x-www-form-urlencoded":
		// Shown only when it is a form: a body that only claims to be one (JSON, say) would
		// parse into one long name, which no secret name matches.
		q, err := url.ParseQuery(string(body))
		if err == nil && plainNames(q) {
			return redactValues(q) + cut
		}
	case strings.Contains(mt, "json"):
		var v any
		if err := json.Unmarshal(body, &v); err == nil {
			out, _ := json.Marshal(redactJSON(v))
			return string(out) + cut
		}
	}
	return fmt.Sprintf("(%d bytes of %s, not shown)", len(body), orNone(mt))
}

func redactJSON(v any) any {
	switch x := v.(type) {
	case map[string]any:
		for k, val := range x {
			switch s, isString := val.(string); {
			case isSecretKey(k) && isString:
				x[k] = Fingerprint(s)
			case isSecretKey(k):
				x[k] = "(not shown)" // a number, a list or an object where a credential goes
			default:
				x[k] = redactJSON(val)
			}
		}
	case []any:
		for i := range x {
			x[i] = redactJSON(x[i])
		}
	}
	return v
}

func orNone(s string) string {
	if s == "" {
		return "no stated type"
	}
	return s
}
