package spsc

// Invariants:
//
//   - tail is written only by the producer, head only by the consumer;
//     head <= tail <= head+cap. Slots in [head, tail) belong to the
//     consumer once published; slots in [tail, head+cap) to the producer.
//   - The producer learns of free room from head, through headCache, its
//     private copy (head only grows, so a stale copy can only under-report
//     room), reloaded only when the copy says full. The consumer stores
//     head after it has read the slots below it, once per call.
//   - The consumer learns of values from the slots, never from tail: each
//     slot holds a sequence number next to its value, seq == pos+1 once the
//     push at position pos has published it (a slot from a lap ago holds
//     pos+1-cap or less). When the consumer keeps up, a value then costs one
//     cross-core transfer, of the line that holds it; with a shared tail,
//     which the consumer polled on every empty call, it cost a second one
//     (FastForward; docs/benchmarks.md has the measurements).
//   - A batch publishes its slots last to first, so a consumer waiting on
//     the first slot sees the batch only once all of it is stored, instead
//     of chasing the stores through the same lines.
//   - The producer stores tail before the slot (Store2), and reads it only
//     itself; Len loads head first: a head it sees was stored after the
//     consumer saw the slot published, which was stored after tail (TSO),
//     so the tail it loads next is not behind it.
//   - The consumer zeroes popped values of a T that holds pointers, so the
//     ring keeps nothing alive. A T without pointers (ints, plain structs)
//     is not zeroed: the write would only pull the producer's slot line
//     over to the consumer's core and back for nothing.

import (
	"reflect"
	"unsafe"

	"github.com/ringsink/ringsink/internal/pad"
	"github.com/ringsink/ringsink/internal/pow2"
	"github.com/ringsink/ringsink/internal/relstore"
)

type slot[T any] struct {
	seq relstore.Uint64 // pos+1 once the push at pos published val (see Invariants)
	val T
}

// Ring is a bounded lock-free queue for one producer and one consumer: the
// producer learns of room from a cached copy of the consumer's head (as in
// rigtorp's SPSCQueue), the consumer of values from a sequence number in
// each slot (as in FastForward), so neither polls a line the other writes
// on every call.
// A push onto a full ring fails at once; nothing blocks.
//
// A successful TryPush or TryPushBatch synchronizes before the TryPop or
// TryPopBatch that returns its values.
//
// Ring is safe for exactly one producer goroutine and exactly one consumer
// goroutine; each method says which side may call it.
type Ring[T any] struct {
	_         pad.Line
	tail      relstore.Uint64 // next position to write; stored by the producer, read by Len
	headCache uint64          // producer's copy of head
	_         pad.Line
	head      relstore.Uint64 // next position to read; stored by the consumer
	_         pad.Line
	mask      uint64
	clear     bool // T holds pointers: zero popped values
	slots     []slot[T]
}

// New returns a ring holding capacity values, rounded up to a power of two.
// It panics if capacity < 1 or above 2^62 (2^30 on 32-bit platforms).
func New[T any](capacity int) *Ring[T] {
	n := pow2.Round(capacity, "spsc: capacity")
	return &Ring[T]{mask: uint64(n - 1), clear: hasPointers(reflect.TypeFor[T]()), slots: make([]slot[T], n)}
}

// free returns how many slots the producer may fill, refreshing headCache
// only when the cached view has fewer than want.
func (r *Ring[T]) free(tail uint64, want int) int {
	capa := uint64(len(r.slots))
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
	s := &r.slots[tail&r.mask]
	s.val = v
	// Store tail for Len, then publish the value to the consumer.
	relstore.Store2(&r.tail, tail+1, &s.seq, tail+1)
	return true
}

// TryPushBatch appends as many values from src as fit, in order, and returns
// how many it appended. Producer only. The whole batch is published with one
// call.
func (r *Ring[T]) TryPushBatch(src []T) int {
	tail := r.tail.Load()
	n := min(r.free(tail, len(src)), len(src))
	if n <= 0 {
		return 0
	}
	for k, v := range src[:n] {
		r.slots[(tail+uint64(k))&r.mask].val = v
	}
	r.tail.Store(tail + uint64(n)) // for Len, before the slots (see Invariants)
	r.publish(tail, n)
	return n
}

// publish release-stores the seq of the n slots from position pos (pos+1
// for the first), last slot first: a consumer waiting on the first slot
// sees the run only once all of it is stored, and does not chase the
// stores through the same lines while they are made.
func (r *Ring[T]) publish(pos uint64, n int) {
	const back = ^uint64(0) // a step of -1
	stride := -int(unsafe.Sizeof(r.slots[0]))
	i := int(pos & r.mask)
	first := min(n, len(r.slots)-i) // slots before the end of the array
	if k := n - first; k > 0 {      // the part that wrapped to index 0
		relstore.StoreRun(&r.slots[k-1].seq, stride, k, pos+uint64(n), back)
	}
	relstore.StoreRun(&r.slots[i+first-1].seq, stride, first, pos+uint64(first), back)
}

// TryPop removes and returns the oldest value. Consumer only.
func (r *Ring[T]) TryPop() (T, bool) {
	var zero T
	head := r.head.Load()
	s := &r.slots[head&r.mask]
	if s.seq.Load() != head+1 {
		return zero, false // not published yet: empty
	}
	v := s.val
	if r.clear {
		s.val = zero
	}
	// Release the slot to the producer.
	r.head.Store(head + 1)
	return v, true
}

// TryPopBatch moves up to len(dst) values into dst, oldest first, and returns
// how many it moved. Consumer only. The slots are released with one atomic
// store.
func (r *Ring[T]) TryPopBatch(dst []T) int {
	var zero T
	head := r.head.Load()
	n := 0
	for ; n < len(dst) && n < len(r.slots); n++ {
		s := &r.slots[(head+uint64(n))&r.mask]
		if s.seq.Load() != head+uint64(n)+1 {
			break
		}
		dst[n] = s.val
		if r.clear {
			s.val = zero
		}
	}
	if n > 0 {
		// Release the n slots to the producer.
		r.head.Store(head + uint64(n))
	}
	return n
}

// Len returns the number of values in the ring. Safe from any goroutine;
// exact only when quiescent.
func (r *Ring[T]) Len() int {
	head := r.head.Load() // loaded first, so head <= tail below (see Invariants)
	return int(r.tail.Load() - head)
}

// Cap returns the ring's capacity.
func (r *Ring[T]) Cap() int { return len(r.slots) }

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
