package ring

// Invariants:
//
//   - tail is the next position producers will claim; head is the next
//     position the consumer will read. head <= tail, and tail-head <= cap.
//   - slot i holds a sequence number s:
//     s == pos        the slot is free for the producer claiming pos;
//     s == pos+1      the record for pos is published and owned by the consumer;
//     s == pos+cap    the consumer released it for the producer one lap later.
//   - Slots in [head, tail) are owned by producers until their seq says
//     published, then by the consumer; slots outside are free.
//   - A producer writes its slot's value only between its winning CAS on tail
//     and its publishing store of seq: nothing else runs in that window.
//   - The consumer zeroes a slot's value before releasing it, so the ring
//     keeps nothing alive.
//   - Bit 63 of tail (closedBit) is set by Close and never cleared; the other
//     bits are the position. No claim succeeds once it is set, so after Close
//     the claimed slots are exactly [head, tail&^closedBit).

import (
	"context"
	"sync/atomic"
	"time"

	"github.com/ringsink/ringsink/internal/pad"
	"github.com/ringsink/ringsink/internal/park"
	"github.com/ringsink/ringsink/internal/pow2"
	"github.com/ringsink/ringsink/internal/relstore"
	"github.com/ringsink/ringsink/wait"
)

// closedBit marks a closed ring in tail; positions never reach it.
const closedBit = 1 << 63

type slot[T any] struct {
	seq relstore.Uint64 // written by the slot's current owner only (see Invariants)
	val T
}

// Ring is a bounded lock-free queue for many producers and one consumer,
// after Dmitry Vyukov's bounded MPMC queue specialised for a single consumer.
// A push that finds the ring full fails at once (drop-newest); it never blocks.
//
// A successful TryPush synchronizes before the TryPop or TryPopBatch that
// returns its value.
//
// Ring is safe for any number of producer goroutines and exactly one consumer
// goroutine; methods marked "consumer only" must only be called by that one.
type Ring[T any] struct {
	_     pad.Line
	tail  atomic.Uint64 // next position to claim; CAS by producers
	_     pad.Line
	head  relstore.Uint64 // next position to read; stored by the consumer, loaded by Len
	_     pad.Line
	mask  uint64
	slots []slot[T]
	park  park.Waiter
}

// New returns a ring holding capacity values, rounded up to a power of two
// and to at least 2 (with one slot, "published" and "free for the next lap"
// would be the same sequence number). It panics if capacity < 1 or above
// 2^62 (2^30 on 32-bit platforms).
func New[T any](capacity int) *Ring[T] {
	r := new(Ring[T])
	r.Init(capacity)
	return r
}

// Init makes r, a zero Ring, a ring of capacity values, as New does: for a
// type that holds a Ring by value.
func (r *Ring[T]) Init(capacity int) {
	n := max(pow2.Round(capacity, "mpsc: capacity"), 2)
	r.mask, r.slots = uint64(n-1), make([]slot[T], n)
	for i := range r.slots {
		r.slots[i].seq.Store(uint64(i))
	}
	r.park.Init(64)
}

// TryPush appends v and reports whether there was room. It never blocks and
// never allocates. It reports false only when the ring is full or closed
// (Closed tells which): a lost race against another producer is retried,
// not reported as full.
func (r *Ring[T]) TryPush(v T) bool {
	pos := r.tail.Load()
	for fails := 0; ; {
		if pos&closedBit != 0 {
			return false
		}
		s := &r.slots[pos&r.mask]
		seq := s.seq.Load()
		switch dif := int64(seq - pos); {
		case dif == 0:
			// Claim pos: publishes nothing, only reserves the slot.
			if r.tail.CompareAndSwap(pos, pos+1) {
				preemptWindow()
				s.val = v
				// Publish the value to the consumer.
				s.seq.Store(pos + 1)
				r.park.Notify(pos + 1)
				return true
			}
			// Lost the race: back off briefly so the winner keeps the
			// line for its next push instead of both cores bouncing it.
			park.Backoff(fails)
			fails++
			pos = r.tail.Load()
		case dif < 0:
			// The slot is a lap behind: full, unless the tail moved meanwhile.
			now := r.tail.Load()
			if now == pos {
				return false
			}
			pos = now
		default:
			// Another producer claimed pos already; catch up.
			pos = r.tail.Load()
		}
	}
}

// TryPop removes and returns the oldest published value. Consumer only.
//
// A producer that claimed a slot but has not yet published it stops the
// consumer at that slot (FIFO), even if later slots are published.
func (r *Ring[T]) TryPop() (T, bool) {
	var zero T
	head := r.head.Load()
	s := &r.slots[head&r.mask]
	if s.seq.Load() != head+1 {
		return zero, false
	}
	v := s.val
	s.val = zero
	// Release the slot to the producer one lap ahead.
	s.seq.Store(head + r.mask + 1)
	r.head.Store(head + 1)
	return v, true
}

// TryPopBatch moves up to len(dst) published values into dst, oldest first,
// and returns how many it moved. Consumer only. It allocates nothing.
func (r *Ring[T]) TryPopBatch(dst []T) int {
	var zero T
	head := r.head.Load()
	n := 0
	for n < len(dst) {
		pos := head + uint64(n)
		s := &r.slots[pos&r.mask]
		if s.seq.Load() != pos+1 {
			break
		}
		dst[n] = s.val
		s.val = zero
		// Release the slot to the producer one lap ahead.
		s.seq.Store(pos + r.mask + 1)
		n++
	}
	if n > 0 {
		r.head.Store(head + uint64(n))
	}
	return n
}

// Ready reports whether the oldest value is published, so TryPop would
// succeed. Consumer only.
func (r *Ring[T]) Ready() bool {
	head := r.head.Load()
	return r.slots[head&r.mask].seq.Load() == head+1
}

// Len returns the number of claimed slots (published or in the middle of a
// push). It is a snapshot: safe from any goroutine, exact only when quiescent.
func (r *Ring[T]) Len() int {
	head := r.head.Load() // loaded first, so head <= tail below
	tail := r.tail.Load() &^ closedBit
	return min(int(tail-head), len(r.slots))
}

// Close stops intake: every TryPush that has not claimed a slot yet fails,
// now and later, and Closed reports true. Values already claimed stay in
// the ring for the consumer, so once Close has returned, the consumer has
// everything that will ever be pushed when Len reports 0, and a consumer
// parked in Wait is woken. Close is safe from any goroutine and idempotent.
// It gives shutdown an exact end: a push that reported true before Close
// returned is in the ring, and a push after it reports false.
func (r *Ring[T]) Close() {
	// Publishes the end of intake to every producer's next load of tail.
	r.tail.Or(closedBit)
	r.park.Wake() // a consumer parked on an empty ring learns of it
}

// Closed reports whether Close has been called. Safe from any goroutine.
func (r *Ring[T]) Closed() bool { return r.tail.Load()&closedBit != 0 }

// Cap returns the ring's capacity.
func (r *Ring[T]) Cap() int { return len(r.slots) }

// Pushed returns how many values TryPush has ever accepted (claimed): a
// counter that costs the producers nothing extra. A push that returned true
// before the call is counted. Safe from any goroutine.
func (r *Ring[T]) Pushed() uint64 { return r.tail.Load() &^ closedBit }

// SetWait sets how Wait and WaitChan wait when the ring is empty (package
// wait): wait.Park() by default (and for the zero Policy), like a channel
// receive; wait.Linger(d) to spare paced producers their wake-ups, for up
// to d per value; wait.Spin() for a consumer with a core of its own.
// Consumer only: call it before the consumer starts, or from the consumer
// between Waits. A ring takes only its capacity in New; the policy is the
// consumer's, and most consumers keep the default.
func (r *Ring[T]) SetWait(p wait.Policy) {
	r.park.SetPolicy(park.PolicyOf(p), park.Policy{Kind: park.KindPark})
}

// Wait blocks the consumer until a value is ready, Wake or Close is called
// or ctx is done; it returns ctx.Err() in the last case and nil otherwise.
// The ring may still be empty after a nil return (a Wake, or a stale
// wake-up token from a producer): callers re-check. Consumer only; it
// allocates nothing.
//
// It spins for a few microseconds first (not at all with GOMAXPROCS=1),
// yields once, then waits as SetWait says:
//
//   - park (the default): it blocks without a timer until the next push,
//     which pays the wake-up (as a send to a channel's parked receiver
//     does). While a push is claimed but not yet published it re-checks on
//     a short timer instead, since that push's wake-up may miss it.
//   - linger(d): it sleeps on a timer for d, with producers paying one
//     atomic load per push and no wake-up until a push fills a quarter to
//     half the ring past the consumer's head (internal/park); then it parks as above. A value may wait up
//     to d plus the timer's lateness (package wait).
//   - spin: it polls until a value, Wake, Close or ctx; producers never pay
//     a wake-up, and the consumer keeps a core busy.
//
// Every push that returned true before or during a Wait ends it (within
// the linger, with linger): the consumer blocks without a bound only after
// it has seen that nothing is claimed, and a claim is a sequentially
// consistent CAS (docs/design.md, "No lost wake-ups").
func (r *Ring[T]) Wait(ctx context.Context) error {
	if r.wait(ctx.Done(), nil) == park.Done {
		return ctx.Err()
	}
	return nil
}

// WaitChan is Wait for callers that own a stop channel and a reusable timer:
// it returns when a value is ready, Wake is called, done is closed or timer
// fires (either may be nil), and reports which. Consumer only; allocates nothing.
func (r *Ring[T]) WaitChan(done <-chan struct{}, timer <-chan time.Time) park.Reason {
	return r.wait(done, timer)
}

// wait is Wait: woken by a publish past head parked, half a ring past it
// lingering.
func (r *Ring[T]) wait(done <-chan struct{}, timer <-chan time.Time) park.Reason {
	head := r.head.Load()
	return r.park.Wait(head, head+uint64(len(r.slots)/2), r.Ready, r.idle, done, timer)
}

// idle reports whether no slot is claimed beyond head: the consumer may
// then park without a bound (internal/park explains why the load of tail,
// not the slot's sequence, decides). Consumer only.
func (r *Ring[T]) idle() bool { return r.tail.Load()&^closedBit == r.head.Load() }

// Wake wakes the consumer if it is parked in Wait. Safe from any goroutine;
// never blocks. Use it for events that are not values (flush, close).
func (r *Ring[T]) Wake() { r.park.Wake() }
