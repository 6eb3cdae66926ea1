package api

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

// raw is what a terminal must never get from a server as it came.
var raw = []string{"\x1b", "\a", "\n", "\r", "\u202e", "\u009b", "\x00"}

func holdsRaw(s string) string {
	for _, r := range raw {
		if strings.Contains(s, r) {
			return r
		}
	}
	return ""
}

func hostileClient(t *testing.T, h http.HandlerFunc) *Client {
	t.Helper()
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	now := time.Now()
	return &Client{BaseURL: srv.URL, HTTPClient: srv.Client(), Token: func(context.Context, Want, string) (Token, error) {
		return Token{Value: "t", Issued: now, Expiry: now.Add(time.Hour)}, nil
	}}
}

// statusLine answers with a status line of the server's choosing: net/http's ResponseWriter
// writes only the standard reason phrases, a hostile server writes anything.
func statusLine(line string, header string) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		conn, buf, err := w.(http.Hijacker).Hijack()
		if err != nil {
			panic(err)
		}
		defer conn.Close()
		fmt.Fprintf(buf, "HTTP/1.1 %s\r\n%sContent-Length: 0\r\nConnection: close\r\n\r\n", line, header)
		buf.Flush()
	}
}

// TestIntrospectIsCleaned: every field of /v1/introspect is the server's text; what Introspect
// returns shows control characters escaped, and the scope holds only scope-tokens.
func TestIntrospectIsCleaned(t *testing.T) {
	c := hostileClient(t, func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		fmt.Fprint(w, `{"data":{"subjectURN":"urn:pleo:company:\u001b]52;c;ZXZpbA==\u0007","scope":"users:read\nexport-jobs:read \u001b[2J",`+
			`"clientId":"c\u202eid","applicationName":"App\r\nX-Forged: 1","authMethod":"\u009b31mOAUTH"}}`)
	})
	id, err := c.Introspect(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	want := Identity{
		SubjectURN: `urn:pleo:company:\x1b]52;c;ZXZpbA==\x07`, Scope: "users:read export-jobs:read",
		ClientID: `c\u202eid`, ApplicationName: `App\r\nX-Forged: 1`, AuthMethod: `\u009b31mOAUTH`,
	}
	if id != want {
		t.Errorf("Introspect = %+v;\nwant %+v", id, want)
	}
}

// TestStatusLineIsCleaned: a reason phrase with an escape sequence reaches no message raw, for
// a single request and for a page.
func TestStatusLineIsCleaned(t *testing.T) {
	const line = "418 Teapot\x1b]0;owned\a\u202e"
	c := hostileClient(t, statusLine(line, ""))
	_, err := c.Introspect(context.Background())
	if err == nil || holdsRaw(err.Error()) != "" || !strings.Contains(err.Error(), `418 Teapot\x1b]0;owned\x07\u202e`) {
		t.Errorf("Introspect error %q; want the status line escaped", err)
	}
	err = c.Paginate(context.Background(), "/v2/employees", PageOptions{}, func(Page) error { return nil })
	var ps *PageStatusError
	if !errors.As(err, &ps) || holdsRaw(err.Error()) != "" || ps.StatusCode != 418 {
		t.Errorf("Paginate error %q; want a PageStatusError with the status line escaped", err)
	}
}

// TestPageNoticesAreCleaned: the line for each wait names the status, escaped; so does the error
// of a page that is not JSON, its content type.
func TestPageNoticesAreCleaned(t *testing.T) {
	c := hostileClient(t, statusLine("503 Busy\x1b[2J", "Retry-After: 0\r\n"))
	var notices []string
	o := PageOptions{Retries: 1, Sleep: func(context.Context, time.Duration) error { return nil },
		Notice: func(msg string) { notices = append(notices, msg) }}
	err := c.Paginate(context.Background(), "/v2/employees", o, func(Page) error { return nil })
	if err == nil || len(notices) != 1 {
		t.Fatalf("err %v, notices %q; want one notice, then the error", err, notices)
	}
	for _, s := range append(notices, err.Error()) {
		if r := holdsRaw(s); r != "" || !strings.Contains(s, `503 Busy\x1b[2J`) {
			t.Errorf("%q: want the status escaped", s)
		}
	}

	// net/http refuses C0 controls in a header; C1 controls and bidi overrides pass.
	c = hostileClient(t, statusLine("200 OK", "Content-Type: text/html\u202e\u009b2J\r\n"))
	err = c.Paginate(context.Background(), "/v2/employees", PageOptions{}, func(Page) error { return nil })
	if err == nil || holdsRaw(err.Error()) != "" || !strings.Contains(err.Error(), `text/html\u202e\u009b2J`) {
		t.Errorf("Paginate error %q; want the content type escaped", err)
	}
}
