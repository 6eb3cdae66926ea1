package debuglog

import (
	"errors"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"
)

// roundTripFunc is a transport in memory: it answers each request with f.
type roundTripFunc func(*http.Request) (*http.Response, error)

func (f roundTripFunc) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }

// steppingClock returns start, then each later call step more.
func steppingClock(start time.Time, step time.Duration) func() time.Time {
	now := start.Add(-step)
	return func() time.Time {
		now = now.Add(step)
		return now
	}
}

// answer is a response with the given content type and body.
func answer(contentType, body string) *http.Response {
	h := http.Header{}
	if contentType != "" {
		h.Set("Content-Type", contentType)
	}
	return &http.Response{StatusCode: 200, Status: "200 OK", Header: h, Body: io.NopCloser(strings.NewReader(body))}
}

// trace sends req through a Transport whose next hop answers resp, and returns the trace, the
// body the caller reads and the error.
func trace(t *testing.T, req *http.Request, resp *http.Response) (string, string, error) {
	t.Helper()
	var out strings.Builder
	tr := &Transport{
		Next: roundTripFunc(func(*http.Request) (*http.Response, error) { return resp, nil }),
		W:    &out, Now: steppingClock(time.Unix(0, 0), 250*time.Millisecond),
	}
	got, err := tr.RoundTrip(req)
	if err != nil {
		return out.String(), "", err
	}
	body, err := io.ReadAll(got.Body)
	if err != nil {
		t.Fatalf("reading the body the trace handed on: %v", err)
	}
	return out.String(), string(body), nil
}

// TestTraceOfAFailedExchange: when no answer comes, the trace says so with the time it took,
// and the caller gets the transport's error unchanged.
func TestTraceOfAFailedExchange(t *testing.T) {
	refused := errors.New("dial tcp 127.0.0.1:1: connection refused")
	var out strings.Builder
	tr := &Transport{
		Next: roundTripFunc(func(*http.Request) (*http.Response, error) { return nil, refused }),
		W:    &out, Now: steppingClock(time.Unix(0, 0), 250*time.Millisecond),
	}
	req, _ := http.NewRequest("GET", "https://api.example/v1/users", nil)
	resp, err := tr.RoundTrip(req)
	if resp != nil || !errors.Is(err, refused) {
		t.Errorf("RoundTrip = %v, %v; want no response and %v", resp, err, refused)
	}
	want := "> GET https://api.example/v1/users\n< error after 250ms: dial tcp 127.0.0.1:1: connection refused\n"
	if got := out.String(); got != want {
		t.Errorf("trace\n%q\nwant\n%q", got, want)
	}
}

// failingBody is a request body that breaks off.
type failingBody struct{ closed bool }

func (b *failingBody) Read([]byte) (int, error) { return 0, errors.New("disk gone") }
func (b *failingBody) Close() error             { b.closed = true; return nil }

// TestUnreadableRequestBodyIsNotSent: a request whose body cannot be read is not sent with part
// of it: the caller gets the read error, the body is closed as http.RoundTripper requires, and
// nothing reaches the server.
func TestUnreadableRequestBodyIsNotSent(t *testing.T) {
	sent := false
	tr := &Transport{
		Next: roundTripFunc(func(*http.Request) (*http.Response, error) { sent = true; return answer("", ""), nil }),
		W:    io.Discard, Now: time.Now,
	}
	body := &failingBody{}
	req, _ := http.NewRequest("POST", "https://auth.example/oauth/token", body)
	if _, err := tr.RoundTrip(req); err == nil || !strings.Contains(err.Error(), "disk gone") {
		t.Errorf("RoundTrip err = %v; want the body's read error", err)
	}
	if sent || !body.closed {
		t.Errorf("sent = %v, body closed = %v; want not sent, closed", sent, body.closed)
	}
}

// TestTraceBodies: a body is shown up to 4 KiB, marked when cut there; an empty body shows no
// body line at all; a body that is neither a form nor JSON is named by its size and type only.
// The caller always reads the whole body.
func TestTraceBodies(t *testing.T) {
	form := func(n int) string { return "a=" + strings.Repeat("x", n-2) } // a form of n bytes
	tests := []struct {
		name, ctype, body string
		want, notWant     string
	}{
		{"a form of exactly 4 KiB is shown whole", "application/x-www-form-urlencoded", form(maxBody),
			"< body: " + form(maxBody) + "\n", "(cut)"},
		{"a form one byte longer is cut at 4 KiB", "application/x-www-form-urlencoded", form(maxBody + 1),
			"< body: " + form(maxBody) + " …(cut)\n", ""},
		{"an empty body shows no body line", "application/json", "", "< 200 OK (250ms)\n", "body:"},
		{"HTML is named, not shown", "text/html; charset=utf-8", "<html>secret</html>",
			"< body: (19 bytes of text/html, not shown)\n", "secret"},
		{"a body of no stated type is named, not shown", "", "s3cret",
			"< body: (6 bytes of no stated type, not shown)\n", "s3cret"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req, _ := http.NewRequest("GET", "https://api.example/v1/users", nil)
			out, body, err := trace(t, req, answer(tt.ctype, tt.body))
			if err != nil {
				t.Fatal(err)
			}
			if body != tt.body {
				t.Errorf("the caller read %d bytes; want all %d", len(body), len(tt.body))
			}
			if !strings.Contains(out, tt.want) || tt.notWant != "" && strings.Contains(out, tt.notWant) {
				t.Errorf("trace\n%.300q\nwant %.300q in it and no %q", out, tt.want, tt.notWant)
			}
		})
	}
}

// TestTraceRequestWithEmptyBody: a request whose body is empty shows no body line.
func TestTraceRequestWithEmptyBody(t *testing.T) {
	req, _ := http.NewRequest("POST", "https://auth.example/oauth/token", nil)
	req.Body = io.NopCloser(strings.NewReader(""))
	out, _, err := trace(t, req, answer("", ""))
	if err != nil {
		t.Fatal(err)
	}
	if want := "> POST https://auth.example/oauth/token\n< 200 OK (250ms)\n"; out != want {
		t.Errorf("trace\n%q\nwant\n%q", out, want)
	}
}

// TestFormFieldNamesShown: a form's fields are shown whatever letters, digits and
// punctuation of a plain name they hold; a name that is empty or holds anything else means the
// body is not a form, and it is not shown.
func TestFormFieldNamesShown(t *testing.T) {
	const ctype = "application/x-www-form-urlencoded"
	for _, name := range []string{"a", "z", "A", "Z", "0", "9", "azAZ09_-.", "grant_type", "x-pleo.v2"} {
		body := name + "=1"
		if got := redactBody([]byte(body), ctype); got != body {
			t.Errorf("form %q is shown as %q", body, got)
		}
	}
	for _, body := range []string{"=s3cret", "a b=s3cret", "{\"s3cret\":1}", "a/b=s3cret", "a@=s3cret", "ä=s3cret", "`=s3cret", "[=s3cret", ":=s3cret"} {
		if got := redactBody([]byte(body), ctype); strings.Contains(got, "s3cret") {
			t.Errorf("%q, not a form, is shown as %q", body, got)
		}
	}
}

// TestEchoedCredentialsAreRedacted: a server that quotes in free text what the request carried —
// the refresh token of the form, the client secret of the Basic header (as sent, URL-encoded) —
// has each echo redacted from the answer's trace, whole or cut short; the body handed on is the
// server's, untouched.
func TestEchoedCredentialsAreRedacted(t *testing.T) {
	const rt = "ory_rt_AbCdEfGhIjKlMnOpQrStUvWxYz0123456789"
	tests := []struct{ name, echo, leak string }{
		{"the refresh token", "refresh token " + rt + " is spent", rt[7:17]},
		{"the refresh token, cut short", "refresh token " + rt[:25] + "…", rt[7:17]},
		{"the secret as sent", "bad credentials pleoauth-local:fake%2Bsecret%2Fwith%3Dchars", "secret%2Fwith"},
		{"the secret decoded", "bad secret fake+secret/with=chars", "secret/with"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req, _ := http.NewRequest(http.MethodPost, "https://auth.example/oauth/token", strings.NewReader("grant_type=refresh_token&refresh_token="+rt))
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			req.SetBasicAuth("pleoauth-local", "fake%2Bsecret%2Fwith%3Dchars") // x/oauth2's encoding
			body := `{"error":"invalid_request","error_description":"` + tt.echo + `"}`
			out, handed, err := trace(t, req, answer("application/json", body))
			if err != nil {
				t.Fatal(err)
			}
			if strings.Contains(out, tt.leak) || !strings.Contains(out, "[redacted]") {
				t.Errorf("the trace shows the echo:\n%s", out)
			}
			if handed != body {
				t.Errorf("the body handed on was changed: %q", handed)
			}
		})
	}
}
