package spsc

// Invariants:
//
//   - tail is written only by the producer, head only by the consumer;
//     head <= tail <= head+cap.
//   - Slots in [head, tail) are owned by the consumer; slots in
//     [tail, head+cap) are owned by the producer.
//   - headCache is the producer's private copy of head (head only grows, so a
//     stale copy can only under-report free space); tailCache is the
//     consumer's private copy of tail, likewise. Each side reloads the other's
//     index only when its cache says full or empty.
//   - The consumer zeroes popped slots of a T that holds pointers, so the
//     ring keeps nothing alive. A T without pointers (ints, plain structs)
//     is not zeroed: the write would only pull the producer's slot line
//     over to the consumer's core and back for nothing.
//   - A consumer waiting in Wait is woken by the publish its wake word names
//     (internal/park): any later publish when it parks, the one that fills a
//     quarter to half a ring past its head when it lingers (the linger ends
//     on its timer, and needs no order), none when it spins (it polls). The
//     producer stores tail, then loads the word (Notify); a parking consumer
//     stores the word, then loads tail. Where Store is a plain MOV (amd64,
//     the release-store build) that gives no store→load order, so one side
//     needs a full barrier between its store and its load. The producer does
//     not pay it. A parking consumer first blocks with a timer of 1 ms
//     (Notify wakes it meanwhile; the timer only catches a wake-up the race
//     lost, one step late at most), or has lingered; then it runs a heavy
//     fence (membarrier(2), park.Waiter.UseHeavyFence) between its store of
//     the word and its re-check, which drains the producer's publish or
//     orders the producer's later load of the word after the store, and
//     blocks without a timer: one fence per park that blocks without a
//     timer, none for a park that a push ends within the millisecond. The
//     process registers for the fence the first time a park needs it, in the
//     background. Where the fence is not available (amd64 off Linux, or a
//     kernel or sandbox that refuses it) the consumer keeps re-checking,
//     every millisecond at most. In the other builds Store is sequentially
//     consistent (sync/atomic), so both sides are a sequentially consistent
//     store then a load, and no fence is needed. docs/design.md, "No lost
//     wake-ups", section 3.

import (
	"context"
	"reflect"

	"github.com/ringsink/ringsink/internal/pad"
	"github.com/ringsink/ringsink/internal/park"
	"github.com/ringsink/ringsink/internal/pow2"
	"github.com/ringsink/ringsink/internal/relstore"
	"github.com/ringsink/ringsink/wait"
)

// Ring is a bounded lock-free queue for one producer and one consumer
// (rigtorp's SPSCQueue, with cached indices). A push onto a full ring fails at
// once; nothing blocks.
//
// A successful TryPush or TryPushBatch synchronizes before the TryPop or
// TryPopBatch that returns its values.
//
// Ring is safe for exactly one producer goroutine and exactly one consumer
// goroutine; each method says which side may call it.
type Ring[T any] struct {
	_         pad.Line
	tail      relstore.Uint64 // next position to write; release-stored by the producer
	headCache uint64          // producer's copy of head
	_         pad.Line
	head      relstore.Uint64 // next position to read; release-stored by the consumer
	tailCache uint64          // consumer's copy of tail
	_         pad.Line
	mask      uint64
	clear     bool // T holds pointers: zero popped slots
	buf       []T
	park      park.Waiter // the consumer's Wait; padded inside
}

// New returns a ring holding capacity values, rounded up to a power of two.
// It panics if capacity < 1 or above 2^62 (2^30 on 32-bit platforms). It
// starts no goroutine and makes no system call.
func New[T any](capacity int) *Ring[T] {
	n := pow2.Round(capacity, "spsc: capacity")
	r := &Ring[T]{mask: uint64(n - 1), clear: hasPointers(reflect.TypeFor[T]()), buf: make([]T, n)}
	r.park.Init(64)
	if relstore.Release {
		// A plain MOV publishes: the consumer must fence when it parks
		// (registered for the first time a park needs it). Otherwise Store
		// is sequentially consistent (sync/atomic), and the default check
		// (alwaysIdle after ready()) is the plain Dekker pattern.
		r.park.UseHeavyFence()
	}
	return r
}

// free returns how many slots the producer may fill, refreshing headCache
// only when the cached view has fewer than want.
func (r *Ring[T]) free(tail uint64, want int) int {
	capa := uint64(len(r.buf))
	if f := int(capa - (tail - r.headCache)); f >= want {
		return f
	}
	r.headCache = r.head.Load()
	return int(capa - (tail - r.headCache))
}

// TryPush appends v and reports whether there was room. Producer only. It
// never blocks and never allocates.
func (r *Ring[T]) TryPush(v T) bool {
	tail := r.tail.Load()
	if r.free(tail, 1) < 1 {
		return false
	}
	r.buf[tail&r.mask] = v
	// Publish the slot, then wake a waiting consumer (one load unless its
	// wake word names this publish).
	r.tail.Store(tail + 1)
	r.park.Notify(tail + 1)
	return true
}

// TryPushBatch appends as many values from src as fit, in order, and returns
// how many it appended. Producer only. The whole batch is published with one
// atomic store.
func (r *Ring[T]) TryPushBatch(src []T) int {
	tail := r.tail.Load()
	n := min(r.free(tail, len(src)), len(src))
	if n <= 0 {
		return 0
	}
	i := int(tail & r.mask)
	c := copy(r.buf[i:], src[:n])
	copy(r.buf, src[c:n])
	// Publish the n slots, then wake a waiting consumer (as in TryPush).
	r.tail.Store(tail + uint64(n))
	r.park.Notify(tail + uint64(n))
	return n
}

// avail returns how many values the consumer may read, refreshing tailCache
// only when the cached view has fewer than want.
func (r *Ring[T]) avail(head uint64, want int) int {
	if a := int(r.tailCache - head); a >= want {
		return a
	}
	r.tailCache = r.tail.Load()
	return int(r.tailCache - head)
}

// TryPop removes and returns the oldest value. Consumer only.
func (r *Ring[T]) TryPop() (T, bool) {
	var zero T
	head := r.head.Load()
	if r.avail(head, 1) < 1 {
		return zero, false
	}
	i := head & r.mask
	v := r.buf[i]
	if r.clear {
		r.buf[i] = zero
	}
	// Release the slot to the producer.
	r.head.Store(head + 1)
	return v, true
}

// TryPopBatch moves up to len(dst) values into dst, oldest first, and returns
// how many it moved. Consumer only. The slots are released with one atomic
// store.
func (r *Ring[T]) TryPopBatch(dst []T) int {
	head := r.head.Load()
	n := min(r.avail(head, len(dst)), len(dst))
	if n <= 0 {
		return 0
	}
	i := int(head & r.mask)
	c := copy(dst[:n], r.buf[i:])
	copy(dst[c:n], r.buf)
	if r.clear {
		end := min(i+n, len(r.buf))
		clear(r.buf[i:end])
		clear(r.buf[:n-(end-i)])
	}
	// Release the n slots to the producer.
	r.head.Store(head + uint64(n))
	return n
}

// SetWait sets how Wait waits when the ring is empty (package wait):
// wait.Park() by default (and for the zero Policy), like a channel receive;
// wait.Linger(d) to spare a paced producer its wake-ups, for up to d per
// value; wait.Spin() for a consumer with a core of its own. Consumer only:
// call it before the consumer starts, or from the consumer between Waits.
func (r *Ring[T]) SetWait(p wait.Policy) {
	r.park.SetPolicy(park.PolicyOf(p), park.Policy{Kind: park.KindPark})
}

// Wait blocks the consumer until a value is ready to pop, Wake is called
// or ctx is done, and returns ctx.Err() in the last case, nil otherwise. A
// nil return does not promise a value (a Wake, or a stale wake-up): pop,
// and call Wait again when the ring is empty. Consumer only; it allocates
// nothing.
//
// Every push that returned true before or during a Wait ends it. How Wait
// waits is the policy SetWait chose: parked, the push that finds it parked
// pays the wake-up; lingering, a value may wait up to the linger, rounded
// up to the platform's timer resolution; spinning, it keeps a core busy.
// On amd64 a park that lasts more than a millisecond runs one
// membarrier(2) system call and then blocks without a timer; where that
// call is refused, or off Linux, it re-checks every millisecond instead.
func (r *Ring[T]) Wait(ctx context.Context) error {
	head := r.head.Load()
	if r.park.Wait(head, head+uint64(len(r.buf)/2), r.ready, alwaysIdle, ctx.Done(), nil) == park.Done {
		return ctx.Err()
	}
	return nil
}

// Wake makes a consumer waiting in Wait return (or the next Wait, if none
// waits). Safe from any goroutine; it never blocks.
func (r *Ring[T]) Wake() { r.park.Wake() }

// ready reports whether a value is ready to pop. Consumer only.
func (r *Ring[T]) ready() bool { return r.avail(r.head.Load(), 1) > 0 }

// alwaysIdle is Wait's idle(): a ring with one producer has no claimed,
// unpublished slot, so once the publish is ordered (sequentially consistent
// stores, or the heavy fence, which does not consult it) an empty ready()
// is the truth.
func alwaysIdle() bool { return true }

// Len returns the number of values in the ring. Safe from any goroutine;
// exact only when quiescent.
func (r *Ring[T]) Len() int {
	head := r.head.Load() // loaded first, so head <= tail below
	return int(r.tail.Load() - head)
}

// Cap returns the ring's capacity.
func (r *Ring[T]) Cap() int { return len(r.buf) }

// hasPointers reports whether a value of type t holds pointers the garbage
// collector follows (so a popped slot must be zeroed to let them go).
func hasPointers(t reflect.Type) bool {
	switch t.Kind() {
	case reflect.Array:
		return t.Len() > 0 && hasPointers(t.Elem())
	case reflect.Struct:
		for i := range t.NumField() {
			if hasPointers(t.Field(i).Type) {
				return true
			}
		}
		return false
	case reflect.Bool, reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uintptr,
		reflect.Float32, reflect.Float64, reflect.Complex64, reflect.Complex128:
		return false
	}
	return true // pointer, slice, string, map, chan, func, interface, unsafe.Pointer
}
