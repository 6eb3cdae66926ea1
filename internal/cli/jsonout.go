package cli

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/itchyny/gojq"
	"github.com/spf13/cobra"

	"github.com/pleoauth/pleoauth/internal/failure"
)

// jsonOutput is the --json and --jq pair every command that reports has, one convention for
// all of them (docs/json.md): --json prints one JSON object with snake_case fields, --jq filters
// it through the same gojq code path as "pleoauth api --jq". The expression is compiled only
// when --jq is given, so a plain "pleoauth token" never touches gojq.
type jsonOutput struct {
	JSON bool
	JQ   string

	filter *gojq.Code
}

// addJSONFlags gives cmd the --json and --jq flags; what names what --json prints.
func addJSONFlags(cmd *cobra.Command, o *jsonOutput, what string) {
	cmd.Flags().BoolVar(&o.JSON, "json", false, "print "+what+" as JSON (fields: docs/json.md)")
	addJQFlag(cmd, &o.JQ, "filter the JSON with a jq expression (implies --json)")
}

// addJQFlag gives cmd the --jq flag, which refuses an empty expression: taken for no --jq, an
// empty one would print text to a script that asked for JSON.
func addJQFlag(cmd *cobra.Command, expr *string, usage string) {
	cmd.Flags().VarP((*jqFlag)(expr), "jq", "q", usage)
}

// jqFlag is the --jq expression.
type jqFlag string

func (f *jqFlag) String() string { return string(*f) }
func (f *jqFlag) Type() string   { return "string" }

func (f *jqFlag) Set(expr string) error {
	if expr == "" {
		return errors.New(`the expression is empty; give one ("." prints the whole object) or drop --jq`)
	}
	*f = jqFlag(expr)
	return nil
}

// on tells whether the command prints JSON: --jq implies --json.
func (o *jsonOutput) on() bool { return o.JSON || o.JQ != "" }

// prepare compiles the --jq expression; run before the command does any work, so that a bad
// expression is a usage error before any request or refresh.
func (o *jsonOutput) prepare() error {
	filter, err := compileJQ(o.JQ)
	o.filter = filter
	return err
}

// write prints v as one line of JSON, or each result of the --jq expression over it: the
// results before a failing one are written, then the failure is returned.
func (o *jsonOutput) write(ctx context.Context, w io.Writer, v any) error {
	raw, err := json.Marshal(v)
	if err != nil {
		return err
	}
	if o.filter == nil {
		_, err := w.Write(append(raw, '\n'))
		return err
	}
	bw := bufio.NewWriter(w)
	err = runJQ(ctx, bw, o.filter, raw, defaultJQLimits())
	if flushErr := bw.Flush(); err == nil {
		err = flushErr
	}
	var run *jqRunError
	if errors.As(err, &run) {
		// pleoauth's own output has a documented shape, so an expression that fails on it is the
		// expression's fault, not the server's.
		return failure.Wrap(failure.Usage, fmt.Errorf("--jq %q failed: %s; the fields are in docs/json.md", o.JQ, run.kind))
	}
	return err
}

// outcome is what a command with an outcome of its own (status, doctor) returns once it has
// printed: its own error when it has one, since the exit code is the command's whatever the
// output (docs/json.md), after saying on stderr why printing failed; else printing's failure.
func outcome(stderr io.Writer, printed, own error) error {
	if own == nil {
		return printed
	}
	if printed != nil {
		fmt.Fprintf(stderr, "pleoauth: %v\n", printed)
	}
	return own
}

// compileJQ compiles a --jq expression, or returns nil for none; an expression that does not
// parse or compile is a usage error, found before any request is sent.
func compileJQ(expr string) (*gojq.Code, error) {
	if expr == "" {
		return nil, nil
	}
	q, err := gojq.Parse(expr)
	if err == nil {
		var code *gojq.Code
		if code, err = gojq.Compile(q); err == nil {
			return code, nil
		}
	}
	return nil, failure.Wrap(failure.Usage, fmt.Errorf("--jq %q: %v; see https://jqlang.org/manual/", expr, err))
}

// jqRunError is a --jq expression that compiled but failed on its input. It keeps gojq's kind
// of failure only, never gojq's error: gojq quotes the value it failed on ("error: ory_at_…",
// `cannot iterate over: string ("ory_at_…")`), and the value is pleoauth's output or the API's
// answer — an access token, a refresh token — which must not reach a terminal or a CI log.
type jqRunError struct{ kind string }

func (e *jqRunError) Error() string { return "--jq failed: " + e.kind }

// jqTypes are the type names gojq writes before a value it quotes: safe to keep, as they say
// what the expression met without saying what it held.
var jqTypes = map[string]bool{"null": true, "boolean": true, "number": true, "string": true, "array": true, "object": true}

// jqFailureKind is gojq's message for err cut before the first value it quotes: the text up to
// the first quote, parenthesis, bracket or brace, then up to the first ": " (after which error
// and halt_error put their value bare), keeping a type name that follows it. So
// `cannot iterate over: string ("ory_at_…")` is "cannot iterate over: string",
// `tonumber cannot be applied to "ory_at_…": invalid number` is "tonumber cannot be applied to",
// and "error: ory_at_…" is "error".
func jqFailureKind(err error) string {
	msg := err.Error()
	if i := strings.IndexAny(msg, "\"'({[\n"); i >= 0 {
		msg = msg[:i]
	}
	kind, rest, _ := strings.Cut(msg, ": ")
	kind = strings.TrimSpace(kind)
	if typ := strings.TrimSpace(rest); jqTypes[typ] {
		kind += ": " + typ
	}
	if kind == "" {
		return "the expression failed"
	}
	return kind
}
