package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"net/http"
	"os"
	"slices"
	"strings"

	"github.com/spf13/cobra"

	"github.com/pleoauth/pleoauth/internal/api"
	"github.com/pleoauth/pleoauth/internal/config"
	"github.com/pleoauth/pleoauth/internal/failure"
	"github.com/pleoauth/pleoauth/internal/grant"
	"github.com/pleoauth/pleoauth/internal/sanitize"
	"github.com/pleoauth/pleoauth/internal/tokenendpoint"
)

type apiOptions struct {
	Method      string
	Data        string
	Input       string
	Headers     []string
	Include     bool
	Paginate    bool
	Slurp       bool
	MaxPages    int
	MaxPagesSet bool // --max-pages given, even at its default
	JQ          string
}

func newAPICmd(d *Deps) *cobra.Command {
	o := &apiOptions{}
	var cmd *cobra.Command
	cmd = &cobra.Command{
		Use:   "api PATH",
		Short: "Make an authenticated request to the environment's API",
		Long: `Api sends a request to the environment's api_url (Pleo: https://external.staging.pleo.io or
https://external.pleo.io) with a valid access token in the Authorization header and
"Accept: application/json". When the API answers 401, the token is refreshed once and the request
sent again.

The response body goes to stdout: indented when it is JSON and stdout is a terminal, byte for byte
otherwise. Any status but 2xx exits non-zero with a one-line summary on stderr: 4xx exit 1, 5xx and
429 exit 5; a refresh token the server refused exits 4.

--paginate fetches every page of a Pleo list endpoint: while pagination.hasNextPage, the same
request again with after=<endCursor> (or offset advanced by the page's length, for an endpoint
without cursors), the other query parameters kept. It prints one JSON document {"data": [every
item, in order]}, written as the pages arrive, so a collection of any size needs the memory of one
page; --slurp prints the array of the pages as they came instead. Each page gets a token valid
for --min-ttl and the 401 refresh-and-retry; a 429 or 503 is waited out (Retry-After, at most
30s, else backoff) up to 5 times per page, with a line on stderr, then exits 5 naming the page. A
page with no items ends the run. A server that would loop is an error naming the page (exit 1):
a cursor it already gave, a page holding the previous page's items (an offset it ignores), an
offset that does not advance, and more pages than --max-pages (1000 unless raised).

--jq filters the JSON with a jq expression (github.com/itchyny/gojq), as gh api does: the body of
a single request, or each page in turn with --paginate. Strings print raw, other values as JSON,
one per line. An expression that does not compile, or an empty one, exits 2 before any request;
one that fails on the answer prints the results before the failure, then exits 1 naming what
went wrong but not the value it went wrong on (an answer can hold a token). One run over one
answer or page is bounded: at most one minute, 1,000,000 results, 256 MB printed, 1 GiB of
memory held by pleoauth while it runs, and a printed value (or an error's) nested at most 10,000
levels deep; past one, it stops with an error naming the limit, exit 1.

Ctrl-C, SIGTERM or SIGHUP ends the command with exit 130, whatever it was doing: a request, a
body, a wait between tries, a --jq run. A refresh already at the server is seen through and
saved first.`,
		Example: `  pleoauth api /v2/employees
  pleoauth api --env production /v1/introspect
  pleoauth api -X POST /v1/export-jobs -d '{"type":"EXPENSES"}'
  pleoauth api -X PUT /v2/vendors/123 --input vendor.json -H 'X-Request-Id: 42'
  pleoauth api --include /v2/employees | less
  pleoauth api --paginate '/v2/employees?limit=100' > employees.json
  pleoauth api --paginate /v2/employees --jq '.data[] | [.firstName, .lastName, .email] | @tsv'
  pleoauth api /v1/introspect --jq .data.subjectURN`,
		Args: cobra.ExactArgs(1),
		RunE: withGrant(d, false, func(ctx context.Context, g *grant.Grant, args []string) error {
			o.MaxPagesSet = cmd.Flags().Changed("max-pages")
			return runAPI(ctx, d, g, o, args[0])
		}),
	}
	f := cmd.Flags()
	config.AddFlags(cmd.Flags(), "min_ttl")
	f.StringVarP(&o.Method, "method", "X", "", "HTTP method (default GET, or POST with a body)")
	_ = cmd.RegisterFlagCompletionFunc("method", cobra.FixedCompletions([]string{"GET", "POST", "PUT", "PATCH", "DELETE"}, cobra.ShellCompDirectiveNoFileComp))
	f.StringVarP(&o.Data, "data", "d", "", "request body")
	f.StringVar(&o.Input, "input", "", `file to send as the body ("-" for stdin)`)
	f.StringArrayVarP(&o.Headers, "header", "H", nil, `extra header "Key: Value" (repeatable)`)
	f.BoolVarP(&o.Include, "include", "i", false, "print the status line and response headers before the body")
	f.BoolVar(&o.Paginate, "paginate", false, "fetch every page of a Pleo list endpoint and print {\"data\": [all items]}")
	f.BoolVar(&o.Slurp, "slurp", false, "with --paginate: print the array of pages instead")
	f.IntVar(&o.MaxPages, "max-pages", api.DefaultMaxPages, "with --paginate: the most pages a run fetches; a list with more is an error")
	addJQFlag(cmd, &o.JQ, "filter the JSON with a jq expression (each page with --paginate)")
	cmd.MarkFlagsMutuallyExclusive("data", "input")
	return cmd
}

func runAPI(ctx context.Context, d *Deps, g *grant.Grant, o *apiOptions, path string) error {
	filter, err := compileJQ(o.JQ) // a bad expression stops before any request
	if err != nil {
		return err
	}
	if o.Paginate || o.Slurp || o.MaxPagesSet {
		if err := paginateUsage(o); err != nil {
			return err
		}
		return runPaginate(ctx, d, g, path, o, filter)
	}
	headers := http.Header{}
	for _, h := range o.Headers {
		k, v, ok := strings.Cut(h, ":")
		if !ok || strings.TrimSpace(k) == "" {
			return failure.Wrap(failure.Usage, fmt.Errorf("-H %q is not \"Key: Value\"", h))
		}
		headers.Add(strings.TrimSpace(k), strings.TrimSpace(v))
	}
	var body []byte
	switch {
	case o.Data != "":
		body = []byte(o.Data)
	case o.Input == "-":
		b, err := io.ReadAll(d.Stdin)
		if err != nil {
			return fmt.Errorf("read the body from stdin: %w", err)
		}
		body = b
	case o.Input != "":
		b, err := os.ReadFile(o.Input)
		if err != nil {
			return failure.Wrap(failure.Usage, fmt.Errorf("--input: %w", err))
		}
		body = b
	}

	env := g.Env
	client, err := apiClient(d, g)
	if err != nil {
		return err
	}
	resp, err := client.Do(ctx, api.Request{Method: o.Method, Path: path, Body: body, Headers: headers})
	if err != nil {
		return apiError(g, err)
	}
	defer resp.Body.Close()

	if o.Include {
		writeHead(d.Stdout, resp)
	}
	ok := resp.StatusCode >= 200 && resp.StatusCode < 300
	if filter != nil && ok {
		if err := filterBody(ctx, d.Stdout, resp, filter, d.jqLimits()); err != nil {
			return fmt.Errorf("env %s: %s: %w", env.Name, path, err)
		}
		return nil
	}
	if err := writeBody(d, resp); err != nil {
		return err
	}
	return statusError(env.Name, resp)
}

// writeBody copies the response to stdout, indenting JSON for a person at a terminal.
func writeBody(d *Deps, resp *http.Response) error {
	if d.StdoutIsTerminal == nil || !d.StdoutIsTerminal() || !strings.Contains(resp.Header.Get("Content-Type"), "json") {
		_, err := io.Copy(d.Stdout, resp.Body)
		return err
	}
	raw, err := io.ReadAll(io.LimitReader(resp.Body, 64<<20))
	if err != nil {
		return err
	}
	var pretty bytes.Buffer
	if json.Indent(&pretty, raw, "", "  ") != nil {
		_, err = d.Stdout.Write(raw)
		return err
	}
	pretty.WriteByte('\n')
	_, err = pretty.WriteTo(d.Stdout)
	return err
}

// statusError maps a non-2xx answer to the exit code: 5xx and 429 are temporary, the rest plain
// errors; the message names the request and the status.
func statusError(env string, resp *http.Response) error {
	if resp.StatusCode >= 200 && resp.StatusCode < 300 {
		return nil
	}
	return answerError(env, resp.StatusCode, fmt.Errorf("env %s: %s %s answered %s", env, resp.Request.Method, resp.Request.URL.Redacted(), api.Status(resp)))
}

// answerError gives msg, about an API answer with status code, its exit code and the next step
// the status calls for; single requests and paginated pages alike.
func answerError(env string, code int, msg error) error {
	switch {
	case code >= 500 || code == http.StatusTooManyRequests:
		return failure.Wrap(failure.Temporary, fmt.Errorf("%w; try again later", msg))
	case code == http.StatusUnauthorized:
		return fmt.Errorf("%w to a token issued within the last minute, so the refusal is about the token's rights, not its age; check the token's scopes and the client's access, or run \"pleoauth login --env %s\"", msg, env)
	case code == http.StatusForbidden:
		return fmt.Errorf("%w: the token lacks a scope this call needs; log in again with it: pleoauth login --env %s --scope \"...\"", msg, env)
	default:
		return msg
	}
}

// apiClient sends requests to the login's environment's API with its token, refreshed first
// when needed and once more on a 401.
func apiClient(d *Deps, g *grant.Grant) (*api.Client, error) {
	if g.Env.APIURL == "" {
		return nil, fmt.Errorf("env %s has no api_url; set api_url for it in config.yaml", g.Env.Name)
	}
	httpClient, err := g.HTTPClient()
	if err != nil {
		return nil, err
	}
	return &api.Client{
		BaseURL:    g.Env.APIURL,
		HTTPClient: httpClient,
		// Every token is the store's, read again: a process keeps none in memory.
		Token: func(ctx context.Context, want api.Want, refused string) (api.Token, error) {
			b, err := g.Token(ctx, grant.Request{MinTTL: g.MinTTL(), Force: want == api.Refreshed, Refused: refused})
			if err != nil {
				return api.Token{}, err
			}
			return api.Token{Value: b.AccessToken, Issued: b.ObtainedAt, Expiry: b.Expiry}, nil
		},
		Now: d.Now,
	}, nil
}

// apiError words a failed API request: an untrusted certificate, the network, or the token.
func apiError(g *grant.Grant, err error) error {
	env := g.Env
	var te *api.TransportError
	if errors.As(err, &te) && tokenendpoint.IsCertificate(err) {
		return fmt.Errorf("env %s: %s has a TLS certificate pleoauth does not trust; if it uses a private CA, set ca_file for env %s", env.Name, te.URL, env.Name)
	}
	if errors.As(err, &te) {
		return failure.Wrap(failure.Temporary, fmt.Errorf("env %s: %w", env.Name, err))
	}
	var tokenErr *api.TokenError
	if errors.As(err, &tokenErr) {
		return tokenErr.Err // already names the environment and the next step
	}
	return fmt.Errorf("env %s: %w", env.Name, err)
}

// writeHead prints the status line and headers for --include. They are the server's text on
// a terminal, so each passes the one cleaner (a reason phrase or header value may carry terminal
// escapes); the body that follows is the data asked for and stays as it came.
func writeHead(w io.Writer, resp *http.Response) {
	fmt.Fprintf(w, "%s %s\n", sanitize.Text(resp.Proto, 16), api.Status(resp))
	names := slices.Sorted(maps.Keys(resp.Header))
	for _, name := range names {
		for _, v := range resp.Header[name] {
			fmt.Fprintf(w, "%s: %s\n", sanitize.Text(name, 100), sanitize.Text(v, 2000))
		}
	}
	fmt.Fprintln(w)
}
