package cli

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"io"
	"net/http"
	"strconv"
	"strings"
	"testing"

	"github.com/itchyny/gojq"

	"github.com/pleoauth/pleoauth/internal/api"
	"github.com/pleoauth/pleoauth/internal/devserver"
	"github.com/pleoauth/pleoauth/internal/exitcode"
	"github.com/pleoauth/pleoauth/internal/failure"
)

// jqLeaks are expressions that fail on a string, each a gojq error that quotes the value it
// failed on: error puts it bare, the type errors preview its first characters, the wrapped
// ones (tonumber, fromjson, strptime) and a bad regular expression quote it. $v is the secret.
var jqLeaks = []string{
	`$v | error`,
	`$v | error({token: .})`,
	`$v | halt_error`,
	`$v | tonumber`,
	`$v + 1`,
	`$v - 1`,
	`$v / 0`,
	`$v.a.b`,
	`$v[]`,
	`$v | keys`,
	`$v | implode`,
	`$v | fromjson`,
	`$v | strptime("%Y")`,
	`$v | test(. + "(")`,
	`[$v] | .[.[0]]`,
	`{($v): 1} | .[0]`,
	`$v | getpath(["a"])`,
	`$v | ltrimstr(1) | tojson | error`,
}

// secretTest is an access token as the devserver issues them, long enough that gojq's preview
// of it cuts it short.
const secretTest = "ory_at_Zq7KpW3xNv9LmT2bR8cY5hJ4dF6gS1aE.Uw0oPiYt"

// leaksPiece reports the first 8-character piece of secret found in text, or "".
func leaksPiece(text, secret string) string {
	for i := 0; i+8 <= len(secret); i++ {
		if strings.Contains(text, secret[i:i+8]) {
			return secret[i : i+8]
		}
	}
	return ""
}

// TestJQFailuresShowNoValue: a --jq expression that fails on pleoauth's output is a usage error
// that names the expression and gojq's kind of failure, never the value it failed on, not even
// the first characters gojq previews; so "token --jq '.access_token | error'" puts no token in
// a CI log. The same holds for what api --jq fails on: an answer can hold a token too.
func TestJQFailuresShowNoValue(t *testing.T) {
	report := map[string]any{"access_token": secretTest, "env": "local"}
	for _, leak := range jqLeaks {
		expr := strings.ReplaceAll(leak, "$v", ".access_token")
		// The expression must fail, and gojq's own message must hold the value: else the
		// case proves nothing.
		q, err := gojq.Parse(expr)
		if err != nil {
			t.Fatalf("%s: %v", expr, err)
		}
		code, err := gojq.Compile(q)
		if err != nil {
			t.Fatalf("%s: %v", expr, err)
		}
		var raw error
		iter := code.Run(map[string]any{"access_token": secretTest})
		for v, ok := iter.Next(); ok && raw == nil; v, ok = iter.Next() {
			raw, _ = v.(error)
		}
		if raw == nil || leaksPiece(raw.Error(), secretTest) == "" {
			t.Errorf("%s: gojq says %v; want an error quoting the value", expr, raw)
		}

		o := jsonOutput{JQ: expr}
		if err := o.prepare(); err != nil {
			t.Fatalf("%s: %v", expr, err)
		}
		err = o.write(context.Background(), io.Discard, report)
		if err == nil || failure.KindOf(err) != failure.Usage || !strings.Contains(err.Error(), "--jq "+strconv.Quote(expr)+" failed: ") {
			t.Errorf("write with --jq %s: %v; want a usage error naming the expression", expr, err)
			continue
		}
		if p := leaksPiece(err.Error(), secretTest); p != "" {
			t.Errorf("write with --jq %s: %q shows %q of the secret", expr, err, p)
		}

		// api --jq, on a single answer and on a page.
		body := `{"data":{"token":"` + secretTest + `"}}`
		apiExpr := strings.ReplaceAll(leak, "$v", ".data.token")
		apiCode, err := compileJQ(apiExpr)
		if err != nil {
			t.Fatal(err)
		}
		resp := &http.Response{Header: http.Header{"Content-Type": {"application/json"}}, Body: io.NopCloser(strings.NewReader(body))}
		errs := []error{
			filterBody(context.Background(), io.Discard, resp, apiCode, defaultJQLimits()),
			(&jqPages{ctx: context.Background(), out: bufio.NewWriter(io.Discard), code: apiCode, limits: defaultJQLimits()}).page(api.Page{Number: 2, Raw: []byte(body)}),
		}
		for _, err := range errs {
			if err == nil {
				t.Errorf("api --jq %s: no error", apiExpr)
			} else if p := leaksPiece(err.Error(), secretTest); p != "" {
				t.Errorf("api --jq %s: %q shows %q of the secret", apiExpr, err, p)
			}
		}
	}
}

// TestJQFailureKind: gojq's message is cut before the value, keeping what went wrong and the
// type it went wrong on.
func TestJQFailureKind(t *testing.T) {
	for _, tc := range []struct{ msg, want string }{
		{`cannot iterate over: string ("ory_at_abc...")`, "cannot iterate over: string"},
		{`expected an object but got: string ("ory_at_abc...")`, "expected an object but got: string"},
		{`cannot add: string ("ory_at_abc...") and number (1)`, "cannot add: string"},
		{`tonumber cannot be applied to "ory_at_abc": invalid number`, "tonumber cannot be applied to"},
		{`error: ory_at_abc`, "error"},
		{`error: {"token":"ory_at_abc"}`, "error"},
		{`error: null`, "error: null"},
		{`halt error: ory_at_abc: more`, "halt error"},
		{`invalid regular expression "ory(": missing closing )`, "invalid regular expression"},
		{`array index too large: 100000000000`, "array index too large"},
		{`"ory_at_abc"`, "the expression failed"},
	} {
		if got := jqFailureKind(errors.New(tc.msg)); got != tc.want {
			t.Errorf("jqFailureKind(%q) = %q; want %q", tc.msg, got, tc.want)
		}
	}
}

// TestJQFailureKeepsTheResultsBefore: the results an expression printed before it failed are
// written, then the failure is returned, for pleoauth's output and for api's.
func TestJQFailureKeepsTheResultsBefore(t *testing.T) {
	report := map[string]any{"profiles": []map[string]string{{"profile": "default"}, {"profile": "acme"}}}
	for _, expr := range []string{
		`.profiles[] | .profile, (.x|error)`,
		`.profiles[0].profile, (.profiles[1] | error)`,
		`.profiles[0].profile, (.profiles[0].profile | tonumber)`,
	} {
		o := jsonOutput{JQ: expr}
		if err := o.prepare(); err != nil {
			t.Fatal(err)
		}
		var out bytes.Buffer
		err := o.write(context.Background(), &out, report)
		if err == nil || failure.KindOf(err) != failure.Usage || out.String() != "default\n" {
			t.Errorf("write with --jq %s: printed %q, %v; want \"default\" then a usage error", expr, out.String(), err)
		}

		code, _ := compileJQ(expr)
		var body bytes.Buffer
		resp := &http.Response{Header: http.Header{"Content-Type": {"application/json"}}, Body: io.NopCloser(bytes.NewReader(mustJSON(t, report)))}
		if err := filterBody(context.Background(), &body, resp, code, defaultJQLimits()); err == nil || body.String() != "default\n" {
			t.Errorf("api --jq %s: printed %q, %v; want \"default\" then an error", expr, body.String(), err)
		}
	}
}

// TestOutcome: a command with an outcome of its own returns it whatever printing did, after
// saying on stderr why printing failed; else printing's failure.
func TestOutcome(t *testing.T) {
	printed, own := errors.New("--jq failed"), errors.New("not logged in")
	for _, tc := range []struct {
		printed, own, want error
		said               string
	}{
		{nil, nil, nil, ""},
		{printed, nil, printed, ""},
		{nil, own, own, ""},
		{printed, own, own, "pleoauth: --jq failed\n"},
	} {
		var stderr bytes.Buffer
		if got := outcome(&stderr, tc.printed, tc.own); got != tc.want || stderr.String() != tc.said {
			t.Errorf("outcome(%v, %v) = %v, said %q; want %v, said %q", tc.printed, tc.own, got, stderr.String(), tc.want, tc.said)
		}
	}
}

// TestJQFailuresAtTheCommandLine: the user's view of the rules above. A failing --jq on token
// shows no piece of the token on stderr and exits 2; on status with no login it prints the
// results before the failure, says both failures and exits 4, status's own code; on a status
// that is fine, 2. An empty --jq is a usage error, not a quiet "no --jq".
func TestJQFailuresAtTheCommandLine(t *testing.T) {
	h := newHarness(t)
	h.startDevserver(devserver.Options{AutoApprove: true})
	h.browser = followRedirects

	r := h.main("status", "--env", "local", "--jq", `.profile, (.x|error)`)
	if r.code != exitcode.LoginRequired || r.stdout != "default\n" || !strings.Contains(r.stderr, `--jq ".profile, (.x|error)" failed: `) || !strings.Contains(r.stderr, "not logged in") {
		t.Errorf("status --jq failing, no login = %+v; want exit 4, \"default\", both failures said", r)
	}
	for _, args := range [][]string{
		{"token", "--env", "local", "--jq", ""},
		{"status", "--env", "local", "--jq="},
		{"version", "-q", ""},
		{"api", "--env", "local", "/v1/introspect", "--jq", ""},
	} {
		r := h.main(args...)
		if r.code != exitcode.Usage || r.stdout != "" || !strings.Contains(r.stderr, "the expression is empty") {
			t.Errorf("%q = %+v; want exit 2, nothing on stdout", args, r)
		}
		oneLine(t, r.stderr)
	}

	if r := h.main("login", "--env", "local"); r.code != exitcode.OK {
		t.Fatalf("login: %+v", r)
	}
	token := strings.TrimSpace(h.main("token", "--env", "local").stdout)
	if len(token) < 16 {
		t.Fatalf("token = %q", token)
	}
	for _, leak := range jqLeaks {
		expr := strings.ReplaceAll(leak, "$v", ".access_token")
		r := h.main("token", "--env", "local", "--jq", expr)
		if r.code != exitcode.Usage || !strings.Contains(r.stderr, "--jq "+strconv.Quote(expr)+" failed: ") {
			t.Errorf("token --jq %s = %+v; want exit 2 naming the expression", expr, r)
		}
		if p := leaksPiece(r.stderr, token); p != "" {
			t.Errorf("token --jq %s: stderr %q shows %q of the token", expr, r.stderr, p)
		}
	}
	if r := h.main("status", "--env", "local", "--jq", `.profile, (.x|error)`); r.code != exitcode.Usage || r.stdout != "default\n" {
		t.Errorf("status --jq failing, logged in = %+v; want exit 2 after \"default\"", r)
	}
	if r := h.main("doctor", "--env", "local", "--jq", `.ok, (.x|error)`); r.code != exitcode.Usage || r.stdout != "true\n" {
		t.Errorf("doctor --jq failing, every check passing = %+v; want exit 2 after \"true\"", r)
	}

	// A doctor check fails (nothing answers on port 1): doctor's own exit 1 wins over the --jq failure.
	t.Setenv("PLEOAUTH_AUTH_SERVER_URL", "http://127.0.0.1:1")
	r = h.main("doctor", "--env", "local", "--jq", `.ok, (.x|error)`)
	if r.code != exitcode.Error || r.stdout != "false\n" || !strings.Contains(r.stderr, "failed: ") || !strings.Contains(r.stderr, "checks failed") {
		t.Errorf("doctor --jq failing, a check failing = %+v; want exit 1, \"false\", both failures said", r)
	}
}
