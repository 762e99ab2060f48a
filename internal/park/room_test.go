package park

import (
	"context"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// TestRoomTurnsFair: a push that has waited starveAfter or more is not
// overtaken. While it starves, a newcomer that finds room does not take it
// but queues; the starving push gets the room at the next Freed, and when
// it leaves, it wakes the newcomer, which then gets the rest of the room
// with no further Freed. The pushes run the production protocol (Open,
// then Block) against a counter of free slots. The overtaking check is
// made while N has not yet waited, so it cannot be starving itself.
func TestRoomTurnsFair(t *testing.T) {
	var r Room
	var free atomic.Int32 // the ring: free slots; none at first
	var mu sync.Mutex
	var order []string
	try := func(name string) func() bool {
		return func() bool {
			for n := free.Load(); n > 0; n = free.Load() {
				if free.CompareAndSwap(n, n-1) {
					mu.Lock()
					order = append(order, name)
					mu.Unlock()
					return true
				}
			}
			return false
		}
	}
	pushed := func() []string {
		mu.Lock()
		defer mu.Unlock()
		return slices.Clone(order)
	}
	push := func(name string) <-chan error {
		done := make(chan error, 1)
		go func() {
			if r.Open() && try(name)() {
				done <- nil
				return
			}
			done <- r.Block(context.Background(), nil, func() error { return nil }, func() bool { return false }, try(name))
		}()
		return done
	}
	waitFor := func(what string, cond func() bool) {
		t.Helper()
		for deadline := time.Now().Add(10 * time.Second); !cond(); time.Sleep(100 * time.Microsecond) {
			if time.Now().After(deadline) {
				t.Fatalf("timed out waiting for %s (starving %d, waiters %d, pushed %v)", what, r.Starving(), r.waiters.Load(), pushed())
			}
		}
	}

	// W finds the ring full and waits. Wake-ups that bring no room, each
	// starveAfter or more after W first waited, leave it starving.
	w := push("W")
	waitFor("W to wait", func() bool { return r.waiters.Load() == 1 })
	waitFor("W to starve", func() bool {
		if r.Starving() == 1 {
			return true
		}
		time.Sleep(2 * starveAfter)
		r.Freed()
		return false
	})
	waitFor("W to wait again", func() bool { return r.waiters.Load() == 1 })
	if r.Open() {
		t.Fatal("Open with a starving push")
	}

	// Room appears, but no Freed yet: the newcomer N must not take it.
	free.Store(2)
	n := push("N")
	waitFor("N to queue", func() bool { return r.waiters.Load() == 2 || len(pushed()) > 0 })
	// (W may have taken a slot in its retry after registering, left, and
	// let N in: fair. N first is not.)
	if got := pushed(); len(got) > 0 && got[0] == "N" {
		t.Fatalf("the newcomer overtook the starving push: pushed %v", got)
	}

	// One Freed: W takes a slot and leaves, which wakes N for the other.
	r.Freed()
	for name, ch := range map[string]<-chan error{"W": w, "N": n} {
		select {
		case err := <-ch:
			if err != nil {
				t.Fatalf("%s: Block = %v", name, err)
			}
		case <-time.After(10 * time.Second):
			t.Fatalf("%s still waiting (starving %d, waiters %d, pushed %v)", name, r.Starving(), r.waiters.Load(), pushed())
		}
	}
	// Both are in. (Their order is not checked here: had N waited 1 ms by
	// this Freed, as under the race detector, it starves too, and starving
	// pushes race among themselves.)
	if got := pushed(); len(got) != 2 || !slices.Contains(got, "W") || !slices.Contains(got, "N") {
		t.Fatalf("pushed %v; want W and N", got)
	}
	if s, wt := r.Starving(), r.waiters.Load(); s != 0 || wt != 0 {
		t.Fatalf("after both pushes: %d starving, %d waiters; want 0, 0", s, wt)
	}
}

// TestRoomLeaveWakes: a starving push that leaves wakes every registered
// waiter, since they may have deferred to it with room free; a push that
// did not starve leaves without a wake-up.
func TestRoomLeaveWakes(t *testing.T) {
	var r Room
	var plain Turn
	ch := r.Register()
	r.Leave(&plain)
	select {
	case <-ch:
		t.Fatal("a push that did not starve woke the waiters")
	default:
	}
	starving := Turn{since: time.Now().Add(-time.Second), starving: true}
	r.starving.Add(1)
	r.Leave(&starving)
	select {
	case <-ch:
	default:
		t.Fatal("a starving push left without waking the waiters")
	}
	if r.Open() != true || starving.starving {
		t.Fatalf("after Leave: Open %v, still starving %v", r.Open(), starving.starving)
	}
	r.Unregister()
}

// TestBlockEnds: Block returns check's error at once, ctx's error when ctx
// ends while it waits, and leaves nothing registered or starving.
func TestBlockEnds(t *testing.T) {
	var r Room
	never := func() bool { return false }
	errClosed := context.DeadlineExceeded // any sentinel
	if err := r.Block(context.Background(), nil, func() error { return errClosed }, never, never); err != errClosed {
		t.Fatalf("Block with a failing check = %v", err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*starveAfter)
	defer cancel()
	if err := r.Block(ctx, nil, func() error { return nil }, never, never); err != context.DeadlineExceeded {
		t.Fatalf("Block until ctx ends = %v", err)
	}
	stop := make(chan struct{})
	close(stop)
	calls := 0
	check := func() error {
		if calls++; calls > 1 {
			return errClosed // the caller's own closed state, seen after stop
		}
		return nil
	}
	if err := r.Block(context.Background(), stop, check, never, never); err != errClosed {
		t.Fatalf("Block with stop closed = %v", err)
	}
	if s, w := r.Starving(), r.waiters.Load(); s != 0 || w != 0 {
		t.Fatalf("after Block: %d starving, %d waiters", s, w)
	}
}

// TestRoomHoldEnds: a starving push that cannot use the room the consumer
// frees (a record too large for it) keeps the room closed for starveHold
// at most: a push that fits gets in with no further Freed. Cancelling the
// starving push's ctx then ends its turn, and nothing is left starving or
// registered.
func TestRoomHoldEnds(t *testing.T) {
	var r Room
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	never := func() bool { return false }
	ok := func() error { return nil }
	big := make(chan error, 1)
	go func() { big <- r.Block(ctx, nil, ok, never, never) }()
	for deadline := time.Now().Add(10 * time.Second); r.Starving() == 0; {
		if time.Now().After(deadline) {
			t.Fatal("the large push never starved")
		}
		time.Sleep(2 * starveAfter)
		r.Freed() // room freed, but never enough for it
	}
	var free atomic.Int32
	free.Store(1)
	small := make(chan error, 1)
	go func() {
		try := func() bool { return free.CompareAndSwap(1, 0) }
		if r.Open() && try() {
			small <- nil
			return
		}
		small <- r.Block(context.Background(), nil, ok, never, try)
	}()
	select {
	case err := <-small:
		if err != nil || free.Load() != 0 {
			t.Fatalf("small push: %v, free %d", err, free.Load())
		}
	case <-time.After(10 * time.Second):
		t.Fatalf("a push that fits waited 10 s behind one that does not (starving %d, waiters %d)", r.Starving(), r.waiters.Load())
	}
	cancel()
	select {
	case err := <-big:
		if err != context.Canceled {
			t.Fatalf("large push after cancel: %v", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("the large push did not see its ctx end")
	}
	if s, w := r.Starving(), r.waiters.Load(); s != 0 || w != 0 {
		t.Fatalf("after both: %d starving, %d waiters; want 0, 0", s, w)
	}
}
