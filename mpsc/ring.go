package mpsc

import (
	"context"

	"github.com/ringsink/ringsink/internal/ring"
	"github.com/ringsink/ringsink/wait"
)

// Ring is a bounded lock-free queue of values for many producers and one
// consumer, after Dmitry Vyukov's bounded MPMC queue specialised for a
// single consumer. A push that finds the ring full fails at once
// (drop-newest); it never blocks.
//
// A successful TryPush synchronizes before the TryPop or TryPopBatch that
// returns its value. Values from one producer come out in the order it
// pushed them.
//
// Ring is safe for any number of producer goroutines and exactly one
// consumer goroutine; methods marked "consumer only" must only be called by
// that one.
type Ring[T any] struct {
	r ring.Ring[T]
}

// New returns a ring holding capacity values, rounded up to a power of two
// and to at least 2. It panics if capacity < 1 or above 2^62 (2^30 on
// 32-bit platforms).
func New[T any](capacity int) *Ring[T] {
	r := new(Ring[T])
	r.r.Init(capacity)
	return r
}

// TryPush appends v and reports whether there was room. Safe from any
// goroutine; it never blocks, never makes a system call and never
// allocates. It reports false only when the ring is full or closed (Closed
// tells which): a lost race against another producer is retried, not
// reported as full.
func (r *Ring[T]) TryPush(v T) bool { return r.r.TryPush(v) }

// TryPop removes and returns the oldest value. Consumer only. A producer
// between its claim and its publish holds the consumer at its value (values
// come out in claim order), even if later values are published.
func (r *Ring[T]) TryPop() (T, bool) { return r.r.TryPop() }

// TryPopBatch moves up to len(dst) values into dst, oldest first, and
// returns how many it moved. Consumer only. It allocates nothing.
func (r *Ring[T]) TryPopBatch(dst []T) int { return r.r.TryPopBatch(dst) }

// Wait blocks the consumer until a value is ready, Wake or Close is called,
// or ctx is done; it returns ctx.Err() in the last case and nil otherwise.
// The ring may be empty after a nil return (a Wake, or a stale wake-up):
// callers check again. Consumer only; it allocates nothing.
//
// Every push that returned true before or during a Wait ends it. How Wait
// waits is the policy SetWait chose: parked, the push that finds it parked
// pays the wake-up; lingering, a value may wait up to the linger, rounded
// up to the platform's timer resolution; spinning, it keeps a core busy.
func (r *Ring[T]) Wait(ctx context.Context) error { return r.r.Wait(ctx) }

// Wake ends the consumer's Wait if it is waiting, or its next Wait. Safe
// from any goroutine; it never blocks. Use it for events that are not
// values (a flush, a stop).
func (r *Ring[T]) Wake() { r.r.Wake() }

// Close stops intake: every TryPush that has not claimed a slot yet fails,
// now and later, and a waiting consumer is woken. Values already accepted
// stay for the consumer: once Close has returned, a push that reported true
// is in the ring, and the consumer has everything that will ever be pushed
// when Len reports 0. Safe from any goroutine; idempotent.
func (r *Ring[T]) Close() { r.r.Close() }

// Closed reports whether Close has been called. Safe from any goroutine.
func (r *Ring[T]) Closed() bool { return r.r.Closed() }

// Len returns the number of values in the ring, counting pushes in
// progress. Safe from any goroutine; exact only when no push or pop runs.
func (r *Ring[T]) Len() int { return r.r.Len() }

// Cap returns the ring's capacity in values.
func (r *Ring[T]) Cap() int { return r.r.Cap() }

// SetWait sets how Wait waits when the ring is empty: wait.Park() by
// default (and for the zero Policy), like a channel receive. Consumer only:
// call it before the consumer starts, or between its Waits.
func (r *Ring[T]) SetWait(p wait.Policy) { r.r.SetWait(p) }
