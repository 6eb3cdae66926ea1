package interrupt

import (
	"context"
	"errors"
	"syscall"
	"testing"
	"time"
)

// The signal used here is SIGUSR1, which ends a process that does not catch it: every test
// sends it only once the context catches it, so a failure to catch fails the whole test binary.

// armed reports whether ctx catches its signals (and so runs the goroutine that watches them).
func armed(ctx context.Context) bool { return ctx.(*lazyContext).caught != nil }

func TestNothingStartsUntilSomethingWaits(t *testing.T) {
	ctx, stop := Context(syscall.SIGUSR1)
	defer stop()
	_ = ctx.Err()
	_ = ctx.Value("any")
	_, _ = ctx.Deadline()
	if armed(ctx) {
		t.Fatal("Err, Value or Deadline armed the signals; only a wait should")
	}
	_ = ctx.Done()
	if !armed(ctx) {
		t.Fatal("Done did not arm the signals")
	}
}

func TestSignalCancelsADerivedContext(t *testing.T) {
	ctx, stop := Context(syscall.SIGUSR1)
	defer stop()
	child, cancel := context.WithTimeout(ctx, time.Minute) // deriving waits on ctx: it arms
	defer cancel()
	sendSelf(t)
	select {
	case <-child.Done():
	case <-time.After(10 * time.Second):
		t.Fatal("the signal did not cancel the derived context")
	}
	var se *SignalError
	if !errors.As(context.Cause(ctx), &se) || se.Signal != syscall.SIGUSR1 {
		t.Fatalf("cause %v; want the signal", context.Cause(ctx))
	}
}

func TestCatchArmsWithoutWaiting(t *testing.T) {
	ctx, stop := Context(syscall.SIGUSR1)
	defer stop()
	Catch(context.WithoutCancel(context.WithValue(ctx, "k", "v"))) // found through wrappers
	sendSelf(t)
	deadline := time.Now().Add(10 * time.Second)
	for ctx.Err() == nil {
		if time.Now().After(deadline) {
			t.Fatal("the caught signal did not cancel the context")
		}
		time.Sleep(time.Millisecond)
	}
}

// TestCatchIgnoresOtherContexts: Catch on a context that does not come from [Context] waits on
// nothing — it neither calls that context's Done (which, for a context of someone else's,
// may start what only a wait should) nor arms a Context it was not given.
func TestCatchIgnoresOtherContexts(t *testing.T) {
	ours, stop := Context(syscall.SIGUSR1)
	defer stop()
	for _, other := range []context.Context{
		context.Background(),
		context.WithValue(context.Background(), "k", "v"),
		&doneCounter{Context: context.Background()},
	} {
		Catch(other) // must not panic
		if d, ok := other.(*doneCounter); ok && d.calls != 0 {
			t.Errorf("Catch called Done %d times on a context not from Context; want none", d.calls)
		}
	}
	if armed(ours) {
		t.Error("Catch on another context armed a Context it was not given")
	}
}

// doneCounter counts the calls of its Done.
type doneCounter struct {
	context.Context
	calls int
}

func (d *doneCounter) Done() <-chan struct{} {
	d.calls++
	return d.Context.Done()
}

func TestStopEndsTheContextAndNeverArms(t *testing.T) {
	ctx, stop := Context(syscall.SIGUSR1)
	stop()
	<-ctx.Done()
	if armed(ctx) {
		t.Fatal("Done after stop armed the signals")
	}
	if !errors.Is(ctx.Err(), context.Canceled) {
		t.Fatalf("Err %v after stop; want Canceled", ctx.Err())
	}
}

func sendSelf(t *testing.T) {
	t.Helper()
	if err := syscall.Kill(syscall.Getpid(), syscall.SIGUSR1); err != nil {
		t.Fatal(err)
	}
}
