package offline

// Invariants:
//
//   - The held values are buf[(head+k) % cap] for k in [0, n), oldest first.
//   - 0 <= n <= cap; slots outside the held range are zero, so the ring
//     keeps nothing alive.
//   - dropped counts every value evicted by Push on a full ring.

import "sync/atomic"

// Ring is a bounded FIFO that evicts its oldest value when a push finds it
// full (drop-oldest), without allocating. The evicted value is returned to
// the caller so its buffer can be recycled.
//
// Ring is not safe for concurrent use: one goroutine owns it at a time. The
// uds writer owns its offline ring from its consumer goroutine between Open
// and Close; a caller may fill the ring before Open and read it after Close
// returns (Open and Close synchronize the hand-over). Dropped is the
// exception: it may be read from any goroutine.
type Ring[T any] struct {
	buf     []T
	head    int // index of the oldest value
	n       int // number of values held
	dropped atomic.Uint64
}

// New returns a ring that holds exactly capacity values. It panics if
// capacity < 1.
func New[T any](capacity int) *Ring[T] {
	if capacity < 1 {
		panic("offline: capacity must be at least 1")
	}
	return &Ring[T]{buf: make([]T, capacity)}
}

// Push appends v. If the ring was full it first removes the oldest value,
// counts it as dropped, and returns it with didEvict true.
func (r *Ring[T]) Push(v T) (evicted T, didEvict bool) {
	if r.n == len(r.buf) {
		evicted, didEvict = r.buf[r.head], true
		r.buf[r.head] = v
		r.head = r.wrap(r.head + 1)
		r.dropped.Add(1)
		return evicted, didEvict
	}
	r.buf[r.wrap(r.head+r.n)] = v
	r.n++
	return evicted, false
}

// Pop removes and returns the oldest value.
func (r *Ring[T]) Pop() (T, bool) {
	var zero T
	if r.n == 0 {
		return zero, false
	}
	v := r.buf[r.head]
	r.buf[r.head] = zero
	r.head = r.wrap(r.head + 1)
	r.n--
	return v, true
}

// Peek fills dst with up to len(dst) of the oldest values, oldest first,
// without removing them, and returns how many it filled. With Discard it lets
// a caller send a prefix and remove only what was sent: the rest stays in
// place, in order, and nothing is copied but the values themselves.
func (r *Ring[T]) Peek(dst []T) int {
	k := min(len(dst), r.n)
	first := min(k, len(r.buf)-r.head)
	copy(dst, r.buf[r.head:r.head+first])
	copy(dst[first:k], r.buf)
	return k
}

// Discard removes up to n of the oldest values and returns how many it
// removed. Removed slots are zeroed.
func (r *Ring[T]) Discard(n int) int {
	k := min(max(n, 0), r.n)
	first := min(k, len(r.buf)-r.head)
	clear(r.buf[r.head : r.head+first])
	clear(r.buf[:k-first])
	r.head = r.wrap(r.head + k)
	r.n -= k
	return k
}

// Drain appends every value to dst, oldest first, empties the ring and
// returns the extended slice.
func (r *Ring[T]) Drain(dst []T) []T {
	first := min(r.n, len(r.buf)-r.head)
	dst = append(dst, r.buf[r.head:r.head+first]...)
	dst = append(dst, r.buf[:r.n-first]...)
	r.Discard(r.n)
	return dst
}

// Dropped returns how many values Push has evicted. Safe from any goroutine.
func (r *Ring[T]) Dropped() uint64 { return r.dropped.Load() }

// Len returns the number of values held.
func (r *Ring[T]) Len() int { return r.n }

// Cap returns the capacity given to New.
func (r *Ring[T]) Cap() int { return len(r.buf) }

func (r *Ring[T]) wrap(i int) int {
	if i >= len(r.buf) {
		i -= len(r.buf)
	}
	return i
}
