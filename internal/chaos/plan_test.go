package chaos

import (
	"math/rand/v2"
	"slices"
	"testing"
	"time"
)

// TestPlanDeterministic: a seed gives one plan, and other seeds others.
func TestPlanDeterministic(t *testing.T) {
	for seed := range uint64(20) {
		a, b := Plan(seed, 2*time.Minute, 3, true), Plan(seed, 2*time.Minute, 3, true)
		if len(a) == 0 || !slices.Equal(a, b) {
			t.Fatalf("seed %d: two plans differ or are empty:\n%v\n%v", seed, a, b)
		}
		if c := Plan(seed+1, 2*time.Minute, 3, true); slices.Equal(a, c) {
			t.Errorf("seeds %d and %d give the same plan", seed, seed+1)
		}
	}
}

// TestPlanShape: every plan starts at 1 s, leaves its last 3 s quiet, heals each fault before the
// next starts after a gap of 0.6–2 s (QuietGap every QuietEvery-th), and hits hosts of the fleet.
func TestPlanShape(t *testing.T) {
	for _, tc := range []struct {
		d     time.Duration
		hosts int
	}{
		{10 * time.Second, 1}, {time.Minute, 3}, {5 * time.Minute, 5}, {2 * time.Minute, 0},
	} {
		for seed := range uint64(50) {
			plan := Plan(seed, tc.d, tc.hosts, tc.d > time.Minute)
			if len(plan) == 0 {
				t.Fatalf("seed %d, %s: empty plan", seed, tc.d)
			}
			if plan[0].At != time.Second {
				t.Errorf("seed %d: the first action at %s, want 1s", seed, plan[0].At)
			}
			for i, a := range plan {
				if end := a.At + a.For; end > tc.d-3*time.Second {
					t.Errorf("seed %d, %s: action %d %v ends at %s, in the last 3 s", seed, tc.d, i, a, end)
				}
				if a.Host < 0 || a.Host >= max(tc.hosts, 1) {
					t.Errorf("seed %d: action %d hits host %d of %d", seed, i, a.Host, tc.hosts)
				}
				if i == 0 {
					continue
				}
				prev := plan[i-1]
				gap := a.At - (prev.At + prev.For)
				if i%QuietEvery == 0 {
					if gap != QuietGap {
						t.Errorf("seed %d: gap %d is %s, want a quiet %s", seed, i, gap, QuietGap)
					}
				} else if gap < 600*time.Millisecond || gap >= 2*time.Second {
					t.Errorf("seed %d: gap %d is %s, want 0.6–2 s", seed, i, gap)
				}
			}
		}
	}
}

// TestPlanFillsTheRun: a plan goes on until the next action would not fit: the quiet end is
// short (what remains after the last action is at most its gap plus the longest fault plus 3 s).
func TestPlanFillsTheRun(t *testing.T) {
	for seed := range uint64(50) {
		d := 3 * time.Minute
		plan := Plan(seed, d, 2, false)
		last := plan[len(plan)-1]
		if rest := d - (last.At + last.For); rest > QuietGap+6*time.Second+3*time.Second {
			t.Errorf("seed %d: %s left after the last action %v", seed, rest, last)
		}
	}
}

// TestPlanKinds: every kind is drawn, PastTimeout only when asked for, and each kind's duration
// is in its range.
func TestPlanKinds(t *testing.T) {
	ranges := map[Kind][2]time.Duration{
		KillClient: {}, KillAtServer: {}, IntClient: {}, IntAtServer: {}, KillServe: {}, RotateThenDrop: {}, ServerError: {},
		StopClient:      {500 * time.Millisecond, 3 * time.Second},
		StopAtServer:    {time.Second, 6 * time.Second},
		RedisKill:       {300 * time.Millisecond, 3 * time.Second},
		RedisTerm:       {300 * time.Millisecond, 3 * time.Second},
		Slow:            {time.Second, 4 * time.Second},
		PartitionRedis:  {time.Second, 5 * time.Second},
		PartitionServer: {time.Second, 5 * time.Second},
		LinkDown:        {time.Second, 5 * time.Second},
		DiskFull:        {time.Second, 5 * time.Second},
		DiskReadOnly:    {time.Second, 5 * time.Second},
	}
	for _, pastTimeout := range []bool{false, true} {
		seen := map[Kind]int{}
		for seed := range uint64(10) {
			for _, a := range Plan(seed, time.Hour, 4, pastTimeout) {
				seen[a.Kind]++
				if a.Kind == PastTimeout {
					if a.For != 31*time.Second {
						t.Errorf("past-timeout for %s, want 31s", a.For)
					}
					continue
				}
				r, ok := ranges[a.Kind]
				switch {
				case !ok:
					t.Errorf("kind %q drawn, which Kinds does not list", a.Kind)
				case r[1] == 0 && a.For != 0:
					t.Errorf("%s for %s, want 0 for a signal", a.Kind, a.For)
				case r[1] != 0 && (a.For < r[0] || a.For >= r[1]):
					t.Errorf("%s for %s, want [%s, %s)", a.Kind, a.For, r[0], r[1])
				}
			}
		}
		for _, k := range Kinds() {
			switch {
			case k == PastTimeout && !pastTimeout && seen[k] != 0:
				t.Errorf("past-timeout drawn %d times, though not asked for", seen[k])
			case (k != PastTimeout || pastTimeout) && seen[k] == 0:
				t.Errorf("pastTimeout %v: %s never drawn", pastTimeout, k)
			}
		}
		// The weights: kill-at-server (4) comes more often than link-down (1).
		if seen[KillAtServer] <= seen[LinkDown] {
			t.Errorf("pastTimeout %v: kill-at-server %d times, link-down %d", pastTimeout, seen[KillAtServer], seen[LinkDown])
		}
	}
}

// TestDuration: each kind's range, drawn many times, reaches near both ends.
func TestDuration(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	for _, tc := range []struct {
		kind   Kind
		lo, hi time.Duration
	}{
		{StopClient, 500 * time.Millisecond, 3 * time.Second},
		{StopAtServer, time.Second, 6 * time.Second},
		{RedisKill, 300 * time.Millisecond, 3 * time.Second},
		{RedisTerm, 300 * time.Millisecond, 3 * time.Second},
		{Slow, time.Second, 4 * time.Second},
		{PartitionServer, time.Second, 5 * time.Second},
		{DiskReadOnly, time.Second, 5 * time.Second},
		{PastTimeout, 31 * time.Second, 31*time.Second + 1},
		{KillClient, 0, 1},
		{ServerError, 0, 1},
		{RotateThenDrop, 0, 1},
		{KillServe, 0, 1},
	} {
		lo, hi := tc.hi, tc.lo
		for range 2000 {
			d := duration(rng, tc.kind)
			lo, hi = min(lo, d), max(hi, d)
		}
		if lo < tc.lo || hi >= tc.hi {
			t.Errorf("%s: drew %s to %s, want [%s, %s)", tc.kind, lo, hi, tc.lo, tc.hi)
		}
		if span := tc.hi - tc.lo; span > 1 && (lo-tc.lo > span/20 || tc.hi-hi > span/20) {
			t.Errorf("%s: drew only %s to %s of [%s, %s)", tc.kind, lo, hi, tc.lo, tc.hi)
		}
	}
}

// TestPlanLastFits: an action that ends exactly 3 s before the run's end is kept, and is the
// last. The draws do not depend on d, so a shorter run's plan is a prefix of a longer one's.
func TestPlanLastFits(t *testing.T) {
	for seed := range uint64(5) {
		long := Plan(seed, time.Minute, 3, false)
		for k, a := range long {
			d := a.At + a.For + 3*time.Second
			if got := Plan(seed, d, 3, false); !slices.Equal(got, long[:k+1]) {
				t.Fatalf("seed %d, %s: plan of %d actions, want the first %d of the minute's:\n%v", seed, d, len(got), k+1, got)
			}
		}
	}
}

// TestPlanOpens: every plan long enough opens with the faults that strike a refresh on the wire.
func TestPlanOpens(t *testing.T) {
	for seed := range uint64(30) {
		plan := Plan(seed, 30*time.Second, 3, false)
		if len(plan) < len(Opening) {
			t.Fatalf("seed %d: %d actions in 30 s", seed, len(plan))
		}
		for i, k := range Opening {
			if plan[i].Kind != k {
				t.Errorf("seed %d: action %d is %s; want %s", seed, i, plan[i].Kind, k)
			}
		}
		if seed > 0 && slices.Equal(plan[len(Opening):], Plan(seed-1, 30*time.Second, 3, false)[len(Opening):]) {
			t.Errorf("seeds %d and %d draw the same faults after the opening", seed, seed-1)
		}
	}
}
