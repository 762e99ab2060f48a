package park

import (
	"context"
	"sync"
	"sync/atomic"
	"time"

	"github.com/ringsink/ringsink/internal/pad"
	"github.com/ringsink/ringsink/internal/relstore"
)

// Room lets producers that chose to wait for space (a blocking push) park
// until the consumer frees some, without a channel on the non-blocking path:
// the consumer pays one fence and one atomic load per release batch when
// nobody waits.
//
// Producer protocol (any number of goroutines): a fast path, then Block,
// which registers, retries once (room freed before the registration was
// seen would otherwise go unnoticed), and parks, in a loop:
//
//	if room.Open() && tryPush() { return nil }
//	return room.Block(ctx, stop, check, stopped, tryPush)
//
// Consumer: call Freed after every release.
//
// # Fairness
//
// Freed wakes every waiter, and they race for the room with producers that
// have not waited, which are running and usually win: under sustained
// overload one producer could wait for seconds while the others kept
// pushing (docs/design.md, "Decisions"). So, like
// sync.Mutex, a Room turns fair when a waiter starves: a push that has
// waited starveAfter (1 ms) or more counts itself as starving, and while
// any push starves, only starving pushes may try the ring (Open and
// MayTry); the other blocking pushes register and wait behind them, even
// with room free, and one whose ctx is already done returns its error. A
// starving push that leaves (pushed, closed or given up) wakes every
// waiter, so that those that deferred to it try again. A starving push
// keeps the room closed for starveHold (10 ms) at most, then opens it and
// may starve again after another starveAfter: one that cannot use what
// the consumer frees does not hold back pushes that fit for long.
// Starving pushes race among themselves, so the order is not strict, and
// non-blocking pushes (sink.TryPush, uds.Writer.Write), which never wait,
// still take room as they find it; but a blocking push that is running
// can no longer take the room from one that has waited a millisecond.
//
// The wake in Leave is the same store→load pattern, on both sides with
// read-modify-writes (sequentially consistent): a deferring push adds to
// waiters and then loads starving; a leaving starving push subtracts from
// starving and then loads waiters. Either the deferring push sees starving
// at zero and tries, or the leaving one sees its registration and wakes it.
//
// This is the park protocol run the other way, and the same store→load
// pattern: the producer increments waiters (a locked RMW: a full fence)
// and then loads the ring's indices in its retry; the consumer releases
// slots with release stores (plain MOVs on amd64) and then loads waiters.
// Without a fence between the consumer's release and its load of waiters,
// the load can complete while the release is still in the store buffer: the
// consumer sees no waiter and the producer's retry still sees a full ring,
// and the producer sleeps with free room (measured: docs/design.md). Freed
// therefore begins with relstore.Fence, paid by the consumer once per
// release batch, never by a producer: after it, either the consumer's load
// sees the producer's increment, or the increment (and the retry after it)
// comes later and the retry sees the released slots.
type Room struct {
	_ pad.Line
	// starving counts the pushes that have waited starveAfter or more and
	// hold the room closed (Open). Every blocking push's fast path reads
	// it, so it has a line of its own, away from waiters and the mutex,
	// which waiting pushes write.
	starving atomic.Int32
	_        pad.Line
	waiters  atomic.Int32
	mu       sync.Mutex
	ch       chan struct{} // guarded by mu; closed and replaced by Freed
	chans    uint64        // guarded by mu; wake-up channels made (one allocation each)
}

// Register announces a waiting producer and returns the channel that Freed
// will close. The caller must retry its push once before WaitTurn.
func (r *Room) Register() <-chan struct{} {
	r.mu.Lock()
	if r.ch == nil {
		r.ch = make(chan struct{})
		r.chans++
	}
	ch := r.ch
	r.waiters.Add(1)
	r.mu.Unlock()
	return ch
}

// Chans returns how many wake-up channels Register has made: each is one
// allocation, made when a producer waits after the last wake-up.
func (r *Room) Chans() uint64 {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.chans
}

// Unregister withdraws a Register that is not followed by WaitTurn.
func (r *Room) Unregister() { r.waiters.Add(-1) }

// Freed wakes every registered producer. Consumer side, after releasing
// slots; one fence and one atomic load when nobody waits.
func (r *Room) Freed() {
	relstore.Fence() // the release before the load of waiters (see Room)
	r.wakeAll()
}

// wakeAll wakes every registered producer; one atomic load when nobody
// waits. The caller has fenced its stores before it (see Room).
func (r *Room) wakeAll() {
	if r.waiters.Load() == 0 {
		return
	}
	r.mu.Lock()
	if r.ch != nil {
		close(r.ch)
		r.ch = nil
	}
	r.mu.Unlock()
}

// starveAfter is how long a push waits before the Room turns fair for it
// (sync.Mutex uses the same bound), and starveHold the longest a starving
// push keeps the room closed to the others: one that cannot use what the
// consumer frees (a record too large for the room a spilling uds.Writer
// keeps while the daemon is away) must not hold back pushes that fit. Once
// its hold is over it lets the others try, and may starve again after
// another starveAfter.
const (
	starveAfter = time.Millisecond
	starveHold  = 10 * time.Millisecond
)

// Open reports whether a push that has not waited may try the ring: false
// while a waiting push starves, so that it does not lose the room to a
// running producer again. One atomic load.
func (r *Room) Open() bool { return r.starving.Load() == 0 }

// Turn is one blocking push's standing in a Room. The zero value is a push
// that has not waited; keep it on the push's stack, and pass it to Leave
// when the push ends, whichever way.
type Turn struct {
	since    time.Time   // when the push began to wait, or its last hold ended; zero before that
	starving bool        // counted in Room.starving
	hold     *time.Timer // ends the hold of a starving push (made when it first starves)
}

// MayTry reports whether the push may try the ring now: a starving push
// always may, the others only while nobody starves.
func (t *Turn) MayTry(r *Room) bool { return t.starving || r.Open() }

// WaitTurn parks a registered push until ch is closed (room was freed, or
// a starving push left: nil), stop is closed (nil: the caller re-checks
// its closed state), ctx is done (ctx.Err()) or, for a starving push, its
// hold is over (nil). It notes when the push began to wait, and after a
// wait that brings the push to starveAfter it counts the push as starving,
// which closes the room to every other push that is not starving until it
// leaves or its hold (starveHold) is over.
func (r *Room) WaitTurn(ctx context.Context, ch, stop <-chan struct{}, t *Turn) error {
	if t.since.IsZero() {
		t.since = time.Now()
	}
	var hold <-chan time.Time
	if t.starving {
		hold = t.hold.C
	}
	defer r.waiters.Add(-1)
	select {
	case <-ch:
	case <-stop:
	case <-ctx.Done():
		return ctx.Err()
	case <-hold:
		// The hold is over: open the room, and wait starveAfter again
		// before closing it.
		r.Leave(t)
		t.since = time.Now()
		return nil
	}
	if !t.starving && time.Since(t.since) >= starveAfter {
		t.starving = true
		r.starving.Add(1)
		if t.hold == nil {
			t.hold = time.NewTimer(starveHold)
		} else {
			t.hold.Reset(starveHold)
		}
	}
	return nil
}

// Leave ends a push's Turn, or its hold. If it was starving, the room may
// open again: every waiter is woken to try (see Room, "Fairness").
func (r *Room) Leave(t *Turn) {
	if !t.starving {
		return
	}
	t.starving = false
	if t.hold != nil {
		t.hold.Stop()
	}
	r.starving.Add(-1) // a read-modify-write: ordered before wakeAll's load of waiters
	r.wakeAll()
}

// Starving returns how many pushes are starving now. For tests and
// diagnostics.
func (r *Room) Starving() int { return int(r.starving.Load()) }

// Block is a blocking push's slow path, after its fast path (Open, then
// one try) failed. It loops: check (a non-nil error ends the push: closed,
// say), try if the push may (MayTry), register, try once more unless
// stopped reports that intake has ended, then wait (WaitTurn) until the
// consumer frees room, a starving push leaves, stop is closed or ctx is
// done (ctx.Err()). It returns nil once try has succeeded. check may count
// what it refuses: it runs once per loop, and its error is returned at
// once.
func (r *Room) Block(ctx context.Context, stop <-chan struct{}, check func() error, stopped, try func() bool) error {
	var t Turn
	defer r.Leave(&t)
	for {
		if err := check(); err != nil {
			return err
		}
		if t.MayTry(r) && try() {
			return nil
		}
		ch := r.Register()
		if !stopped() && t.MayTry(r) && try() {
			r.Unregister()
			return nil
		}
		if err := r.WaitTurn(ctx, ch, stop, &t); err != nil {
			return err
		}
	}
}
