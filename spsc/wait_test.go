package spsc

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/ringsink/ringsink/internal/relstore"
)

// waitModes are the ways a parked consumer learns of a publish: as New
// sets it up for this build (on amd64 Linux the heavy fence, run once a
// park has waited 1.26 ms on the bounded steps), the fence at every park
// (so the stress tests, whose pauses are far shorter, run the fenced check
// all the time), and the bounded wait it falls back to where the fence is
// missing. The last two are forced here.
func waitModes() map[string]func(capacity int) *Ring[uint64] {
	return map[string]func(int) *Ring[uint64]{
		"new": New[uint64],
		"fence-every-park": func(n int) *Ring[uint64] {
			r := New[uint64](n)
			if relstore.Release {
				r.park.UseHeavyFenceFrom(0)
				r.park.SetNaps(0)
			}
			return r
		},
		"bounded": func(n int) *Ring[uint64] {
			r := New[uint64](n)
			r.park.UseBoundedWait()
			return r
		},
	}
}

// TestParkedConsumerWakesOnPush waits until the consumer is really parked,
// then pushes once (and, in a second round, a batch) and expects Wait to
// return with the value there. In the "new" and "fence-every-park" modes
// only Notify can wake a consumer blocked after its fence; the bounded
// mode would also find the value on its timer, so there it checks
// liveness only.
func TestParkedConsumerWakesOnPush(t *testing.T) {
	for name, newRing := range waitModes() {
		t.Run(name, func(t *testing.T) {
			r := newRing(4)
			for round, push := range []func(){
				func() { r.TryPush(7) },
				func() { r.TryPushBatch([]uint64{7}) },
			} {
				returned := make(chan error, 1)
				go func() {
					// Wait may return early (a stale token): the contract is
					// to re-check and wait again.
					for {
						if err := r.Wait(context.Background()); err != nil || r.Len() > 0 {
							returned <- err
							return
						}
					}
				}()
				deadline := time.Now().Add(10 * time.Second)
				for !r.park.IsParked() {
					if time.Now().After(deadline) {
						t.Fatalf("round %d: consumer never parked on an empty ring", round)
					}
					time.Sleep(time.Millisecond)
				}
				select {
				case err := <-returned:
					t.Fatalf("round %d: the consumer stopped waiting on an empty ring: %v", round, err)
				case <-time.After(20 * time.Millisecond):
				}
				push()
				select {
				case err := <-returned:
					if err != nil {
						t.Fatalf("round %d: Wait = %v; want nil", round, err)
					}
				case <-time.After(10 * time.Second):
					t.Fatalf("round %d: parked consumer did not wake on push", round)
				}
				if v, ok := r.TryPop(); !ok || v != 7 {
					t.Fatalf("round %d: TryPop() = %d, %v; want 7, true", round, v, ok)
				}
			}
		})
	}
}

// TestWaitHonoursContextAndWake: Wait on an empty ring returns the
// context's error when it ends, and nil after Wake; on a ring holding a
// value it returns nil at once.
func TestWaitHonoursContextAndWake(t *testing.T) {
	r := New[int](4)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Millisecond)
	defer cancel()
	if err := r.Wait(ctx); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Wait on empty ring = %v; want DeadlineExceeded", err)
	}
	done, stop := context.WithCancel(context.Background())
	stop()
	if err := r.Wait(done); !errors.Is(err, context.Canceled) {
		t.Fatalf("Wait with a cancelled context = %v; want Canceled", err)
	}
	woke := make(chan struct{})
	go func() {
		defer close(woke)
		for !r.park.IsParked() {
			time.Sleep(time.Millisecond)
		}
		r.Wake()
	}()
	if err := r.Wait(context.Background()); err != nil {
		t.Fatalf("Wait after Wake = %v; want nil", err)
	}
	<-woke
	r.TryPush(1)
	if err := r.Wait(done); err != nil {
		t.Fatalf("Wait on a ring holding a value = %v; want nil even with a cancelled context", err)
	}
}

// TestPushWakesNapperAtHalf: a consumer napping in Wait (its spin had not
// been paying) is not woken by pushes that end less than half a ring past
// its head, and is by the push, or the batch, that reaches it.
func TestPushWakesNapperAtHalf(t *testing.T) {
	r := New[uint64](8)
	r.park.NapAt(r.head.Load())
	if r.TryPushBatch([]uint64{1, 2, 3}); !r.park.IsNapping() {
		t.Fatal("a batch ending 3 past head (half the ring: 4) woke the napping consumer")
	}
	if r.TryPush(4); r.park.IsNapping() {
		t.Fatal("the push ending half a ring past head did not wake the napping consumer")
	}
	r.TryPopBatch(make([]uint64, 4))
	r.park.NapAt(r.head.Load())
	if r.TryPush(5); !r.park.IsNapping() {
		t.Fatal("a push ending 1 past head woke the napping consumer")
	}
	if r.TryPushBatch([]uint64{6, 7, 8, 9}); r.park.IsNapping() {
		t.Fatal("a batch ending 5 past head did not wake the napping consumer")
	}
}

// TestWaitNapsFromHead: Wait hands its waiter the head the consumer reads
// next, so a napping consumer is woken half a ring past it.
func TestWaitNapsFromHead(t *testing.T) {
	r := New[uint64](8)
	r.TryPushBatch([]uint64{1, 2, 3, 4, 5})
	r.TryPopBatch(make([]uint64, 5))
	r.park.SetNaps(1 << 30) // nap until woken
	returned := make(chan error, 1)
	go func() { returned <- r.Wait(context.Background()) }()
	deadline := time.Now().Add(10 * time.Second)
	for !r.park.IsNapping() {
		if time.Now().After(deadline) {
			r.Wake()
			t.Fatal("the consumer never napped")
		}
		time.Sleep(100 * time.Microsecond)
	}
	got := r.park.WakeAt()
	r.Wake()
	<-returned
	if got != 5+4 {
		t.Fatalf("a napping consumer is woken at position %d; want 9 (head 5 + half the ring)", got)
	}
}
