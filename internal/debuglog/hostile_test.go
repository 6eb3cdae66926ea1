package debuglog

import (
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

// TestTraceShowsServerTextEscaped: a status line, a header, a form body and a JSON body that
// carry escape sequences, C1 controls and bidi overrides reach the --debug trace escaped, each
// exchange on its own lines.
func TestTraceShowsServerTextEscaped(t *testing.T) {
	bodies := map[string]string{
		"/form": "error=invalid_grant&error_description=gone%1B%5D52%3Bc%3BZXZpbA%3D%3D%07%0Aforged",
		"/json": `{"error":"invalid_grant","error_description":"gone\u001b[2J \u202eetirw \u009b31m"}`,
	}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		conn, buf, err := w.(http.Hijacker).Hijack()
		if err != nil {
			panic(err)
		}
		defer conn.Close()
		ctype := "application/json"
		if r.URL.Path == "/form" {
			ctype = "application/x-www-form-urlencoded"
		}
		body := bodies[r.URL.Path]
		fmt.Fprintf(buf, "HTTP/1.1 400 Bad\x1b]0;owned\a\r\nContent-Type: %s\r\nX-Note: a\u202eb\u0085c\r\nContent-Length: %d\r\nConnection: close\r\n\r\n%s", ctype, len(body), body)
		buf.Flush()
	}))
	defer srv.Close()
	for path := range bodies {
		var trace strings.Builder
		client := &http.Client{Transport: &Transport{Next: http.DefaultTransport, W: &trace, Now: time.Now}}
		resp, err := client.Get(srv.URL + path + "?after=%1B%5B2J")
		if err != nil {
			t.Fatal(err)
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		out := trace.String()
		for _, r := range out {
			if r != '\n' && (r < 0x20 || r == 0x7f || 0x80 <= r && r <= 0x9f || r == '\u202e') {
				t.Errorf("%s: the trace holds %U raw:\n%s", path, r, out)
				break
			}
		}
		for _, want := range []string{`< 400 Bad\x1b]0;owned\x07`, `X-Note: a\u202eb\u0085c`, `after=\x1b[2J`} {
			if !strings.Contains(out, want) {
				t.Errorf("%s: the trace lacks %q:\n%s", path, want, out)
			}
		}
		if lines := strings.Count(out, "\n"); lines < 4 || strings.Contains(out, "\nforged") {
			t.Errorf("%s: the trace's lines are not the exchange's:\n%s", path, out)
		}
	}
}
