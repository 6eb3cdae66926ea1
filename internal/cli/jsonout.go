package cli

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"io"

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
	cmd.Flags().StringVarP(&o.JQ, "jq", "q", "", "filter the JSON with a jq expression (implies --json)")
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

// write prints v as one line of JSON, or each result of the --jq expression over it.
func (o *jsonOutput) write(w io.Writer, v any) error {
	raw, err := json.Marshal(v)
	if err != nil {
		return err
	}
	if o.filter == nil {
		_, err := w.Write(append(raw, '\n'))
		return err
	}
	bw := bufio.NewWriter(w)
	err = runJQ(bw, o.filter, raw)
	var run *jqRunError
	if errors.As(err, &run) {
		// pleoauth's own output has a documented shape, so an expression that fails on it is the
		// expression's fault, not the server's.
		return failure.Wrap(failure.Usage, fmt.Errorf("--jq %q: %v; the fields are in docs/json.md", o.JQ, run.err))
	}
	if err != nil {
		return err
	}
	return bw.Flush()
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

// jqRunError is a --jq expression that compiled but failed on its input.
type jqRunError struct{ err error }

func (e *jqRunError) Error() string { return "--jq: " + e.err.Error() }
func (e *jqRunError) Unwrap() error { return e.err }

// runJQ writes each result of code over the JSON document raw on its own line: strings raw,
// everything else as JSON (as gh api --jq prints them).
func runJQ(out *bufio.Writer, code *gojq.Code, raw []byte) error {
	var input any
	if err := json.Unmarshal(raw, &input); err != nil {
		return fmt.Errorf("--jq: the answer is not JSON: %w", err)
	}
	iter := code.Run(input)
	for {
		v, ok := iter.Next()
		if !ok {
			return nil
		}
		switch v := v.(type) {
		case error:
			var halt *gojq.HaltError
			if errors.As(v, &halt) && halt.Value() == nil {
				return nil
			}
			return &jqRunError{v}
		case string:
			out.WriteString(v)
		default:
			b, err := gojq.Marshal(v)
			if err != nil {
				return &jqRunError{err}
			}
			out.Write(b)
		}
		out.WriteByte('\n')
	}
}
