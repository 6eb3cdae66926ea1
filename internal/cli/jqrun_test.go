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
	roomy := jqLimits{Time: time.Minute, Results: 1 << 30, Output: 1 << 30, Heap: 1 << 40, Poll: 10 * time.Millisecond}
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
