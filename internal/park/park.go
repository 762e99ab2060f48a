// Package park implements the consumer wait strategy shared by the rings:
// spin briefly, yield, then park on a one-slot channel until a producer
// wakes it (an eventcount).
//
// Protocol (all atomics are sequentially consistent in Go):
//
//	consumer                          producer
//	--------                          --------
//	parked.Store(true)                publish record (atomic store)
//	if ready() { unpark; return }     if parked.Load() {          <- one load when awake
//	<-wake                                if parked.Swap(false) { wake <- token }
//	                                  }
//
// Either the consumer's ready() sees the record, or the producer's Load sees
// parked == true and sends the token: a wake-up is never lost. Events that
// ready() does not see (flush, close) use Wake, which always leaves a token.
// The wake channel has one slot and sends never block, so a producer never
// waits. A stale token only causes one spurious return, which callers
// tolerate by re-checking their condition.
package park

import (
	"runtime"
	"sync/atomic"
	"time"

	"github.com/ringsink/ringsink/internal/pad"
)

// Spin and yield budgets before parking. Each spin re-checks the condition
// after a delay that doubles (Backoff), so the waiting consumer does not keep
// pulling the producers' cache lines away from them: on the 2-vCPU machines
// we measured, a consumer that polls an empty ring without delay makes every
// push pay a cross-core cache-line transfer (docs/design.md).
const (
	spins  = 4
	yields = 1
)

// Backoff busy-waits for about 16<<min(attempt, 8) loop iterations (16 to
// 4096; a few nanoseconds to a few microseconds) without touching shared
// memory. attempt counts the consumer's consecutive empty polls.
func Backoff(attempt int) int {
	return delay(16 << min(attempt, 8))
}

//go:noinline
func delay(n int) int {
	x := 0
	for i := range n {
		x += i
	}
	return x
}

// Waiter parks one consumer goroutine. The zero value is not usable; call Init.
//
// Wake and Notify are safe for any number of goroutines; Wait must only be
// called by the single consumer goroutine.
type Waiter struct {
	_      pad.Line
	parked atomic.Bool // true while the consumer is (about to be) blocked on wake; read by every producer
	_      pad.Line
	wake   chan struct{} // one slot: at most one outstanding token
}

// Init prepares w for use.
func (w *Waiter) Init() { w.wake = make(chan struct{}, 1) }

// Notify is the producer's fast path: one atomic load when the consumer is
// awake, and a wake-up only when it is parked. Call it after publishing
// something the consumer's ready() condition sees.
func (w *Waiter) Notify() {
	// The Swap makes exactly one producer send the token for each park.
	if w.parked.Load() && w.parked.Swap(false) {
		w.token()
	}
}

// Wake wakes the consumer for an event its ready() condition does not see
// (a flush request, Close). It always leaves a token, so a consumer that is
// just about to park returns at once instead of missing the event. It never
// blocks.
func (w *Waiter) Wake() { w.token() }

func (w *Waiter) token() {
	select {
	case w.wake <- struct{}{}:
	default: // a token is already outstanding
	}
}

// Reason tells why Wait returned.
type Reason uint8

const (
	Ready   Reason = iota // ready() reported true
	Woken                 // Wake or Notify was called (the condition may still be false)
	Done                  // the done channel was closed
	Timeout               // the timer channel fired
)

// Wait blocks the consumer until ready() reports true, a producer wakes it,
// done is closed or timer fires. done and timer may be nil. Wait allocates
// nothing.
func (w *Waiter) Wait(ready func() bool, done <-chan struct{}, timer <-chan time.Time) Reason {
	for i := range spins {
		if ready() {
			return Ready
		}
		Backoff(i)
	}
	for range yields {
		runtime.Gosched()
		if ready() {
			return Ready
		}
	}
	// Announce the park, then re-check: a producer that published before the
	// Store is seen by ready(); one that publishes after it sees parked.
	w.parked.Store(true)
	if ready() {
		w.parked.Store(false)
		return Ready
	}
	var r Reason
	select {
	case <-w.wake:
		r = Woken
	case <-done:
		r = Done
	case <-timer:
		r = Timeout
	}
	w.parked.Store(false)
	return r
}

// IsParked reports whether the consumer has announced that it is parking.
// For tests and diagnostics.
func (w *Waiter) IsParked() bool { return w.parked.Load() }
