// Package interrupt turns the signals that end a terminal program into the cancellation of a
// context, like signal.NotifyContext, but catches them only once something waits on the
// context. Catching a signal costs a process three goroutines and one or two OS threads (the
// runtime's signal loop runs on a thread of its own); the cached path of "pleoauth token",
// which waits on nothing, starts none of them and is half a millisecond faster for it
// (docs/performance.md). Until the signals are caught they do what they always do: end the
// process, which then holds nothing that could be lost.
package interrupt

import (
	"context"
	"os"
	"os/signal"
	"sync"
)

// Context returns a context that the first of signals cancels, from the moment anything calls
// its Done — directly, by deriving a cancellable context from it, or through [Catch] — and a
// stop that releases it. The cause of the cancellation ([context.Cause]) names the signal.
func Context(signals ...os.Signal) (ctx context.Context, stop func()) {
	inner, cancel := context.WithCancelCause(context.Background())
	c := &lazyContext{Context: inner, cancel: cancel, signals: signals}
	return c, c.stop
}

// Catch makes sure the signals of ctx's [Context] are caught from now on, whether or not
// anything waits on ctx: call it before spending what a signal must not cut short, such as a
// refresh token sent with [context.WithoutCancel]. It does nothing for other contexts.
func Catch(ctx context.Context) {
	if c, ok := ctx.Value(catchKey{}).(*lazyContext); ok {
		c.Done()
	}
}

type catchKey struct{}

// lazyContext is a cancellable context whose Done arms the signals. It hands out the inner
// context's own Done channel, so contexts derived from it are cancelled by the context
// package's own bookkeeping, with no goroutine of their own.
type lazyContext struct {
	context.Context
	cancel  context.CancelCauseFunc
	signals []os.Signal

	once   sync.Once
	caught chan os.Signal // set by arm, under once
}

func (c *lazyContext) Done() <-chan struct{} {
	c.once.Do(c.arm)
	return c.Context.Done()
}

func (c *lazyContext) Value(key any) any {
	if key == (catchKey{}) {
		return c
	}
	return c.Context.Value(key)
}

func (c *lazyContext) arm() {
	if c.Context.Err() != nil {
		return // stopped before anything waited
	}
	c.caught = make(chan os.Signal, 1)
	signal.Notify(c.caught, c.signals...)
	go func() {
		select {
		case s := <-c.caught:
			c.cancel(&SignalError{Signal: s})
		case <-c.Context.Done():
		}
	}()
}

func (c *lazyContext) stop() {
	c.once.Do(func() {}) // nothing arms after stop
	c.cancel(context.Canceled)
	if c.caught != nil {
		signal.Stop(c.caught)
	}
}

// SignalError is the cause of a [Context]'s cancellation by a signal.
type SignalError struct{ Signal os.Signal }

func (e *SignalError) Error() string { return "interrupted by " + e.Signal.String() }
