package park

import (
	"context"
	"sync"
	"sync/atomic"

	"github.com/ringsink/ringsink/internal/relstore"
)

// Room lets producers that chose to wait for space (a blocking push) park
// until the consumer frees some, without a channel on the non-blocking path:
// the consumer pays one fence and one atomic load per release batch when
// nobody waits.
//
// Producer protocol (any number of goroutines):
//
//	for !tryPush() {
//		ch := room.Register()
//		if tryPush() { room.Unregister(); break } // room freed before Register
//		if err := room.Wait(ctx, ch, stop); err != nil { return err }
//	}
//
// Consumer: call Freed after every release.
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
	waiters atomic.Int32
	mu      sync.Mutex
	ch      chan struct{} // guarded by mu; closed and replaced by Freed
	chans   uint64        // guarded by mu; wake-up channels made (one allocation each)
}

// Register announces a waiting producer and returns the channel that Freed
// will close. The caller must retry its push once before Wait.
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

// Unregister withdraws a Register that is not followed by Wait.
func (r *Room) Unregister() { r.waiters.Add(-1) }

// Wait parks until ch is closed (room was freed: nil), stop is closed (nil:
// the caller re-checks its closed state) or ctx is done (ctx.Err()).
func (r *Room) Wait(ctx context.Context, ch, stop <-chan struct{}) error {
	defer r.waiters.Add(-1)
	select {
	case <-ch:
		return nil
	case <-stop:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// Freed wakes every registered producer. Consumer side, after releasing
// slots; one fence and one atomic load when nobody waits.
func (r *Room) Freed() {
	relstore.Fence() // the release before the load of waiters (see Room)
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
