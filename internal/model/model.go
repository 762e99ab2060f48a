// Package model holds the trivial mutex-and-slice reference queues that the
// rings' fuzz and stress tests compare against. It is test support, not API.
package model

import "sync"

// Queue is a bounded FIFO. Push on a full Queue either refuses the value
// (DropNewest) or evicts the oldest (DropOldest).
type Queue[T any] struct {
	mu         sync.Mutex
	items      []T
	cap        int
	dropOldest bool
	Dropped    uint64
}

// NewDropNewest returns a queue that refuses pushes when full, like mpsc.Ring.
func NewDropNewest[T any](capacity int) *Queue[T] { return &Queue[T]{cap: capacity} }

// NewDropOldest returns a queue that evicts the oldest when full, like offline.Ring.
func NewDropOldest[T any](capacity int) *Queue[T] {
	return &Queue[T]{cap: capacity, dropOldest: true}
}

// Push appends v. It reports whether v was stored and, for a drop-oldest
// queue, the value it evicted.
func (q *Queue[T]) Push(v T) (stored bool, evicted T, didEvict bool) {
	q.mu.Lock()
	defer q.mu.Unlock()
	if len(q.items) == q.cap {
		q.Dropped++
		if !q.dropOldest {
			return false, evicted, false
		}
		evicted, didEvict = q.items[0], true
		q.items = q.items[1:]
	}
	q.items = append(q.items, v)
	return true, evicted, didEvict
}

// Pop removes the oldest value.
func (q *Queue[T]) Pop() (v T, ok bool) {
	q.mu.Lock()
	defer q.mu.Unlock()
	if len(q.items) == 0 {
		return v, false
	}
	v = q.items[0]
	q.items = q.items[1:]
	return v, true
}

// PopN removes up to n values, oldest first.
func (q *Queue[T]) PopN(n int) []T {
	q.mu.Lock()
	defer q.mu.Unlock()
	n = min(n, len(q.items))
	out := append([]T(nil), q.items[:n]...)
	q.items = q.items[n:]
	return out
}

// Peek returns up to n values, oldest first, without removing them.
func (q *Queue[T]) Peek(n int) []T {
	q.mu.Lock()
	defer q.mu.Unlock()
	return append([]T(nil), q.items[:min(n, len(q.items))]...)
}

// Len returns the number of values held.
func (q *Queue[T]) Len() int {
	q.mu.Lock()
	defer q.mu.Unlock()
	return len(q.items)
}
