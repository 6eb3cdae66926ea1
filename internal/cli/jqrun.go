package cli

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"runtime/debug"
	"runtime/metrics"
	"strings"
	"time"

	"github.com/itchyny/gojq"
)

// jqLimits bound one run of a --jq expression over one document (a single answer, one page of
// --paginate, or pleoauth's own JSON). gojq has no limits of its own: "last(range(1e10))" runs
// for hours, "[range(1e9)]|length" grows the heap by some 100 MB a second, and "range(1e10)"
// prints without end. Each limit ends the run with an error that names it (exit 1); the
// documented values are [defaultJQLimits], docs/reliability.md and "pleoauth api --help".
type jqLimits struct {
	// Time is how long one run may take.
	Time time.Duration
	// Results is how many values one run may print.
	Results int
	// Output is how many bytes one run may print.
	Output int
	// Heap is the most pleoauth's heap may hold while the expression runs; the run is read
	// every Poll against it.
	Heap uint64
	Poll time.Duration
	// Depth is how deeply a printed value may nest arrays and objects. gojq encodes a value
	// by recursion, one Go stack frame per level, so "reduce range(3e6) as $i (null; [.])"
	// overflowed the stack, which the runtime does not recover from: it crashed with a
	// goroutine dump. 10,000 is encoding/json's own bound on the answers --jq reads.
	Depth int
}

// defaultJQLimits are far above what a filter over a Pleo answer needs (a page holds at most
// 100 items, a single answer at most 64 MB) and far below what would hurt the machine.
func defaultJQLimits() jqLimits {
	return jqLimits{Time: time.Minute, Results: 1_000_000, Output: 256 << 20, Heap: 1 << 30, Poll: 20 * time.Millisecond, Depth: 10_000}
}

// jqLimitError is a --jq run that reached one of its limits.
type jqLimitError struct{ what string }

func (e *jqLimitError) Error() string {
	return "--jq stopped: the expression " + e.what + "; filter a smaller part of the answer (for a list, --paginate with limit= runs it page by page)"
}

// runJQ writes each result of code over the JSON document raw on its own line: strings raw,
// everything else as JSON (as gh api --jq prints them). The run ends when ctx does (a signal:
// the command's error is then ctx's, which exits 130) or at a limit.
func runJQ(ctx context.Context, out *bufio.Writer, code *gojq.Code, raw []byte, lim jqLimits) error {
	var input any
	if err := json.Unmarshal(raw, &input); err != nil {
		return fmt.Errorf("--jq: the answer is not JSON: %w", err)
	}
	run, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	timer := time.AfterFunc(lim.Time, func() {
		cancel(&jqLimitError{fmt.Sprintf("ran longer than %s, the limit for one document", shortDuration(lim.Time))})
	})
	defer timer.Stop()
	defer watchHeap(run, cancel, lim)()

	iter := code.RunWithContext(run, input)
	results, written := 0, 0
	for {
		v, ok := iter.Next()
		if !ok {
			return nil
		}
		var b []byte
		switch v := v.(type) {
		case error:
			var halt *gojq.HaltError
			var valued gojq.ValueError // error(v) and halt_error: Error() encodes v as printing would
			switch {
			case errors.As(v, &halt) && halt.Value() == nil:
				return nil
			case ctx.Err() != nil:
				return ctx.Err() // the command's own end: a signal
			case run.Err() != nil:
				return context.Cause(run)
			case errors.As(v, &valued) && tooDeep(valued.Value(), lim.Depth):
				return tooDeepError(lim)
			}
			return &jqRunError{jqFailureKind(v)}
		case string:
			b = []byte(v)
		default:
			if tooDeep(v, lim.Depth) {
				return tooDeepError(lim)
			}
			var err error
			if b, err = gojq.Marshal(v); err != nil {
				return &jqRunError{jqFailureKind(err)}
			}
		}
		if results++; results > lim.Results {
			return &jqLimitError{fmt.Sprintf("gave more than %d results, the limit for one document", lim.Results)}
		}
		if written += len(b) + 1; written > lim.Output {
			return &jqLimitError{fmt.Sprintf("printed more than %d MB, the limit for one document", lim.Output>>20)}
		}
		out.Write(b)
		out.WriteByte('\n')
	}
}

func tooDeepError(lim jqLimits) error {
	return &jqLimitError{fmt.Sprintf("gave a value nested more than %d levels deep, the limit for one result", lim.Depth)}
}

// tooDeep tells whether v nests arrays and objects more than most levels deep. It walks v
// with a stack of its own, not by recursion, so that the value it refuses cannot overflow it.
func tooDeep(v any, most int) bool {
	type level struct {
		v     any
		depth int
	}
	stack := []level{{v, 0}}
	for len(stack) > 0 {
		top := stack[len(stack)-1]
		stack = stack[:len(stack)-1]
		switch v := top.v.(type) {
		case []any:
			if top.depth >= most {
				return true
			}
			for _, e := range v {
				stack = append(stack, level{e, top.depth + 1})
			}
		case map[string]any:
			if top.depth >= most {
				return true
			}
			for _, e := range v {
				stack = append(stack, level{e, top.depth + 1})
			}
		}
	}
	return false
}

// shortDuration writes d as a person would: "1m" rather than Go's "1m0s".
func shortDuration(d time.Duration) string {
	s := d.String()
	if strings.HasSuffix(s, "m0s") {
		s = strings.TrimSuffix(s, "0s")
	}
	return s
}

// watchHeap cancels run, naming the limit, once the heap holds more than lim.Heap, reading it
// every lim.Poll until run ends; the returned func stops the watch. While it watches, the Go
// runtime's soft memory limit is lim.Heap, so that garbage is collected before it can be taken
// for the expression's growth: only what the expression keeps can pass the limit.
func watchHeap(run context.Context, cancel context.CancelCauseFunc, lim jqLimits) (stop func()) {
	previous := debug.SetMemoryLimit(int64(lim.Heap))
	done := make(chan struct{})
	finished := make(chan struct{})
	go func() {
		defer close(finished)
		sample := []metrics.Sample{{Name: "/memory/classes/heap/objects:bytes"}}
		tick := time.NewTicker(lim.Poll)
		defer tick.Stop()
		for {
			select {
			case <-done:
				return
			case <-run.Done():
				return
			case <-tick.C:
			}
			metrics.Read(sample)
			if sample[0].Value.Kind() == metrics.KindUint64 && sample[0].Value.Uint64() > lim.Heap {
				cancel(&jqLimitError{fmt.Sprintf("held more than %d MB of memory, the limit while it runs", lim.Heap>>20)})
				return
			}
		}
	}()
	return func() {
		close(done)
		<-finished
		debug.SetMemoryLimit(previous)
	}
}
