package cli

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"strings"

	"github.com/itchyny/gojq"

	"github.com/pleoauth/pleoauth/internal/api"
	"github.com/pleoauth/pleoauth/internal/failure"
	"github.com/pleoauth/pleoauth/internal/grant"
)

// paginateUsage refuses what --paginate cannot do: pages are fetched with GET and no body.
func paginateUsage(o *apiOptions) error {
	switch {
	case o.Slurp && !o.Paginate:
		return failure.Wrap(failure.Usage, errors.New("--slurp works with --paginate; add --paginate"))
	case o.MaxPagesSet && !o.Paginate:
		return failure.Wrap(failure.Usage, errors.New("--max-pages works with --paginate; add --paginate"))
	case o.MaxPages < 1:
		return failure.Wrap(failure.Usage, fmt.Errorf("--max-pages %d: a run fetches at least one page; give 1 or more", o.MaxPages))
	case o.Slurp && o.JQ != "":
		return failure.Wrap(failure.Usage, errors.New("--slurp and --jq do not go together: --jq filters each page as it comes; drop one"))
	case o.Method != "" && !strings.EqualFold(o.Method, http.MethodGet), o.Data != "", o.Input != "":
		return failure.Wrap(failure.Usage, errors.New("--paginate fetches pages with GET and no body; drop -X, --data or --input"))
	case o.Include:
		return failure.Wrap(failure.Usage, errors.New("--include does not go with --paginate, whose output is one JSON document; drop --include"))
	case len(o.Headers) > 0:
		return failure.Wrap(failure.Usage, errors.New("--header does not go with --paginate; drop -H"))
	}
	return nil
}

// runPaginate fetches every page of path and writes them as they arrive.
func runPaginate(ctx context.Context, d *Deps, g *grant.Grant, path string, o *apiOptions, filter *gojq.Code) error {
	client, err := apiClient(d, g)
	if err != nil {
		return err
	}
	out := bufio.NewWriterSize(d.Stdout, 64<<10)
	var w pageWriter
	switch {
	case filter != nil:
		w = &jqPages{ctx: ctx, out: out, code: filter, limits: d.jqLimits()}
	case o.Slurp:
		w = &rawPages{out: out}
	default:
		w = &itemPages{out: out}
	}
	opts := api.PageOptions{MaxPages: o.MaxPages, Sleep: d.Sleep, Now: d.Now, Notice: func(msg string) { fmt.Fprintf(d.Stderr, "pleoauth: env %s: %s\n", g.Env.Name, msg) }}
	err = client.Paginate(ctx, path, opts, func(p api.Page) error {
		if err := w.page(p); err != nil {
			return err
		}
		return out.Flush() // the pages so far reach the reader now, not at the end
	})
	if err == nil {
		err = w.end()
	}
	if flushErr := out.Flush(); err == nil {
		err = flushErr
	}
	return paginateError(g, err)
}

// paginateError words a failed run: a page the API answered with an error status as a single
// request's answer is worded (exit code and next step), anything else as [apiError] does.
func paginateError(g *grant.Grant, err error) error {
	var ps *api.PageStatusError
	switch {
	case err == nil:
		return nil
	case errors.As(err, &ps):
		return answerError(g.Env.Name, ps.StatusCode, fmt.Errorf("env %s: %w", g.Env.Name, err))
	}
	return apiError(g, err)
}

// A pageWriter writes pages as they arrive and closes the document at the end.
type pageWriter interface {
	page(api.Page) error
	end() error
}

// itemPages writes {"data": [every item, in order]}.
type itemPages struct {
	out   *bufio.Writer
	items int
}

func (w *itemPages) page(p api.Page) error {
	if p.Number == 1 {
		w.out.WriteString(`{"data":[`)
	}
	for _, item := range p.Items {
		if w.items > 0 {
			w.out.WriteByte(',')
		}
		w.out.Write(item)
		w.items++
	}
	return nil
}

func (w *itemPages) end() error {
	_, err := w.out.WriteString("]}\n")
	return err
}

// rawPages writes [page, page, ...], each page as the server sent it.
type rawPages struct {
	out   *bufio.Writer
	pages int
}

func (w *rawPages) page(p api.Page) error {
	if w.pages == 0 {
		w.out.WriteByte('[')
	} else {
		w.out.WriteByte(',')
	}
	w.out.Write(bytes.TrimSpace(p.Raw))
	w.pages++
	return nil
}

func (w *rawPages) end() error {
	if w.pages == 0 {
		w.out.WriteByte('[')
	}
	_, err := w.out.WriteString("]\n")
	return err
}

// jqPages runs the --jq expression over each page.
type jqPages struct {
	ctx    context.Context
	out    *bufio.Writer
	code   *gojq.Code
	limits jqLimits
}

func (w *jqPages) page(p api.Page) error {
	if err := runJQ(w.ctx, w.out, w.code, p.Raw, w.limits); err != nil {
		return fmt.Errorf("page %d: %w", p.Number, err)
	}
	return nil
}

func (w *jqPages) end() error { return nil }

// filterBody runs the --jq expression over a single response's JSON body.
func filterBody(ctx context.Context, out io.Writer, resp *http.Response, code *gojq.Code, lim jqLimits) error {
	if mt, _, _ := mime.ParseMediaType(resp.Header.Get("Content-Type")); !strings.HasSuffix(mt, "json") {
		return fmt.Errorf("--jq needs JSON, and the answer is %q", resp.Header.Get("Content-Type"))
	}
	raw, err := io.ReadAll(io.LimitReader(resp.Body, 64<<20))
	if err != nil {
		return err
	}
	bw := bufio.NewWriter(out)
	err = runJQ(ctx, bw, code, raw, lim) // the results before a failing one are written all the same
	if flushErr := bw.Flush(); err == nil {
		err = flushErr
	}
	return err
}
