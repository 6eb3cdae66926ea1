package cli

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"

	"github.com/pleoauth/pleoauth/internal/devserver"
)

// secretCollector sees the raw traffic under the debug trace and keeps every credential in it.
type secretCollector struct {
	next    http.RoundTripper
	mu      sync.Mutex
	secrets map[string]string // value → where it was seen
}

func (c *secretCollector) add(v, where string) {
	if len(v) < 6 {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	c.secrets[v] = where
}

func (c *secretCollector) RoundTrip(req *http.Request) (*http.Response, error) {
	if a := req.Header.Get("Authorization"); a != "" {
		_, cred, _ := strings.Cut(a, " ")
		c.add(cred, "Authorization header")
		if id, secret, ok := req.BasicAuth(); ok {
			c.add(secret, "Basic password")
			_ = id
		}
	}
	if req.Body != nil {
		b, _ := io.ReadAll(req.Body)
		req.Body = io.NopCloser(bytes.NewReader(b))
		form, _ := url.ParseQuery(string(b))
		for _, k := range []string{"code", "code_verifier", "refresh_token", "client_secret"} {
			c.add(form.Get(k), "request "+k)
		}
	}
	resp, err := c.next.RoundTrip(req)
	if err != nil {
		return resp, err
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body = io.NopCloser(bytes.NewReader(b))
	var tok map[string]any
	if json.Unmarshal(b, &tok) == nil {
		for _, k := range []string{"access_token", "refresh_token"} {
			if s, ok := tok[k].(string); ok {
				c.add(s, "response "+k)
			}
		}
	}
	return resp, nil
}

// TestDebugTraceHasNoSecrets runs a login, a forced refresh and an API call with --debug, and
// looks in the trace for every credential that crossed the wire.
func TestDebugTraceHasNoSecrets(t *testing.T) {
	h := newHarness(t)
	h.startDevserver(devserver.Options{AutoApprove: true})
	var authURLs []string
	h.browser = func(u string) error {
		parsed, _ := url.Parse(u)
		authURLs = append(authURLs, parsed.Query().Get("state"))
		return followRedirects(u)
	}
	collector := &secretCollector{next: http.DefaultTransport, secrets: map[string]string{}}
	h.transport = collector
	collector.add("devserver-test-secret", "the client secret")

	var trace strings.Builder
	for _, args := range [][]string{
		{"login", "--debug"},
		{"token", "--force-refresh", "--debug"},
		{"api", "/v2/employees", "--debug"},
	} {
		r := h.main(append(args, "--env", "local")...)
		if r.code != 0 {
			t.Fatalf("%v: %+v", args, r)
		}
		trace.WriteString(r.stderr)
		if args[0] == "token" {
			collector.add(strings.TrimSpace(r.stdout), "printed token")
		}
	}
	out := trace.String()
	for _, want := range []string{"> POST ", "/oauth/token", "< 200 OK", "Authorization: Basic sha256:", "Authorization: Bearer sha256:", "code_verifier=sha256:", `"refresh_token":"sha256:`, "> GET "} {
		if !strings.Contains(out, want) {
			t.Errorf("the trace lacks %q", want)
		}
	}
	if len(collector.secrets) < 8 {
		t.Fatalf("only %d credentials were seen on the wire; the collector is broken", len(collector.secrets))
	}
	// Not the credential, nor any 8-character piece of it: a fingerprint that printed two
	// thirds of a secret would leak it just the same.
	for secret, where := range collector.secrets {
		for i := 0; i+8 <= len(secret); i++ {
			if strings.Contains(out, secret[i:i+8]) {
				t.Errorf("the trace shows %q of the %s", secret[i:i+8], where)
				break
			}
		}
	}
}
