package chaos

import (
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"
)

// Table is the run's summary: operations, faults by kind, refreshes, lost answers, revocations,
// exits by code, and the verdict.
func (r Report) Table(d time.Duration) string {
	var b strings.Builder
	row := func(name, value string) { fmt.Fprintf(&b, "  %-20s %s\n", name, value) }
	row("seed", fmt.Sprintf("%d (PLEOAUTH_CHAOS_SEED=%d replays it), %s", r.Seed, r.Seed, d))
	row("operations", counts(r.Ops))
	exits := map[string]int{}
	for code, n := range r.Exits {
		exits[exitName(code)] += n
	}
	row("exits", counts(exits))
	faults := map[string]int{}
	for k, n := range r.Faults {
		faults[string(k)] = n
	}
	row("faults", counts(faults))
	row("token requests", counts(r.Requests))
	row("rotations", fmt.Sprint(r.Rotations))
	row("lost by the nemesis", counts(r.Lost))
	row("replays", fmt.Sprintf("%d (%d after an answer the nemesis destroyed)", r.Replays, r.ReplaysAfterLoss))
	row("families revoked", fmt.Sprint(r.Revoked))
	row("logins", fmt.Sprintf("%d (1 + %d after a lost login)", r.Logins, max(r.Logins-1, 0)))
	row("tokens checked live", fmt.Sprint(r.TokensChecked))
	row("INT after finishing", fmt.Sprint(r.InterruptedAfterFinishing))
	byRule := map[int]int{}
	for _, v := range r.Violations {
		byRule[v.Rule]++
	}
	verdict := fmt.Sprint(len(r.Violations))
	for _, rule := range slices.Sorted(maps.Keys(byRule)) {
		verdict += fmt.Sprintf(", rule %d ×%d", rule, byRule[rule])
	}
	row("violations", verdict)
	return b.String()
}

func exitName(code int) string {
	switch code {
	case ExitKilled:
		return "killed"
	case ExitNoAnswer:
		return "serve-no-answer"
	}
	return fmt.Sprint(code)
}

// counts writes a map as "a 3, b 1", in key order; "none" when empty.
func counts(m map[string]int) string {
	if len(m) == 0 {
		return "none"
	}
	var parts []string
	for _, k := range slices.Sorted(maps.Keys(m)) {
		parts = append(parts, fmt.Sprintf("%s %d", k, m[k]))
	}
	return strings.Join(parts, ", ")
}
