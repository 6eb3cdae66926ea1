package bench

import (
	"fmt"
	"io"
	"os"
	"slices"
	"strings"
	"sync"
	"testing"
)

// target is what a figure must be: at most (≤), below (<) or exactly (=) a limit; the zero
// target marks a figure shown to explain the others.
type target struct {
	limit  float64
	strict bool
	exact  bool
}

func atMost(limit float64) target  { return target{limit: limit} }
func below(limit float64) target   { return target{limit: limit, strict: true} }
func exactly(limit float64) target { return target{limit: limit, exact: true} }

func (t target) met(v float64) bool {
	switch {
	case t.exact:
		return v == t.limit
	case t.strict:
		return v < t.limit
	}
	return v <= t.limit
}

func (t target) String() string {
	if t == (target{}) {
		return "—"
	}
	switch {
	case t.exact:
		return fmt.Sprintf("= %g", t.limit)
	case t.strict:
		return fmt.Sprintf("< %g", t.limit)
	}
	return fmt.Sprintf("≤ %g", t.limit)
}

// figure is one measured figure, with every run's value (-count runs each benchmark again).
type figure struct {
	name   string
	target target
	values []float64
}

// figures collects what the benchmarks report, for the table printed after them: benchmark
// functions have no other way out than their metrics, and the table needs them side by side.
var figures = struct {
	sync.Mutex
	list []*figure
}{}

// report records a figure for the table and reports it as the benchmark's metric unit.
func report(b *testing.B, name, unit string, value float64, t target) {
	b.ReportMetric(value, unit)
	figures.Lock()
	defer figures.Unlock()
	i := slices.IndexFunc(figures.list, func(f *figure) bool { return f.name == name })
	if i < 0 {
		figures.list = append(figures.list, &figure{name: name, target: t})
		i = len(figures.list) - 1
	}
	figures.list[i].values = append(figures.list[i].values, value)
}

// printTable writes each figure, its target, every run's value, their median and whether the
// median meets the target.
func printTable(w io.Writer) {
	if len(figures.list) == 0 {
		return
	}
	fmt.Fprintf(w, "\n%-56s %-7s %-24s %-7s %s\n", "figure", "target", "runs", "median", "")
	for _, f := range figures.list {
		runs := make([]string, len(f.values))
		for i, v := range f.values {
			runs[i] = fmt.Sprintf("%.2f", v)
		}
		sorted := slices.Clone(f.values)
		slices.Sort(sorted)
		m := sorted[len(sorted)/2]
		verdict := "pass"
		switch {
		case f.target == (target{}):
			verdict = ""
		case !f.target.met(m):
			verdict = "MISS"
		}
		fmt.Fprintf(w, "%-56s %-7s %-24s %-7.2f %s\n", f.name, f.target, strings.Join(runs, " "), m, verdict)
	}
}

func TestMain(m *testing.M) {
	code := m.Run()
	printTable(os.Stdout)
	os.Exit(code)
}
