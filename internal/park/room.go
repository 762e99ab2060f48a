package park

import (
	"context"
	"sync"
	"sync/atomic"
)

// Room lets producers that chose to wait for space (a blocking push) park
// until the consumer frees some, without a channel on the non-blocking path:
// the consumer pays one atomic load per release when nobody waits.
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
type Room struct {
	waiters atomic.Int32
	mu      sync.Mutex
	ch      chan struct{} // guarded by mu; closed and replaced by Freed
}

// Register announces a waiting producer and returns the channel that Freed
// will close. The caller must retry its push once before Wait.
func (r *Room) Register() <-chan struct{} {
	r.mu.Lock()
	if r.ch == nil {
		r.ch = make(chan struct{})
	}
	ch := r.ch
	r.waiters.Add(1)
	r.mu.Unlock()
	return ch
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

// Freed wakes every registered producer. Consumer side; one atomic load when
// nobody waits.
func (r *Room) Freed() {
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
