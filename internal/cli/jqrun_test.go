package cli

import (
	"bufio"
	"context"
	"errors"
	"io"
	"runtime/metrics"
	"strings"
	"testing"
	"time"
)

// TestJQLimits: each bound of a --jq run ends an expression that would run, print or grow
// without end, with an error naming the limit, well within a generous deadline; an expression
// within the bounds runs as before.
func TestJQLimits(t *testing.T) {
	heapNow := func() uint64 {
		s := []metrics.Sample{{Name: "/memory/classes/heap/objects:bytes"}}
		metrics.Read(s)
		return s[0].Value.Uint64()
	}
	roomy := jqLimits{Time: time.Minute, Results: 1 << 30, Output: 1 << 30, Heap: 1 << 40, Poll: 10 * time.Millisecond, Depth: 1 << 20}
	with := func(change func(*jqLimits)) jqLimits { l := roomy; change(&l); return l }
	tests := []struct {
		name, expr string
		limits     jqLimits
		want       string // in the error; "" for none
	}{
		{"within", ".a, .b", roomy, ""},
		{"time", "last(range(1e10))", with(func(l *jqLimits) { l.Time = 200 * time.Millisecond }), "ran longer than 200ms"},
		{"results", "range(1e10)", with(func(l *jqLimits) { l.Results = 1000 }), "more than 1000 results"},
		{"output", `range(1e10) | "0123456789"`, with(func(l *jqLimits) { l.Output = 1 << 20 }), "printed more than 1 MB"},
		{"output of one value", `[range(1e6)]`, with(func(l *jqLimits) { l.Output = 1 << 20 }), "printed more than 1 MB"},
		{"depth of arrays", "reduce range(100) as $i (null; [.])", with(func(l *jqLimits) { l.Depth = 50 }), "nested more than 50 levels deep"},
		{"depth of objects", "reduce range(100) as $i (null; {a: .})", with(func(l *jqLimits) { l.Depth = 50 }), "nested more than 50 levels deep"},
		{"depth a million levels, the default limit", "reduce range(1e6) as $i (null; [.])", with(func(l *jqLimits) { l.Depth = defaultJQLimits().Depth }), "nested more than 10000 levels deep"},
		{"depth of an error's value", "reduce range(100) as $i (null; [.]) | error(.)", with(func(l *jqLimits) { l.Depth = 50 }), "nested more than 50 levels deep"},
		{"depth of halt_error's value", "reduce range(100) as $i (null; [.]) | halt_error", with(func(l *jqLimits) { l.Depth = 50 }), "nested more than 50 levels deep"},
		{"depth of an error's value, a million levels", "reduce range(1e6) as $i (null; [.]) | error(.)", with(func(l *jqLimits) { l.Depth = defaultJQLimits().Depth }), "nested more than 10000 levels deep"},
		{"memory", "[range(1e10)] | length", with(func(l *jqLimits) { l.Heap = heapNow() + 64<<20 }), "held more than"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, err := compileJQ(tt.expr)
			if err != nil {
				t.Fatal(err)
			}
			var out strings.Builder
			w := bufio.NewWriter(&out)
			start := time.Now()
			err = runJQ(context.Background(), w, code, []byte(`{"a":1,"b":"x"}`), tt.limits)
			w.Flush()
			if took := time.Since(start); took > 30*time.Second {
				t.Errorf("took %v", took)
			}
			var limit *jqLimitError
			switch {
			case tt.want == "" && (err != nil || out.String() != "1\nx\n"):
				t.Errorf("runJQ(%s) = %q, %v; want \"1\\nx\\n\", nil", tt.expr, out.String(), err)
			case tt.want != "" && (!errors.As(err, &limit) || !strings.Contains(err.Error(), tt.want)):
				t.Errorf("runJQ(%s) = %v; want the limit %q", tt.expr, err, tt.want)
			case tt.want != "" && out.Len() > tt.limits.Output:
				t.Errorf("runJQ(%s) printed %d bytes, past the limit of %d", tt.expr, out.Len(), tt.limits.Output)
			}
		})
	}
}

// TestTooDeep: the depth a --jq result may nest to is counted in arrays and objects, exactly,
// however wide the value and whatever it holds.
func TestTooDeep(t *testing.T) {
	nest := func(n int, leaf any, wrap func(any) any) any {
		v := leaf
		for range n {
			v = wrap(v)
		}
		return v
	}
	array := func(v any) any { return []any{1, v, "x"} }
	object := func(v any) any { return map[string]any{"a": 1, "b": v} }
	mixed := func(v any) any { return []any{map[string]any{"a": v}} } // two levels a call
	wide := make([]any, 10000)
	for i := range wide {
		wide[i] = []any{i}
	}
	tests := []struct {
		name string
		v    any
		most int
		want bool
	}{
		{"a scalar", 1.5, 0, false},
		{"a string", "[[[[", 0, false},
		{"an empty array at 0", []any{}, 0, true},
		{"arrays at the limit", nest(3, nil, array), 3, false},
		{"arrays past the limit", nest(4, nil, array), 3, true},
		{"objects at the limit", nest(3, "x", object), 3, false},
		{"objects past the limit", nest(4, "x", object), 3, true},
		{"mixed at the limit", nest(2, 1, mixed), 4, false},
		{"mixed past the limit", nest(3, 1, mixed), 4, true},
		{"wide and shallow", wide, 2, false},
		{"wide and one level too deep", wide, 1, true},
		{"a million levels", nest(1_000_000, nil, array), 10_000, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := tooDeep(tt.v, tt.most); got != tt.want {
				t.Errorf("tooDeep(%s, %d) = %v; want %v", tt.name, tt.most, got, tt.want)
			}
		})
	}
}

// TestJQEndsWithTheCommand: a signal (the command's context cancelled) ends a --jq run that
// would otherwise take hours, and the error is the context's, which Main maps to 130.
func TestJQEndsWithTheCommand(t *testing.T) {
	code, err := compileJQ("last(range(1e10))")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	time.AfterFunc(100*time.Millisecond, cancel)
	done := make(chan error, 1)
	go func() { done <- runJQ(ctx, bufio.NewWriter(io.Discard), code, []byte(`{}`), defaultJQLimits()) }()
	select {
	case err := <-done:
		if !errors.Is(err, context.Canceled) {
			t.Fatalf("runJQ after cancel = %v; want context.Canceled", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("the --jq run went on after its command was cancelled")
	}
}

func TestShortDuration(t *testing.T) {
	for d, want := range map[time.Duration]string{time.Minute: "1m", 90 * time.Second: "1m30s", 200 * time.Millisecond: "200ms", time.Hour: "1h0m"} {
		if got := shortDuration(d); got != want {
			t.Errorf("shortDuration(%v) = %q; want %q", d, got, want)
		}
	}
}
